//! The audit trail: the commitment published before the seed, the output
//! files, the audit record, and verification by replay.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::draw::{ClassDraw, Draw};
use crate::drawlog::{NewEntry, OpenLog};
use crate::error::{Error, ErrorKind, Location, Result, quote};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, SPEC_ID, Seed};
use crate::place;
use crate::population::NameList;
use crate::visit::JointDraw;

/// The crate version written into records.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One file and its SHA-256, as written in commitments and records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// What the file holds (`plan`, `entities`, `items`, `history`, `directed`, or an output name).
    pub role: String,
    /// The path relative to the plan (inputs) or the output directory (outputs).
    pub path: String,
    /// SHA-256 of the file's bytes, 64 hex digits.
    pub sha256: String,
}

/// A commitment to the inputs of a draw, published before the seed exists.
///
/// # Example
///
/// ```no_run
/// use double_random::{Commitment, Inputs};
/// let inputs = Inputs::load("fixtures/plan.json")?;
/// let commitment = Commitment::compute(&inputs);
/// assert!(commitment.differences(&inputs).is_empty());
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// The spec id, `DR1`.
    pub spec: String,
    /// The plan id.
    pub plan_id: String,
    /// The task id.
    pub task_id: String,
    /// The round id.
    pub round_id: String,
    /// Every input file with its digest, plan first.
    pub inputs: Vec<FileDigest>,
    /// The canonical frame digest (see [`Frame::digest`]).
    pub frame_sha256: String,
}

fn input_digests(inputs: &Inputs) -> Vec<FileDigest> {
    inputs
        .files
        .iter()
        .map(|f| FileDigest {
            role: f.role.to_string(),
            path: f.path.clone(),
            sha256: f.digest.to_hex(),
        })
        .collect()
}

impl Commitment {
    /// Computes the commitment of loaded inputs.
    pub fn compute(inputs: &Inputs) -> Commitment {
        Commitment::with_frame_digest(inputs, &Frame::build(inputs).digest(inputs))
    }

    fn with_frame_digest(inputs: &Inputs, frame_digest: &Digest) -> Commitment {
        let plan = &inputs.plan;
        Commitment {
            spec: SPEC_ID.to_string(),
            plan_id: plan.plan_id.clone(),
            task_id: plan.task_id.clone(),
            round_id: plan.round_id.clone(),
            inputs: input_digests(inputs),
            frame_sha256: frame_digest.to_hex(),
        }
    }

    /// Parses a commitment file; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Syntax`] for anything that is not a commitment.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<Commitment> {
        crate::json::parse(file, bytes)
    }

    /// The commitment as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// How the inputs differ from this commitment, one sentence each;
    /// empty when they match.
    pub fn differences(&self, inputs: &Inputs) -> Vec<String> {
        self.differences_from(&Commitment::compute(inputs))
    }

    /// [`Commitment::differences`] with the digest of the inputs' frame taken already.
    pub(crate) fn differences_given(&self, inputs: &Inputs, frame_digest: &Digest) -> Vec<String> {
        self.differences_from(&Commitment::with_frame_digest(inputs, frame_digest))
    }

    fn differences_from(&self, now: &Commitment) -> Vec<String> {
        let mut out = Vec::new();
        for (field, a, b) in [
            ("spec", &self.spec, &now.spec),
            ("plan_id", &self.plan_id, &now.plan_id),
            ("task_id", &self.task_id, &now.task_id),
            ("round_id", &self.round_id, &now.round_id),
        ] {
            if a != b {
                out.push(format!("{field} is {b}, committed {a}"));
            }
        }
        for f in &now.inputs {
            match self.inputs.iter().find(|c| c.role == f.role) {
                None => out.push(format!("{}: not in the commitment", f.path)),
                Some(c) if c.path != f.path => out.push(format!(
                    "{}: the commitment names {} for the {}",
                    f.path, c.path, f.role
                )),
                Some(c) if c.sha256 != f.sha256 => out.push(format!(
                    "{}: sha256 {} differs from the committed {}",
                    f.path, f.sha256, c.sha256
                )),
                Some(_) => {}
            }
        }
        for (k, c) in self.inputs.iter().enumerate() {
            if !now.inputs.iter().any(|f| f.role == c.role) {
                out.push(format!("{}: committed but not an input of the plan", c.path));
            } else if self.inputs[..k].iter().any(|e| e.role == c.role) {
                out.push(format!("{}: a second file committed as the {}", c.path, c.role));
            }
        }
        if self.frame_sha256 != now.frame_sha256 {
            out.push(format!(
                "the frame digest {} differs from the committed {}",
                now.frame_sha256, self.frame_sha256
            ));
        }
        out
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // OK because these types hold only strings, integers, vectors and options, which always serialize.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------
// Output files.

/// The files of a draw's output directory, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// `(file name, bytes)`, `record.json` last.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The names of the files a draw writes, `record.json` last.
pub const OUTPUT_FILES: [&str; 6] = [
    "selection.csv",
    "strata.csv",
    "exclusions.csv",
    "visits.csv",
    "public.csv",
    "record.json",
];

/// Checks, before anything is read or drawn, that a draw may write its
/// output folder at `dir`: it does not exist, or `replace` is given and it
/// is a folder a draw wrote (see [`place::check_draw_folder`]; the inputs
/// it must not hold are checked again once they are known).
fn check_output_folder(dir: &Path, replace: bool) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    if !replace {
        return Err(ErrorKind::OutputExists {
            path: dir.to_path_buf(),
        }
        .into());
    }
    place::check_draw_folder(dir, &[])
}

/// Renames a complete staging directory into place. With `replace`, an
/// existing `dir` is checked once more (a folder a draw wrote, holding
/// none of `protected`) and moved aside first, then deleted; without it, a
/// `dir` that appeared meanwhile is never replaced. Renaming the temporary
/// directory itself (not a kept copy) means a failed rename drops and
/// removes it, leaving nothing behind.
fn install(tmp: tempfile::TempDir, dir: &Path, replace: bool, protected: &[place::Protected]) -> Result<()> {
    let parent = place::parent_of(dir);
    if replace && std::fs::symlink_metadata(dir).is_ok() {
        place::check_draw_folder(dir, protected)?;
        let old = place::staging_dir(&parent)?;
        let aside = old.path().join("previous");
        std::fs::rename(dir, &aside).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = std::fs::rename(tmp.path(), dir) {
            // Put the previous directory back before reporting.
            let _ = std::fs::rename(&aside, dir);
            return Err(Error::io(dir, e));
        }
    } else if let Err(e) = std::fs::rename(tmp.path(), dir) {
        return Err(match std::fs::symlink_metadata(dir) {
            Ok(_) => ErrorKind::OutputExists {
                path: dir.to_path_buf(),
            }
            .into(),
            Err(_) => Error::io(dir, e),
        });
    }
    // The directory is in place: nothing is left to clean up.
    let _ = tmp.keep();
    Ok(())
}

/// Where rendered outputs go: memory, files in a directory, or a
/// comparison with the files already in a directory.
#[derive(Clone, Copy)]
enum Sink<'a> {
    Memory,
    Dir(&'a Path),
    Compare(&'a Path),
}

/// One rendered output: its digest, and its bytes (in memory only) or
/// how it differs from the file found (when compared).
struct Rendered {
    name: String,
    bytes: Vec<u8>,
    digest: Digest,
    difference: Option<String>,
}

/// A writer that hashes what it writes and keeps it in memory, writes it
/// to a file or compares it with a file.
struct Out {
    hasher: sha2::Sha256,
    target: Target,
}

enum Target {
    Memory(Vec<u8>),
    File(std::io::BufWriter<std::fs::File>),
    Compare(Box<crate::compare::Comparer<std::io::BufReader<std::fs::File>>>),
}

impl std::io::Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest as _;
        self.hasher.update(buf);
        match &mut self.target {
            Target::Memory(m) => m.extend_from_slice(buf),
            Target::File(f) => f.write_all(buf)?,
            Target::Compare(c) => c.write(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.target {
            Target::File(f) => f.flush(),
            Target::Memory(_) | Target::Compare(_) => Ok(()),
        }
    }
}

impl Sink<'_> {
    fn open(self, name: &str) -> Result<Out> {
        use sha2::Digest as _;
        let target = match self {
            Sink::Memory => Target::Memory(Vec::new()),
            Sink::Dir(dir) => {
                let path = dir.join(name);
                let f = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
                Target::File(std::io::BufWriter::with_capacity(1 << 20, f))
            }
            Sink::Compare(dir) => {
                let found =
                    crate::io::open_regular(&dir.join(name)).map(|f| std::io::BufReader::with_capacity(1 << 20, f));
                Target::Compare(Box::new(crate::compare::Comparer::new(name, found)))
            }
        };
        Ok(Out {
            hasher: sha2::Sha256::new(),
            target,
        })
    }

    /// The path `name` is written to, for errors.
    fn path(self, name: &str) -> PathBuf {
        match self {
            Sink::Dir(dir) | Sink::Compare(dir) => dir.join(name),
            Sink::Memory => PathBuf::from(name),
        }
    }

    fn close(self, name: &str, mut out: Out) -> Result<Rendered> {
        use sha2::Digest as _;
        use std::io::Write as _;
        let io = |e: std::io::Error| Error::io(self.path(name), e);
        out.flush().map_err(io)?;
        let (bytes, difference) = match out.target {
            Target::Memory(m) => (m, None),
            Target::File(f) => {
                f.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
                (Vec::new(), None)
            }
            Target::Compare(c) => (Vec::new(), c.finish()),
        };
        Ok(Rendered {
            name: name.to_string(),
            bytes,
            digest: Digest::from_array(out.hasher.finalize().into()),
            difference,
        })
    }

    /// Writes a CSV file: the header, then the rows, every value made
    /// [safe for a spreadsheet](spreadsheet_safe).
    fn csv(self, name: &str, header: &[&str], rows: impl FnOnce(&mut Rows) -> csv::Result<()>) -> Result<Rendered> {
        let mut w = Rows(
            csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(self.open(name)?),
        );
        let io = |e: csv::Error| Error::io(self.path(name), e.into());
        w.0.write_record(header).map_err(io)?;
        rows(&mut w).map_err(io)?;
        let out = w.0.into_inner().map_err(|e| io(csv::Error::from(e.into_error())))?;
        self.close(name, out)
    }

    /// Writes a file of bytes.
    fn bytes(self, name: &str, bytes: &[u8]) -> Result<Rendered> {
        use std::io::Write as _;
        let mut out = self.open(name)?;
        out.write_all(bytes).map_err(|e| Error::io(name, e))?;
        self.close(name, out)
    }
}

/// The rows of an output CSV file being written.
struct Rows(csv::Writer<Out>);

impl Rows {
    /// Writes one row, each value made [safe for a spreadsheet](spreadsheet_safe).
    fn write_record<const N: usize>(&mut self, fields: [&str; N]) -> csv::Result<()> {
        if fields.iter().any(|f| is_formula_like(f)) {
            self.0.write_record(fields.map(|f| spreadsheet_safe(f).into_owned()))
        } else {
            self.0.write_record(fields)
        }
    }
}

/// A value as an output CSV file holds it: a value that a spreadsheet
/// (Excel, WPS) would read as a formula, because it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, gets a `'` in front (OWASP's
/// advice against CSV injection), so that a name like
/// `=HYPERLINK("http://…")` in the entity file shows as text in the
/// published `public.csv` instead of running. Every value of every output
/// CSV file goes through this one rule, which the Python verifier applies
/// too.
pub(crate) fn spreadsheet_safe(value: &str) -> std::borrow::Cow<'_, str> {
    if is_formula_like(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Whether a spreadsheet would read a value as a formula.
fn is_formula_like(value: &str) -> bool {
    value.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Clears `buf` and fills it with `parts` joined by `sep`.
fn join_into<'a>(buf: &mut String, sep: &str, parts: impl IntoIterator<Item = &'a str>) {
    buf.clear();
    for (k, part) in parts.into_iter().enumerate() {
        if k > 0 {
            buf.push_str(sep);
        }
        buf.push_str(part);
    }
}

/// The exact quota share `q_h = num / den`, reduced, as `p/q` (or `p` when whole).
fn fraction(num: u128, den: u64) -> String {
    if den == 0 || num == 0 {
        return "0".to_string();
    }
    let (mut a, mut b) = (num, u128::from(den));
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let (p, q) = (num / a, u128::from(den) / a);
    if q == 1 { p.to_string() } else { format!("{p}/{q}") }
}

/// One task of a draw as the outputs name it: its inputs, the plan's path
/// relative to the output directory, and the commitment it was checked
/// against, if any.
#[derive(Debug, Clone, Copy)]
pub struct TaskInputs<'a> {
    /// The task's loaded inputs.
    pub inputs: &'a Inputs,
    /// The plan's path relative to the output directory.
    pub plan_path: &'a str,
    /// The commitment the inputs were checked against.
    pub commitment: Option<&'a Commitment>,
}

/// What the outputs are rendered from: the tasks' draws, the visit salt and
/// the visits, borrowed from a [`Draw`] or a [`JointDraw`] without copying.
struct DrawView<'a> {
    draws: Vec<&'a Draw>,
    salt: crate::key::Salt,
    visits: &'a [crate::Visit],
    /// Each task's frame digest when the caller has taken it already (it
    /// reads every eligible id: at national scale, seconds).
    frame_digests: Option<&'a [Digest]>,
    /// The names of the visited entities when the caller has read them already.
    names: Option<&'a Names>,
}

impl<'a> DrawView<'a> {
    fn joint(joint: &'a JointDraw, frame_digests: Option<&'a [Digest]>) -> DrawView<'a> {
        DrawView {
            draws: joint.draws.iter().collect(),
            salt: joint.salt,
            visits: &joint.visits,
            frame_digests,
            names: None,
        }
    }

    fn frame_digest(&self, task: usize, inputs: &Inputs) -> Digest {
        match self.frame_digests {
            Some(d) => d[task],
            None => self.draws[task].frame.digest(inputs),
        }
    }
}

impl Outputs {
    /// Renders every output of a single-task draw. `plan_path` is the
    /// plan's path relative to the output directory, and `commitment` the
    /// commitment the draw was checked against, if any.
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) or [`Syntax`](crate::ErrorKind::Syntax)
    /// error when the names of the visited entities cannot be read back from
    /// the entity file (see [`Population::names`](crate::Population::names)).
    pub fn render(
        inputs: &Inputs,
        draw: &Draw,
        plan_path: &str,
        commitment: Option<&Commitment>,
    ) -> crate::Result<Outputs> {
        let task = TaskInputs {
            inputs,
            plan_path,
            commitment,
        };
        let view = DrawView {
            draws: vec![draw],
            salt: draw.salt,
            visits: &draw.visits,
            frame_digests: None,
            names: None,
        };
        Outputs::render_view(&[task], &view)
    }

    /// Renders every output of a draw of one or more tasks; `tasks` are in
    /// the order of `joint.draws`.
    ///
    /// # Errors
    ///
    /// As [`Outputs::render`].
    pub fn render_joint(tasks: &[TaskInputs<'_>], joint: &JointDraw) -> crate::Result<Outputs> {
        Outputs::render_view(tasks, &DrawView::joint(joint, None))
    }

    fn render_view(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>) -> crate::Result<Outputs> {
        let rendered = render_into(tasks, joint, Sink::Memory)?;
        Ok(Outputs {
            files: rendered.into_iter().map(|r| (r.name, r.bytes)).collect(),
        })
    }
}

/// The names of the entities the draws call on (every selected entity and
/// every entity of a directed check: each has at least one visit), read
/// back from the entity file while the visits are dated.
struct Names {
    /// Entity positions, ascending.
    entities: Vec<usize>,
    names: NameList,
}

impl Names {
    /// The joint draw of `inputs` from their frames, with the visited
    /// entities' names read back from the entity file (on one core) while
    /// the visits are dated: for a draw and its replay alike.
    fn run_beside(inputs: &[Inputs], frames: Vec<Frame>, seed: &Seed) -> Result<(JointDraw, Names)> {
        let (joint, names) = JointDraw::run_framed_beside(inputs, frames, seed, |draws| Names::read(inputs, draws))?;
        Ok((joint, names?))
    }

    fn read(inputs: &[Inputs], draws: &[Draw]) -> Result<Names> {
        // OK because a joint draw has at least one task and its tasks share one entity library.
        let population = &inputs[0].population;
        let mut entities: Vec<usize> = draws
            .iter()
            .flat_map(|d| d.selections().map(|(_, _, _, s)| s.entity))
            .collect();
        for task in inputs {
            let ids: Vec<&str> = task.directed.iter().map(|d| d.entity_id.as_str()).collect();
            entities.extend(population.positions(&ids).into_iter().flatten());
        }
        entities.sort_unstable();
        entities.dedup();
        let names = population.name_list(&entities)?;
        Ok(Names { entities, names })
    }

    /// The names of `entities`, in their order; `None` when one was not read.
    fn of(&self, entities: &[usize]) -> Option<Vec<&str>> {
        // Sorted and walked beside the entities read, instead of a binary
        // search each (260,000 of them at 10 million, on one core between
        // the visits and the output files).
        let mut order: Vec<(usize, usize)> = entities.iter().copied().zip(0..).collect();
        crate::par::sort_unstable_by(&mut order, Ord::cmp);
        let mut out = vec![""; entities.len()];
        let mut k = 0;
        for (entity, j) in order {
            while self.entities.get(k).is_some_and(|&e| e < entity) {
                k += 1;
            }
            if self.entities.get(k) != Some(&entity) {
                return None;
            }
            out[j] = self.names.get(k);
        }
        Some(out)
    }
}

/// Renders every output of a draw into `sink`, `record.json` last.
fn render_into(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Vec<Rendered>> {
    // OK because JointDraw::run refuses an empty task list and the tasks share one entity library.
    let base = tasks[0].inputs;
    let population = &base.population;
    // Names are not held in memory: the visited entities' names are read
    // back once (on every core), unless the caller has (while the visits
    // were dated).
    let visited: Vec<usize> = joint.visits.iter().map(|v| v.entity).collect();
    let selection = || {
        sink.csv(
            "selection.csv",
            &["task_id", "department", "entity_id", "class", "stratum", "key", "rank"],
            |w| {
                let (mut hex, mut rank) = ([0u8; 64], String::new());
                for (task, draw) in tasks.iter().zip(&joint.draws) {
                    for (department, c, stratum) in draw.strata() {
                        let label = stratum.label();
                        for (k, s) in stratum.selected.iter().enumerate() {
                            // The selected come in key order, spread over the library.
                            population.prefetch_ahead(&stratum.selected, k, |s| s.entity);
                            rank.clear();
                            // OK because writing to a String cannot fail.
                            let _ = write!(rank, "{}", s.rank);
                            w.write_record([
                                task.inputs.plan.task_id.as_str(),
                                department,
                                population.id(s.entity),
                                c.class.as_str(),
                                &label,
                                s.key.hex_into(&mut hex),
                                &rank,
                            ])?;
                        }
                    }
                }
                Ok(())
            },
        )
    };
    let strata = || {
        sink.csv(
            "strata.csv",
            &[
                "task_id",
                "department",
                "class",
                "stratum",
                "base",
                "eligible",
                "quota_share",
                "allocated",
                "selected",
                "threshold",
            ],
            |w| {
                for (task, draw) in tasks.iter().zip(&joint.draws) {
                    for (department, c, s) in draw.strata() {
                        w.write_record([
                            task.inputs.plan.task_id.as_str(),
                            department,
                            c.class.as_str(),
                            &s.label(),
                            &s.base.to_string(),
                            &s.eligible.to_string(),
                            &fraction(s.share_numerator, c.eligible),
                            &s.allocated.to_string(),
                            &s.selected.len().to_string(),
                            &s.threshold().map(|t| t.to_hex()).unwrap_or_default(),
                        ])?;
                    }
                }
                Ok(())
            },
        )
    };
    let exclusions = || {
        sink.csv(
            "exclusions.csv",
            &["task_id", "department", "entity_id", "class", "reason"],
            |w| {
                for (task, draw) in tasks.iter().zip(&joint.draws) {
                    let plan = &task.inputs.plan;
                    let exclusions = &draw.frame.exclusions;
                    for (k, x) in exclusions.iter().enumerate() {
                        population.prefetch_ahead(exclusions, k, |x| x.entity);
                        w.write_record([
                            plan.task_id.as_str(),
                            plan.departments[x.department].id.as_str(),
                            population.id(x.entity),
                            x.class.as_str(),
                            x.reason.as_str(),
                        ])?;
                    }
                }
                Ok(())
            },
        )
    };
    let visits = |names: &[&str]| {
        sink.csv(
            "visits.csv",
            &[
                "visit_id",
                "entity_id",
                "entity_name",
                "key",
                "tasks",
                "date",
                "departments",
                "items",
                "basis",
                "inspectors",
                "leader",
            ],
            |w| {
                let mut dates: BTreeMap<chrono::NaiveDate, String> = BTreeMap::new();
                // Each row's joined fields, in buffers kept across rows.
                let (mut task_ids, mut departments, mut items, mut basis, mut team) = (
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                );
                let mut ids: Vec<usize> = Vec::new();
                let mut hex = [0u8; 64];
                for (k, (v, name)) in joint.visits.iter().zip(names).enumerate() {
                    // The visits come in key order, spread over the library.
                    population.prefetch_ahead(joint.visits, k, |v| v.entity);
                    ids.clear();
                    ids.extend(v.parts.iter().flat_map(|p| p.tasks.iter().copied()));
                    ids.sort_unstable();
                    ids.dedup();
                    join_into(
                        &mut task_ids,
                        ";",
                        ids.iter().map(|&t| tasks[t].inputs.plan.task_id.as_str()),
                    );
                    join_into(&mut departments, ";", v.parts.iter().map(|p| p.department.as_str()));
                    join_into(
                        &mut items,
                        ";",
                        v.parts.iter().flat_map(|p| p.items.iter().map(String::as_str)),
                    );
                    basis.clear();
                    team.clear();
                    let staffed = v.parts.iter().any(|p| !p.inspectors.is_empty());
                    for (k, p) in v.parts.iter().enumerate() {
                        let sep = if k == 0 { "" } else { ";" };
                        basis.push_str(sep);
                        basis.push_str(&p.department);
                        basis.push(':');
                        for (j, b) in p.basis.iter().enumerate() {
                            basis.push_str(if j == 0 { "" } else { "+" });
                            basis.push_str(b.as_str());
                        }
                        if staffed {
                            team.push_str(sep);
                            team.push_str(&p.department);
                            team.push(':');
                            team.push_str(&p.inspectors.join("+"));
                        }
                    }
                    let date = match v.date {
                        Some(d) => dates.entry(d).or_insert_with(|| d.to_string()).as_str(),
                        None => "",
                    };
                    w.write_record([
                        v.id.as_str(),
                        population.id(v.entity),
                        name,
                        v.key.hex_into(&mut hex),
                        &task_ids,
                        date,
                        &departments,
                        &items,
                        &basis,
                        &team,
                        v.leader.as_deref().unwrap_or(""),
                    ])?;
                }
                Ok(())
            },
        )
    };
    // 一公开: one record per task, department and visit, with no inspector data.
    let public = |names: &[&str]| {
        sink.csv(
            "public.csv",
            &[
                "plan_id",
                "task_id",
                "department",
                "visit_id",
                "entity_id",
                "entity_name",
                "items",
                "visit_date",
                "result",
                "deadline",
            ],
            |w| {
                let mut items = String::new();
                for (t, task) in tasks.iter().enumerate() {
                    let plan = &task.inputs.plan;
                    // Each visit date once: as text, and the task's publication deadline.
                    let mut dates: BTreeMap<chrono::NaiveDate, (String, String)> = BTreeMap::new();
                    // Per department (plan position), the entities it drew, one bit
                    // per entity: the visits come in key order, and a search of a
                    // sorted list would miss the cache at every step.
                    let words = population.len().div_ceil(64);
                    let drawn: Vec<Vec<u64>> = joint.draws[t]
                        .departments
                        .iter()
                        .map(|dep| {
                            let mut bits = vec![0u64; words];
                            for s in dep.selected() {
                                bits[s.entity / 64] |= 1 << (s.entity % 64);
                            }
                            bits
                        })
                        .collect();
                    // This task's directed items per (entity, department).
                    let mut directed: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
                    for c in &task.inputs.directed {
                        directed
                            .entry((c.entity_id.as_str(), c.department.as_str()))
                            .or_default()
                            .extend(c.item_ids.iter().map(String::as_str));
                    }
                    // Per department (plan position), the visits it takes part in for
                    // this task, with its part of each: one pass over the visits.
                    let mut taking: Vec<Vec<(usize, &crate::VisitPart)>> = vec![Vec::new(); plan.departments.len()];
                    for (k, v) in joint.visits.iter().enumerate() {
                        for p in v.parts.iter().filter(|p| p.tasks.contains(&t)) {
                            let Some(di) = plan.departments.iter().position(|d| d.id == p.department) else {
                                continue;
                            };
                            // A department's first part of the visit.
                            if taking[di].last().is_none_or(|&(last, _)| last != k) {
                                taking[di].push((k, p));
                            }
                        }
                    }
                    for ((di, d), taking) in plan.departments.iter().enumerate().zip(&taking) {
                        for (j, &(k, p)) in taking.iter().enumerate() {
                            population.prefetch_ahead(taking, j, |&(ahead, _)| joint.visits[ahead].entity);
                            let (v, name) = (&joint.visits[k], names[k]);
                            // This task's items: the department's plan items if it drew the
                            // entity, and the items of this task's directed checks.
                            let drew = drawn[di][v.entity / 64] & (1 << (v.entity % 64)) != 0;
                            let named = if p.basis.contains(&crate::Basis::Directed) {
                                directed.get(&(population.id(v.entity), d.id.as_str()))
                            } else {
                                None
                            };
                            join_into(
                                &mut items,
                                ";",
                                p.items
                                    .iter()
                                    .filter(|i| {
                                        (drew && d.items.contains(i))
                                            || named.is_some_and(|items| items.contains(i.as_str()))
                                    })
                                    .map(String::as_str),
                            );
                            let (date, deadline) = match v.date {
                                Some(date) => {
                                    let (date, deadline) = dates.entry(date).or_insert_with(|| {
                                        let deadline = base
                                            .calendar
                                            .add_working_days(date, plan.teams.publication_days)
                                            .map(|d| d.to_string())
                                            .unwrap_or_default();
                                        (date.to_string(), deadline)
                                    });
                                    (date.as_str(), deadline.as_str())
                                }
                                None => ("", ""),
                            };
                            w.write_record([
                                plan.plan_id.as_str(),
                                &plan.task_id,
                                &d.id,
                                &v.id,
                                population.id(v.entity),
                                name,
                                &items,
                                date,
                                "",
                                deadline,
                            ])?;
                        }
                    }
                }
                Ok(())
            },
        )
    };
    let read;
    let names: Vec<&str> = match joint.names.and_then(|n| n.of(&visited)) {
        Some(names) => names,
        None => {
            read = population.name_list(&visited)?;
            (0..visited.len()).map(|k| read.get(k)).collect()
        }
    };
    // The frame digests for the record, if the caller has not taken them.
    let digests = || -> Vec<Digest> {
        (0..tasks.len())
            .map(|t| joint.frame_digest(t, tasks[t].inputs))
            .collect()
    };
    // The five files and the digests are independent: on every core, the
    // longest first, so that the cores finish together. At 10 million
    // entities they take about 0.41, 0.40, 0.27, 0.21, 0.11 and 0.03 s.
    let (mut selection_out, mut strata_out, mut exclusions_out) = (None, None, None);
    let (mut visits_out, mut public_out, mut digests_out) = (None, None, None);
    crate::par::run_all(vec![
        Box::new(|| exclusions_out = Some(exclusions())),
        Box::new(|| digests_out = Some(digests())),
        Box::new(|| public_out = Some(public(&names))),
        Box::new(|| visits_out = Some(visits(&names))),
        Box::new(|| selection_out = Some(selection())),
        Box::new(|| strata_out = Some(strata())),
    ]);
    // (`run_all` runs every job: none is missing.)
    let missing = || Error::io("outputs", std::io::Error::other("an output was not rendered"));
    let [selection, strata, exclusions, visits, public] =
        [selection_out, strata_out, exclusions_out, visits_out, public_out]
            .map(|f| f.unwrap_or_else(|| Err(missing())));
    let digests = digests_out.ok_or_else(missing)?;
    let mut files = vec![selection?, strata?, exclusions?, visits?, public?];
    let record = AuditRecord::new(tasks, joint, &digests, &files);
    files.push(sink.bytes("record.json", record.to_json().as_bytes())?);
    Ok(files)
}

impl Outputs {
    /// Writes the files into `dir` atomically: into a temporary directory
    /// beside it, then renamed into place, so a failed draw leaves nothing
    /// (missing folders above `dir` are created, and removed again on
    /// failure). With `replace`, an existing `dir` is replaced only when a
    /// draw wrote it: it holds a draw's `record.json` and nothing but the
    /// draw's output files.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutputExists`] when `dir` exists and `replace` is
    /// false, [`ErrorKind::OutputRefused`] when `replace` is given and
    /// `dir` is not a folder a draw wrote, and [`ErrorKind::Io`] when a
    /// file cannot be written.
    pub fn write_dir(&self, dir: &Path, replace: bool) -> Result<()> {
        check_output_folder(dir, replace)?;
        let created = place::CreatedDirs::above(dir)?;
        let tmp = place::staging_dir(&place::parent_of(dir))?;
        for (name, bytes) in &self.files {
            let path = tmp.path().join(name);
            std::fs::write(&path, bytes).map_err(|e| Error::io(dir.join(name), e))?;
        }
        install(tmp, dir, replace, &[])?;
        created.keep();
        Ok(())
    }

    /// The bytes of one output file.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice())
    }
}

// ---------------------------------------------------------------------------
// The audit record.

/// The audit record of a draw (`record.json`): everything needed to replay
/// and verify it. It holds no wall-clock time and no host detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// The draw specification, `DR1`.
    pub spec: String,
    /// The version of this crate that made the draw.
    pub crate_version: String,
    /// The seed text and its digest `S`.
    pub seed: RecordSeed,
    /// The salt of the visits (keys, dates, teams): the task's `T`, or the
    /// joint salt of several tasks; 64 hex digits.
    pub salt: String,
    /// Each task drawn, in (task id, round id) order.
    pub tasks: Vec<RecordTask>,
    /// The number of visits.
    pub visits: u64,
    /// The department visits the merged visits replace (one per task, department and entity).
    pub department_visits: u64,
    /// Every other output file with its digest.
    pub outputs: Vec<FileDigest>,
}

/// One task in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordTask {
    /// The plan: its path relative to the record's directory, and its ids.
    pub plan: RecordPlan,
    /// The task's draw salt `T`, 64 hex digits.
    pub salt: String,
    /// Every input file with its digest, plan first.
    pub inputs: Vec<FileDigest>,
    /// The canonical frame digest.
    pub frame_sha256: String,
    /// The commitment the inputs were checked against, if any.
    pub commitment: Option<Commitment>,
    /// Per department, the per-class counts.
    pub departments: Vec<RecordDepartment>,
    /// The number of directed checks.
    pub directed_checks: u64,
}

/// The plan as a record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPlan {
    /// The plan file, relative to the record's directory.
    pub path: String,
    /// The plan id.
    pub plan_id: String,
    /// The task id.
    pub task_id: String,
    /// The round id.
    pub round_id: String,
    /// The window start, YYYY-MM-DD.
    pub window_start: String,
    /// The window end, YYYY-MM-DD.
    pub window_end: String,
    /// The lead department.
    pub lead_department: String,
}

/// The seed as a record holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSeed {
    /// The seed text, exactly as given.
    pub text: String,
    /// `S`, 64 hex digits.
    pub digest: String,
}

/// One department in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDepartment {
    /// The department id.
    pub id: String,
    /// The classes A to D.
    pub classes: Vec<RecordClass>,
}

/// One department and class in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordClass {
    /// The class letter.
    pub class: String,
    /// The ratio as written in the plan.
    pub ratio: String,
    /// The mode.
    pub mode: String,
    /// `|B|`.
    pub base: u64,
    /// `|E|`.
    pub eligible: u64,
    /// `ceil(r × |B|)`.
    pub quota: u64,
    /// The quota capped at `|E|`.
    pub drawn: u64,
    /// `quota − drawn`.
    pub shortfall: u64,
    /// The allocation offset `v`, 16 hex digits.
    pub offset: String,
    /// Exclusions by reason.
    pub excluded: BTreeMap<String, u64>,
    /// The strata.
    pub strata: Vec<RecordStratum>,
}

/// One stratum in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStratum {
    /// The stratum label (values joined by `|`).
    pub stratum: String,
    /// Base entities in the stratum.
    pub base: u64,
    /// `|E_h|`.
    pub eligible: u64,
    /// `q_h` as an exact fraction.
    pub quota_share: String,
    /// `n_h`.
    pub allocated: u64,
    /// The number selected.
    pub selected: u64,
    /// The key of the last entity taken, if any.
    pub threshold: Option<String>,
}

fn record_class(c: &ClassDraw) -> RecordClass {
    RecordClass {
        class: c.class.as_str().to_string(),
        ratio: c.ratio.as_str().to_string(),
        mode: c.mode.as_str().to_string(),
        base: c.base,
        eligible: c.eligible,
        quota: c.quota,
        drawn: c.drawn,
        shortfall: c.shortfall(),
        offset: format!("{:016x}", c.offset),
        excluded: c.excluded.iter().map(|(r, n)| (r.as_str().to_string(), *n)).collect(),
        strata: c
            .strata
            .iter()
            .map(|s| RecordStratum {
                stratum: s.label(),
                base: s.base,
                eligible: s.eligible,
                quota_share: fraction(s.share_numerator, c.eligible),
                allocated: s.allocated,
                selected: s.selected.len() as u64,
                threshold: s.threshold().map(|t| t.to_hex()),
            })
            .collect(),
    }
}

impl AuditRecord {
    fn new(
        tasks: &[TaskInputs<'_>],
        joint: &DrawView<'_>,
        frame_digests: &[Digest],
        outputs: &[Rendered],
    ) -> AuditRecord {
        // OK because a draw has at least one task, and all share the seed.
        let seed = &joint.draws[0].seed;
        let (department_visits, visits) = crate::visit::visits_saved(joint.visits);
        AuditRecord {
            spec: SPEC_ID.to_string(),
            crate_version: CRATE_VERSION.to_string(),
            seed: RecordSeed {
                text: seed.as_str().to_string(),
                digest: seed.digest().to_hex(),
            },
            salt: joint.salt.digest().to_hex(),
            tasks: tasks
                .iter()
                .zip(&joint.draws)
                .enumerate()
                .map(|(t, (task, draw))| {
                    let plan = &task.inputs.plan;
                    RecordTask {
                        plan: RecordPlan {
                            path: task.plan_path.to_string(),
                            plan_id: plan.plan_id.clone(),
                            task_id: plan.task_id.clone(),
                            round_id: plan.round_id.clone(),
                            window_start: plan.window.start.to_string(),
                            window_end: plan.window.end.to_string(),
                            lead_department: plan.lead_department.clone(),
                        },
                        salt: draw.salt.digest().to_hex(),
                        inputs: input_digests(task.inputs),
                        frame_sha256: frame_digests[t].to_hex(),
                        commitment: task.commitment.cloned(),
                        departments: draw
                            .departments
                            .iter()
                            .map(|d| RecordDepartment {
                                id: d.department.clone(),
                                classes: d.classes.iter().map(record_class).collect(),
                            })
                            .collect(),
                        directed_checks: task.inputs.directed.len() as u64,
                    }
                })
                .collect(),
            visits: visits as u64,
            department_visits: department_visits as u64,
            outputs: outputs
                .iter()
                .map(|r| FileDigest {
                    role: r.name.trim_end_matches(".csv").to_string(),
                    path: r.name.clone(),
                    sha256: r.digest.to_hex(),
                })
                .collect(),
        }
    }

    /// Parses a record; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Syntax`] for anything that is not a record.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<AuditRecord> {
        crate::json::parse(file, bytes)
    }

    /// The record as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

// ---------------------------------------------------------------------------
// Drawing and verifying from files.

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
/// Every loading error, [`ErrorKind::CommitmentMismatch`] when inputs
/// differ from their commitment or a commitment is missing, a
/// [`Policy`](ErrorKind::Policy) error for a commitment that names no task
/// of the draw or a task another one names, the errors of
/// [`JointDraw::run`], and those of [`Outputs::write_dir`].
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
/// [`OutputRefused`](ErrorKind::OutputRefused) error when the log lies
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
    check_output_folder(out, replace)?;
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
        let bytes = crate::io::read_file(path, &name)?;
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
    install(staging, out, replace, &protected)?;
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

/// The outcome of [`verify`]: empty `differences` means verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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

/// Checks a record against a [draw log](crate::DrawLog): the log's chain
/// must be intact, the record must be in it, and no later draw of the same
/// task and round may have replaced it. Every redraw of the record's tasks
/// is reported in [`Verification::notes`].
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when the record or the log cannot
/// be read, and a [`Syntax`](crate::ErrorKind::Syntax) error when the
/// record is not a record.
pub fn verify_log(record_path: &Path, log_path: &Path) -> Result<Verification> {
    let record_name = record_path.display().to_string();
    let bytes = crate::io::read_file(record_path, &record_name)?;
    let record = AuditRecord::from_json(&record_name, &bytes)?;
    let digest = Digest::of_bytes(&bytes).to_hex();
    let log = crate::DrawLog::read(log_path)?;
    let mut v = Verification {
        differences: log.problems.clone(),
        ..Verification::default()
    };
    for task in &record.tasks {
        let (task_id, round_id) = (&task.plan.task_id, &task.plan.round_id);
        let draws: Vec<&crate::LogEntry> = log.draws_of(task_id, round_id).collect();
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

/// Verifies a draw: re-reads the record and every input, checks their
/// digests, replays the draw and compares every output byte for byte.
///
/// `plan` is the plan's path when it is no longer where the record says
/// (the record names it relative to the record's directory): a path as
/// any other, which may have another file name; its input files are read
/// relative to it, and its bytes must still match the record's digest.
///
/// # Errors
///
/// An error only when the record itself cannot be read or parsed;
/// everything else, tampered inputs included, is a difference in the
/// returned [`Verification`].
pub fn verify(record_path: &Path, plan: Option<&Path>) -> Result<Verification> {
    verify_with_progress(record_path, plan, &|_| {})
}

/// [`verify`], telling `progress` what it is doing as it goes ("reading
/// plan.json and its inputs", "building the frames", "replaying the draw",
/// "comparing the outputs"), for a progress display: at national scale a
/// replay takes minutes.
///
/// # Errors
///
/// As [`verify`].
pub fn verify_with_progress(
    record_path: &Path,
    plan: Option<&Path>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Verification> {
    let record_name = record_path.file_name().map_or_else(
        || record_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = crate::io::read_file(record_path, &record_name)?;
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
    for task in &record.tasks {
        let plan_path = match plan {
            Some(p) => p.to_path_buf(),
            None => dir.join(&task.plan.path),
        };
        let plan_dir = plan_path.parent().map(Path::to_path_buf).unwrap_or_default();
        // The input digests are listed first, so that a changed input is
        // named even if it no longer loads. Those of the files that load
        // were taken while loading, from the very bytes the replay reads;
        // a file is read again (a megabyte at a time) only when the
        // inputs do not load or the plan no longer names it.
        progress(&format!("reading {} and its inputs", plan_path.display()));
        let mut loaded = Inputs::load(&plan_path);
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
                    crate::io::open_regular(&path).and_then(Digest::of_reader)
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
    let frames: Vec<Frame> = inputs.iter().map(Frame::build).collect();
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

// ---------------------------------------------------------------------------
// A readable summary.

impl JointDraw {
    /// A plain-text summary: per task, a table per department and class
    /// (ratio, mode, base, eligible, quota, selected, shortfall); then the
    /// visits, the department visits merged into them, and each
    /// department's inspector load. `inputs` are in task order.
    pub fn summary(&self, inputs: &[Inputs]) -> String {
        let mut out = String::new();
        for (task, draw) in inputs.iter().zip(&self.draws) {
            let _ = writeln!(
                out,
                "{SPEC_ID} draw: plan {}, task {}, round {}, seed {:?}",
                task.plan.plan_id,
                task.plan.task_id,
                task.plan.round_id,
                draw.seed.as_str()
            );
            let _ = writeln!(
                out,
                "{:<12} {:<5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "department", "class", "ratio", "mode", "base", "eligible", "quota", "selected", "shortfall"
            );
            for d in &draw.departments {
                for c in &d.classes {
                    let _ = writeln!(
                        out,
                        "{:<12} {:<5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
                        d.department,
                        c.class.as_str(),
                        c.ratio.as_str(),
                        c.mode.as_str(),
                        c.base,
                        c.eligible,
                        c.quota,
                        c.selected(),
                        c.shortfall()
                    );
                }
            }
        }
        let directed = self
            .visits
            .iter()
            .filter(|v| v.parts.iter().any(|p| p.basis.contains(&crate::Basis::Directed)))
            .count();
        let (separate, merged) = self.visits_saved();
        let _ = writeln!(
            out,
            "visits: {merged} ({directed} with a directed check); {separate} department visits merged into them, {} visits saved",
            separate - merged
        );
        let Some(base) = inputs.first() else {
            return out;
        };
        if !base.inspectors.is_empty() {
            let mut load: BTreeMap<&str, u32> = BTreeMap::new();
            for v in &self.visits {
                for p in &v.parts {
                    for id in &p.inspectors {
                        *load.entry(id.as_str()).or_insert(0) += 1;
                    }
                }
            }
            let _ = writeln!(
                out,
                "inspector load per department (visits per inspector): min / median / max"
            );
            // Departments in plan order, each once.
            let mut departments: Vec<&str> = Vec::new();
            for d in inputs.iter().flat_map(|i| &i.plan.departments) {
                if !departments.contains(&d.id.as_str()) {
                    departments.push(&d.id);
                }
            }
            for d in departments {
                let mut loads: Vec<u32> = base
                    .inspectors
                    .iter()
                    .filter(|i| i.department == d)
                    .map(|i| load.get(i.id.as_str()).copied().unwrap_or(0))
                    .collect();
                loads.sort_unstable();
                if let (Some(min), Some(max)) = (loads.first(), loads.last()) {
                    let median = loads[loads.len() / 2];
                    let _ = writeln!(
                        out,
                        "  {:<12} {min} / {median} / {max} over {} inspectors",
                        d,
                        loads.len()
                    );
                }
            }
        }
        out
    }
}
