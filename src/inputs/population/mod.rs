//! The entity library, held by column: ids in one byte arena, classes,
//! statuses and dates as small values, every other kept column as codes
//! into a dictionary of its distinct values. Names and unused columns are
//! not held; they are read back from the file for the few entities an
//! output names ([`Population::names`]).
//!
//! - `columns`: how the columns are held (ids in one arena, narrowed codes
//!   and offsets).
//! - `load`: the entity file's reader. Large files are read in parts on
//!   several threads: a reader thread cuts them at record boundaries, a
//!   hasher hashes the bytes (SHA-256, for the record), workers parse the
//!   parts, and the parts are joined in file order, so the result and
//!   every error are the same for any thread count.
//! - `order`: the entities put in id order, and repeated ids found.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Location, Result, quote};
use crate::key::Digest;
use crate::model::{RiskClass, Status};

mod columns;
mod load;
mod order;

pub(crate) use columns::{Codes, Narrowed};
use columns::{Ids, Offsets};
use load::{load, load_chunks};
use order::Packed;

/// The columns every entity file has; the names of other columns are in
/// [`Population::columns`].
pub const ENTITY_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "risk_class",
    "region",
    "industry",
    "status",
    "established",
];

/// Where the rows of a population can be read again.
#[derive(Clone)]
enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// A column held as codes into its distinct values (in order of first appearance).
#[derive(Clone)]
struct Coded {
    /// The column's position in the header.
    column: usize,
    values: Vec<String>,
    codes: Codes,
}

/// Names read back from the entity file ([`Population::name_list`]), in
/// one arena: [`get`](NameList::get)`(k)` is the name of the `k`th entity
/// asked for.
pub(crate) struct NameList {
    text: String,
    spans: Vec<(usize, usize)>,
}

impl NameList {
    /// The name of the `k`th entity asked for.
    pub(crate) fn get(&self, k: usize) -> &str {
        let (start, end) = self.spans[k];
        &self.text[start..end]
    }
}

/// Names read back in one block of records ([`Population::names_in_order`]):
/// their text, one after another, and for each its `k` and its span.
type NameBlock = (String, Vec<(usize, usize, usize)>);

/// Asks the processor to bring `items[i]` into the cache, for a pass that
/// reads items spread over a large slice: asked some items ahead, it then
/// waits on several reads from memory at once instead of one after
/// another. Only a hint: nothing is read, and `i` may be out of bounds. A
/// no-op off x86-64.
#[inline]
pub(crate) fn prefetch<T>(items: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = items.as_ptr().wrapping_add(i).cast::<i8>();
        // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 processor
        // has, and a prefetch never faults, whatever the address.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, i);
}

/// Which columns besides the fixed ones a population keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keep<'a> {
    /// Every column.
    All,
    /// `region`, `industry` and these.
    Only(&'a [&'a str]),
}

/// The entity library: every entity, in id order (byte order of the ids),
/// found by binary search ([`Population::index_of`]) or, many at once, by a
/// sorted walk ([`Population::positions`]).
#[derive(Clone)]
pub struct Population {
    file: String,
    columns: Vec<String>,
    ids: Ids,
    classes: Vec<Option<RiskClass>>,
    statuses: Vec<Status>,
    established: Vec<Option<NaiveDate>>,
    /// The byte offset of each entity's record in the file.
    offsets: Offsets,
    /// Kept columns, in header order; `region` and `industry` are always among them.
    coded: Vec<Coded>,
    /// The positions of `region` and `industry` in `coded`.
    region: usize,
    industry: usize,
    source: Source,
}

/// One entity of a [`Population`], by reference.
#[derive(Clone, Copy)]
pub struct Entity<'a> {
    population: &'a Population,
    index: usize,
}

impl<'a> Entity<'a> {
    /// The position in the population (id order).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The official id (统一社会信用代码 where there is one), exactly as in the input.
    pub fn id(&self) -> &'a str {
        self.population.id(self.index)
    }

    /// The credit-risk class; `None` when unclassified (individual businesses, co-operatives).
    pub fn class(&self) -> Option<RiskClass> {
        self.population.classes[self.index]
    }

    /// The registration status.
    pub fn status(&self) -> Status {
        self.population.statuses[self.index]
    }

    /// The date of establishment, when known.
    pub fn established(&self) -> Option<NaiveDate> {
        self.population.established[self.index]
    }

    /// The area (片区) or jurisdiction.
    pub fn region(&self) -> &'a str {
        self.population.fixed_value(self.population.region, self.index)
    }

    /// The industry.
    pub fn industry(&self) -> &'a str {
        self.population.fixed_value(self.population.industry, self.index)
    }

    /// The value of a column held in memory: every column but `name` (see
    /// [`Population::names`]) and, in a population loaded for a plan, the
    /// columns the plan does not use.
    pub fn column(&self, name: &str) -> Option<Cow<'a, str>> {
        match name {
            "id" => Some(Cow::Borrowed(self.id())),
            "risk_class" => Some(Cow::Borrowed(self.class().map_or("", RiskClass::as_str))),
            "status" => Some(Cow::Borrowed(self.status().as_str())),
            "established" => Some(
                self.established()
                    .map_or(Cow::Borrowed(""), |d| Cow::Owned(d.to_string())),
            ),
            _ => self.population.coded_value(self.index, name).map(Cow::Borrowed),
        }
    }
}

impl fmt::Debug for Entity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entity")
            .field("index", &self.index)
            .field("id", &self.id())
            .field("class", &self.class())
            .field("region", &self.region())
            .field("industry", &self.industry())
            .field("status", &self.status())
            .field("established", &self.established())
            .finish()
    }
}

impl fmt::Debug for Population {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Population")
            .field("file", &self.file)
            .field("entities", &self.len())
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Population {
    fn eq(&self, other: &Population) -> bool {
        self.len() == other.len()
            && self.columns == other.columns
            && self.ids == other.ids
            && self.classes == other.classes
            && self.statuses == other.statuses
            && self.established == other.established
            && self.coded.len() == other.coded.len()
            && self.coded.iter().zip(&other.coded).all(|(a, b)| {
                a.column == b.column
                    && (0..a.codes.len())
                        .all(|i| a.values[a.codes.get(i) as usize] == b.values[b.codes.get(i) as usize])
            })
    }
}

impl Eq for Population {}

impl Population {
    /// Reads an entity file from CSV bytes; `file` names it in errors. Every
    /// column except `name` is held in memory.
    ///
    /// # Errors
    ///
    /// A [`Syntax`](crate::ErrorKind::Syntax) error for an empty or
    /// malformed file, [`MissingColumn`](crate::ErrorKind::MissingColumn),
    /// [`DuplicateColumn`](crate::ErrorKind::DuplicateColumn),
    /// [`InvalidField`](crate::ErrorKind::InvalidField) for a bad class,
    /// status or date, and [`DuplicateId`](crate::ErrorKind::DuplicateId).
    ///
    /// # Example
    ///
    /// ```
    /// use double_random::RiskClass;
    /// use double_random::inputs::Population;
    /// let csv = "id,name,risk_class,region,industry,status,established\n\
    ///            E1,Shop,B,North,retail,active,2020-01-02\n\
    ///            E2,Stall,,South,retail,active,\n";
    /// let pop = Population::from_csv("entities.csv", csv.as_bytes())?;
    /// assert_eq!(pop.len(), 2);
    /// assert_eq!(pop.get("E1").unwrap().class(), Some(RiskClass::B));
    /// assert_eq!(pop.names(&[1])?, ["Stall"]);
    ///
    /// let err = Population::from_csv("entities.csv", b"id,name,risk_class,region,industry,status,established\nE1,Shop,E,N,r,active,\n").unwrap_err();
    /// assert_eq!(err.to_string(), "entities.csv, line 2, field risk_class: \"E\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)");
    /// # Ok::<(), double_random::Error>(())
    /// ```
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Population> {
        Population::read(file, bytes.to_vec(), Keep::All)
    }

    /// Reads an entity file held in memory, keeping the columns of `keep`.
    pub(crate) fn read(file: &str, bytes: Vec<u8>, keep: Keep<'_>) -> Result<Population> {
        let (population, _) = load(file, &bytes[..], Origin::Bytes(&bytes), keep)?;
        Ok(Population {
            source: Source::Bytes(bytes),
            ..population
        })
    }

    /// Reads an entity file from disk in parts on every core, keeping the
    /// columns of `keep`; returns the population and the SHA-256 of the file.
    pub(crate) fn open(file: &str, path: PathBuf, keep: Keep<'_>) -> Result<(Population, Digest)> {
        let reader = crate::inputs::io::open_input(&path, file)?;
        let source = Source::File(path);
        let (population, digest) = load(file, reader, source.origin(), keep)?;
        Ok((Population { source, ..population }, digest))
    }

    /// Reads an entity file from disk in chunks of `size` entities, each
    /// in id order, handed to `f` in file order (an id may repeat across
    /// chunks and within one: the caller looks for repeats); returns the
    /// SHA-256 of the file.
    pub(crate) fn open_chunks(
        file: &str,
        path: &Path,
        keep: Keep<'_>,
        size: usize,
        f: &mut dyn FnMut(Population) -> Result<()>,
    ) -> Result<Digest> {
        let reader = crate::inputs::io::open_input(path, file)?;
        let source = Source::File(path.to_path_buf());
        let mut each = |chunk: Population| {
            f(Population {
                source: source.clone(),
                ..chunk
            })
        };
        load_chunks(file, reader, source.origin(), keep, size, &mut each)
    }

    /// The entities whose records start at `offsets` (ascending) in the
    /// file at `path`, read again: a population of a few of a large
    /// file's entities, whose lines and names are those of the file.
    /// `columns` is the file's header, as a chunk of it was read.
    pub(crate) fn records_at(
        file: &str,
        path: &Path,
        columns: &[String],
        keep: Keep<'_>,
        offsets: &[u64],
    ) -> Result<Population> {
        let io = |e: std::io::Error| Error::io(file, e);
        let mut header = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        header.write_record(columns).map_err(|e| io(e.into()))?;
        let mut bytes = header.into_inner().map_err(|e| io(e.into_error()))?;
        // Where each record starts in `bytes`, beside its offset in the file.
        let mut starts = Vec::with_capacity(offsets.len());
        let mut reader = std::io::BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
        let mut at = 0u64;
        for &offset in offsets {
            if offset != at {
                reader
                    .seek_relative(offset.wrapping_sub(at).cast_signed())
                    .map_err(io)?;
            }
            starts.push(bytes.len() as u64);
            at = offset + read_record_bytes(&mut reader, &mut bytes).map_err(io)?;
        }
        let (mut p, _) = load(file, &bytes[..], Origin::Bytes(&bytes), keep)?;
        let wide: Vec<u64> = (0..p.len())
            .map(|i| {
                let k = starts.partition_point(|&s| s < p.offsets.get(i));
                offsets.get(k).copied().unwrap_or_default()
            })
            .collect();
        p.offsets = Offsets::Wide(wide);
        p.source = Source::File(path.to_path_buf());
        Ok(p)
    }

    /// The 1-based line of the record at `offset` in the entity file at `path`.
    pub(crate) fn line_in_file(file: &str, path: &Path, offset: u64) -> Result<u64> {
        line_at(file, Origin::File(path), offset)
    }

    /// The byte offset of entity `i`'s record in its file.
    pub(crate) fn offset(&self, i: usize) -> u64 {
        self.offsets.get(i)
    }

    /// The number of entities.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there is no entity (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The entity at position `i` (id order).
    ///
    /// # Panics
    ///
    /// When `i` is not below [`len`](Population::len).
    pub fn entity(&self, i: usize) -> Entity<'_> {
        assert!(i < self.len(), "entity {i} of {}", self.len());
        Entity {
            population: self,
            index: i,
        }
    }

    /// Every entity, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Entity<'_>> + '_ {
        (0..self.len()).map(|index| Entity {
            population: self,
            index,
        })
    }

    /// The id of the entity at position `i`.
    ///
    /// # Panics
    ///
    /// When `i` is not below [`len`](Population::len), as a slice index
    /// would: positions come from this library's own results
    /// ([`index_of`](Population::index_of), a selection, a visit).
    #[inline]
    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i)
    }

    /// For a pass that reads the ids of `items` in turn, spread over the
    /// library, at item `k`: asks the processor to bring the id it will
    /// read 16 items later into the cache (see [`prefetch`]), so that the
    /// reads wait on memory together. `entity` gives an item's entity; a
    /// no-op where ids differ in length.
    #[inline]
    pub(crate) fn prefetch_ahead<T>(&self, items: &[T], k: usize, entity: impl Fn(&T) -> usize) {
        if let (Some(w), Some(ahead)) = (self.ids.width, items.get(k + 16)) {
            prefetch(self.ids.arena.as_bytes(), entity(ahead) * w);
        }
    }

    /// The classes, in id order.
    pub fn classes(&self) -> &[Option<RiskClass>] {
        &self.classes
    }

    /// The columns of the input file, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Whether the file has this column.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// A column held as codes: its distinct values (in order of first
    /// appearance) and each entity's code; `None` for `id`, `name`, the
    /// class, status and date, and columns not kept.
    pub fn coded_column(&self, name: &str) -> Option<(&[String], Cow<'_, [u32]>)> {
        let (values, codes) = self.codes(name)?;
        Some((values, codes.as_wide()))
    }

    /// [`coded_column`](Population::coded_column) with the codes as held,
    /// not widened to four bytes (a pass that writes 40 MB at 10 million).
    pub(crate) fn codes(&self, name: &str) -> Option<(&[String], &Codes)> {
        let c = &self.coded[self.coded_position(name)?];
        Some((&c.values[..], &c.codes))
    }

    /// The position in `coded` of the kept column with this name.
    fn coded_position(&self, name: &str) -> Option<usize> {
        self.coded.iter().position(|c| self.columns[c.column] == name)
    }

    /// Entity `i`'s code in the kept column at position `coded`.
    fn code(&self, coded: usize, i: usize) -> usize {
        self.coded[coded].codes.get(i) as usize
    }

    fn fixed_value(&self, coded: usize, i: usize) -> &str {
        self.coded[coded].values[self.code(coded, i)].as_str()
    }

    /// The distinct regions, in order of first appearance in the file.
    pub(crate) fn regions(&self) -> &[String] {
        &self.coded[self.region].values
    }

    /// Entity `i`'s region, as a position in [`regions`](Population::regions).
    pub(crate) fn region_code(&self, i: usize) -> usize {
        self.code(self.region, i)
    }

    fn coded_value(&self, i: usize, name: &str) -> Option<&str> {
        Some(self.fixed_value(self.coded_position(name)?, i))
    }

    /// The position of the entity with this id: a binary search, as the
    /// entities are held in id order. For many ids at once,
    /// [`positions`](Population::positions) is faster.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let i = self.lower_bound(id.as_bytes(), 0, self.len());
        (i < self.len() && self.id(i) == id).then_some(i)
    }

    /// The first position in `from..to` whose id is not below `id` (byte
    /// order), or `to`.
    fn lower_bound(&self, id: &[u8], from: usize, to: usize) -> usize {
        lower_bound_by(from, to, |i| self.id(i).as_bytes() < id)
    }

    /// The position of each id's entity, for many ids at once: the ids are
    /// sorted and walked alongside the population (held in id order) in
    /// blocks on every core.
    pub fn positions<S: AsRef<str> + Sync>(&self, ids: &[S]) -> Vec<Option<usize>> {
        let mut out = vec![None; ids.len()];
        if self.is_empty() {
            return out;
        }
        // Every id held starts with the bytes the first and the last share;
        // an id without them is not held. The others are compared by their
        // next 18 bytes and their length, and by their whole bytes only when
        // both are longer (see `Packed`).
        let (a, b) = (self.id(0).as_bytes(), self.id(self.len() - 1).as_bytes());
        let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let query = |k: u32| &ids[k as usize].as_ref().as_bytes()[head..];
        // OK because no slice of ids anyone holds in memory has u32::MAX elements.
        let mut order: Vec<Packed> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| id.as_ref().as_bytes().starts_with(&a[..head]))
            .map(|(k, id)| Packed::new(&id.as_ref().as_bytes()[head..], k as u32))
            .collect();
        crate::par::sort_unstable_by(&mut order, |x, y| x.cmp(y, || query(x.index).cmp(query(y.index))));
        let walk = |block: &[Packed]| -> Vec<(u32, Option<usize>)> {
            // The block's first id by binary search, each next one by
            // galloping from there; compared by their packed keys (every
            // id held starts with `head`), and by their bytes only when
            // those are equal and both are longer.
            let mut at = block.first().map_or(0, |f| {
                self.lower_bound(ids[f.index as usize].as_ref().as_bytes(), 0, self.len())
            });
            block
                .iter()
                .map(|q| {
                    let cmp = |i: usize| {
                        let held = &self.id(i).as_bytes()[head..];
                        Packed::new(held, 0).cmp(q, || held.cmp(query(q.index)))
                    };
                    at = gallop_by(at, self.len(), |i| cmp(i).is_lt());
                    let found = at < self.len() && cmp(at).is_eq();
                    (q.index, found.then_some(at))
                })
                .collect()
        };
        for block in crate::par::map_chunks(&order, 1 << 16, walk) {
            for (k, position) in block {
                out[k as usize] = position;
            }
        }
        out
    }

    /// The entity with this id.
    pub fn get(&self, id: &str) -> Option<Entity<'_>> {
        self.index_of(id).map(|i| self.entity(i))
    }

    /// The names of these entities, read back from the file, in the order given.
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error when the file cannot be read
    /// again, and a [`Syntax`](crate::ErrorKind::Syntax) error when it
    /// changed since it was loaded.
    pub fn names(&self, entities: &[usize]) -> Result<Vec<String>> {
        let list = self.name_list(entities)?;
        Ok((0..entities.len()).map(|k| list.get(k).to_string()).collect())
    }

    /// [`names`](Population::names) in one arena, without a heap string
    /// per name.
    pub(crate) fn name_list(&self, entities: &[usize]) -> Result<NameList> {
        // Read the records in file order, so that a large file is read
        // forwards through one buffer, in blocks on every core.
        let mut wanted: Vec<(u64, usize)> = entities
            .iter()
            .enumerate()
            .map(|(k, &i)| (self.offsets.get(i), k))
            .collect();
        wanted.sort_unstable();
        let mut list = NameList {
            text: String::new(),
            spans: vec![(0, 0); entities.len()],
        };
        for block in crate::par::map_chunks(&wanted, 1 << 14, |block| self.names_in_order(block, entities)) {
            let (text, spans) = block?;
            let base = list.text.len();
            list.text.push_str(&text);
            for (k, start, end) in spans {
                list.spans[k] = (base + start, base + end);
            }
        }
        Ok(list)
    }

    /// The names of `entities[k]` for each `(offset, k)` of `wanted`, in
    /// file order: their text, one after another, and for each its `k` and
    /// its span in the text.
    fn names_in_order(&self, wanted: &[(u64, usize)], entities: &[usize]) -> Result<NameBlock> {
        let c_name = self.columns.iter().position(|c| c == "name").unwrap_or(0);
        let c_id = self.columns.iter().position(|c| c == "id").unwrap_or(0);
        // Gather the records (in file order), then parse them with one reader.
        let mut records = Vec::new();
        let io = |e: std::io::Error| Error::io(&self.file, e);
        match &self.source {
            Source::Bytes(all) => {
                let mut cursor = std::io::Cursor::new(&all[..]);
                for &(offset, _) in wanted {
                    cursor.set_position(offset);
                    read_record_bytes(&mut cursor, &mut records).map_err(io)?;
                }
            }
            Source::File(path) => {
                let mut file = File::open(path).map_err(io)?;
                let mut at = wanted.first().map_or(0, |&(offset, _)| offset);
                file.seek(SeekFrom::Start(at)).map_err(io)?;
                let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
                for &(offset, _) in wanted {
                    if offset >= at {
                        // Forwards within the buffer costs nothing.
                        let skip = i64::try_from(offset - at).map_err(|e| io(std::io::Error::other(e)))?;
                        reader.seek_relative(skip).map_err(io)?;
                    } else {
                        reader.seek(SeekFrom::Start(offset)).map_err(io)?;
                    }
                    at = offset + read_record_bytes(&mut reader, &mut records).map_err(io)?;
                }
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&records[..]);
        let mut record = csv::StringRecord::new();
        let mut text = String::new();
        let mut spans = Vec::with_capacity(wanted.len());
        for (j, &(_, k)) in wanted.iter().enumerate() {
            // In file order, spread over the id-ordered library.
            self.prefetch_ahead(wanted, j, |&(_, ahead)| entities[ahead]);
            let i = entities[k];
            let ok = reader.read_record(&mut record).unwrap_or(false);
            match record.get(c_name) {
                Some(name) if ok && record.get(c_id) == Some(self.id(i)) => {
                    spans.push((k, text.len(), text.len() + name.len()));
                    text.push_str(name);
                }
                _ => {
                    return Err(Error::syntax(
                        Location::file(&self.file),
                        format!(
                            "the file changed while the draw ran (the record of entity {} moved)",
                            quote(self.id(i))
                        ),
                    ));
                }
            }
        }
        Ok((text, spans))
    }

    /// The 1-based line of entity `i`'s record (read back from the file).
    pub(crate) fn line(&self, i: usize) -> Result<u64> {
        line_at(&self.file, self.source.origin(), self.offsets.get(i))
    }
}

/// The first position in `from..to` that is not `below`, or `to`, for a
/// `below` that holds up to some position and not after it.
fn lower_bound_by(from: usize, to: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (from, to);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// [`lower_bound_by`] from `from` to `len`, for a position likely near
/// `from`: steps of 1, 2, 4 … forwards, then a binary search within the
/// last step.
fn gallop_by(from: usize, len: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut step) = (from, 1);
    loop {
        if lo >= len || !below(lo) {
            return lo;
        }
        let probe = lo + step;
        if probe >= len || !below(probe) {
            return lower_bound_by(lo + 1, probe.min(len), below);
        }
        lo = probe;
        step *= 2;
    }
}

/// Appends one CSV record's bytes to `buf`, ended by one newline: lines
/// until an even number of quotes has been read (a newline inside quotes
/// belongs to the field), cut at the first line end outside quotes. A
/// bare carriage return ends a record as the CSV reader that loaded the
/// file reads it, so a line may hold more than one record. Returns the
/// bytes read, which may go past the record.
fn read_record_bytes(reader: &mut impl std::io::BufRead, buf: &mut Vec<u8>) -> std::io::Result<u64> {
    let first = buf.len();
    let mut quotes = 0;
    loop {
        let start = buf.len();
        if reader.read_until(b'\n', buf)? == 0 {
            break;
        }
        quotes += memchr::memchr_iter(b'"', &buf[start..]).count();
        if quotes.is_multiple_of(2) {
            break;
        }
    }
    let read = (buf.len() - first) as u64;
    let mut quoted = false;
    let end = buf[first..]
        .iter()
        .position(|&b| {
            quoted ^= b == b'"';
            !quoted && (b == b'\r' || b == b'\n')
        })
        .map_or(buf.len(), |at| first + at);
    buf.truncate(end);
    buf.push(b'\n');
    Ok(read)
}

/// The line of the byte at `offset`: one more than the newlines before it.
fn line_at(file: &str, origin: Origin<'_>, offset: u64) -> Result<u64> {
    let count = |b: &[u8]| memchr::memchr_iter(b'\n', b).count() as u64;
    match origin {
        Origin::Bytes(b) => {
            let at = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
            Ok(1 + count(&b[..at]))
        }
        Origin::File(path) => {
            // Counted through a buffer: the prefix may be most of a large file.
            let io = |e: std::io::Error| Error::io(file, e);
            let mut reader = File::open(path).map_err(io)?.take(offset);
            let mut buf = vec![0u8; 1 << 20];
            let mut lines = 1;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => return Ok(lines),
                    Ok(n) => lines += count(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io(e)),
                }
            }
        }
    }
}

/// Where a population's bytes come from, for counting lines.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

impl Source {
    fn origin(&self) -> Origin<'_> {
        match self {
            Source::Bytes(b) => Origin::Bytes(b),
            Source::File(p) => Origin::File(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entity file of `n` entities whose ids are not in file order,
    /// with a quoted name holding a newline every seventh row.
    fn shuffled_file(n: usize) -> String {
        let mut csv = String::from("id,name,risk_class,region,industry,status,established\n");
        for k in 0..n {
            let id = format!("E{:06}", (k * 7919) % n);
            let name = if k % 7 == 0 {
                format!("\"shop\n{k}\"")
            } else {
                format!("shop {k}")
            };
            let class = ["A", "B", "C", "D", ""][k % 5];
            csv.push_str(&format!("{id},{name},{class},R{},I{},active,\n", k % 3, k % 4));
        }
        csv
    }

    #[test]
    fn chunks_hold_the_file_in_order_and_records_read_back_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entities.csv");
        // Over 4 MiB: more than one part of the file, each a chunk here.
        let text = shuffled_file(150_000);
        std::fs::write(&path, &text).unwrap();
        let (whole, digest) = Population::open("entities.csv", path.clone(), Keep::All).unwrap();
        let mut chunks = Vec::new();
        let streamed = Population::open_chunks("entities.csv", &path, Keep::All, 1, &mut |c| {
            chunks.push(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(streamed, digest);
        assert!(chunks.len() > 1, "{} chunks", chunks.len());
        // Each chunk is in id order, and together they are the whole library.
        let mut ids: Vec<&str> = Vec::new();
        for c in &chunks {
            assert!((1..c.len()).all(|i| c.id(i - 1) < c.id(i)));
            ids.extend((0..c.len()).map(|i| c.id(i)));
        }
        ids.sort_unstable();
        assert_eq!(ids, (0..whole.len()).map(|i| whole.id(i)).collect::<Vec<_>>());

        // Some entities, read again by its offset: the same entities,
        // names and lines as in the whole library.
        let picked: Vec<usize> = (0..whole.len()).step_by(97).collect();
        let mut offsets: Vec<u64> = picked.iter().map(|&i| whole.offset(i)).collect();
        offsets.sort_unstable();
        let some = Population::records_at("entities.csv", &path, whole.columns(), Keep::All, &offsets).unwrap();
        assert_eq!(some.len(), picked.len());
        let all: Vec<usize> = (0..some.len()).collect();
        let names = some.names(&all).unwrap();
        for (k, &i) in picked.iter().enumerate() {
            assert_eq!(some.id(k), whole.id(i));
            assert_eq!(some.entity(k).class(), whole.entity(i).class());
            assert_eq!(some.entity(k).region(), whole.entity(i).region());
            assert_eq!(names[k], whole.names(&[i]).unwrap()[0]);
            assert_eq!(some.line(k).unwrap(), whole.line(i).unwrap());
            assert_eq!(
                Population::line_in_file("entities.csv", &path, some.offset(k)).unwrap(),
                whole.line(i).unwrap()
            );
        }
    }

    #[test]
    fn chunks_report_a_bad_row_as_the_whole_file_does_and_keep_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entities.csv");
        let mut text = shuffled_file(50);
        text.push_str("E000003,again,B,R,I,active,\nE999999,bad,Q,R,I,active,\n");
        std::fs::write(&path, &text).unwrap();
        let whole = Population::open("entities.csv", path.clone(), Keep::All).unwrap_err();
        let streamed = Population::open_chunks("entities.csv", &path, Keep::All, 20, &mut |_| Ok(())).unwrap_err();
        assert_eq!(streamed.to_string(), whole.to_string());
        assert!(whole.to_string().contains("field risk_class"), "{whole}");
        // Without the bad row, the whole file reports the repeated id; the
        // chunks hand it on, for the caller to find.
        let text = text.replace("E999999,bad,Q,R,I,active,\n", "");
        std::fs::write(&path, &text).unwrap();
        let whole = Population::open("entities.csv", path.clone(), Keep::All).unwrap_err();
        assert!(whole.to_string().contains("E000003"), "{whole}");
        let mut held = 0;
        Population::open_chunks("entities.csv", &path, Keep::All, 20, &mut |c| {
            held += c.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(held, 51);
    }
}
