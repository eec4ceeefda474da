//! Reading an entity file: cut into parts at record boundaries, hashed,
//! parsed on every core and assembled in file order.

use std::hash::BuildHasher;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use chrono::NaiveDate;
use hashbrown::HashTable;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Location, Result};
use crate::inputs::io::{CsvFile, one_of};
use crate::key::Digest;
use crate::model::{RiskClass, Status};

use super::{Coded, Codes, ENTITY_COLUMNS, Ids, Keep, Offsets, Origin, Population, Source};

/// The bytes of one part of a file handed to a parser.
const PART_BYTES: usize = 4 << 20;

use super::order::in_id_order;
use crate::inputs::io::record_boundary;

/// Reads a file and cuts it into parts that end on record boundaries:
/// every byte is in one part, in order, so hashing the parts in turn
/// hashes the file.
struct Parts<R> {
    reader: R,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    offset: u64,
    eof: bool,
}

/// The error of [`Parts::next`] for a record longer than
/// [`MAX_LINE_BYTES`](crate::inputs::io::MAX_LINE_BYTES), which starts the part
/// that could not be cut.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::inputs::io::line_too_long())
    }
}

impl std::error::Error for RowTooLong {}

/// A part of a file: whole records, from `offset`.
struct Part {
    offset: u64,
    bytes: Vec<u8>,
}

impl<R: Read> Parts<R> {
    fn new(reader: R) -> Parts<R> {
        Parts {
            reader,
            buf: Vec::new(),
            offset: 0,
            eof: false,
        }
    }

    /// Reads until `buf` holds at least `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> std::io::Result<()> {
        while !self.eof && self.buf.len() < want {
            let len = self.buf.len();
            let more = want.max(len + 64 * 1024) - len;
            self.buf.reserve_exact(more);
            // Into the spare room as it is: no need to zero it first.
            match (&mut self.reader).take(more as u64).read_to_end(&mut self.buf) {
                Ok(n) => self.eof = n < more,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The next part of about `size` bytes, ending after a newline outside
    /// quotes (or at the end of the file); `None` at the end.
    fn next(&mut self, size: usize) -> std::io::Result<Option<Part>> {
        let mut want = size;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = if self.eof {
                Some(self.buf.len())
            } else {
                record_boundary(&self.buf)
            };
            if let Some(cut) = cut {
                let rest = self.buf.split_off(cut);
                let bytes = std::mem::replace(&mut self.buf, rest);
                let part = Part {
                    offset: self.offset,
                    bytes,
                };
                self.offset += cut as u64;
                return Ok(Some(part));
            }
            // The first record fills the whole buffer (no line end, or a
            // quote left open): read more, up to the longest row accepted.
            if self.buf.len() > crate::inputs::io::MAX_LINE_BYTES {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, RowTooLong));
            }
            want = self.buf.len() * 2;
        }
    }
}

/// The columns of an entity file and where they are.
struct Layout {
    headers: Vec<String>,
    id: usize,
    class: usize,
    status: usize,
    established: usize,
    /// Kept columns, in header order.
    coded: Vec<usize>,
}

/// The columns of one part, parsed.
#[derive(Default)]
struct Parsed {
    /// Newlines in the part.
    newlines: u64,
    ids: Ids,
    classes: Vec<Option<RiskClass>>,
    statuses: Vec<Status>,
    established: Vec<Option<NaiveDate>>,
    offsets: Vec<u64>,
    coded: Vec<Dictionary>,
}

/// Distinct values with a lookup table, and codes.
#[derive(Default)]
struct Dictionary {
    values: Vec<String>,
    table: HashTable<Slot>,
    /// The slot last found for each hash's top bits, in front of the table:
    /// a column of a few thousand distinct values (regions, industries)
    /// is mostly found here with one comparison. Filled on first use.
    recent: Vec<Option<Slot>>,
    codes: Vec<u32>,
}

/// The number of bits of a hash that index [`Dictionary::recent`].
const RECENT_BITS: u32 = 12;

/// A value in a dictionary's table: its [`Short`] form and its code.
#[derive(Clone, Copy)]
struct Slot {
    short: Short,
    code: u32,
}

/// A value's length and two words of its bytes: for values of at most 16
/// bytes these determine the value, so equal forms are equal values and
/// looking up a region or an industry compares two words instead of
/// calling `memcmp`; longer values are compared in full when their forms
/// are equal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Short {
    len: usize,
    a: u64,
    b: u64,
}

impl Short {
    fn new(v: &[u8]) -> Short {
        let n = v.len();
        // Whole words are loaded as such: a copy of a slice of unknown
        // length into a zeroed word calls `memcpy`, and loading the word
        // right after stalls.
        let (a, b) = if let (Some(first), Some(last)) = (v.first_chunk::<8>(), v.last_chunk::<8>()) {
            // The first and the last 8 bytes (overlapping when n < 16).
            (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
        } else if let (Some(first), Some(last)) = (v.first_chunk::<4>(), v.last_chunk::<4>()) {
            (
                u64::from(u32::from_le_bytes(*first)),
                u64::from(u32::from_le_bytes(*last)),
            )
        } else {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(v);
            (u64::from_le_bytes(w), 0)
        };
        Short { len: n, a, b }
    }

    fn determines_value(&self) -> bool {
        self.len <= 16
    }
}

impl Dictionary {
    fn code(&mut self, value: &str) -> u32 {
        let hasher = foldhash::fast::FixedState::with_seed(7);
        let short = Short::new(value.as_bytes());
        let h = hasher.hash_one(short);
        // OK because the shift leaves RECENT_BITS bits.
        let r = (h >> (64 - RECENT_BITS)) as usize;
        if let Some(Some(slot)) = self.recent.get(r)
            && slot.short == short
            && short.determines_value()
        {
            return slot.code;
        }
        let values = &mut self.values;
        // OK because a dictionary has at most as many values as a part has rows.
        let slot = *self
            .table
            .entry(
                h,
                |slot| slot.short == short && (short.determines_value() || values[slot.code as usize] == value),
                |slot| hasher.hash_one(slot.short),
            )
            .or_insert_with(|| {
                values.push(value.to_string());
                Slot {
                    short,
                    code: (values.len() - 1) as u32,
                }
            })
            .get();
        if self.recent.is_empty() {
            self.recent = vec![None; 1 << RECENT_BITS];
        }
        self.recent[r] = Some(slot);
        slot.code
    }
}

fn parse_part(file: &str, layout: &Layout, part: &Part, skip: usize) -> Result<Parsed> {
    if let Some(parsed) = parse_plain(layout, part, skip) {
        return Ok(parsed);
    }
    let newlines = memchr::memchr_iter(b'\n', &part.bytes).count() as u64;
    let bytes = &part.bytes[skip..];
    let mut out = Parsed {
        newlines,
        coded: layout.coded.iter().map(|_| Dictionary::default()).collect(),
        ..Parsed::default()
    };
    let skipped_lines = memchr::memchr_iter(b'\n', &part.bytes[..skip]).count() as u64;
    let mut csv = CsvFile::part(file, &layout.headers, bytes, skipped_lines, skip as u64);
    let class_expected = "a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)";
    let status_expected = format!(
        "a status ({}, or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)",
        one_of(&["active", "suspended", "deregistered", "revoked"])
    );
    while let Some(row) = csv.next_row()? {
        let id = row.id_str(layout.id)?;
        out.ids.push(id);
        out.classes.push(row.parse(layout.class, class_expected, |v| {
            if v.is_empty() {
                Some(None)
            } else {
                RiskClass::parse_with_aliases(v).map(Some)
            }
        })?);
        out.statuses
            .push(row.parse(layout.status, &status_expected, Status::parse_with_aliases)?);
        out.established.push(if row.get(layout.established).is_empty() {
            None
        } else {
            Some(row.date(layout.established)?)
        });
        out.offsets.push(row.offset);
        for (dict, &c) in out.coded.iter_mut().zip(&layout.coded) {
            let code = dict.code(row.get(c));
            dict.codes.push(code);
        }
    }
    Ok(out)
}

/// [`parse_part`] for the common part: valid UTF-8 with no quote, no
/// carriage return, no blank line, every row as long as the header and
/// every value valid. Such a part is one record per line and one field per
/// comma, so it is split with `memchr` instead of the CSV state machine.
/// `None` for any other part, which the CSV reader then reads, giving the
/// same result or the exact error.
fn parse_plain(layout: &Layout, part: &Part, skip: usize) -> Option<Parsed> {
    let mut out = Parsed {
        coded: layout.coded.iter().map(|_| Dictionary::default()).collect(),
        ..Parsed::default()
    };
    let rows = &part.bytes[skip..];
    crate::inputs::io::plain_rows(rows, layout.headers.len(), |fields, start| {
        let id = fields[layout.id];
        if !crate::inputs::io::is_id(id) {
            return None;
        }
        let class = match fields[layout.class] {
            "" => None,
            v => Some(RiskClass::parse_with_aliases(v)?),
        };
        let established = match fields[layout.established] {
            "" => None,
            v => Some(crate::inputs::io::parse_date(v)?),
        };
        out.ids.push(id);
        out.classes.push(class);
        out.statuses.push(Status::parse_with_aliases(fields[layout.status])?);
        out.established.push(established);
        out.offsets.push((skip + start) as u64);
        for (dict, &c) in out.coded.iter_mut().zip(&layout.coded) {
            let code = dict.code(fields[c]);
            dict.codes.push(code);
        }
        Some(())
    })?;
    // One newline ends each row, except a last row at the end of the file
    // without one; the skipped bytes (the header) are counted apart.
    let unended = !rows.is_empty() && !rows.ends_with(b"\n");
    out.newlines =
        memchr::memchr_iter(b'\n', &part.bytes[..skip]).count() as u64 + out.ids.len() as u64 - u64::from(unended);
    debug_assert_eq!(out.newlines, memchr::memchr_iter(b'\n', &part.bytes).count() as u64);
    Some(out)
}

/// A population with no entity yet, keeping the `coded` columns (header
/// positions), of which `region` and `industry` are at those places.
fn empty(file: String, columns: Vec<String>, coded: &[usize], region: usize, industry: usize) -> Population {
    Population {
        file,
        columns,
        ids: Ids::default(),
        classes: Vec::new(),
        statuses: Vec::new(),
        established: Vec::new(),
        offsets: Offsets::Wide(Vec::new()),
        coded: coded
            .iter()
            .map(|&column| Coded {
                column,
                values: Vec::new(),
                codes: Codes::Wide(Vec::new()),
            })
            .collect(),
        region,
        industry,
        source: Source::Bytes(Vec::new()),
    }
}

/// Where each chunk of a file read in chunks goes.
type ChunkSink<'a> = &'a mut dyn FnMut(Population) -> Result<()>;

/// The population being assembled from parsed parts, in file order.
struct Assembly<'a> {
    file: &'a str,
    population: Population,
    /// Newlines before the next part.
    lines: u64,
    globals: Vec<Dictionary>,
    /// In chunks: the entities of a chunk, and where each chunk goes once
    /// it holds that many (see [`load_chunks`]).
    chunks: Option<(usize, ChunkSink<'a>)>,
    /// Entities handed on in chunks so far.
    handed: u64,
}

impl Assembly<'_> {
    /// The population assembled so far, its dictionaries' values in place;
    /// the assembly starts again empty.
    fn take(&mut self) -> Population {
        let p = &self.population;
        let columns: Vec<usize> = p.coded.iter().map(|c| c.column).collect();
        let fresh = empty(p.file.clone(), p.columns.clone(), &columns, p.region, p.industry);
        let mut population = std::mem::replace(&mut self.population, fresh);
        let globals = std::mem::replace(
            &mut self.globals,
            population.coded.iter().map(|_| Dictionary::default()).collect(),
        );
        for (coded, global) in population.coded.iter_mut().zip(globals) {
            coded.values = global.values;
        }
        population
    }

    /// Hands the population assembled so far on as a chunk when it holds
    /// enough entities, or (`last`) any at all.
    fn hand_on(&mut self, last: bool) -> Result<()> {
        let len = self.population.len();
        if let Some((size, _)) = self.chunks
            && (len >= size || (last && len > 0))
        {
            let chunk = self.take();
            self.handed += len as u64;
            if let Some((_, f)) = &mut self.chunks {
                f(chunk)?;
            }
        }
        Ok(())
    }

    fn add(&mut self, part_offset: u64, parsed: Result<Parsed>) -> Result<()> {
        let parsed = parsed.map_err(|e| e.shift_line(self.lines))?;
        let p = &mut self.population;
        if p.ids.len() + parsed.ids.len() > u32::MAX as usize {
            return Err(Error::syntax(
                Location::file(self.file),
                "more than 4,294,967,295 entities",
            ));
        }
        p.ids.append(parsed.ids);
        p.classes.extend_from_slice(&parsed.classes);
        p.statuses.extend_from_slice(&parsed.statuses);
        p.established.extend_from_slice(&parsed.established);
        // Offsets and codes are wide while assembling; narrowed when permuted.
        if let Offsets::Wide(offsets) = &mut p.offsets {
            offsets.extend(parsed.offsets.iter().map(|&o| part_offset + o));
        }
        for ((local, global), coded) in parsed.coded.into_iter().zip(&mut self.globals).zip(&mut p.coded) {
            let remap: Vec<u32> = local.values.iter().map(|v| global.code(v)).collect();
            if let Codes::Wide(codes) = &mut coded.codes {
                codes.extend(local.codes.iter().map(|&c| remap[c as usize]));
            }
        }
        self.lines += parsed.newlines;
        self.hand_on(false)
    }
}

pub(super) fn load<R: Read + Send>(
    file: &str,
    reader: R,
    origin: Origin<'_>,
    keep: Keep<'_>,
) -> Result<(Population, Digest)> {
    let (population, digest) = assemble(file, reader, keep, None)?;
    if population.is_empty() {
        return Err(no_entities(file));
    }
    // Hold the entities in id order: every later pass over them (the
    // frame, keys, digests) then reads memory in order.
    let population = in_id_order(file, origin, population, true)?;
    Ok((population, digest))
}

fn no_entities(file: &str) -> Error {
    Error::syntax(Location::file(file), "the file has no entities (only a header)")
}

/// [`load`] in chunks of at least `size` entities (whole parts of the
/// file; the last may hold fewer), for a file too large to hold: each
/// chunk is handed to `f` in file order, in id order within itself,
/// with the same errors as [`load`] for every row (in file order) but
/// none for an id that repeats, which the caller looks for across the
/// chunks. Returns the SHA-256 of the file.
pub(super) fn load_chunks<R: Read + Send>(
    file: &str,
    reader: R,
    origin: Origin<'_>,
    keep: Keep<'_>,
    size: usize,
    f: &mut dyn FnMut(Population) -> Result<()>,
) -> Result<Digest> {
    let mut handed = false;
    let mut each = |chunk: Population| {
        handed = true;
        f(in_id_order(file, origin, chunk, false)?)
    };
    let (rest, digest) = assemble(file, reader, keep, Some((size.max(1), &mut each)))?;
    debug_assert!(rest.is_empty());
    if !handed {
        return Err(no_entities(file));
    }
    Ok(digest)
}

/// Reads, hashes and parses the file in parts on every core and
/// assembles them in file order: into one population, or handed on in
/// chunks (then the population returned is empty).
fn assemble<'a, R: Read + Send>(
    file: &'a str,
    reader: R,
    keep: Keep<'_>,
    chunks: Option<(usize, ChunkSink<'a>)>,
) -> Result<(Population, Digest)> {
    // A read error, or a row too long to be cut into parts, which then
    // starts on the line after the `lines` newlines read before it.
    let read_error = |e: std::io::Error, lines: u64| match e.get_ref() {
        Some(inner) if inner.is::<RowTooLong>() => {
            Error::syntax(Location::line(file, lines + 1), crate::inputs::io::line_too_long())
        }
        _ => Error::io(file, e),
    };
    let mut parts = Parts::new(reader);
    let mut hasher = Sha256::new();
    // The first part holds the header (and the rest of the first part's
    // records). Parts of blank lines before the header are hashed and
    // counted, not kept, so that a file of nothing but line ends costs no
    // more memory than a part.
    let mut blank_lines = 0;
    let mut first = parts.next(PART_BYTES).map_err(|e| read_error(e, 0))?.unwrap_or(Part {
        offset: 0,
        bytes: Vec::new(),
    });
    while first.bytes.iter().all(|b| matches!(b, b'\n' | b'\r')) {
        let lines = blank_lines + memchr::memchr_iter(b'\n', &first.bytes).count() as u64;
        match parts.next(PART_BYTES).map_err(|e| read_error(e, lines))? {
            Some(more) => {
                hasher.update(&first.bytes);
                blank_lines = lines;
                first = more;
            }
            None => break,
        }
    }
    let shifted = |e: Error| e.shift_line(blank_lines);
    let bom = if first.bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let (idx_region, idx_industry);
    let (layout, header_end) = {
        let csv = CsvFile::open(file, &first.bytes).map_err(shifted)?;
        let mut idx = [0usize; 7];
        for (slot, name) in idx.iter_mut().zip(ENTITY_COLUMNS) {
            *slot = csv.require(name).map_err(shifted)?;
        }
        let headers = csv.headers().to_vec();
        let coded = (0..headers.len())
            .filter(|&i| {
                let h = headers[i].as_str();
                !["id", "risk_class", "status", "established"].contains(&h)
                    && match keep {
                        Keep::All => h != "name",
                        Keep::Only(extra) => h == "region" || h == "industry" || extra.contains(&h),
                    }
            })
            .collect::<Vec<usize>>();
        (idx_region, idx_industry) = (idx[3], idx[4]);
        let layout = Layout {
            headers,
            id: idx[0],
            class: idx[2],
            status: idx[5],
            established: idx[6],
            coded,
        };
        (layout, bom + csv.header_end() as usize)
    };
    let mut assembly = Assembly {
        file,
        population: empty(
            file.to_string(),
            layout.headers.clone(),
            &layout.coded,
            layout.coded.iter().position(|&c| c == idx_region).unwrap_or(0),
            layout.coded.iter().position(|&c| c == idx_industry).unwrap_or(0),
        ),
        lines: blank_lines,
        globals: layout.coded.iter().map(|_| Dictionary::default()).collect(),
        chunks,
        handed: 0,
    };
    let first_parsed = parse_part(file, &layout, &first, header_end.min(first.bytes.len()));
    assembly.add(first.offset, first_parsed)?;
    hasher.update(&first.bytes);
    drop(first);

    let workers = crate::par::threads();
    let hasher = if workers <= 1 {
        while let Some(part) = parts.next(PART_BYTES).map_err(|e| read_error(e, assembly.lines))? {
            hasher.update(&part.bytes);
            let parsed = parse_part(file, &layout, &part, 0);
            assembly.add(part.offset, parsed)?;
        }
        hasher
    } else {
        // The reader cuts parts, a hasher hashes them in turn while the
        // workers parse them, and this thread assembles the parsed parts
        // in file order. Reading and hashing are apart so that neither
        // chain falls behind the workers when they share the cores.
        let stop = AtomicBool::new(false);
        let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Arc<Part>)>(workers);
        let work_rx = Mutex::new(work_rx);
        let (hash_tx, hash_rx) = mpsc::sync_channel::<Arc<Part>>(2 * workers);
        // Bounded too: while a chunk is handed on (a streamed frame), the
        // workers wait rather than parse the file ahead into memory.
        let (done_tx, done_rx) = mpsc::sync_channel::<(usize, u64, Result<Parsed>)>(2 * workers);
        let (read_result, hashed) = std::thread::scope(|scope| -> Result<(std::io::Result<()>, Sha256)> {
            let hashing = scope.spawn(move || {
                for part in hash_rx {
                    hasher.update(&part.bytes);
                }
                hasher
            });
            let reader = scope.spawn(|| -> std::io::Result<()> {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Some(part) = parts.next(PART_BYTES)? else { break };
                    let part = Arc::new(part);
                    if hash_tx.send(Arc::clone(&part)).is_err() || work_tx.send((n, part)).is_err() {
                        break;
                    }
                    n += 1;
                }
                drop((work_tx, hash_tx));
                Ok(())
            });
            for _ in 0..workers {
                let done_tx = done_tx.clone();
                let (work_rx, layout, stop) = (&work_rx, &layout, &stop);
                scope.spawn(move || {
                    loop {
                        // OK because a worker never panics while holding the lock.
                        let next = work_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok((n, part))) = next else { break };
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let parsed = parse_part(file, layout, &part, 0);
                        if done_tx.send((n, part.offset, parsed)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut pending = std::collections::BTreeMap::new();
            let mut next = 0;
            for (n, offset, parsed) in &done_rx {
                pending.insert(n, (offset, parsed));
                while let Some((offset, parsed)) = pending.remove(&next) {
                    if let Err(e) = assembly.add(offset, parsed) {
                        stop.store(true, Ordering::Relaxed);
                        // Unblock the reader and the workers.
                        while work_rx.lock().map(|rx| rx.try_recv().is_ok()).unwrap_or(false) {}
                        return Err(e);
                    }
                    next += 1;
                }
            }
            let read = reader
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the reader thread failed")));
            // The reader has dropped its sender, so the hasher ends.
            let hashed = hashing
                .join()
                .map_err(|_| Error::io(file, std::io::Error::other("the hashing thread failed")))?;
            Ok((read, hashed))
        })?;
        // Every part read before the failure has been assembled.
        read_result.map_err(|e| read_error(e, assembly.lines))?;
        hashed
    };
    let digest = Digest::from_array(hasher.finalize().into());
    if assembly.chunks.is_some() {
        assembly.hand_on(true)?;
        if assembly.handed == 0 {
            return Err(no_entities(file));
        }
    }
    Ok((assembly.take(), digest))
}

#[cfg(test)]
mod tests {
    use super::Dictionary;
    use proptest::prelude::*;

    /// Codes by a plain search: each value's position in order of first appearance.
    fn naive(values: &[String]) -> (Vec<String>, Vec<u32>) {
        let mut seen: Vec<String> = Vec::new();
        let codes = values
            .iter()
            .map(|v| match seen.iter().position(|s| s == v) {
                Some(k) => k as u32,
                None => {
                    seen.push(v.clone());
                    (seen.len() - 1) as u32
                }
            })
            .collect();
        (seen, codes)
    }

    fn coded(values: &[String]) -> (Vec<String>, Vec<u32>) {
        let mut d = Dictionary::default();
        let codes = values.iter().map(|v| d.code(v)).collect();
        (d.values, codes)
    }

    proptest! {
        /// Values that share their length and their first and last bytes
        /// (and so their short forms, past 16 bytes) get codes of their own.
        #[test]
        fn dictionary_codes_are_first_appearances(values in proptest::collection::vec("[ab]{0,3}|[ab]{6,10}|a{8}[ab]{1,4}b{8}|区[ab]{0,6}", 0..300)) {
            prop_assert_eq!(coded(&values), naive(&values));
        }
    }

    #[test]
    fn many_values_share_the_direct_mapped_slots() {
        // More values than the cache has slots, each seen again later, and
        // long values alike in their first and last 8 bytes.
        let mut values: Vec<String> = (0..10_000).map(|i| format!("片区{i:04}")).collect();
        values.extend((0..500).map(|i| format!("aaaaaaaa{i}bbbbbbbb")));
        let again: Vec<String> = values.iter().rev().step_by(3).cloned().collect();
        values.extend(again);
        assert_eq!(coded(&values), naive(&values));
    }
}
