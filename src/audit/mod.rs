//! The audit trail of a draw, and the two ways to run one from files.
//!
//! - [`Drawer`] runs a draw from plan files into an output folder and the
//!   draw log; [`Verifier`] replays a written draw and reports each
//!   difference ([`Verification`]).
//! - [`Commitment`]: the digests of the inputs and of each frame, published
//!   before the seed is drawn.
//! - [`Outputs`]: the output files ([`OUTPUT_FILES`]): the selection,
//!   strata, exclusions, visits, directed checks not visited, the public records (一公开) and the
//!   [`AuditRecord`] (`record.json`) that binds them to their inputs.
//! - [`DrawLog`]: the append-only, hash-chained list of every draw made.
//! - [`history_rows`]: a draw's visits as rows of the next round's history;
//!   [`history_after`]: the history a round read, followed by those rows.
//!
//! In the source, one file per part: `commitment.rs`, `outputs.rs` (one
//! renderer per CSV file in `files.rs`, the public records in
//! `publish.rs`), `record.rs`, `log.rs`, `run.rs` (the drawer), `verify.rs`
//! and `summary.rs` (the table the command line prints).

mod commitment;
mod files;
mod history;
pub(crate) mod log;
mod outputs;
mod publish;
mod record;
mod run;
mod summary;
mod verify;
#[cfg(feature = "xlsx")]
mod workbook;

pub use commitment::{Commitment, FileDigest};
pub use history::{history_after, history_rows};
pub(crate) use history::{read_output, rows_of_visits};
pub use log::{DrawLog, LogEntry, MAX_REASON_CHARS};
pub(crate) use outputs::spreadsheet_safe;
pub use outputs::{OUTPUT_FILES, Outputs, TaskInputs, WORKBOOK};
pub(crate) use outputs::{is_draw_file, read_back};
pub use record::{AuditRecord, RecordClass, RecordDepartment, RecordPlan, RecordSeed, RecordStratum, RecordTask};
pub use run::{Drawer, Drawn};
use serde::Serialize;
pub use verify::{Verification, Verifier};

/// The crate version written into records.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

fn to_json<T: Serialize>(value: &T) -> String {
    // OK because these types hold only strings, integers, vectors and options, which always serialize.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}
