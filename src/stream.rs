//! The streamed frame: a draw's frame built from an entity file too large
//! to hold, with outputs byte for byte those of the frame built in memory.
//!
//! 1. The history is read once and reduced by entity id; the ids the
//!    directed checks and conflicts name are read.
//! 2. The entity file is read in chunks (each in id order). Each chunk's
//!    frame is built as a whole library's is ([`Frame::build_of`]), and
//!    written to disk as runs: per task, each stratum's eligible entities
//!    (key prefix, file offset, id) and the exclusions, both in id order;
//!    and every id with its offset, to find an id that repeats.
//! 3. The runs are merged in id order: the repeated id is reported as a
//!    whole load reports it; the frame digest is taken over the merged
//!    strata, while a bounded buffer keeps each stratum's `n_h` smallest
//!    keys; the exclusions are merged into one file that `exclusions.csv`
//!    is written from.
//! 4. The entities the draw needs (those selected, those the other files
//!    name) are read again by offset into a small library, around which
//!    the plan's other files are loaded with the errors of
//!    [`Inputs::load`]. The frame keeps its counts and holds as members
//!    only the entities selected, which the draw then takes in key order.
//!
//! Memory is bounded by a chunk, the history and the selection, not by
//! the file.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use crate::draw::Allocation;
use crate::error::{Error, ErrorKind, Location, Result};
use crate::frame::{ClassFrame, DepartmentFrame, ExclusionReason, Frame, HistoryIndex, REASONS, StratumFrame};
use crate::inputs::plan::Plan;
use crate::inputs::population::Keep;
use crate::inputs::{Held, HistoryRead, Inputs, Population};
use crate::key::{Digest, Salt, Seed, StreamHasher};
use crate::model::RiskClass;

/// How a draw builds its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FrameMode {
    /// Streamed when the entity file is larger than
    /// [`FrameMode::STREAM_ABOVE`] bytes, else in memory.
    #[default]
    Auto,
    /// The whole entity library held in memory.
    InMemory,
    /// Streamed from the file in chunks: memory is bounded by a chunk, the
    /// history and the selection, not by the file; the outputs are the
    /// same byte for byte.
    Streamed,
}

impl FrameMode {
    /// The size of entity file above which [`FrameMode::Auto`] streams: 2 GiB
    /// (about 18 million entities of synth's width).
    pub const STREAM_ABOVE: u64 = 2 << 30;

    /// Whether the plans at `plans` are drawn on a streamed frame. For
    /// `Auto`, a plan that cannot be read or parsed counts as small: the
    /// in-memory load then reports its error.
    pub(crate) fn streams(self, plans: &[PathBuf]) -> bool {
        match self {
            FrameMode::InMemory => false,
            FrameMode::Streamed => true,
            FrameMode::Auto => plans.iter().any(|p| {
                crate::inputs::read_plan(p).is_ok_and(|(_, dir, plan)| {
                    plan.encoding("entities") == crate::inputs::Encoding::Utf8
                        && !crate::inputs::is_workbook(&plan.inputs.entities)
                        && std::fs::metadata(dir.join(&plan.inputs.entities))
                            .is_ok_and(|m| m.len() > FrameMode::STREAM_ABOVE)
                })
            }),
        }
    }
}

/// Entities per chunk by default.
pub(crate) const CHUNK: usize = 1 << 20;

/// A streamed frame's digest, and its exclusions in output order on disk.
pub(crate) struct Spilled {
    pub(crate) digest: Digest,
    file: tempfile::NamedTempFile,
}

impl std::fmt::Debug for Spilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spilled")
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Spilled {
    fn eq(&self, other: &Spilled) -> bool {
        // The digest covers every exclusion.
        self.digest == other.digest
    }
}

impl Eq for Spilled {}

impl Spilled {
    /// Each exclusion, in department then id order: (department, class,
    /// reason, id).
    pub(crate) fn each<E: From<std::io::Error>>(
        &self,
        mut f: impl FnMut(usize, RiskClass, ExclusionReason, &str) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut run = Run::new(BufReader::with_capacity(1 << 16, self.file.reopen()?));
        while run.next()? {
            let (class, reason) = unpack(run.b);
            let id = std::str::from_utf8(&run.id).map_err(std::io::Error::other)?;
            // OK because departments are numbered from a plan's list.
            f(run.a as usize, class, reason, id)?;
        }
        Ok(())
    }
}

fn pack(class: RiskClass, reason: ExclusionReason) -> u64 {
    (class.index() as u64) << 8 | reason as u64
}

fn unpack(b: u64) -> (RiskClass, ExclusionReason) {
    (RiskClass::ALL[(b >> 8) as usize & 3], REASONS[(b & 0xFF) as usize % 6])
}

/// Writes records `a ‖ b ‖ enc(id)` to a run file.
fn put(w: &mut impl Write, a: u64, b: u64, id: &[u8]) -> std::io::Result<()> {
    w.write_all(&a.to_le_bytes())?;
    w.write_all(&b.to_le_bytes())?;
    // OK because ids are at most MAX_FIELD_BYTES long.
    w.write_all(&(id.len() as u32).to_be_bytes())?;
    w.write_all(id)
}

/// A run file read record by record: the last record read is `a`, `b`, `id`.
struct Run<R> {
    reader: R,
    a: u64,
    b: u64,
    id: Vec<u8>,
}

impl<R: Read> Run<R> {
    fn new(reader: R) -> Run<R> {
        Run {
            reader,
            a: 0,
            b: 0,
            id: Vec::new(),
        }
    }

    /// Reads the next record; `false` at the end of the file.
    fn next(&mut self) -> std::io::Result<bool> {
        let mut head = [0u8; 20];
        match self.reader.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        self.a = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        self.b = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(head[16..].try_into().unwrap_or_default()) as usize;
        self.id.resize(len, 0);
        self.reader.read_exact(&mut self.id)?;
        Ok(true)
    }
}

type Reader = Run<BufReader<std::fs::File>>;

/// A run file being written, to be read back from its start.
struct Spill(BufWriter<std::fs::File>);

impl Spill {
    fn new() -> std::io::Result<Spill> {
        Ok(Spill(BufWriter::with_capacity(1 << 16, tempfile::tempfile()?)))
    }

    fn read(self) -> std::io::Result<Reader> {
        let mut file = self.0.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.rewind()?;
        Ok(Run::new(BufReader::with_capacity(1 << 16, file)))
    }
}

/// A merge in id order of `count` records from each of several runs,
/// the runs' heads kept in a binary heap of run numbers (ties, which a
/// frame without repeated ids never has, by run number).
struct Merge<'a> {
    runs: Vec<&'a mut Reader>,
    left: Vec<u64>,
    heap: Vec<usize>,
}

impl<'a> Merge<'a> {
    /// A count that merges a run to its end.
    const TO_THE_END: u64 = u64::MAX;

    /// Merges the next `left[k]` records of each run `k`.
    fn new(runs: Vec<&'a mut Reader>, left: Vec<u64>) -> std::io::Result<Merge<'a>> {
        let mut m = Merge {
            runs,
            left,
            heap: Vec::new(),
        };
        for k in 0..m.runs.len() {
            if m.advance(k)? {
                m.heap.push(k);
                let at = m.heap.len() - 1;
                m.up(at);
            }
        }
        Ok(m)
    }

    fn advance(&mut self, k: usize) -> std::io::Result<bool> {
        if self.left[k] == 0 {
            return Ok(false);
        }
        let to_the_end = self.left[k] == Merge::TO_THE_END;
        if !to_the_end {
            self.left[k] -= 1;
        }
        if !self.runs[k].next()? {
            if to_the_end {
                self.left[k] = 0;
                return Ok(false);
            }
            return Err(std::io::Error::other("a run file ended early"));
        }
        Ok(true)
    }

    fn less(&self, x: usize, y: usize) -> bool {
        let (a, b) = (self.heap[x], self.heap[y]);
        (&self.runs[a].id, a) < (&self.runs[b].id, b)
    }

    fn up(&mut self, mut at: usize) {
        while at > 0 && self.less(at, (at - 1) / 2) {
            self.heap.swap(at, (at - 1) / 2);
            at = (at - 1) / 2;
        }
    }

    fn down(&mut self, mut at: usize) {
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut least = at;
            if l < self.heap.len() && self.less(l, least) {
                least = l;
            }
            if r < self.heap.len() && self.less(r, least) {
                least = r;
            }
            if least == at {
                return;
            }
            self.heap.swap(at, least);
            at = least;
        }
    }

    /// Calls `f` with the run holding the next record in id order, then
    /// moves that run on; `false` when every run is done.
    fn step(&mut self, f: impl FnOnce(&Reader)) -> std::io::Result<bool> {
        let Some(&k) = self.heap.first() else {
            return Ok(false);
        };
        f(self.runs[k]);
        if self.advance(k)? {
            self.down(0);
        } else {
            let last = self.heap.len() - 1;
            self.heap.swap(0, last);
            self.heap.pop();
            self.down(0);
        }
        Ok(true)
    }
}

/// The smallest `n` keys met so far, by (key prefix, whole key, id).
struct Smallest<'a> {
    n: usize,
    salt: &'a Salt,
    kept: Vec<(u64, String, u64)>,
    /// Once pruned: the largest prefix kept; larger ones cannot enter.
    bound: u64,
}

impl<'a> Smallest<'a> {
    fn new(n: usize, salt: &'a Salt) -> Smallest<'a> {
        Smallest {
            n,
            salt,
            kept: Vec::new(),
            bound: u64::MAX,
        }
    }

    fn cmp(&self, a: &(u64, String, u64), b: &(u64, String, u64)) -> std::cmp::Ordering {
        a.0.cmp(&b.0).then_with(|| {
            self.salt
                .entity_key(&a.1)
                .cmp(&self.salt.entity_key(&b.1))
                .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
        })
    }

    fn push(&mut self, prefix: u64, id: &[u8], offset: u64) {
        if self.n == 0 || prefix > self.bound {
            return;
        }
        self.kept
            .push((prefix, String::from_utf8_lossy(id).into_owned(), offset));
        if self.kept.len() >= 2 * self.n.max(512) {
            self.prune();
        }
    }

    fn prune(&mut self) {
        if self.kept.len() > self.n {
            let mut kept = std::mem::take(&mut self.kept);
            kept.select_nth_unstable_by(self.n - 1, |a, b| self.cmp(a, b));
            kept.truncate(self.n);
            self.bound = kept.iter().map(|k| k.0).max().unwrap_or(u64::MAX);
            self.kept = kept;
        }
    }

    /// The offsets kept.
    fn offsets(mut self) -> Vec<u64> {
        self.prune();
        // Into a new vector: collected in place, the offsets would keep the
        // buffer's whole allocation (measured: 0.5 GB at 60 million).
        let mut offsets = Vec::with_capacity(self.kept.len());
        offsets.extend(self.kept.iter().map(|k| k.2));
        offsets
    }
}

/// One stratum slot of a task: (department, class, stratum values).
type Slot = (usize, usize, Vec<String>);

/// A stratum summed over the chunks.
#[derive(Default)]
struct Sums {
    base: u64,
    eligible: u64,
    /// Per chunk, the stratum's records in the chunk's member run.
    counts: Vec<u64>,
}

/// An entity's past visits as the frame reads them: the last the
/// cooldown counts and the dates this year the cap counts.
type PastVisits = (Option<NaiveDate>, u32);

/// The history of a task reduced by entity id.
struct Past<'h> {
    ids: Vec<&'h str>,
    /// Entries sorted by id: (a row of the entity, its past visits as the
    /// frame reads them, if any counts).
    entries: Vec<(u32, Option<PastVisits>)>,
    /// Per row (in the order of `ids`), its entry.
    entry_of: Vec<u32>,
    found: Vec<bool>,
}

impl<'h> Past<'h> {
    fn new(plan: &Plan, read: &'h HistoryRead) -> Past<'h> {
        let ids: Vec<&str> = read.ids().collect();
        let visits: Vec<(NaiveDate, bool, bool)> = read
            .visits()
            .iter()
            .map(|v| {
                let kind = v.kind();
                (
                    v.date(),
                    plan.cooldown_counts.counts(kind),
                    plan.annual_cap_counts.counts(kind),
                )
            })
            .collect();
        let date = |r: u32| visits.get(r as usize).map(|v| v.0);
        // OK because a history file has fewer than 2^32 rows.
        let mut rows: Vec<u32> = (0..ids.len() as u32).collect();
        crate::par::sort_unstable_by(&mut rows, |&a, &b| {
            ids[a as usize]
                .as_bytes()
                .cmp(ids[b as usize].as_bytes())
                .then(date(a).cmp(&date(b)))
        });
        let year = plan.window.start.year();
        let mut entries = Vec::new();
        let mut entry_of = vec![0u32; ids.len()];
        for same in rows.chunk_by(|&a, &b| ids[a as usize] == ids[b as usize]) {
            let counted: Vec<(NaiveDate, bool, bool)> = same
                .iter()
                .filter_map(|&r| visits.get(r as usize).copied())
                .filter(|&(_, cooled, capped)| cooled || capped)
                .collect();
            let past = (!counted.is_empty()).then(|| crate::frame::past_visits(counted.into_iter(), year));
            for &r in same {
                // OK because there are fewer entries than rows.
                entry_of[r as usize] = entries.len() as u32;
            }
            entries.push((same[0], past));
        }
        let found = vec![false; entries.len()];
        Past {
            ids,
            entries,
            entry_of,
            found,
        }
    }

    /// The history index of a chunk (in id order), marking the entries found.
    fn index(&mut self, chunk: &Population) -> HistoryIndex {
        let mut out = Vec::new();
        let mut at = 0;
        let id = |e: &(u32, _)| self.ids[e.0 as usize].as_bytes();
        for i in 0..chunk.len() {
            let want = chunk.id(i).as_bytes();
            // Gallop to the first entry not below the id.
            let mut step = 1;
            while at + step < self.entries.len() && id(&self.entries[at + step]) < want {
                at += step;
                step *= 2;
            }
            while at < self.entries.len() && id(&self.entries[at]) < want {
                at += 1;
            }
            if at < self.entries.len() && id(&self.entries[at]) == want {
                self.found[at] = true;
                if let Some((last, dates)) = self.entries[at].1 {
                    // OK because chunks hold fewer than 2^32 entities.
                    out.push((i as u32, last, dates));
                }
            }
        }
        HistoryIndex::from_entries(out)
    }

    /// Per row, whether its entity is in the file.
    fn known(&self) -> Vec<bool> {
        self.entry_of.iter().map(|&e| self.found[e as usize]).collect()
    }
}

/// One task being streamed.
struct Task<'h> {
    plan_path: PathBuf,
    plan: &'h Plan,
    salt: Option<Salt>,
    past: Option<Past<'h>>,
    slots: BTreeMap<Slot, Sums>,
    excluded: Vec<[BTreeMap<ExclusionReason, u64>; 4]>,
    /// Per chunk: its member run, and its exclusion run with the count per department.
    members: Vec<Spill>,
    exclusions: Vec<(Spill, Vec<u64>)>,
}

/// The plans at `plans` loaded on frames streamed from their entity file
/// (which they must share) in chunks of `chunk` entities: per plan, its
/// inputs (with a library of the entities the draw needs) and its frame.
/// With a seed, each frame holds the entities its draw selects; without
/// one (a commitment), none.
///
/// # Errors
///
/// The errors of [`Inputs::load`], in the same order, and an
/// [`Io`](crate::ErrorKind::Io) error when the work files cannot be
/// written (under the temporary folder, `TMPDIR`).
pub(crate) fn load(plans: &[PathBuf], seed: Option<&Seed>, chunk: usize) -> Result<Vec<(Inputs, Frame)>> {
    let mut read = Vec::with_capacity(plans.len());
    for path in plans {
        let (_, dir, plan) = crate::inputs::read_plan(path)?;
        let history = plan
            .inputs
            .history
            .as_ref()
            .map(|h| crate::inputs::read_history_in(&dir, h, plan.encoding("history")));
        read.push((path.clone(), dir, plan, history));
    }
    let Some((_, dir, first, _)) = read.first() else {
        return Err(Error::policy(Location::file("plan"), "there is no task to draw"));
    };
    let file = first.inputs.entities.clone();
    let entity_path = dir.join(&file);
    if first.encoding("entities") != crate::inputs::Encoding::Utf8 || crate::inputs::is_workbook(&file) {
        return Err(Error::policy(
            Location::file(file).with_field("encoding"),
            "a streamed frame reads a UTF-8 CSV entity file by byte offsets; this one is a workbook or declared in \
             another encoding: draw it in memory (--frame memory) or save it as CSV UTF-8",
        ));
    }
    for (path, dir, plan, _) in &read[1..] {
        if crate::place::resolve(&dir.join(&plan.inputs.entities)) != crate::place::resolve(&entity_path) {
            return Err(Error::policy(
                Location::file(path.display().to_string()).with_field("inputs.entities"),
                format!(
                    "tasks drawn on a streamed frame must name the same entities file, and this one is not {}'s",
                    first.task_id
                ),
            ));
        }
    }
    // The ids the other files name: their entities must be held.
    let mut wanted: Vec<String> = Vec::new();
    for (_, dir, plan, _) in &read {
        for p in [&plan.inputs.directed, &plan.inputs.conflicts].into_iter().flatten() {
            wanted.extend(entity_ids(&dir.join(p)));
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut used: Vec<&str> = Vec::new();
    for (_, _, plan, _) in &read {
        used.extend(plan.strata.iter().map(String::as_str));
        used.extend(plan.departments.iter().flat_map(|d| d.scope.keys().map(String::as_str)));
    }
    used.sort_unstable();
    used.dedup();
    let keep = Keep::Only(&used);
    let unclassified_matters = read.iter().any(|(_, _, p, _)| p.unclassified_class.is_none());

    let mut tasks: Vec<Task<'_>> = read
        .iter()
        .map(|(path, _, plan, history)| Task {
            plan_path: path.clone(),
            plan,
            salt: seed.map(|s| Salt::derive(s, &plan.task_id, &plan.round_id)),
            past: match history {
                Some(Ok((_, Ok(h)))) => Some(Past::new(plan, h)),
                _ => None,
            },
            slots: BTreeMap::new(),
            excluded: vec![Default::default(); plan.departments.len()],
            members: Vec::new(),
            exclusions: Vec::new(),
        })
        .collect();

    // The pass.
    let io = |e: std::io::Error| Error::io("the streamed frame's work files", e);
    let mut ids: Vec<Spill> = Vec::new();
    let mut wanted_at: Vec<Option<u64>> = vec![None; wanted.len()];
    let mut unclassified: Option<(String, u64)> = None;
    let mut first_offset = u64::MAX;
    let mut columns: Vec<String> = Vec::new();
    let digest = Population::open_chunks(&file, &entity_path, keep, chunk, &mut |p: Population| {
        let c = ids.len();
        if columns.is_empty() {
            columns = p.columns().to_vec();
        }
        let mut all = Spill::new().map_err(io)?;
        for i in 0..p.len() {
            first_offset = first_offset.min(p.offset(i));
            put(&mut all.0, p.offset(i), 0, p.id(i).as_bytes()).map_err(io)?;
        }
        ids.push(all);
        for (k, at) in p.positions(&wanted).into_iter().enumerate() {
            if let Some(i) = at {
                wanted_at[k] = Some(p.offset(i));
            }
        }
        if unclassified_matters && let Some(i) = p.classes().iter().position(Option::is_none) {
            let id = p.id(i);
            if unclassified.as_ref().is_none_or(|(u, _)| id < u.as_str()) {
                unclassified = Some((id.to_string(), p.offset(i)));
            }
        }
        for task in &mut tasks {
            let index = match &mut task.past {
                Some(past) => past.index(&p),
                None => HistoryIndex::from_entries(Vec::new()),
            };
            let frame = Frame::build_of(task.plan, &p, || index, 1 << 18);
            let prefixes = task.salt.as_ref().map(|salt| crate::draw::key_prefixes(salt, &p));
            let mut members = Spill::new().map_err(io)?;
            for (d, df) in frame.departments.iter().enumerate() {
                for (class, cf) in df.classes.iter().enumerate() {
                    for (reason, n) in &cf.excluded {
                        *task.excluded[d][class].entry(*reason).or_insert(0) += n;
                    }
                    for s in &cf.strata {
                        let sums = task.slots.entry((d, class, s.values.clone())).or_default();
                        sums.base += s.base;
                        sums.eligible += s.eligible;
                        sums.counts.resize(c, 0);
                        sums.counts.push(s.members.len() as u64);
                        for &m in &s.members {
                            let prefix = prefixes.as_ref().map_or(0, |k| k[m as usize]);
                            put(
                                &mut members.0,
                                prefix,
                                p.offset(m as usize),
                                p.id(m as usize).as_bytes(),
                            )
                            .map_err(io)?;
                        }
                    }
                }
            }
            task.members.push(members);
            let mut excluded = Spill::new().map_err(io)?;
            let mut counts = vec![0u64; task.plan.departments.len()];
            for x in &frame.exclusions {
                counts[x.department] += 1;
                put(
                    &mut excluded.0,
                    x.department as u64,
                    pack(x.class, x.reason),
                    p.id(x.entity).as_bytes(),
                )
                .map_err(io)?;
            }
            task.exclusions.push((excluded, counts));
        }
        drop(p);
        give_back_freed_memory();
        Ok(())
    })?;
    let chunks = ids.len();

    // An id that repeats: the one whose second record comes first, as a
    // whole load reports it.
    let mut runs: Vec<Reader> = ids
        .into_iter()
        .map(Spill::read)
        .collect::<std::io::Result<_>>()
        .map_err(io)?;
    let mut repeated: Option<(String, u64, u64)> = None;
    {
        let mut merge = Merge::new(runs.iter_mut().collect(), vec![Merge::TO_THE_END; chunks]).map_err(io)?;
        let (mut last, mut cur) = (Vec::new(), Vec::new());
        let mut offset = 0;
        // The offsets of the id last met.
        let mut offsets: Vec<u64> = Vec::new();
        let mut flush = |last: &[u8], offsets: &mut Vec<u64>| {
            if offsets.len() > 1 {
                offsets.sort_unstable();
                if repeated.as_ref().is_none_or(|r| offsets[1] < r.2) {
                    repeated = Some((String::from_utf8_lossy(last).into_owned(), offsets[0], offsets[1]));
                }
            }
            offsets.clear();
        };
        while merge
            .step(|r| {
                cur.clear();
                cur.extend_from_slice(&r.id);
                offset = r.a;
            })
            .map_err(io)?
        {
            if offsets.is_empty() || cur != last {
                flush(&last, &mut offsets);
                std::mem::swap(&mut last, &mut cur);
            }
            offsets.push(offset);
        }
        flush(&last, &mut offsets);
    }
    drop(runs);
    if let Some((id, first, second)) = repeated {
        let line = |o: u64| Population::line_in_file(&file, &entity_path, o);
        return Err(ErrorKind::DuplicateId {
            at: Location::line(&file, line(second)?).with_field("id"),
            id,
            first_line: line(first)?,
        }
        .into());
    }

    // Per task: the digest, the selection and the exclusions.
    let mut merged = Vec::with_capacity(tasks.len());
    for task in tasks {
        merged.push(merge_task(task, chunks).map_err(io)?);
    }

    // The library of the entities needed, shared by the tasks.
    let mut offsets: Vec<u64> = merged
        .iter()
        .flat_map(|m| m.selected.values().flatten().copied())
        .chain(wanted_at.into_iter().flatten())
        .chain(unclassified.map(|u| u.1))
        .chain((first_offset != u64::MAX).then_some(first_offset))
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let population = Population::records_at(&file, &entity_path, &columns, keep, &offsets)?;
    let mut position: Vec<(u64, u32)> = (0..population.len())
        .map(|i| (population.offset(i), i as u32))
        .collect();
    position.sort_unstable();
    let at = |o: u64| position[position.partition_point(|p| p.0 < o)].1;

    let mut out = Vec::with_capacity(merged.len());
    for (m, (_, _, _, history)) in merged.into_iter().zip(read) {
        let history_known = m.known;
        let held = Held {
            population: population.clone(),
            digest,
            history,
            history_known,
        };
        let inputs = Inputs::load_held(&m.plan_path, held)?;
        let mut departments: Vec<DepartmentFrame> = (0..inputs.plan.departments.len())
            .map(|d| DepartmentFrame {
                classes: std::array::from_fn(|c| ClassFrame {
                    excluded: m.excluded[d][c].clone(),
                    ..ClassFrame::default()
                }),
            })
            .collect();
        for ((d, c, values), sums) in m.slots {
            let mut members: Vec<u32> = m
                .selected
                .get(&(d, c, values.clone()))
                .map(|o| o.iter().map(|&o| at(o)).collect())
                .unwrap_or_default();
            members.sort_unstable();
            let class = &mut departments[d].classes[c];
            class.base += sums.base;
            class.strata.push(StratumFrame {
                values,
                base: sums.base,
                eligible: sums.eligible,
                members,
            });
        }
        let frame = Frame {
            departments,
            exclusions: Vec::new(),
            streamed: Some(Arc::new(m.spilled)),
        };
        out.push((inputs, frame));
    }
    Ok(out)
}

/// Hands the memory freed since the last chunk back to the system: a
/// chunk's library and frame are freed into the allocator's per-thread
/// arenas, which glibc otherwise keeps (measured at 10 million entities:
/// 0.5 GB held after the pass without this, 0.2 GB with it).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointer and only returns free pages
    // of the allocator's arenas to the system; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A task's runs merged.
struct Merged {
    plan_path: PathBuf,
    slots: BTreeMap<Slot, Sums>,
    excluded: Vec<[BTreeMap<ExclusionReason, u64>; 4]>,
    selected: BTreeMap<Slot, Vec<u64>>,
    spilled: Spilled,
    known: Vec<bool>,
}

/// The digest, the selection and the exclusions of one task, from its runs.
fn merge_task(task: Task<'_>, chunks: usize) -> std::io::Result<Merged> {
    let Task {
        plan_path,
        plan,
        salt,
        past,
        mut slots,
        excluded,
        members,
        exclusions,
    } = task;
    for sums in slots.values_mut() {
        sums.counts.resize(chunks, 0);
    }
    let mut runs: Vec<Reader> = members.into_iter().map(Spill::read).collect::<std::io::Result<_>>()?;
    let mut h = StreamHasher::new();
    h.enc(b"DR1/frame");
    let mut selected = BTreeMap::new();
    for (d, dep) in plan.departments.iter().enumerate() {
        h.enc(dep.id.as_bytes());
        for (c, class) in RiskClass::ALL.into_iter().enumerate() {
            h.enc(class.as_str().as_bytes());
            let these: Vec<(&Slot, &Sums)> = slots.range((d, c, Vec::new())..(d, c + 1, Vec::new())).collect();
            // The class's allocation (DR3 steps 5 and 6), from its counts.
            let counts: Vec<u64> = match &salt {
                Some(salt) => {
                    let cf = ClassFrame {
                        base: these.iter().map(|(_, s)| s.base).sum(),
                        excluded: BTreeMap::new(),
                        strata: these
                            .iter()
                            .map(|((_, _, values), s)| StratumFrame {
                                values: values.clone(),
                                base: s.base,
                                eligible: s.eligible,
                                members: Vec::new(),
                            })
                            .collect(),
                    };
                    Allocation::of(salt, &dep.id, class, dep.class(class), &cf).counts
                }
                None => vec![0; these.len()],
            };
            for ((slot, sums), n_h) in these.into_iter().zip(counts) {
                h.enc(slot.2.join("|").as_bytes());
                h.enc(sums.base.to_string().as_bytes());
                h.enc(sums.eligible.to_string().as_bytes());
                let mut smallest = salt.as_ref().map(|s| Smallest::new(n_h as usize, s));
                let mut merge = Merge::new(runs.iter_mut().collect(), sums.counts.clone())?;
                while merge.step(|r| {
                    h.enc(&r.id);
                    if let Some(s) = &mut smallest {
                        s.push(r.a, &r.id, r.b);
                    }
                })? {}
                if let Some(s) = smallest {
                    selected.insert(slot.clone(), s.offsets());
                }
            }
        }
    }
    drop(runs);
    let spill = tempfile::NamedTempFile::new()?;
    let mut out = BufWriter::with_capacity(1 << 16, spill.reopen()?);
    let (exclusion_runs, counts): (Vec<Spill>, Vec<Vec<u64>>) = exclusions.into_iter().unzip();
    let mut runs: Vec<Reader> = exclusion_runs
        .into_iter()
        .map(Spill::read)
        .collect::<std::io::Result<_>>()?;
    for (d, dep) in plan.departments.iter().enumerate() {
        let left = counts.iter().map(|c| c[d]).collect();
        let mut merge = Merge::new(runs.iter_mut().collect(), left)?;
        let mut failed = Ok(());
        while merge.step(|r| {
            let (_, reason) = unpack(r.b);
            h.enc(dep.id.as_bytes());
            h.enc(&r.id);
            h.enc(reason.as_str().as_bytes());
            if failed.is_ok() {
                failed = put(&mut out, r.a, r.b, &r.id);
            }
        })? {}
        failed?;
    }
    out.flush()?;
    drop(out);
    Ok(Merged {
        plan_path,
        slots,
        excluded,
        selected,
        spilled: Spilled {
            digest: h.finish(),
            file: spill,
        },
        known: past.map(|p| p.known()).unwrap_or_default(),
    })
}

/// The `entity_id` values of a CSV file, read leniently: the file is
/// loaded with its own errors later; an unreadable one names none.
fn entity_ids(path: &Path) -> Vec<String> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(file));
    let Some(column) = csv
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c.trim_start_matches('\u{feff}') == "entity_id"))
    else {
        return Vec::new();
    };
    csv.records()
        .map_while(std::result::Result::ok)
        .filter_map(|r| r.get(column).map(str::to_string))
        .collect()
}
