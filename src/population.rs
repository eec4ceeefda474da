//! The entity library, held by column: ids in one byte arena, classes,
//! statuses and dates as small values, every other kept column as codes
//! into a dictionary of its distinct values. Names and unused columns are
//! not held; they are read back from the file for the few entities an
//! output names ([`Population::names`]).
//!
//! Large files are read in parts on several threads: a reader thread
//! hashes the bytes (SHA-256, for the record) and cuts them at record
//! boundaries, workers parse the parts, and the parts are joined in file
//! order, so the result and every error are the same for any thread count.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use chrono::NaiveDate;
use hashbrown::HashTable;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, ErrorKind, Location, Result, quote};
use crate::io::{CsvFile, one_of};
use crate::key::Digest;
use crate::model::{RiskClass, Status};

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

/// The bytes of one part of a file handed to a parser.
const PART_BYTES: usize = 4 << 20;

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

/// A column of unsigned values held in the narrower of two widths when
/// every value fits: dictionary codes in two bytes while a column has at
/// most 65,536 values, record offsets in four while the file is under 4 GiB.
#[derive(Clone)]
pub(crate) enum Narrowed<N, W> {
    Narrow(Vec<N>),
    Wide(Vec<W>),
}

/// Dictionary codes.
pub(crate) type Codes = Narrowed<u16, u32>;
/// Byte offsets of records.
type Offsets = Narrowed<u32, u64>;

impl<N, W> Narrowed<N, W>
where
    N: Copy + Into<W> + TryFrom<W> + Default + Send + Sync,
    W: Copy + Send + Sync,
{
    fn len(&self) -> usize {
        match self {
            Narrowed::Narrow(v) => v.len(),
            Narrowed::Wide(v) => v.len(),
        }
    }

    pub(crate) fn get(&self, i: usize) -> W {
        match self {
            Narrowed::Narrow(v) => v[i].into(),
            Narrowed::Wide(v) => v[i],
        }
    }

    fn as_wide(&self) -> Cow<'_, [W]>
    where
        [W]: ToOwned<Owned = Vec<W>>,
    {
        match self {
            Narrowed::Narrow(v) => Cow::Owned(crate::par::map(v, |&c| c.into())),
            Narrowed::Wide(v) => Cow::Borrowed(v),
        }
    }

    /// The values in a new order (`self[order[k]]` for each k), narrow when
    /// `fits` says every value does.
    fn gather(&self, order: &[u32], fits: bool) -> Narrowed<N, W> {
        match self {
            Narrowed::Narrow(v) => Narrowed::Narrow(gather(v, order)),
            // OK because the caller checked that every value fits.
            Narrowed::Wide(v) if fits => Narrowed::Narrow(crate::par::map(order, |&o| {
                N::try_from(v[o as usize]).unwrap_or_default()
            })),
            Narrowed::Wide(v) => Narrowed::Wide(gather(v, order)),
        }
    }
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

/// Ids in one arena. While every id has the same length (the 18
/// characters of a unified social credit code, say) an id's place follows
/// from its position and nothing else is held; the first id of another
/// length turns on a table of ends.
#[derive(Clone, Default, PartialEq, Eq)]
struct Ids {
    arena: String,
    /// The common length of every id, while there is one.
    width: Option<usize>,
    /// The end of each id in `arena`, once the ids differ in length.
    ends: Vec<u64>,
}

impl Ids {
    fn len(&self) -> usize {
        match self.width {
            Some(w) => self.arena.len() / w,
            None => self.ends.len(),
        }
    }

    fn push(&mut self, id: &str) {
        match self.width {
            // Ids are never empty; an empty one would simply take the table.
            None if self.arena.is_empty() && self.ends.is_empty() && !id.is_empty() => {
                self.width = Some(id.len());
            }
            Some(w) if w != id.len() => {
                // OK because each end is at most the arena length, which fits in memory.
                self.ends = (1..=self.len()).map(|k| (k * w) as u64).collect();
                self.width = None;
            }
            _ => {}
        }
        self.arena.push_str(id);
        if self.width.is_none() {
            self.ends.push(self.arena.len() as u64);
        }
    }

    fn append(&mut self, other: Ids) {
        match (self.width, other.width) {
            _ if self.len() == 0 => *self = other,
            (Some(a), Some(b)) if a == b => self.arena.push_str(&other.arena),
            _ => {
                for i in 0..other.len() {
                    self.push(other.get(i));
                }
            }
        }
    }

    /// Ids given by their bytes, one after another: of one `width` when
    /// every id has it, else of the lengths `lens`.
    fn joined(arena: String, width: Option<usize>, lens: impl Iterator<Item = u32>) -> Ids {
        match width.filter(|&w| w > 0) {
            Some(w) => Ids {
                arena,
                width: Some(w),
                ends: Vec::new(),
            },
            None => {
                let mut end = 0;
                let ends = lens
                    .map(|l| {
                        end += u64::from(l);
                        end
                    })
                    .collect();
                Ids {
                    arena,
                    width: None,
                    ends,
                }
            }
        }
    }

    /// The ids of these blocks, one block after another.
    fn concat(blocks: Vec<Ids>) -> Ids {
        let total: usize = blocks.iter().map(|b| b.arena.len()).sum();
        let mut blocks = blocks.into_iter();
        let mut ids = blocks.next().unwrap_or_default();
        ids.arena.reserve(total - ids.arena.len());
        for b in blocks {
            ids.append(b);
        }
        ids
    }

    fn get(&self, i: usize) -> &str {
        match self.width {
            Some(w) => &self.arena[i * w..(i + 1) * w],
            None => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] };
                // OK because each end is at most the arena length, which fits in
                // memory, and falls between two ids (a character boundary).
                &self.arena[start as usize..self.ends[i] as usize]
            }
        }
    }
}

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
    /// use double_random::{Population, RiskClass};
    /// let csv = "id,name,risk_class,region,industry,status,established\n\
    ///            E1,Shop,B,North,retail,active,2020-01-02\n\
    ///            E2,Stall,,South,retail,active,\n";
    /// let pop = Population::from_csv("entities.csv", csv.as_bytes())?;
    /// assert_eq!(pop.len(), 2);
    /// assert_eq!(pop.get("E1").unwrap().class(), Some(RiskClass::B));
    /// assert_eq!(pop.names(&[1])?, ["Stall"]);
    ///
    /// let err = Population::from_csv("entities.csv", b"id,name,risk_class,region,industry,status,established\nE1,Shop,E,N,r,active,\n").unwrap_err();
    /// assert_eq!(err.to_string(), "entities.csv, line 2, field risk_class: \"E\" is not a risk class (A, B, C, D, or empty for unclassified)");
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
        let reader = crate::io::open_input(&path, file)?;
        let source = Source::File(path);
        let (population, digest) = load(file, reader, source.origin(), keep)?;
        Ok((Population { source, ..population }, digest))
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
/// [`MAX_LINE_BYTES`](crate::io::MAX_LINE_BYTES), which starts the part
/// that could not be cut.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::io::line_too_long())
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
            if self.buf.len() > crate::io::MAX_LINE_BYTES {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, RowTooLong));
            }
            want = self.buf.len() * 2;
        }
    }
}

/// The end of the last newline in `bytes` that is outside quotes, given
/// that `bytes` starts on a record boundary. In CSV a quote is either a
/// field's opening or closing quote or half of an escaped `""`, so a
/// newline is outside quotes exactly when an even number of quotes precede it.
pub(crate) fn record_boundary(bytes: &[u8]) -> Option<usize> {
    let quotes = memchr::memchr_iter(b'"', bytes).count();
    let mut after = 0usize;
    let mut end = bytes.len();
    while let Some(nl) = memchr::memrchr(b'\n', &bytes[..end]) {
        after += memchr::memchr_iter(b'"', &bytes[nl..end]).count();
        if (quotes - after).is_multiple_of(2) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
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
    let class_expected = "a risk class (A, B, C, D, or empty for unclassified)";
    let status_expected = format!(
        "a status ({})",
        one_of(&["active", "suspended", "deregistered", "revoked"])
    );
    while let Some(row) = csv.next_row()? {
        let id = row.id_str(layout.id)?;
        out.ids.push(id);
        out.classes.push(row.parse(layout.class, class_expected, |v| {
            if v.is_empty() {
                Some(None)
            } else {
                RiskClass::parse(v).map(Some)
            }
        })?);
        out.statuses
            .push(row.parse(layout.status, &status_expected, Status::parse)?);
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
    crate::io::plain_rows(rows, layout.headers.len(), |fields, start| {
        let id = fields[layout.id];
        if !crate::io::is_id(id) {
            return None;
        }
        let class = match fields[layout.class] {
            "" => None,
            v => Some(RiskClass::parse(v)?),
        };
        let established = match fields[layout.established] {
            "" => None,
            v => Some(crate::io::parse_date(v)?),
        };
        out.ids.push(id);
        out.classes.push(class);
        out.statuses.push(Status::parse(fields[layout.status])?);
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

/// The population being assembled from parsed parts, in file order.
struct Assembly<'a> {
    file: &'a str,
    population: Population,
    /// Newlines before the next part.
    lines: u64,
    globals: Vec<Dictionary>,
}

impl Assembly<'_> {
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
        Ok(())
    }
}

fn load<R: Read + Send>(file: &str, reader: R, origin: Origin<'_>, keep: Keep<'_>) -> Result<(Population, Digest)> {
    // A read error, or a row too long to be cut into parts, which then
    // starts on the line after the `lines` newlines read before it.
    let read_error = |e: std::io::Error, lines: u64| match e.get_ref() {
        Some(inner) if inner.is::<RowTooLong>() => {
            Error::syntax(Location::line(file, lines + 1), crate::io::line_too_long())
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
        population: Population {
            file: file.to_string(),
            columns: layout.headers.clone(),
            ids: Ids::default(),
            classes: Vec::new(),
            statuses: Vec::new(),
            established: Vec::new(),
            offsets: Offsets::Wide(Vec::new()),
            coded: layout
                .coded
                .iter()
                .map(|&column| Coded {
                    column,
                    values: Vec::new(),
                    codes: Codes::Wide(Vec::new()),
                })
                .collect(),
            region: layout.coded.iter().position(|&c| c == idx_region).unwrap_or(0),
            industry: layout.coded.iter().position(|&c| c == idx_industry).unwrap_or(0),
            source: Source::Bytes(Vec::new()),
        },
        lines: blank_lines,
        globals: layout.coded.iter().map(|_| Dictionary::default()).collect(),
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
        let (done_tx, done_rx) = mpsc::channel::<(usize, u64, Result<Parsed>)>();
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

    let mut population = assembly.population;
    for (coded, global) in population.coded.iter_mut().zip(assembly.globals) {
        coded.values = global.values;
    }
    if population.is_empty() {
        return Err(Error::syntax(
            Location::file(file),
            "the file has no entities (only a header)",
        ));
    }
    // Hold the entities in id order: every later pass over them (the
    // frame, keys, digests) then reads memory in order.
    let population = in_id_order(file, origin, population)?;
    Ok((population, digest))
}

/// `v[order[k]]` for each k, on every core.
fn gather<T: Copy + Send + Sync>(v: &[T], order: &[u32]) -> Vec<T> {
    crate::par::map(order, |&o| v[o as usize])
}

/// The population with entity `k` being entity `order[k]` of `p`; `ids`
/// are its ids in that order when they are known already.
fn permute(mut p: Population, order: &[u32], ids: Option<Ids>) -> Population {
    // The ids in blocks built on every core, then joined; each old column
    // is dropped once gathered.
    p.ids = ids.unwrap_or_else(|| {
        let block = |o: &[u32]| -> Ids {
            let mut out = Ids::default();
            for &i in o {
                out.push(p.id(i as usize));
            }
            out
        };
        Ids::concat(crate::par::map_chunks(order, 1 << 16, block))
    });
    p.classes = gather(&std::mem::take(&mut p.classes), order);
    p.statuses = gather(&std::mem::take(&mut p.statuses), order);
    p.established = gather(&std::mem::take(&mut p.established), order);
    let offsets = std::mem::replace(&mut p.offsets, Offsets::Narrow(Vec::new()));
    // Offsets are assembled in file order, so the last is the largest.
    let fits = offsets.len() == 0 || offsets.get(offsets.len() - 1) <= u64::from(u32::MAX);
    p.offsets = offsets.gather(order, fits);
    for c in &mut p.coded {
        let codes = std::mem::replace(&mut c.codes, Codes::Narrow(Vec::new()));
        c.codes = codes.gather(order, c.values.len() <= 1 << 16);
    }
    p
}

/// The first [`Packed::BYTES`] bytes of an id, its length, and the
/// position it stands for, in 24 bytes: ids hold no NUL, so zero padding
/// keeps byte order, and of two ids whose first bytes held are equal and
/// of which one is at most that long, the shorter is the other's prefix.
/// Only two longer ids need their whole bytes compared. An id no longer
/// than that (an 18-character unified social credit code) is held whole.
#[derive(Clone, Copy)]
struct Packed {
    /// Bytes 0–7 and 8–15, big-endian.
    hi: u64,
    lo: u64,
    /// Bytes 16 and 17 in the high half, the length in the low half.
    tail: u32,
    index: u32,
}

impl Packed {
    /// The id bytes held.
    const BYTES: usize = 18;

    fn new(rest: &[u8], index: u32) -> Packed {
        let mut b = [0u8; Packed::BYTES];
        match rest.first_chunk::<{ Packed::BYTES }>() {
            // A copy of a known length is a few loads and stores, not a call to `memcpy`.
            Some(whole) => b = *whole,
            None => b[..rest.len()].copy_from_slice(rest),
        }
        let mut head = [0u8; 16];
        head.copy_from_slice(&b[..16]);
        let x = u128::from_be_bytes(head);
        // OK because the halves of a u128 are u64s, and ids are at most
        // MAX_FIELD_BYTES long (less than 2^16).
        Packed {
            hi: (x >> 64) as u64,
            lo: x as u64,
            tail: u32::from_be_bytes([b[16], b[17], 0, 0]) | rest.len() as u32,
            index,
        }
    }

    fn len(&self) -> usize {
        (self.tail & 0xFFFF) as usize
    }

    /// Whether the whole id is held.
    fn is_whole(&self) -> bool {
        self.len() <= Packed::BYTES
    }

    /// Writes the id bytes held (the whole id when [`is_whole`](Packed::is_whole),
    /// then zeros up to [`Packed::BYTES`]).
    fn write(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.hi.to_be_bytes());
        out[8..16].copy_from_slice(&self.lo.to_be_bytes());
        out[16..Packed::BYTES].copy_from_slice(&self.tail.to_be_bytes()[..2]);
    }

    /// The order of the two ids; `whole` compares their whole bytes.
    fn cmp(&self, other: &Packed, whole: impl FnOnce() -> std::cmp::Ordering) -> std::cmp::Ordering {
        (self.hi, self.lo, self.tail >> 16)
            .cmp(&(other.hi, other.lo, other.tail >> 16))
            .then_with(|| {
                if self.is_whole() || other.is_whole() {
                    self.len().cmp(&other.len())
                } else {
                    whole()
                }
            })
    }
}

/// The population in id byte order: positions sorted by the first bytes
/// and the length held inline ([`Packed`]), and by the whole ids only when
/// both are longer. The first id that repeats is an error. When every id
/// is held whole, the ids are written anew from the sorted keys over the
/// old ones (which would be read in scattered order); otherwise they are
/// gathered like the other columns.
fn in_id_order(file: &str, origin: Origin<'_>, mut p: Population) -> Result<Population> {
    // OK because the number of entities was checked to fit in u32.
    let mut keyed: Vec<Packed> = crate::par::map_range(p.len(), |i| Packed::new(p.id(i).as_bytes(), i as u32));
    let whole = |i: u32| p.ids.get(i as usize).as_bytes();
    let cmp = |a: &Packed, b: &Packed| a.cmp(b, || whole(a.index).cmp(whole(b.index)));
    crate::par::sort_unstable_by(&mut keyed, cmp);
    // Equal ids are neighbours now; looked for on every core, and when
    // there are some, the id that repeats first in the file is reported:
    // the run whose second record comes first (positions are in file order).
    const BLOCK: usize = 1 << 16;
    let repeats = crate::par::map_range(keyed.len().div_ceil(BLOCK), |b| {
        let pairs = &keyed[b * BLOCK..((b + 1) * BLOCK + 1).min(keyed.len())];
        pairs.windows(2).any(|w| cmp(&w[0], &w[1]).is_eq())
    });
    if repeats.into_iter().any(|r| r) {
        let mut duplicate: Option<(u32, u32)> = None;
        for run in keyed.chunk_by(|a, b| cmp(a, b).is_eq()).filter(|run| run.len() > 1) {
            let mut at: Vec<u32> = run.iter().map(|k| k.index).collect();
            at.sort_unstable();
            if duplicate.is_none_or(|(_, second)| at[1] < second) {
                duplicate = Some((at[0], at[1]));
            }
        }
        if let Some((first, second)) = duplicate {
            let line = |i: u32| line_at(file, origin, p.offsets.get(i as usize));
            return Err(ErrorKind::DuplicateId {
                at: Location::line(file, line(second)?).with_field("id"),
                id: p.id(second as usize).to_string(),
                first_line: line(first)?,
            }
            .into());
        }
    }
    // The ids' bytes, to be written over in the new order when the keys hold them all.
    let arena = keyed
        .iter()
        .all(Packed::is_whole)
        .then(|| std::mem::take(&mut p.ids.arena).into_bytes());
    let ids = match arena {
        Some(mut bytes) => {
            // In blocks on every core, each into its own part of the arena.
            let blocks: Vec<&[Packed]> = keyed.chunks(BLOCK).collect();
            // Each block's bytes, and its shortest and longest id.
            let sizes = crate::par::map(&blocks, |b| {
                b.iter().fold((0, usize::MAX, 0), |(sum, short, long), k| {
                    (sum + k.len(), short.min(k.len()), long.max(k.len()))
                })
            });
            let width = sizes
                .iter()
                .map(|s| s.1)
                .min()
                .filter(|&w| sizes.iter().all(|s| s.2 == w));
            let mut parts: Vec<&mut [u8]> = Vec::with_capacity(blocks.len());
            let mut rest = &mut bytes[..];
            for (size, _, _) in sizes {
                let (part, after) = rest.split_at_mut(size);
                parts.push(part);
                rest = after;
            }
            crate::par::for_each_zip(&blocks, parts, |block, part| {
                let mut at = 0;
                let mut held = [0u8; Packed::BYTES];
                for k in *block {
                    if k.len() == Packed::BYTES {
                        // Straight into place: no copy of unknown length.
                        k.write(&mut part[at..at + Packed::BYTES]);
                    } else {
                        k.write(&mut held);
                        part[at..at + k.len()].copy_from_slice(&held[..k.len()]);
                    }
                    at += k.len();
                }
            });
            // Whole ids, each read as a `str`, one after another.
            let arena = String::from_utf8(bytes)
                .map_err(|_| Error::syntax(Location::file(file), "an id changed while it was sorted"))?;
            // OK because ids are at most MAX_FIELD_BYTES long.
            Some(Ids::joined(arena, width, keyed.iter().map(|k| k.len() as u32)))
        }
        None => None,
    };
    let order: Vec<u32> = crate::par::map(&keyed, |k| k.index);
    drop(keyed);
    Ok(permute(p, &order, ids))
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
