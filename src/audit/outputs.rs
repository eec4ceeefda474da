//! The output files of a draw, rendered in memory, into a folder, or
//! compared with the files a draw wrote (for `verify`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::draw::Draw;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, Seed};
use crate::place;
use crate::population::NameList;
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
pub const OUTPUT_FILES: [&str; 6] = [
    "selection.csv",
    "strata.csv",
    "exclusions.csv",
    "visits.csv",
    "public.csv",
    "record.json",
];

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
    pub(super) visits: &'a [crate::Visit],
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
