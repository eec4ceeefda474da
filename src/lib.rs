//! Reproducible, verifiable "double random, one public" (双随机、一公开) inspection draws.
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod audit;
mod draw;
mod error;
mod frame;
mod inputs;
mod io;
mod json;
mod key;
mod model;
mod plan;
mod synth;

pub use crate::audit::{
    AuditRecord, CRATE_VERSION, Commitment, FileDigest, OUTPUT_FILES, Outputs, RecordClass, RecordDepartment,
    RecordPlan, RecordSeed, RecordStratum, Verification, draw_to_dir, verify, write_file_atomically,
};
pub use crate::synth::{SynthSummary, is_valid_uscc, synth};
pub use crate::draw::{Basis, ClassDraw, DepartmentDraw, Draw, Selected, StratumDraw, Visit, VisitPart, allocate};
pub use crate::error::{Error, ErrorKind, Location, Result};
pub use crate::frame::{ClassFrame, DepartmentFrame, Exclusion, ExclusionReason, Frame, StratumFrame};
pub use crate::inputs::{ENTITY_COLUMNS, InputFile, Inputs, Population};
pub use crate::io::MAX_FIELD_BYTES;
pub use crate::key::{Digest, SPEC_ID, Salt, Seed};
pub use crate::model::{
    CheckItem, DirectedCheck, DirectedReason, Entity, ItemKind, Mode, PastVisit, Ratio, RatioError, RiskClass, Status,
    VisitKind,
};
pub use crate::plan::{ClassPolicy, DepartmentPolicy, InputPaths, Observation, Plan, RatioOrder, Window};
