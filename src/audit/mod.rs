//! The audit trail: the commitment published before the seed
//! ([`commitment`]), the output files ([`outputs`] renders them, one
//! function per CSV file in [`files`], and the publication records 一公开
//! in [`publish`]), the audit record ([`record`]), a draw from plan files
//! to a written folder ([`run`]), verification by replay ([`verify`]) and
//! the summary the command line prints ([`summary`]).

mod commitment;
mod files;
mod outputs;
mod publish;
mod record;
mod run;
mod summary;
mod verify;

pub use commitment::{Commitment, FileDigest};
pub use outputs::{OUTPUT_FILES, Outputs, TaskInputs};
pub use record::{AuditRecord, RecordClass, RecordDepartment, RecordPlan, RecordSeed, RecordStratum, RecordTask};
pub use run::{LogOptions, draw_to_dir, draw_to_dir_logged};
pub use verify::{Verification, verify, verify_log, verify_with_progress};

use serde::Serialize;

/// The crate version written into records.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

fn to_json<T: Serialize>(value: &T) -> String {
    // OK because these types hold only strings, integers, vectors and options, which always serialize.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}
