//! The output files of a draw, rendered in memory, into a folder, or
//! compared with the files a draw wrote (for `verify`).

use std::path::{Path, PathBuf};

use crate::draw::Draw;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::inputs::population::NameList;
use crate::key::{Digest, Seed};
use crate::place;
use crate::visit::JointDraw;

use super::commitment::Commitment;
use super::record::AuditRecord;

/// The files of a draw's output directory, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// `(file name, bytes)`, `record.json` last.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The names of the files a draw writes, `record.json` last.
pub const OUTPUT_FILES: [&str; 8] = [
    "selection.csv",
    "strata.csv",
    "exclusions.csv",
    "visits.csv",
    "offsite.csv",
    "unscheduled.csv",
    "public.csv",
    "record.json",
];

/// An output CSV file read back as its records, the header first: what
/// the contract's tables and `outputs.xlsx` are made from.
pub(crate) fn read_back(path: &Path, name: &str) -> Result<Vec<Vec<String>>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[..]);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::syntax(crate::error::Location::file(name), e.to_string()))?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(rows)
}

/// The workbook `draw --xlsx` adds beside the output files: derived from
/// them, not in the record, checked by `verify` when it is there.
pub const WORKBOOK: &str = "outputs.xlsx";

/// Whether a draw's folder may hold a file of this name.
pub(crate) fn is_draw_file(name: &str) -> bool {
    OUTPUT_FILES.contains(&name) || name == WORKBOOK
}

/// Where rendered outputs go: memory, files in a directory, or a
/// comparison with the files already in a directory.
#[derive(Clone, Copy)]
pub(super) enum Sink<'a> {
    Memory,
    Dir(&'a Path),
    Compare(&'a Path),
}

/// One rendered output: its digest, and its bytes (in memory only) or
/// how it differs from the file found (when compared).
pub(super) struct Rendered {
    pub(super) name: String,
    pub(super) bytes: Vec<u8>,
    pub(super) digest: Digest,
    pub(super) difference: Option<String>,
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
                let found = crate::inputs::io::open_regular(&dir.join(name))
                    .map(|f| std::io::BufReader::with_capacity(1 << 20, f));
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
    pub(super) fn csv(
        self,
        name: &str,
        header: &[&str],
        rows: impl FnOnce(&mut Rows) -> csv::Result<()>,
    ) -> Result<Rendered> {
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
pub(super) struct Rows(csv::Writer<Out>);

impl Rows {
    /// Writes one row, each value made [safe for a spreadsheet](spreadsheet_safe).
    pub(super) fn write_record<const N: usize>(&mut self, fields: [&str; N]) -> csv::Result<()> {
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
pub(super) fn join_into<'a>(buf: &mut String, sep: &str, parts: impl IntoIterator<Item = &'a str>) {
    buf.clear();
    for (k, part) in parts.into_iter().enumerate() {
        if k > 0 {
            buf.push_str(sep);
        }
        buf.push_str(part);
    }
}

/// The exact quota share `q_h = num / den`, reduced, as `p/q` (or `p` when whole).
pub(super) fn fraction(num: u128, den: u64) -> String {
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
pub(super) struct DrawView<'a> {
    pub(super) draws: Vec<&'a Draw>,
    pub(super) salt: crate::key::Salt,
    pub(super) visits: &'a [crate::visit::Visit],
    pub(super) offsite: &'a [crate::visit::OffSiteCheck],
    /// Each task's frame digest when the caller has taken it already (it
    /// reads every eligible id: at national scale, seconds).
    pub(super) frame_digests: Option<&'a [Digest]>,
    /// The names of the visited entities when the caller has read them already.
    pub(super) names: Option<&'a Names>,
}

impl<'a> DrawView<'a> {
    pub(super) fn joint(joint: &'a JointDraw, frame_digests: Option<&'a [Digest]>) -> DrawView<'a> {
        DrawView {
            draws: joint.draws.iter().collect(),
            salt: joint.salt,
            visits: &joint.visits,
            offsite: &joint.offsite,
            frame_digests,
            names: None,
        }
    }

    pub(super) fn frame_digest(&self, task: usize, inputs: &Inputs) -> Digest {
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
    /// the entity file (see [`Population::names`](crate::inputs::Population::names));
    /// a [`Policy`](crate::ErrorKind::Policy) error when the draw was not
    /// made from these inputs.
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
            offsite: &draw.offsite,
            frame_digests: None,
            names: None,
        };
        Outputs::render_view(&[task], &view)
    }

    /// Renders every output of a draw of one or more tasks; `tasks` are in
    /// the order of `joint.draws`, one for each.
    ///
    /// # Errors
    ///
    /// As [`Outputs::render`]; a [`Policy`](crate::ErrorKind::Policy)
    /// error when `tasks` does not hold one entry per task of the draw (an
    /// empty slice included).
    pub fn render_joint(tasks: &[TaskInputs<'_>], joint: &JointDraw) -> crate::Result<Outputs> {
        if tasks.is_empty() || tasks.len() != joint.draws.len() {
            return Err(Error::policy(
                crate::Location::file("outputs"),
                format!(
                    "rendering a draw of {} task(s) needs one TaskInputs per task, and {} were given",
                    joint.draws.len(),
                    tasks.len()
                ),
            ));
        }
        Outputs::render_view(tasks, &DrawView::joint(joint, None))
    }

    fn render_view(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>) -> crate::Result<Outputs> {
        for (task, draw) in tasks.iter().zip(&joint.draws) {
            if draw.made_from != task.inputs.fingerprint() {
                return Err(Error::policy(
                    crate::Location::file(task.plan_path),
                    format!(
                        "the draw of task {} round {} was not made from these inputs",
                        task.inputs.plan.task_id, task.inputs.plan.round_id
                    ),
                ));
            }
        }
        let rendered = render_into(tasks, joint, Sink::Memory)?;
        Ok(Outputs {
            files: rendered.into_iter().map(|r| (r.name, r.bytes)).collect(),
        })
    }
}

/// The names of the entities the draws call on (every selected entity and
/// every entity of a directed check: each has at least one visit), read
/// back from the entity file while the visits are dated.
pub(super) struct Names {
    /// Entity positions, ascending.
    entities: Vec<usize>,
    names: NameList,
}

impl Names {
    /// The joint draw of `inputs` from their frames, with the visited
    /// entities' names read back from the entity file (on one core) while
    /// the visits are dated: for a draw and its replay alike.
    pub(super) fn run_beside(inputs: &[Inputs], frames: Vec<Frame>, seed: &Seed) -> Result<(JointDraw, Names)> {
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
pub(super) fn render_into(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Vec<Rendered>> {
    // OK because JointDraw::run refuses an empty task list and the tasks share one entity library.
    let base = tasks[0].inputs;
    let population = &base.population;
    // Names are not held in memory: the visited entities' names are read
    // back once (on every core), unless the caller has (while the visits
    // were dated).
    let visited: Vec<usize> = joint.visits.iter().map(|v| v.entity).collect();
    let selection = || super::files::selection(tasks, joint, sink);
    let strata = || super::files::strata(tasks, joint, sink);
    let exclusions = || super::files::exclusions(tasks, joint, sink);
    let visits = |names: &[&str]| super::files::visits(tasks, joint, names, sink);
    let offsite = |names: &[&str]| super::files::offsite(tasks, joint, names, sink);
    let unscheduled = || super::files::unscheduled(tasks, joint, sink);
    let public = |names: &[&str]| super::publish::public(tasks, joint, names, sink);
    let reviewed: Vec<usize> = joint.offsite.iter().map(|c| c.entity).collect();
    let (read, read_reviewed);
    let names: Vec<&str> = match joint.names.and_then(|n| n.of(&visited)) {
        Some(names) => names,
        None => {
            read = population.name_list(&visited)?;
            (0..visited.len()).map(|k| read.get(k)).collect()
        }
    };
    let reviewed_names: Vec<&str> = match joint.names.and_then(|n| n.of(&reviewed)) {
        Some(names) => names,
        None => {
            read_reviewed = population.name_list(&reviewed)?;
            (0..reviewed.len()).map(|k| read_reviewed.get(k)).collect()
        }
    };
    // The frame digests for the record, if the caller has not taken them.
    let digests = || -> Vec<Digest> {
        (0..tasks.len())
            .map(|t| joint.frame_digest(t, tasks[t].inputs))
            .collect()
    };
    // The seven files and the digests are independent: on every core, the
    // longest first, so that the cores finish together. At 10 million
    // entities they take about 0.41, 0.40, 0.27, 0.21, 0.11 and 0.03 s.
    let (mut selection_out, mut strata_out, mut exclusions_out) = (None, None, None);
    let (mut visits_out, mut public_out, mut digests_out) = (None, None, None);
    let (mut unscheduled_out, mut offsite_out) = (None, None);
    crate::par::run_all(vec![
        Box::new(|| exclusions_out = Some(exclusions())),
        Box::new(|| digests_out = Some(digests())),
        Box::new(|| public_out = Some(public(&names))),
        Box::new(|| visits_out = Some(visits(&names))),
        Box::new(|| selection_out = Some(selection())),
        Box::new(|| strata_out = Some(strata())),
        Box::new(|| unscheduled_out = Some(unscheduled())),
        Box::new(|| offsite_out = Some(offsite(&reviewed_names))),
    ]);
    // (`run_all` runs every job: none is missing.)
    let missing = || Error::io("outputs", std::io::Error::other("an output was not rendered"));
    let [selection, strata, exclusions, visits, offsite, unscheduled, public] = [
        selection_out,
        strata_out,
        exclusions_out,
        visits_out,
        offsite_out,
        unscheduled_out,
        public_out,
    ]
    .map(|f| f.unwrap_or_else(|| Err(missing())));
    let digests = digests_out.ok_or_else(missing)?;
    let mut files = vec![
        selection?,
        strata?,
        exclusions?,
        visits?,
        offsite?,
        unscheduled?,
        public?,
    ];
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
    /// [`ErrorKind::OutputExists`](crate::ErrorKind::OutputExists) when `dir` exists and `replace` is
    /// false, [`ErrorKind::OutputRefused`](crate::ErrorKind::OutputRefused) when `replace` is given and
    /// `dir` is not a folder a draw wrote, and [`ErrorKind::Io`](crate::ErrorKind::Io) when a
    /// file cannot be written.
    pub fn write_dir(&self, dir: &Path, replace: bool) -> Result<()> {
        place::check_new_draw_folder(dir, replace)?;
        let created = place::CreatedDirs::above(dir)?;
        let tmp = place::staging_dir(&place::parent_of(dir))?;
        for (name, bytes) in &self.files {
            let path = tmp.path().join(name);
            std::fs::write(&path, bytes).map_err(|e| Error::io(dir.join(name), e))?;
        }
        place::install_folder(tmp, dir, replace, &[])?;
        created.keep();
        Ok(())
    }

    /// The bytes of one output file.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice())
    }
}
