//! How the entity library holds its columns: ids in one byte arena, and
//! codes and offsets in the narrower of two widths.

use std::borrow::Cow;

use super::order::gather;

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
pub(super) type Offsets = Narrowed<u32, u64>;

impl<N, W> Narrowed<N, W>
where
    N: Copy + Into<W> + TryFrom<W> + Default + Send + Sync,
    W: Copy + Send + Sync,
{
    pub(super) fn len(&self) -> usize {
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

    pub(super) fn as_wide(&self) -> Cow<'_, [W]>
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
    pub(super) fn gather(&self, order: &[u32], fits: bool) -> Narrowed<N, W> {
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

/// Ids in one arena. While every id has the same length (the 18
/// characters of a unified social credit code, say) an id's place follows
/// from its position and nothing else is held; the first id of another
/// length turns on a table of ends.
#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct Ids {
    pub(super) arena: String,
    /// The common length of every id, while there is one.
    pub(super) width: Option<usize>,
    /// The end of each id in `arena`, once the ids differ in length.
    ends: Vec<u64>,
}

impl Ids {
    pub(super) fn len(&self) -> usize {
        match self.width {
            Some(w) => self.arena.len() / w,
            None => self.ends.len(),
        }
    }

    pub(super) fn push(&mut self, id: &str) {
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

    pub(super) fn append(&mut self, other: Ids) {
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
    pub(super) fn joined(arena: String, width: Option<usize>, lens: impl Iterator<Item = u32>) -> Ids {
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
    pub(super) fn concat(blocks: Vec<Ids>) -> Ids {
        let total: usize = blocks.iter().map(|b| b.arena.len()).sum();
        let mut blocks = blocks.into_iter();
        let mut ids = blocks.next().unwrap_or_default();
        ids.arena.reserve(total - ids.arena.len());
        for b in blocks {
            ids.append(b);
        }
        ids
    }

    pub(super) fn get(&self, i: usize) -> &str {
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
