//! The JSON contract: what a platform sends and gets back when it drives
//! the draw through JSON rather than the Rust API.
//!
//! Every embedding speaks it: the command line's `--json`, the C ABI
//! (`capi/`) and the Python package (`python/`) all call [`respond`], so
//! a platform gets the same outputs and the same errors whichever door it
//! uses. A request is a JSON object; the answer is always a [`Response`]
//! envelope:
//!
//! ```json
//! {"ok": true, "result": {"kind": "draw", "...": "..."}}
//! {"ok": false, "error": {"code": "invalid_field", "message": "entities.csv, line 7, field risk_class: ...",
//!                         "file": "entities.csv", "line": 7, "field": "risk_class"}}
//! ```
//!
//! ```no_run
//! let answer = double_random::contract::respond(
//!     "draw",
//!     br#"{"plans": ["fixtures/plan.json"], "seed": "2027-03-01 lottery 0417 2953", "out": "out"}"#,
//! );
//! let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
//! assert_eq!(answer["ok"], true);
//! println!("{}", answer["result"]["record"]["visits"]);
//! ```
//!
//! Paths in a request are read from the process's working directory, as
//! on the command line. The forms are stable within a major version of
//! this crate (`contract` in every result names it); JSON Schema files for
//! every request and response are in the repository's `schemas/` folder,
//! generated from these types by [`schemas`] and checked against real
//! outputs by its tests. Fields may be added to results; a field is never
//! removed or renamed without a new contract version.
//!
//! Tables (the selection, the visits with their teams, the exclusions …)
//! are the draw's CSV outputs: a result names the folder they are in, and
//! with `"tables": true` a draw's result also carries each as
//! `{"columns": [...], "rows": [[...], ...]}`, read back from the written
//! files so that they are the files' contents exactly.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::{AuditRecord, Commitment, LogEntry};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::{Drawer, Drawn, FrameMode, OnProgress, Seed, Verification, Verifier};

/// The contract's version, in every result as `contract`.
pub const CONTRACT: &str = "double-random/1";

/// The commands [`respond`] answers, in the order of the documentation.
pub const COMMANDS: [&str; 7] = [
    "draw",
    "commit",
    "verify",
    "fairness",
    "fairness_year",
    "audit_observed",
    "synth",
];

/// The answer to every request: a result or an error, never both.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Response<T> {
    /// Whether the command succeeded; a verification that found
    /// differences still succeeded (see its `verified`).
    pub ok: bool,
    /// The result, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    /// The error, when not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// An error in JSON: a stable code, the message the command line prints,
/// and where in the inputs it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorReport {
    /// What went wrong, as a stable snake_case code (see [`Error::code`]).
    pub code: String,
    /// The whole message, as the command line prints it after `error: `.
    pub message: String,
    /// The input file, as the plan names it, when the error is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The CSV column or JSON path, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a workbook (`.xlsx`), the sheet; `line` is then its row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// For a workbook, the column's letter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The path a file error or a refused output is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The sentences of an error that lists several (commitment
    /// differences, unstaffable visits, unreviewable checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> ErrorReport {
        let at: Option<&Location> = e.location();
        let (path, details) = match e.kind() {
            ErrorKind::Io { path, .. } | ErrorKind::OutputExists { path } | ErrorKind::OutputRefused { path, .. } => {
                (Some(path.display().to_string()), Vec::new())
            }
            ErrorKind::CommitmentMismatch { differences, .. } => (None, differences.clone()),
            ErrorKind::Unstaffable { visits } => (None, visits.clone()),
            ErrorKind::Unreviewable { checks } => (None, checks.clone()),
            _ => (None, Vec::new()),
        };
        ErrorReport {
            code: e.code().to_string(),
            message: e.to_string(),
            file: at.map(|at| at.file.clone()),
            line: at.and_then(|at| at.line),
            field: at.and_then(|at| at.field.clone()),
            sheet: at.and_then(|at| at.sheet.clone()),
            column: at.and_then(|at| at.column.clone()),
            path,
            details,
        }
    }
}

/// How the frame is built, in a request: `"auto"` (the default),
/// `"memory"` or `"stream"`; the outputs are the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Frame {
    /// Streamed when the entity file is over 2 GiB, else in memory.
    #[default]
    Auto,
    /// In memory.
    Memory,
    /// Streamed in chunks.
    Stream,
}

impl From<Frame> for FrameMode {
    fn from(f: Frame) -> FrameMode {
        match f {
            Frame::Auto => FrameMode::Auto,
            Frame::Memory => FrameMode::InMemory,
            Frame::Stream => FrameMode::Streamed,
        }
    }
}

/// `draw`: the request of `double-random draw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DrawRequest {
    /// The plans; several are drawn together.
    pub plans: Vec<PathBuf>,
    /// The public seed text.
    pub seed: String,
    /// The output folder; it must not exist unless `force`.
    pub out: PathBuf,
    /// Commitments the inputs must match.
    #[serde(default)]
    pub commitments: Vec<PathBuf>,
    /// The draw log [default: `draw-log.jsonl` beside the output folder].
    #[serde(default)]
    pub log: Option<PathBuf>,
    /// Why a task and round already in the log is drawn again.
    #[serde(default)]
    pub redraw_reason: Option<String>,
    /// Replace an output folder an earlier draw wrote.
    #[serde(default)]
    pub force: bool,
    /// How the frame is built.
    #[serde(default)]
    pub frame: Frame,
    /// Carry the output tables in the result.
    #[serde(default)]
    pub tables: bool,
    /// Also write `outputs.xlsx` (the CSV outputs as one workbook).
    #[serde(default)]
    pub xlsx: bool,
}

/// `commit`: the request of `double-random commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// The plan.
    pub plan: PathBuf,
    /// Where to write the commitment too; only returned when absent.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Replace an existing `out` file (never an input).
    #[serde(default)]
    pub force: bool,
    /// How the frame is built.
    #[serde(default)]
    pub frame: Frame,
}

/// `verify`: the request of `double-random verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// A draw's `record.json`, or a publication's `publication.json`.
    pub record: PathBuf,
    /// The plan, when it moved since the draw.
    #[serde(default)]
    pub plan: Option<PathBuf>,
    /// A draw log to check too.
    #[serde(default)]
    pub log: Option<PathBuf>,
    /// How the frame is built.
    #[serde(default)]
    pub frame: Frame,
}

/// `fairness`: fairness of a plan's draw over many seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FairnessRequest {
    /// The plan.
    pub plan: PathBuf,
    /// How many draws (run `k` uses the seed `"BASE #k"`).
    pub runs: u64,
    /// The base seed text.
    pub seed: String,
    /// Also draw the report as SVG into this file (refused if it exists).
    #[serde(default)]
    pub svg: Option<PathBuf>,
}

/// `fairness_year`: an annual program's year simulated over many seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FairnessYearRequest {
    /// The program.
    pub program: PathBuf,
    /// How many years.
    pub runs: u64,
    /// The base seed text.
    pub seed: String,
}

/// `audit_observed`: another system's published draws audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditObservedRequest {
    /// The observed draws (CSV).
    pub observed: PathBuf,
    /// The frame they were drawn from (CSV).
    pub frame: PathBuf,
    /// The ratios the system claims (CSV).
    #[serde(default)]
    pub claims: Option<PathBuf>,
}

/// `synth`: a synthetic dataset written into a new folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SynthRequest {
    /// How many entities.
    pub entities: u64,
    /// The seed text of the dataset.
    pub seed: String,
    /// The folder to write.
    pub out: PathBuf,
}

/// A table of a draw's outputs: its CSV header and rows, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Table {
    /// The file, as in the output folder (`selection.csv`).
    pub file: String,
    /// The header.
    pub columns: Vec<String>,
    /// The records, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

/// The result of `draw`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DrawReport {
    /// Always `"draw"`.
    pub kind: String,
    /// [`CONTRACT`].
    pub contract: String,
    /// The output folder.
    pub out: String,
    /// The audit record written as `record.json`: per task, department
    /// and class the base, eligible, quota, drawn and shortfall counts and
    /// the strata; the visits; every file's digest.
    pub record: AuditRecord,
    /// The draw log the draw was appended to, if any.
    pub log: Option<String>,
    /// The entries appended to it, one per task.
    pub logged: Vec<LogEntry>,
    /// Warnings about the plans (the command line prints them on standard error).
    pub warnings: Vec<String>,
    /// The table the command line prints.
    pub summary: String,
    /// The output tables, when the request asked for them, in the order
    /// of the files (selection, strata, exclusions, visits with their
    /// teams, off-site checks, unscheduled directed checks, public).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<Table>>,
}

/// The result of `commit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CommitReport {
    /// Always `"commitment"`.
    pub kind: String,
    /// [`CONTRACT`].
    pub contract: String,
    /// The commitment, exactly as `commit` writes it.
    pub commitment: Commitment,
    /// Where it was written, if it was.
    pub out: Option<String>,
    /// Warnings about the plan.
    pub warnings: Vec<String>,
}

/// The result of `verify`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// Always `"verification"`.
    pub kind: String,
    /// [`CONTRACT`].
    pub contract: String,
    /// The record verified.
    pub record: String,
    /// Whether the replay matched everything.
    pub verified: bool,
    /// Each difference found, naming the file.
    pub differences: Vec<String>,
    /// Facts an auditor should see that are not differences (redraws).
    pub notes: Vec<String>,
}

impl VerifyReport {
    fn new(record: &Path, v: Verification) -> VerifyReport {
        VerifyReport {
            kind: "verification".into(),
            contract: CONTRACT.into(),
            record: record.display().to_string(),
            verified: v.is_verified(),
            differences: v.differences,
            notes: v.notes,
        }
    }
}

/// The result of `synth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SynthReport {
    /// Always `"synth"`.
    pub kind: String,
    /// [`CONTRACT`].
    pub contract: String,
    /// The folder written.
    pub out: String,
    /// Entities written.
    pub entities: u64,
    /// Past visits written.
    pub history: u64,
    /// Directed checks written.
    pub directed: u64,
    /// The plan written, inside `out`.
    pub plan: String,
}

/// The draw log used when a request names none: `draw-log.jsonl` in the
/// folder that holds the output folder, as on the command line.
pub fn default_log(out: &Path) -> PathBuf {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    parent.map_or_else(|| PathBuf::from("draw-log.jsonl"), |p| p.join("draw-log.jsonl"))
}

/// Runs a draw request and writes its outputs; `progress` hears its steps.
///
/// # Errors
///
/// Those of [`Drawer::run`], an invalid seed, and reading the written
/// files back.
pub fn draw(request: &DrawRequest, progress: OnProgress<'_>) -> Result<DrawReport> {
    let log = request.log.clone().unwrap_or_else(|| default_log(&request.out));
    let mut drawer = Drawer::new(Seed::new(request.seed.clone())?, &request.out);
    for path in &request.plans {
        drawer.plan(path);
    }
    for path in &request.commitments {
        drawer.commitment(path);
    }
    drawer
        .replace(request.force)
        .log(&log)
        .progress(progress)
        .frame_mode(request.frame.into())
        .xlsx(request.xlsx);
    if let Some(reason) = &request.redraw_reason {
        drawer.redraw_reason(reason.clone());
    }
    let drawn = drawer.run()?;
    DrawReport::new(&drawn, &request.out, Some(&log), request.tables)
}

impl DrawReport {
    /// The report of a draw written into `out` and logged in `log`; with
    /// `tables`, the output files read back as tables.
    ///
    /// # Errors
    ///
    /// An I/O or syntax error reading the written files back.
    pub fn new(drawn: &Drawn, out: &Path, log: Option<&Path>, tables: bool) -> Result<DrawReport> {
        let record_path = out.join("record.json");
        let bytes = std::fs::read(&record_path).map_err(|e| Error::io(&record_path, e))?;
        let record = AuditRecord::from_json(&record_path.display().to_string(), &bytes)?;
        let tables = if tables {
            let mut all = Vec::new();
            for name in crate::audit::OUTPUT_FILES.iter().filter(|n| n.ends_with(".csv")) {
                all.push(read_table(&out.join(name), name)?);
            }
            Some(all)
        } else {
            None
        };
        Ok(DrawReport {
            kind: "draw".into(),
            contract: CONTRACT.into(),
            out: out.display().to_string(),
            record,
            log: log.map(|l| l.display().to_string()),
            logged: drawn.log_entries.clone(),
            warnings: drawn.inputs.iter().flat_map(|i| i.plan().warnings()).collect(),
            summary: drawn.summary(),
            tables,
        })
    }
}

/// Reads a CSV output file as a [`Table`].
fn read_table(path: &Path, name: &str) -> Result<Table> {
    let mut rows = crate::audit::read_back(path, name)?.into_iter();
    Ok(Table {
        file: name.to_string(),
        columns: rows.next().unwrap_or_default(),
        rows: rows.collect(),
    })
}

/// Computes a commitment, and writes it when the request names a file;
/// `progress` hears its step.
///
/// # Errors
///
/// Those of [`Commitment::load_and_compute`], and a refused or failed write.
pub fn commit(request: &CommitRequest, progress: OnProgress<'_>) -> Result<CommitReport> {
    if let Some(path) = &request.out {
        crate::place::check_output_file(path, request.force, &[])?;
    }
    progress(crate::Progress::Step(&format!(
        "reading {} and its inputs",
        request.plan.display()
    )));
    let (inputs, commitment) = Commitment::load_and_compute(&request.plan, request.frame.into())?;
    if let Some(path) = &request.out {
        let read = inputs.file_paths(&request.plan);
        crate::place::write_output_file(path, commitment.to_json().as_bytes(), request.force, &read)?;
    }
    Ok(CommitReport {
        kind: "commitment".into(),
        contract: CONTRACT.into(),
        commitment,
        out: request.out.as_ref().map(|p| p.display().to_string()),
        warnings: inputs.plan().warnings(),
    })
}

/// Verifies a draw's record (or a publication) by replay.
///
/// # Errors
///
/// Those of [`Verifier::run`]; differences are not errors.
pub fn verify(request: &VerifyRequest, progress: OnProgress<'_>) -> Result<VerifyReport> {
    if crate::results::publish::is_publication(&request.record) {
        let v = crate::results::publish::verify_publication(&request.record)?;
        return Ok(VerifyReport::new(&request.record, v));
    }
    let mut verifier = Verifier::new(&request.record);
    verifier.frame_mode(request.frame.into()).progress(progress);
    if let Some(plan) = &request.plan {
        verifier.plan(plan);
    }
    if let Some(log) = &request.log {
        verifier.log(log);
    }
    Ok(VerifyReport::new(&request.record, verifier.run()?))
}

/// Writes a synthetic dataset.
///
/// # Errors
///
/// Those of [`crate::synth::synth`].
pub fn synth(request: &SynthRequest) -> Result<SynthReport> {
    let s = crate::synth::synth(&request.out, request.entities, &request.seed)?;
    Ok(SynthReport {
        kind: "synth".into(),
        contract: CONTRACT.into(),
        out: request.out.display().to_string(),
        entities: s.entities,
        history: s.history,
        directed: s.directed,
        plan: request.out.join("plan.json").display().to_string(),
    })
}

/// Simulates a plan's draw over many seeds.
///
/// # Errors
///
/// Those of [`Inputs::load`](crate::Inputs::load) and
/// [`fairness::simulate`](crate::fairness::simulate), and a refused SVG file.
#[cfg(feature = "fairness")]
pub fn fairness(request: &FairnessRequest, progress: OnProgress<'_>) -> Result<crate::fairness::FairnessReport> {
    if let Some(svg) = &request.svg {
        crate::place::check_output_file(svg, false, &[])?;
    }
    let inputs = crate::Inputs::load(&request.plan)?;
    let report = crate::fairness::simulate(&inputs, &request.seed, request.runs, progress)?;
    if let Some(svg) = &request.svg {
        #[cfg(feature = "svg")]
        let picture = crate::fairness::fairness_svg(&report);
        #[cfg(not(feature = "svg"))]
        let picture: String = {
            return Err(Error::policy(
                Location::file("svg"),
                "this build has no SVG pictures (the crate's `svg` feature)",
            ));
        };
        crate::place::write_output_file(svg, picture.as_bytes(), false, &inputs.file_paths(&request.plan))?;
    }
    Ok(report)
}

/// Simulates an annual program's year over many seeds.
///
/// # Errors
///
/// Those of [`Program::load`](crate::program::Program::load) and
/// [`fairness::simulate_year`](crate::fairness::simulate_year).
#[cfg(feature = "fairness")]
pub fn fairness_year(request: &FairnessYearRequest, progress: OnProgress<'_>) -> Result<crate::fairness::YearReport> {
    let program = crate::program::Program::load(&request.program)?;
    crate::fairness::simulate_year(&program, &request.seed, request.runs, progress)
}

/// Audits another system's published draws.
///
/// # Errors
///
/// Those of [`fairness::audit_observed`](crate::fairness::audit_observed).
#[cfg(feature = "fairness")]
pub fn audit_observed(request: &AuditObservedRequest) -> Result<crate::fairness::ObservedAudit> {
    crate::fairness::audit_observed(&request.observed, &request.frame, request.claims.as_deref())
}

/// Answers one request: `command` is one of [`COMMANDS`], `request` its
/// JSON object; the answer is a [`Response`] as JSON. It never panics: a
/// bad request is an error with code `syntax` naming `request` and the
/// field, an unknown command one with code `unknown_reference`, and a
/// panic inside the crate (a bug) one with code `internal`.
pub fn respond(command: &str, request: &[u8]) -> String {
    respond_with(command, request, &crate::progress::silent)
}

/// [`respond`], telling `progress` each step.
pub fn respond_with(command: &str, request: &[u8], progress: OnProgress<'_>) -> String {
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(command, request, progress)));
    match answer {
        Ok(json) => json,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let error = ErrorReport {
                code: "internal".into(),
                message: format!("an internal error (a bug, please report it): {what}"),
                file: None,
                line: None,
                field: None,
                sheet: None,
                column: None,
                path: None,
                details: Vec::new(),
            };
            envelope::<()>(Err(error))
        }
    }
}

fn answer(command: &str, request: &[u8], progress: OnProgress<'_>) -> String {
    fn run<Q: serde::de::DeserializeOwned, T: Serialize>(request: &[u8], f: impl FnOnce(Q) -> Result<T>) -> String {
        let result = crate::inputs::json::parse::<Q>("request", request).and_then(f);
        envelope(result.map_err(|e| ErrorReport::from(&e)))
    }
    match command {
        "draw" => run(request, |q: DrawRequest| draw(&q, progress)),
        "commit" => run(request, |q: CommitRequest| commit(&q, progress)),
        "verify" => run(request, |q: VerifyRequest| verify(&q, progress)),
        #[cfg(feature = "fairness")]
        "fairness" => run(request, |q: FairnessRequest| fairness(&q, progress)),
        #[cfg(feature = "fairness")]
        "fairness_year" => run(request, |q: FairnessYearRequest| fairness_year(&q, progress)),
        #[cfg(feature = "fairness")]
        "audit_observed" => run(request, |q: AuditObservedRequest| audit_observed(&q)),
        "synth" => run(request, |q: SynthRequest| synth(&q)),
        other => {
            let e: Error = ErrorKind::UnknownReference {
                at: Location::file("command"),
                what: "command",
                id: other.to_string(),
            }
            .into();
            envelope::<()>(Err(ErrorReport::from(&e)))
        }
    }
}

/// A result or an error as a [`Response`] in JSON, with a final newline.
pub fn envelope<T: Serialize>(result: std::result::Result<T, ErrorReport>) -> String {
    let response = match result {
        Ok(value) => Response {
            ok: true,
            result: Some(value),
            error: None,
        },
        Err(error) => Response {
            ok: false,
            result: None,
            error: Some(error),
        },
    };
    // OK because these types hold only strings, numbers, vectors, maps with string keys and options.
    serde_json::to_string_pretty(&response).unwrap_or_default() + "\n"
}

/// The JSON Schemas of the contract, as `(file name, schema)`: the
/// requests, and the responses with their results. The repository's
/// `schemas/` folder holds them as written by this function.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn schema<T: schemars::JsonSchema>() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    #[allow(unused_mut)]
    let mut all = vec![
        ("draw-request.schema.json", schema::<DrawRequest>()),
        ("draw-response.schema.json", schema::<Response<DrawReport>>()),
        ("commit-request.schema.json", schema::<CommitRequest>()),
        ("commit-response.schema.json", schema::<Response<CommitReport>>()),
        ("verify-request.schema.json", schema::<VerifyRequest>()),
        ("verify-response.schema.json", schema::<Response<VerifyReport>>()),
        ("synth-request.schema.json", schema::<SynthRequest>()),
        ("synth-response.schema.json", schema::<Response<SynthReport>>()),
        ("record.schema.json", schema::<AuditRecord>()),
        ("commitment.schema.json", schema::<Commitment>()),
    ];
    #[cfg(feature = "fairness")]
    all.extend([
        ("fairness-request.schema.json", schema::<FairnessRequest>()),
        (
            "fairness-response.schema.json",
            schema::<Response<crate::fairness::FairnessReport>>(),
        ),
        ("fairness_year-request.schema.json", schema::<FairnessYearRequest>()),
        (
            "fairness_year-response.schema.json",
            schema::<Response<crate::fairness::YearReport>>(),
        ),
        ("audit_observed-request.schema.json", schema::<AuditObservedRequest>()),
        (
            "audit_observed-response.schema.json",
            schema::<Response<crate::fairness::ObservedAudit>>(),
        ),
    ]);
    all
}
