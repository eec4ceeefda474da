//! A draw from plan files to a written output folder, checked against
//! its commitments and recorded in the draw log.

use std::path::{Path, PathBuf};

use crate::audit::log::{LogEntry, NewEntry, OpenLog};
use crate::error::{Error, ErrorKind, Location, Result, quote};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, Seed};
use crate::place;
use crate::progress::{OnProgress, Progress};
use crate::visit::JointDraw;

use super::commitment::Commitment;
use super::outputs::{DrawView, Names, Sink, TaskInputs, render_into};

/// A draw from plan files to an output folder: the library's form of
/// `double-random draw`.
///
/// Give it the seed and the output folder, add one plan per task (and
/// their commitments), then [`run`](Drawer::run) it:
///
/// ```no_run
/// use double_random::{Drawer, Seed};
///
/// let seed = Seed::new("2027-03-01 lottery 0417 2953")?;
/// let drawn = Drawer::new(seed, "out")
///     .plan("fixtures/plan.json")
///     .commitment("commitment.json")
///     .log("draw-log.jsonl")
///     .run()?;
/// print!("{}", drawn.summary());
/// # Ok::<(), double_random::Error>(())
/// ```
///
/// [`run`](Drawer::run):
///
/// 1. loads every plan's inputs and checks each against its commitment
///    (commitments are matched to plans by task and round; when any is
///    given, every plan needs one, and each must name a task drawn);
/// 2. with a [log](Drawer::log), checks it: its chain must be intact, a
///    task and round already in it is drawn again only with a
///    [reason](Drawer::redraw_reason), and a reason needs an earlier draw;
/// 3. draws the tasks together ([`JointDraw::run`]) and writes every output
///    into a staging folder beside the output folder;
/// 4. with a log, locks it, checks it again, appends one entry per task
///    and flushes it to disk;
/// 5. renames the staging folder into place.
///
/// No installed output is ever unlogged: if the entries cannot be written
/// (a full disk) nothing is installed, and if the outputs cannot be
/// installed the entries are taken back. A draw that fails leaves no
/// output, leaves the log as it was (creating none), and removes the
/// folders it created above the output folder.
#[derive(Clone)]
pub struct Drawer<'a> {
    seed: Seed,
    out: PathBuf,
    plans: Vec<PathBuf>,
    commitments: Vec<PathBuf>,
    replace: bool,
    log: Option<PathBuf>,
    redraw_reason: Option<String>,
    progress: OnProgress<'a>,
    frame_mode: crate::FrameMode,
    chunk: usize,
    xlsx: bool,
}

impl std::fmt::Debug for Drawer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drawer")
            .field("seed", &self.seed)
            .field("out", &self.out)
            .field("plans", &self.plans)
            .field("commitments", &self.commitments)
            .field("replace", &self.replace)
            .field("log", &self.log)
            .field("redraw_reason", &self.redraw_reason)
            .field("frame_mode", &self.frame_mode)
            .field("xlsx", &self.xlsx)
            .finish_non_exhaustive()
    }
}

impl<'a> Drawer<'a> {
    /// A draw with this seed into the folder `out`, which must not exist
    /// yet (see [`replace`](Drawer::replace)); missing folders above it are
    /// created.
    pub fn new(seed: Seed, out: impl Into<PathBuf>) -> Drawer<'a> {
        Drawer {
            seed,
            out: out.into(),
            plans: Vec::new(),
            commitments: Vec::new(),
            replace: false,
            log: None,
            redraw_reason: None,
            progress: &crate::progress::silent,
            frame_mode: crate::FrameMode::Auto,
            chunk: crate::stream::CHUNK,
            xlsx: false,
        }
    }

    /// Whether to write `outputs.xlsx` too: the CSV outputs as one Excel
    /// workbook for the bureau's staff, a sheet per file, every cell text
    /// (never a formula). It is derived from the CSV files, which remain
    /// the draw; `verify` checks it against them. Off by default; a file
    /// with more rows than a sheet holds (1,048,576) makes the draw fail
    /// with nothing written. Needs the `xlsx` feature.
    pub fn xlsx(&mut self, yes: bool) -> &mut Drawer<'a> {
        self.xlsx = yes;
        self
    }

    /// How the frame is built: in memory, or streamed from an entity file
    /// too large to hold ([`FrameMode`](crate::FrameMode)); the outputs
    /// are the same. [`Auto`](crate::FrameMode::Auto) by default.
    pub fn frame_mode(&mut self, mode: crate::FrameMode) -> &mut Drawer<'a> {
        self.frame_mode = mode;
        self
    }

    /// Entities per chunk of a streamed frame (4,194,304 by default): for
    /// tests, which stream small files in many chunks.
    #[doc(hidden)]
    pub fn stream_chunk(&mut self, entities: usize) -> &mut Drawer<'a> {
        self.chunk = entities.max(1);
        self
    }

    /// Adds a task's plan (its input files are read relative to it).
    /// Tasks are drawn in (task id, round id) order whatever the order
    /// they are added in.
    pub fn plan(&mut self, path: impl Into<PathBuf>) -> &mut Drawer<'a> {
        self.plans.push(path.into());
        self
    }

    /// Adds a commitment published before the seed was drawn.
    pub fn commitment(&mut self, path: impl Into<PathBuf>) -> &mut Drawer<'a> {
        self.commitments.push(path.into());
        self
    }

    /// Whether an existing output folder may be replaced (`--force`); off
    /// by default. Only a folder a draw wrote is ever replaced: a folder,
    /// not a link, holding a draw's `record.json` and nothing but the
    /// draw's output files, and none of this draw's inputs. Anything else
    /// is refused before anything is read.
    pub fn replace(&mut self, yes: bool) -> &mut Drawer<'a> {
        self.replace = yes;
        self
    }

    /// Records the draw in this hash-chained [draw log](crate::audit::DrawLog),
    /// created when missing. The log may not lie inside the output folder
    /// (a later replacement would delete it with the outputs) and may not
    /// be an input of the draw.
    pub fn log(&mut self, path: impl Into<PathBuf>) -> &mut Drawer<'a> {
        self.log = Some(path.into());
        self
    }

    /// Why a task and round already in the log is drawn again; at most
    /// 1,000 characters. Given without a log, the draw is refused.
    pub fn redraw_reason(&mut self, reason: impl Into<String>) -> &mut Drawer<'a> {
        self.redraw_reason = Some(reason.into());
        self
    }

    /// Tells `progress` each step as it begins.
    pub fn progress(&mut self, progress: OnProgress<'a>) -> &mut Drawer<'a> {
        self.progress = progress;
        self
    }

    /// Runs the draw and writes its outputs.
    ///
    /// # Errors
    ///
    /// - A [`Policy`](crate::ErrorKind::Policy) error when no plan was
    ///   added, when a redraw reason is given without a log, and those of
    ///   [`JointDraw::run`];
    /// - every loading error of [`Inputs::load`];
    /// - [`CommitmentMismatch`](crate::ErrorKind::CommitmentMismatch) when
    ///   inputs differ from their commitment or a commitment is missing; a
    ///   `Policy` error for a commitment that names no task of the draw or
    ///   a task another one names;
    /// - a `Policy` error when the log's chain is broken, when a task and
    ///   round was drawn already and no reason is given, or when a reason
    ///   is given for a first draw;
    /// - [`OutputRefused`](crate::ErrorKind::OutputRefused) when the output
    ///   folder exists and may not be replaced, or the log lies inside it
    ///   or is an input;
    /// - [`Io`](crate::ErrorKind::Io) errors from writing.
    pub fn run(&self) -> Result<Drawn> {
        if self.plans.is_empty() {
            return Err(Error::policy(Location::file("plan"), "there is no task to draw"));
        }
        if self.log.is_none() && self.redraw_reason.is_some() {
            return Err(Error::policy(
                Location::file("draw log"),
                "a redraw reason is given, but no draw log to check it against",
            ));
        }
        self.draw_and_write()
    }
}

/// What a [`Drawer`] drew and wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Drawn {
    /// Every task's inputs, in (task id, round id) order.
    pub inputs: Vec<Inputs>,
    /// The draw, its tasks in the same order.
    pub draw: JointDraw,
    /// The entries appended to the draw log, one per task; empty without
    /// a log.
    pub log_entries: Vec<LogEntry>,
}

impl Drawn {
    /// The table `double-random draw` prints: per department and class,
    /// the base, eligible, quota, drawn and shortfall counts, then the
    /// visits.
    pub fn summary(&self) -> String {
        self.draw.summary(&self.inputs)
    }

    /// [`summary`](Drawn::summary) in `lang`.
    pub fn summary_in(&self, lang: crate::messages::Lang) -> String {
        self.draw.summary_in(&self.inputs, lang)
    }
}

/// Where a draw is logged, and why it is drawn again when it is.
#[derive(Clone, Copy)]
struct LogOptions<'a> {
    path: &'a Path,
    redraw_reason: Option<&'a str>,
}

impl Drawer<'_> {
    /// Loads, checks, draws and writes; with a log, checks it before drawing
    /// and appends to it before the outputs are installed.
    fn draw_and_write(&self) -> Result<Drawn> {
        let (seed, out, replace) = (&self.seed, self.out.as_path(), self.replace);
        let progress = |text: &str| (self.progress)(Progress::Step(text));
        let log = self.log.as_deref().map(|path| LogOptions {
            path,
            redraw_reason: self.redraw_reason.as_deref(),
        });
        place::check_new_draw_folder(out, replace)?;
        let mut loaded: Vec<(Inputs, String, Option<Frame>)> = Vec::with_capacity(self.plans.len());
        // What no output may replace: the plans, their inputs, the commitments.
        let mut protected: Vec<place::Protected> = Vec::new();
        let mut streamed = if self.frame_mode.streams(&self.plans) {
            progress("reading the plans, and their entity file in chunks");
            crate::stream::load(&self.plans, Some(seed), self.chunk)?
                .into_iter()
                .map(|(inputs, frame)| (inputs, Some(frame)))
                .collect()
        } else {
            Vec::new()
        }
        .into_iter();
        for plan in &self.plans {
            let (inputs, frame) = match streamed.next() {
                Some(both) => both,
                None => {
                    progress(&format!("reading {} and its inputs", plan.display()));
                    (Inputs::load(plan)?, None)
                }
            };
            for path in inputs.file_paths(plan) {
                protected.push(place::Protected::new(
                    &path,
                    format!("{}, an input of the draw", path.display()),
                ));
            }
            loaded.push((inputs, relative_plan_path(plan, out)?, frame));
        }
        let mut committed: Vec<(String, Commitment, Digest)> = Vec::new();
        for path in &self.commitments {
            let name = path.display().to_string();
            let bytes = crate::inputs::io::read_file(path, &name)?;
            committed.push((
                name.clone(),
                Commitment::from_json(&name, &bytes)?,
                Digest::of_bytes(&bytes),
            ));
            protected.push(place::Protected::new(path, format!("{name}, a commitment of the draw")));
        }
        if let Some(log) = &log {
            check_log_place(log.path, out, &protected)?;
        }
        if std::fs::symlink_metadata(out).is_ok() {
            // `replace` is given (checked above): the folder must hold no input.
            place::check_draw_folder(out, &protected)?;
        }
        // Draw in (task id, round id) order, carrying the paths along.
        loaded.sort_by(|(a, _, _), (b, _, _)| {
            (a.plan.task_id.as_bytes(), a.plan.round_id.as_bytes())
                .cmp(&(b.plan.task_id.as_bytes(), b.plan.round_id.as_bytes()))
        });
        let mut inputs = Vec::with_capacity(loaded.len());
        let mut paths = Vec::with_capacity(loaded.len());
        let mut streamed_frames = Vec::with_capacity(loaded.len());
        for (i, p, f) in loaded {
            inputs.push(i);
            paths.push(p);
            streamed_frames.push(f);
        }
        JointDraw::order_and_check(&mut inputs)?;
        check_commitments_name_tasks(&committed, &inputs)?;
        let tasks_drawn: Vec<(String, String)> = inputs
            .iter()
            .map(|i| (i.plan.task_id.clone(), i.plan.round_id.clone()))
            .collect();
        // The log is checked before the draw, so that a redraw without a
        // reason fails at once; it is locked and checked again before writing.
        if let Some(log) = &log {
            let read = crate::audit::DrawLog::read(log.path)?;
            crate::audit::log::check_draws(&read, &log.path.display().to_string(), &tasks_drawn, log.redraw_reason)?;
        }
        // One frame per task serves both the commitment check and the draw.
        progress("building the frames");
        let frames: Vec<Frame> = inputs
            .iter()
            .zip(streamed_frames)
            .map(|(i, f)| f.unwrap_or_else(|| Frame::build(i)))
            .collect();
        // Each frame's digest, taken once: here when a commitment must be
        // checked before drawing, else beside the writing of the output files.
        let mut frame_digests: Vec<Digest> = Vec::new();
        let mut commitments: Vec<Option<Commitment>> = Vec::with_capacity(inputs.len());
        let mut commitment_digests: Vec<Option<Digest>> = Vec::with_capacity(inputs.len());
        for (k, task) in inputs.iter().enumerate() {
            let plan = &task.plan;
            let matching = committed
                .iter()
                .find(|(_, c, _)| c.task_id == plan.task_id && c.round_id == plan.round_id);
            match matching {
                Some((name, c, digest)) => {
                    let frame_digest = frames[k].digest(task);
                    let differences = c.differences_given(task, &frame_digest);
                    frame_digests.push(frame_digest);
                    if !differences.is_empty() {
                        return Err(ErrorKind::CommitmentMismatch {
                            commitment: name.clone(),
                            differences,
                        }
                        .into());
                    }
                    commitments.push(Some(c.clone()));
                    commitment_digests.push(Some(*digest));
                }
                None if committed.is_empty() => {
                    commitments.push(None);
                    commitment_digests.push(None);
                }
                None => {
                    return Err(ErrorKind::CommitmentMismatch {
                        commitment: committed[0].0.clone(),
                        differences: vec![format!(
                            "no commitment names task {} round {} of {}",
                            plan.task_id, plan.round_id, task.files[0].path
                        )],
                    }
                    .into());
                }
            }
        }
        progress("drawing");
        let (joint, names) = Names::run_beside(&inputs, frames, seed)?;
        progress("writing the outputs");
        let tasks: Vec<TaskInputs<'_>> = inputs
            .iter()
            .zip(&paths)
            .zip(&commitments)
            .map(|((inputs, plan_path), commitment)| TaskInputs {
                inputs,
                plan_path,
                commitment: commitment.as_ref(),
            })
            .collect();
        // Every task has its digest, or none has (there was no commitment).
        let frame_digests = (frame_digests.len() == tasks.len()).then_some(&frame_digests[..]);
        // Every output is rendered straight into a staging folder beside
        // `out` (never held in memory), which is renamed into place last.
        let created = place::CreatedDirs::above(out)?;
        let staging = place::staging_dir(&place::parent_of(out))?;
        let view = DrawView {
            names: Some(&names),
            ..DrawView::joint(&joint, frame_digests)
        };
        let rendered = render_into(&tasks, &view, Sink::Dir(staging.path()))?;
        if self.xlsx {
            progress("writing outputs.xlsx");
            write_workbook(staging.path())?;
        }
        let record = rendered.last().map_or_else(Digest::default, |r| r.digest);
        drop(tasks);
        // The log's entries are on disk before the outputs are in place.
        let mut logged = None;
        let mut entries = Vec::new();
        if let Some(log) = &log {
            let log_dirs = place::CreatedDirs::above(log.path)?;
            let mut open = OpenLog::open(log.path, &tasks_drawn, log.redraw_reason)?;
            let new = inputs
                .iter()
                .zip(&commitment_digests)
                .map(|(i, c)| NewEntry {
                    plan_id: i.plan.plan_id.clone(),
                    task_id: i.plan.task_id.clone(),
                    round_id: i.plan.round_id.clone(),
                    seed_sha256: seed.digest().to_hex(),
                    commitment_sha256: c.map(|d| d.to_hex()),
                })
                .collect();
            entries = open.append(new, &record, &out.display().to_string(), log.redraw_reason)?;
            logged = Some((open, log_dirs));
        }
        // If this fails, dropping `logged` takes the entries back.
        place::install_folder(staging, out, replace, &protected)?;
        if let Some((open, log_dirs)) = logged {
            open.commit();
            log_dirs.keep();
        }
        created.keep();
        Ok(Drawn {
            inputs,
            draw: joint,
            log_entries: entries,
        })
    }
}

/// Writes `outputs.xlsx` from the CSV outputs in `dir`.
#[cfg(feature = "xlsx")]
fn write_workbook(dir: &Path) -> Result<()> {
    super::workbook::write(dir)
}

/// Without the `xlsx` feature, a workbook is refused.
#[cfg(not(feature = "xlsx"))]
fn write_workbook(_: &Path) -> Result<()> {
    Err(Error::policy(
        Location::file(super::WORKBOOK),
        "this build writes no workbooks (the crate's `xlsx` feature)",
    ))
}

/// Checks that every commitment given names a task of the draw, and no
/// task twice: such a commitment would otherwise be ignored.
fn check_commitments_name_tasks(committed: &[(String, Commitment, Digest)], inputs: &[Inputs]) -> Result<()> {
    for (k, (name, c, _)) in committed.iter().enumerate() {
        let task = format!("task {} round {}", quote(&c.task_id), quote(&c.round_id));
        if let Some((first, _, _)) = committed[..k]
            .iter()
            .find(|(_, o, _)| o.task_id == c.task_id && o.round_id == c.round_id)
        {
            return Err(Error::policy(
                Location::file(name),
                format!("{first} commits {task} already; give one commitment per plan"),
            ));
        }
        if !inputs
            .iter()
            .any(|i| i.plan.task_id == c.task_id && i.plan.round_id == c.round_id)
        {
            return Err(Error::policy(
                Location::file(name),
                format!("the commitment is for {task}, which no plan of this draw names"),
            ));
        }
    }
    Ok(())
}

/// Checks where a draw log may be: not inside the output folder (a redraw
/// with `--force` would delete it with the outputs) and not one of the
/// files the draw reads.
fn check_log_place(log: &Path, out: &Path, protected: &[place::Protected]) -> Result<()> {
    let resolved = place::resolve(log);
    if place::is_within(&resolved, &place::resolve(out)) {
        return Err(place::refused(
            log,
            format!(
                "the draw log cannot be inside the output folder {}, which a redraw with --force replaces",
                out.display()
            ),
        ));
    }
    match protected.iter().find(|p| p.is(&resolved)) {
        Some(p) => Err(place::refused(log, format!("the draw log cannot be {}", p.what()))),
        None => Ok(()),
    }
}

/// The plan's path relative to the output directory, with `/` separators.
fn relative_plan_path(plan: &Path, out: &Path) -> Result<String> {
    place::relative_to(plan, out)
}
