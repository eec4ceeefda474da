//! The entities put in id order (byte order of the ids), the first
//! repeated id found on the way.

use crate::error::{Error, ErrorKind, Location, Result};

use super::{Codes, Ids, Offsets, Origin, Population, line_at};

/// `v[order[k]]` for each k, on every core.
pub(super) fn gather<T: Copy + Send + Sync>(v: &[T], order: &[u32]) -> Vec<T> {
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
pub(super) struct Packed {
    /// Bytes 0–7 and 8–15, big-endian.
    hi: u64,
    lo: u64,
    /// Bytes 16 and 17 in the high half, the length in the low half.
    tail: u32,
    pub(super) index: u32,
}

impl Packed {
    /// The id bytes held.
    const BYTES: usize = 18;

    pub(super) fn new(rest: &[u8], index: u32) -> Packed {
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
    pub(super) fn cmp(&self, other: &Packed, whole: impl FnOnce() -> std::cmp::Ordering) -> std::cmp::Ordering {
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
/// both are longer. With `check_repeats`, the first id that repeats is an
/// error. When every id is held whole, the ids are written anew from the
/// sorted keys over the old ones (which would be read in scattered order);
/// otherwise they are gathered like the other columns.
pub(super) fn in_id_order(
    file: &str,
    origin: Origin<'_>,
    mut p: Population,
    check_repeats: bool,
) -> Result<Population> {
    // OK because the number of entities was checked to fit in u32.
    let mut keyed: Vec<Packed> = crate::par::map_range(p.len(), |i| Packed::new(p.id(i).as_bytes(), i as u32));
    let whole = |i: u32| p.ids.get(i as usize).as_bytes();
    let cmp = |a: &Packed, b: &Packed| a.cmp(b, || whole(a.index).cmp(whole(b.index)));
    crate::par::sort_unstable_by(&mut keyed, cmp);
    // Equal ids are neighbours now; looked for on every core, and when
    // there are some, the id that repeats first in the file is reported:
    // the run whose second record comes first (positions are in file order).
    const BLOCK: usize = 1 << 16;
    let blocks = if check_repeats { keyed.len().div_ceil(BLOCK) } else { 0 };
    let repeats = crate::par::map_range(blocks, |b| {
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
