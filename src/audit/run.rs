//! A draw from plan files to a written output folder, checked against
//! its commitments and recorded in the draw log.

use std::path::Path;

use crate::drawlog::{NewEntry, OpenLog};
use crate::error::{Error, ErrorKind, Location, Result, quote};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, Seed};
use crate::place;
use crate::visit::JointDraw;

use super::commitment::Commitment;
use super::outputs::{DrawView, Names, Sink, TaskInputs, render_into};

/// Runs a draw of one or more tasks from their plan files and writes the
/// outputs.
///
/// Loads every plan's inputs, checks each against its commitment (the
/// commitment files are matched to plans by task and round; when any is
/// given, every plan needs one, and each must name a task drawn), draws
/// the tasks together ([`JointDraw::run`]), and writes every output into
/// `out` atomically (missing folders above it are created, and removed
/// again if the draw fails). Returns the inputs (in task order) and the
/// draw, for a summary.
///
/// With `replace`, an existing `out` is replaced only when a draw wrote it
/// (it holds a draw's `record.json` and nothing but the draw's output
/// files) and it holds none of the draw's inputs; anything else is
/// refused before anything is drawn.
///
/// # Errors
///
/// Every loading error, [`ErrorKind::CommitmentMismatch`](crate::ErrorKind::CommitmentMismatch) when inputs
/// differ from their commitment or a commitment is missing, a
/// [`Policy`](crate::ErrorKind::Policy) error for a commitment that names no task
/// of the draw or a task another one names, the errors of
/// [`JointDraw::run`], and those of [`Outputs::write_dir`](crate::Outputs::write_dir).
pub fn draw_to_dir(
    plans: &[&Path],
    seed: &Seed,
    commitments: &[&Path],
    out: &Path,
    replace: bool,
) -> Result<(Vec<Inputs>, JointDraw)> {
    draw_inner(plans, seed, commitments, out, replace, &|_| {}, None).map(|(inputs, joint, _)| (inputs, joint))
}

/// Where a draw is logged, and why it is drawn again when it is.
#[derive(Clone, Copy)]
pub struct LogOptions<'a> {
    /// The draw log (created when missing).
    pub path: &'a Path,
    /// Why a task and round already in the log is drawn again.
    pub redraw_reason: Option<&'a str>,
    /// Told what the draw is doing as it goes ("reading plan.json",
    /// "building the frames", "drawing", "writing the outputs"), for a
    /// progress display.
    pub progress: Option<&'a (dyn Fn(&str) + Sync)>,
}

impl std::fmt::Debug for LogOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOptions")
            .field("path", &self.path)
            .field("redraw_reason", &self.redraw_reason)
            .field("progress", &self.progress.map(|_| "Fn(&str)"))
            .finish()
    }
}

/// [`draw_to_dir`], recorded in a hash-chained [draw log](crate::DrawLog).
///
/// The log is checked before anything is drawn: its chain must be intact,
/// a task and round already in it is drawn again only with a reason, and
/// a reason needs an earlier draw. Once the outputs are written (in a
/// temporary folder), the log is locked and checked again, one entry per
/// task is appended and flushed to disk, and only then are the outputs
/// renamed into place: no installed output is ever unlogged. If the
/// entries cannot be written (a full disk) nothing is installed, and if
/// the outputs cannot be installed the entries are taken back; a draw that
/// fails leaves the log as it was, and creates none. Returns the new
/// entries too.
///
/// The log may not lie inside `out` (a later `--force` would delete it
/// with the outputs) and may not be an input of the draw.
///
/// # Errors
///
/// Those of [`draw_to_dir`]; a [`Policy`](crate::ErrorKind::Policy) error
/// when the log's chain is broken, when a task and round was drawn already
/// and no reason is given, or when a reason is given for a first draw; an
/// [`OutputRefused`](crate::ErrorKind::OutputRefused) error when the log lies
/// inside `out` or is an input.
pub fn draw_to_dir_logged(
    plans: &[&Path],
    seed: &Seed,
    commitments: &[&Path],
    out: &Path,
    replace: bool,
    log: LogOptions<'_>,
) -> Result<(Vec<Inputs>, JointDraw, Vec<crate::LogEntry>)> {
    let progress = log.progress.unwrap_or(&|_| {});
    draw_inner(plans, seed, commitments, out, replace, progress, Some(log))
}

/// Loads, checks, draws and writes; with a log, checks it before drawing
/// and appends to it before the outputs are installed.
fn draw_inner(
    plans: &[&Path],
    seed: &Seed,
    commitments: &[&Path],
    out: &Path,
    replace: bool,
    progress: &(dyn Fn(&str) + Sync),
    log: Option<LogOptions<'_>>,
) -> Result<(Vec<Inputs>, JointDraw, Vec<crate::LogEntry>)> {
    place::check_new_draw_folder(out, replace)?;
    let mut loaded: Vec<(Inputs, String)> = Vec::with_capacity(plans.len());
    // What no output may replace: the plans, their inputs, the commitments.
    let mut protected: Vec<place::Protected> = Vec::new();
    for &plan in plans {
        progress(&format!("reading {} and its inputs", plan.display()));
        let inputs = Inputs::load(plan)?;
        for path in inputs.file_paths(plan) {
            protected.push(place::Protected::new(
                &path,
                format!("{}, an input of the draw", path.display()),
            ));
        }
        loaded.push((inputs, relative_plan_path(plan, out)?));
    }
    let mut committed: Vec<(String, Commitment, Digest)> = Vec::new();
    for &path in commitments {
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
    loaded.sort_by(|(a, _), (b, _)| {
        (a.plan.task_id.as_bytes(), a.plan.round_id.as_bytes())
            .cmp(&(b.plan.task_id.as_bytes(), b.plan.round_id.as_bytes()))
    });
    let (mut inputs, paths): (Vec<Inputs>, Vec<String>) = loaded.into_iter().unzip();
    JointDraw::order_and_check(&mut inputs)?;
    check_commitments_name_tasks(&committed, &inputs)?;
    let tasks_drawn: Vec<(String, String)> = inputs
        .iter()
        .map(|i| (i.plan.task_id.clone(), i.plan.round_id.clone()))
        .collect();
    // The log is checked before the draw, so that a redraw without a
    // reason fails at once; it is locked and checked again before writing.
    if let Some(log) = &log {
        let read = crate::DrawLog::read(log.path)?;
        crate::drawlog::check_draws(&read, &log.path.display().to_string(), &tasks_drawn, log.redraw_reason)?;
    }
    // One frame per task serves both the commitment check and the draw.
    progress("building the frames");
    let frames: Vec<Frame> = inputs.iter().map(Frame::build).collect();
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
    Ok((inputs, joint, entries))
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
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
    let plan_abs = abs(plan)?;
    let out_abs = abs(out)?;
    let rel = pathdiff::diff_paths(&plan_abs, &out_abs).unwrap_or(plan_abs);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}
