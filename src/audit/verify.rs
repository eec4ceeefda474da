//! Verification by replay: a record and its inputs, and a record against
//! a draw log.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, SPEC_ID, Seed};
use crate::progress::{OnProgress, Progress};
use crate::visit::JointDraw;

use super::CRATE_VERSION;
use super::outputs::{DrawView, Names, Sink, TaskInputs, render_into};
use super::record::AuditRecord;

/// The outcome of a [`Verifier`]: empty `differences` means verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Verification {
    /// Each difference found, naming the file.
    pub differences: Vec<String>,
    /// Facts an auditor should see that are not differences (redraws).
    pub notes: Vec<String>,
}

impl Verification {
    /// Whether the replay matched everything.
    pub fn is_verified(&self) -> bool {
        self.differences.is_empty()
    }
}

/// A verification by replay: the library's form of `double-random verify`.
///
/// ```no_run
/// use double_random::Verifier;
///
/// let v = Verifier::new("out/record.json").log("draw-log.jsonl").run()?;
/// for d in &v.differences {
///     println!("{d}");
/// }
/// assert!(v.is_verified());
/// # Ok::<(), double_random::Error>(())
/// ```
///
/// [`run`](Verifier::run) re-reads the record and every input, checks
/// their digests, replays the draw and compares every output byte for
/// byte; with a [log](Verifier::log), it also checks that the record is in
/// the draw log and was not replaced by a later draw.
#[derive(Clone)]
pub struct Verifier<'a> {
    record: PathBuf,
    plan: Option<PathBuf>,
    log: Option<PathBuf>,
    replay: bool,
    progress: OnProgress<'a>,
    frame_mode: crate::FrameMode,
    chunk: usize,
}

impl std::fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("record", &self.record)
            .field("plan", &self.plan)
            .field("log", &self.log)
            .field("replay", &self.replay)
            .field("frame_mode", &self.frame_mode)
            .finish_non_exhaustive()
    }
}

impl<'a> Verifier<'a> {
    /// A verification of the draw whose `record.json` is at `record`;
    /// the record names its plans relative to its own folder.
    pub fn new(record: impl Into<PathBuf>) -> Verifier<'a> {
        Verifier {
            record: record.into(),
            plan: None,
            log: None,
            replay: true,
            progress: &crate::progress::silent,
            frame_mode: crate::FrameMode::Auto,
            chunk: crate::stream::CHUNK,
        }
    }

    /// How the replay builds its frame ([`FrameMode`](crate::FrameMode)):
    /// a draw made in either mode verifies in either.
    pub fn frame_mode(&mut self, mode: crate::FrameMode) -> &mut Verifier<'a> {
        self.frame_mode = mode;
        self
    }

    /// Entities per chunk of a streamed frame: for tests.
    #[doc(hidden)]
    pub fn stream_chunk(&mut self, entities: usize) -> &mut Verifier<'a> {
        self.chunk = entities.max(1);
        self
    }

    /// The plan's path when it is no longer where the record says: a path
    /// as any other, which may have another file name; its input files
    /// are read relative to it, and its bytes must still match the
    /// record's digest. Only for a single-task record.
    pub fn plan(&mut self, path: impl Into<PathBuf>) -> &mut Verifier<'a> {
        self.plan = Some(path.into());
        self
    }

    /// Also checks the record against this [draw log](crate::audit::DrawLog):
    /// the log's chain must be intact, the record must be in it, and no
    /// later draw of the same task and round may have replaced it. Every
    /// redraw of the record's tasks is reported in
    /// [`Verification::notes`].
    pub fn log(&mut self, path: impl Into<PathBuf>) -> &mut Verifier<'a> {
        self.log = Some(path.into());
        self
    }

    /// Whether the draw is replayed (on by default). Off, only the
    /// [log](Verifier::log) is checked: for an auditor who holds the record
    /// and the log but not the inputs. Off without a log, `run` refuses.
    pub fn replay(&mut self, yes: bool) -> &mut Verifier<'a> {
        self.replay = yes;
        self
    }

    /// Tells `progress` each step as it begins: at national scale a
    /// replay takes minutes.
    pub fn progress(&mut self, progress: OnProgress<'a>) -> &mut Verifier<'a> {
        self.progress = progress;
        self
    }

    /// Runs the verification.
    ///
    /// # Errors
    ///
    /// An error only when the record itself cannot be read or parsed, the
    /// log cannot be read, or there is nothing to check (the replay off and
    /// no log); everything else, tampered inputs included,
    /// is a difference in the returned [`Verification`].
    pub fn run(&self) -> Result<Verification> {
        let step = |text: &str| (self.progress)(Progress::Step(text));
        let mut v = if self.replay {
            replay(&self.record, self.plan.as_deref(), (self.frame_mode, self.chunk), &step)?
        } else if self.log.is_some() {
            // The log check reads and parses the record itself.
            Verification::default()
        } else {
            // Nothing checked must never read as "verified".
            return Err(crate::error::Error::policy(
                crate::error::Location::file(self.record.display().to_string()),
                "nothing to verify: the replay is off and no draw log is given",
            ));
        };
        if self.replay {
            check_workbook(&self.record, &mut v);
        }
        if let Some(log) = &self.log {
            let l = against_log(&self.record, log)?;
            v.differences.extend(l.differences);
            v.notes.extend(l.notes);
        }
        Ok(v)
    }
}

/// Checks the draw's `outputs.xlsx`, if there is one, against its CSV files.
fn check_workbook(record: &Path, v: &mut Verification) {
    let dir = record.parent().unwrap_or(Path::new(""));
    if std::fs::symlink_metadata(dir.join(super::WORKBOOK)).is_err() {
        return;
    }
    #[cfg(feature = "xlsx")]
    v.differences.extend(super::workbook::differences(dir));
    #[cfg(not(feature = "xlsx"))]
    v.notes
        .push("outputs.xlsx was not checked: this build reads no workbooks (the crate's `xlsx` feature)".into());
}

/// Checks a record against a [draw log](crate::audit::DrawLog): the log's chain
/// must be intact, the record must be in it, and no later draw of the same
/// task and round may have replaced it. Every redraw of the record's tasks
/// is reported in [`Verification::notes`].
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when the record or the log cannot
/// be read, and a [`Syntax`](crate::ErrorKind::Syntax) error when the
/// record is not a record.
fn against_log(record_path: &Path, log_path: &Path) -> Result<Verification> {
    let record_name = record_path.display().to_string();
    let bytes = crate::inputs::io::read_file(record_path, &record_name)?;
    let record = AuditRecord::from_json(&record_name, &bytes)?;
    let digest = Digest::of_bytes(&bytes).to_hex();
    let log = crate::audit::DrawLog::read(log_path)?;
    let mut v = Verification {
        differences: log.problems.clone(),
        ..Verification::default()
    };
    for task in &record.tasks {
        let (task_id, round_id) = (&task.plan.task_id, &task.plan.round_id);
        let draws: Vec<&crate::audit::LogEntry> = log.draws_of(task_id, round_id).collect();
        for e in draws.iter().filter(|e| e.redraw_reason.is_some()) {
            v.notes.push(format!(
                "task {task_id} round {round_id} was redrawn (log entry {}, {}): {}",
                e.seq,
                e.time,
                e.redraw_reason.as_deref().unwrap_or_default()
            ));
        }
        match draws.iter().rposition(|e| e.record_sha256 == digest) {
            None => v.differences.push(format!(
                "{record_name}: task {task_id} round {round_id} of this record is not in the draw log {}",
                log_path.display()
            )),
            Some(k) if k + 1 < draws.len() => {
                let later = draws[draws.len() - 1];
                v.differences.push(format!(
                    "{record_name}: task {task_id} round {round_id} was drawn again after this record (log entry {}: {})",
                    later.seq,
                    later.redraw_reason.as_deref().unwrap_or("no reason")
                ));
            }
            Some(_) => {}
        }
    }
    Ok(v)
}

/// Replays a record: re-reads it and every input, checks their digests,
/// replays the draw and compares every output, telling `progress` each
/// step.
fn replay(
    record_path: &Path,
    plan: Option<&Path>,
    (mode, chunk): (crate::FrameMode, usize),
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Verification> {
    let record_name = record_path.file_name().map_or_else(
        || record_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = crate::inputs::io::read_file(record_path, &record_name)?;
    let record = AuditRecord::from_json(&record_name, &bytes)?;
    let dir = record_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut v = Verification::default();
    if record.spec != SPEC_ID {
        v.differences.push(format!(
            "{record_name}: the record is spec {}, this verifier implements {SPEC_ID}",
            record.spec
        ));
        return Ok(v);
    }
    if record.crate_version != CRATE_VERSION {
        v.differences.push(format!(
            "{record_name}: made by double-random {}, this is {CRATE_VERSION}; verify with that version",
            record.crate_version
        ));
    }
    if plan.is_some() && record.tasks.len() != 1 {
        v.differences.push(format!(
            "{record_name}: --plan replaces the plan of a single-task record, and this one has {} tasks",
            record.tasks.len()
        ));
        return Ok(v);
    }
    let mut inputs: Vec<Inputs> = Vec::with_capacity(record.tasks.len());
    let mut failed = false;
    let plan_paths: Vec<PathBuf> = record
        .tasks
        .iter()
        .map(|task| match plan {
            Some(p) => p.to_path_buf(),
            None => dir.join(&task.plan.path),
        })
        .collect();
    // On a streamed frame, the tasks are loaded together, beside their frames.
    let mut streamed: Vec<Result<Inputs>> = Vec::new();
    let mut streamed_frames: Vec<((String, String), Frame)> = Vec::new();
    if mode.streams(&plan_paths) {
        progress("reading the plans, and their entity file in chunks");
        let seed = Seed::new(record.seed.text.clone()).ok();
        match crate::stream::load(&plan_paths, seed.as_ref(), chunk) {
            Ok(loaded) => {
                for (i, f) in loaded {
                    streamed_frames.push(((i.plan.task_id.clone(), i.plan.round_id.clone()), f));
                    streamed.push(Ok(i));
                }
            }
            Err(e) => {
                streamed.push(Err(e));
                for p in &plan_paths[1..] {
                    streamed.push(Err(crate::error::Error::policy(
                        crate::error::Location::file(p.display().to_string()),
                        "its inputs are streamed with the first task's, which do not load",
                    )));
                }
            }
        }
    }
    let mut streamed = streamed.into_iter();
    for (task, plan_path) in record.tasks.iter().zip(plan_paths) {
        let plan_dir = plan_path.parent().map(Path::to_path_buf).unwrap_or_default();
        // The input digests are listed first, so that a changed input is
        // named even if it no longer loads. Those of the files that load
        // were taken while loading, from the very bytes the replay reads;
        // a file is read again (a megabyte at a time) only when the
        // inputs do not load or the plan no longer names it.
        progress(&format!("reading {} and its inputs", plan_path.display()));
        let mut loaded = streamed.next().unwrap_or_else(|| Inputs::load(&plan_path));
        // A plan given with --plan may have been renamed: it is the plan the
        // record names (its bytes are checked by their digest).
        if plan.is_some()
            && let Ok(i) = &mut loaded
            && let (Some(file), Some(named)) = (
                i.files.iter_mut().find(|f| f.role == "plan"),
                task.inputs.iter().find(|f| f.role == "plan"),
            )
        {
            file.path.clone_from(&named.path);
        }
        let files = loaded.as_ref().map(|i| &i.files[..]).unwrap_or_default();
        for f in &task.inputs {
            let held = files
                .iter()
                .find(|l| l.role == f.role && (f.role == "plan" || l.path == f.path));
            let digest = match held {
                Some(l) => Ok(l.digest),
                None => {
                    let path = if f.role == "plan" {
                        plan_path.clone()
                    } else {
                        plan_dir.join(&f.path)
                    };
                    crate::inputs::io::open_regular(&path).and_then(Digest::of_reader)
                }
            };
            match digest.map(|d| d.to_hex()) {
                Ok(d) if d == f.sha256 => {}
                Ok(d) => v
                    .differences
                    .push(format!("{}: sha256 {d} differs from the record's {}", f.path, f.sha256)),
                Err(e) => v.differences.push(format!(
                    "{}: cannot be read ({e}) where {record_name} says it is",
                    f.path
                )),
            }
        }
        match loaded {
            Ok(i) => inputs.push(i),
            Err(e) => {
                v.differences.push(format!(
                    "{record_name}: the inputs of the plan it names ({}) do not load: {e}",
                    task.plan.path
                ));
                failed = true;
            }
        }
    }
    if failed {
        return Ok(v);
    }
    let seed = match Seed::new(record.seed.text.clone()) {
        Ok(s) => s,
        Err(e) => {
            v.differences.push(format!("{record_name}: {e}"));
            return Ok(v);
        }
    };
    if let Err(e) = JointDraw::order_and_check(&mut inputs) {
        v.differences.push(format!("{record_name}: the replay fails: {e}"));
        return Ok(v);
    }
    // One frame per task serves both the commitment check and the replay.
    progress("building the frames");
    let frames: Vec<Frame> = inputs
        .iter()
        .map(|i| {
            let task = (i.plan.task_id.clone(), i.plan.round_id.clone());
            match streamed_frames.iter().position(|(t, _)| *t == task) {
                Some(k) => streamed_frames.swap_remove(k).1,
                None => Frame::build(i),
            }
        })
        .collect();
    // As in a draw, the frame digests are taken here only when a
    // commitment must be checked; else beside the comparison of the output
    // files.
    let committed = record.tasks.iter().any(|t| t.commitment.is_some());
    let frame_digests: Vec<Digest> = if committed {
        inputs.iter().zip(&frames).map(|(i, f)| f.digest(i)).collect()
    } else {
        Vec::new()
    };
    // Pair each task with the record's path and commitment for it.
    let mut tasks: Vec<TaskInputs<'_>> = Vec::with_capacity(inputs.len());
    for (k, i) in inputs.iter().enumerate() {
        let Some(t) = record
            .tasks
            .iter()
            .find(|t| t.plan.task_id == i.plan.task_id && t.plan.round_id == i.plan.round_id)
        else {
            v.differences.push(format!(
                "{record_name}: no task in the record matches task {} round {}",
                i.plan.task_id, i.plan.round_id
            ));
            return Ok(v);
        };
        if let Some(c) = &t.commitment {
            for d in c.differences_given(i, &frame_digests[k]) {
                v.differences.push(format!("{record_name}: commitment: {d}"));
            }
        }
        tasks.push(TaskInputs {
            inputs: i,
            plan_path: &t.plan.path,
            commitment: t.commitment.as_ref(),
        });
    }
    progress("replaying the draw");
    let (joint, names) = match Names::run_beside(&inputs, frames, &seed) {
        Ok(r) => r,
        Err(e) => {
            v.differences.push(format!("{record_name}: the replay fails: {e}"));
            return Ok(v);
        }
    };
    let view = DrawView {
        names: Some(&names),
        ..DrawView::joint(&joint, committed.then_some(&frame_digests[..]))
    };
    // Each output is compared with the file found as it is rendered: neither is held.
    progress("comparing the outputs");
    match render_into(&tasks, &view, Sink::Compare(&dir)) {
        Ok(rendered) => v.differences.extend(rendered.into_iter().filter_map(|r| r.difference)),
        Err(e) => v.differences.push(format!("{record_name}: the replay fails: {e}")),
    }
    Ok(v)
}
