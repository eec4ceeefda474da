//! DR3 hashing: the seed digest, the draw salt, entity keys and the
//! allocation offset. Everything here is SHA-256 over length-prefixed
//! byte strings, so it can be re-implemented in any language.

use std::fmt;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::error::{ErrorKind, Result};

/// The id of the draw specification implemented by this crate.
pub const SPEC_ID: &str = "DR3";

/// A 32-byte SHA-256 digest, read as a big-endian unsigned integer when
/// compared, and shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The digest as 64 lowercase hex digits, written into `buf`.
    pub(crate) fn hex_into<'a>(&self, buf: &'a mut [u8; 64]) -> &'a str {
        // OK because 32 bytes take exactly 64 hex digits, which are ASCII.
        let _ = hex::encode_to_slice(self.0, buf);
        std::str::from_utf8(buf).unwrap_or_default()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Digest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Digest(out))
    }

    pub(crate) fn from_array(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }

    /// SHA-256 of a byte string.
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// SHA-256 of everything `reader` gives, read a megabyte at a time
    /// (a file is hashed without being held in memory).
    pub(crate) fn of_reader(mut reader: impl std::io::Read) -> std::io::Result<Digest> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(Digest(hasher.finalize().into())),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The first 8 bytes as a big-endian integer.
    pub fn first_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(b)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An incremental SHA-256 over DR3 fields.
#[derive(Clone, Default)]
pub(crate) struct Hasher(Sha256);

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher(Sha256::new())
    }

    /// Appends `enc(s)`: the 4-byte big-endian length of `s`, then its bytes.
    pub(crate) fn enc(&mut self, s: &[u8]) -> &mut Hasher {
        // OK because every input is capped far below 4 GiB per field; a
        // longer field would be a field of an input file over 4 GiB, which
        // the loaders reject as too large before hashing.
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.0.update(len.to_be_bytes());
        self.0.update(s);
        self
    }

    /// Appends raw bytes (a digest).
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Hasher {
        self.0.update(bytes);
        self
    }

    pub(crate) fn finish(&self) -> Digest {
        Digest(self.0.clone().finalize().into())
    }
}

/// A [`Hasher`] for long streams of short values: values are encoded into
/// a buffer and hashed in large blocks, which costs far less per value.
pub(crate) struct StreamHasher {
    sha: Sha256,
    buf: Vec<u8>,
}

impl StreamHasher {
    const BLOCK: usize = 1 << 16;

    pub(crate) fn new() -> StreamHasher {
        StreamHasher {
            sha: Sha256::new(),
            buf: Vec::with_capacity(Self::BLOCK + 4096),
        }
    }

    /// `enc(s)`: as [`Hasher::enc`].
    pub(crate) fn enc(&mut self, s: &[u8]) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(s);
        if self.buf.len() >= Self::BLOCK {
            self.sha.update(&self.buf);
            self.buf.clear();
        }
    }

    /// Bytes already encoded.
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.sha.update(&self.buf);
        self.buf.clear();
        self.sha.update(bytes);
    }

    pub(crate) fn finish(mut self) -> Digest {
        self.sha.update(&self.buf);
        Digest(self.sha.finalize().into())
    }
}

/// Whether a character is a formatting character that prints as nothing
/// (Unicode's default-ignorable format characters).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The public seed of a draw: a text read out at a public ceremony
/// (dice, lottery digits, a beacon value), never a number.
///
/// # Example
///
/// ```
/// use double_random::Seed;
/// let seed = Seed::new("31415926535897932384")?;
/// assert_eq!(seed.as_str(), "31415926535897932384");
/// assert!(Seed::new("  ").is_err());
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seed(String);

impl Seed {
    /// Checks a seed text: it must not be empty or only white space, must
    /// not start or end with white space, and must hold no control
    /// character and no invisible formatting character (a zero-width space,
    /// a byte order mark, a bidirectional override …). It is used exactly
    /// as given (no trimming), since an auditor must be able to hash the
    /// same bytes; what the rules refuse is what a published seed could
    /// hold without anyone reading it, so that the seed on the notice board
    /// is the seed drawn with.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSeed`] when the text is empty, white space only,
    /// starts or ends with white space, or holds a control or invisible
    /// character.
    pub fn new(text: impl Into<String>) -> Result<Seed> {
        let text = text.into();
        let invalid = |message: String| Err(ErrorKind::InvalidSeed { message }.into());
        if text.trim().is_empty() {
            return invalid("the seed is empty".into());
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return invalid(format!("the seed holds the control character {c:?}"));
        }
        if let Some(c) = text.chars().find(|&c| is_invisible(c)) {
            return invalid(format!(
                "the seed holds the invisible character U+{:04X}, which a published seed would not show",
                u32::from(c)
            ));
        }
        if text.trim() != text {
            return invalid("the seed starts or ends with white space, which a published seed would not show".into());
        }
        Ok(Seed(text))
    }

    /// The seed text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// DR3 step 1: `S = H(enc("DR1/seed") ‖ enc(seed_text))`.
    pub fn digest(&self) -> Digest {
        Hasher::new().enc(b"DR1/seed").enc(self.0.as_bytes()).finish()
    }
}

/// The longest id whose key message (`T ‖ enc(id)`, 36 bytes and the id)
/// and SHA-256's padding (a 0x80 byte and the 8-byte bit length) fit in
/// one 64-byte block.
const ONE_BLOCK_ID: usize = 64 - 36 - 1 - 8;

/// SHA-256's state after compressing one padded block from the initial value.
fn compress_one(block: &[u8; 64]) -> [u32; 8] {
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, std::slice::from_ref(block));
    state
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// DR3 step 2: the draw salt `T = H(enc("DR1/draw") ‖ S ‖ enc(task_id) ‖ enc(round_id))`,
/// shared by every department of a task and round.
///
/// # Example
///
/// ```
/// use double_random::Seed;
/// use double_random::key::Salt;
/// let salt = Salt::derive(&Seed::new("2024")?, "T1", "1");
/// let key = salt.entity_key("91140930MA0K0001X1");
/// assert_eq!(key.to_hex().len(), 64);
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt(Digest);

impl Salt {
    /// Derives the salt of a task round from the seed.
    pub fn derive(seed: &Seed, task_id: &str, round_id: &str) -> Salt {
        Salt(
            Hasher::new()
                .enc(b"DR1/draw")
                .raw(seed.digest().as_bytes())
                .enc(task_id.as_bytes())
                .enc(round_id.as_bytes())
                .finish(),
        )
    }

    pub(crate) fn from_digest(digest: Digest) -> Salt {
        Salt(digest)
    }

    /// The salt's digest.
    pub fn digest(&self) -> Digest {
        self.0
    }

    /// DR3 step 3: `K(e) = H(T ‖ enc(entity_id))`.
    pub fn entity_key(&self, entity_id: &str) -> Digest {
        let id = entity_id.as_bytes();
        if id.len() <= ONE_BLOCK_ID {
            let mut block = [0u8; 64];
            self.key_block(id, &mut block);
            let mut out = [0u8; 32];
            for (chunk, word) in out.chunks_exact_mut(4).zip(compress_one(&block)) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
            return Digest(out);
        }
        Hasher::new().raw(self.0.as_bytes()).enc(id).finish()
    }

    /// The first eight bytes of each id's key ([`Digest::first_u64`] of
    /// [`entity_key`](Salt::entity_key)), handed to `f` in the order of
    /// the ids.
    ///
    /// The blocks of sixteen ids are written before the first of them is
    /// compressed. Compressing a block right after writing it waits for
    /// the writes to reach the cache, since its 16-byte loads each span
    /// several of them; written ahead, they have (a third less time per
    /// key, measured on 18-byte ids).
    pub(crate) fn key_prefixes<'a>(&self, ids: impl IntoIterator<Item = &'a str>, mut f: impl FnMut(u64)) {
        const BATCH: usize = 16;
        let mut blocks = [[0u8; 64]; BATCH];
        // The prefix of an id too long for one block, computed at once.
        let mut long: [Option<u64>; BATCH] = [None; BATCH];
        let mut ids = ids.into_iter().peekable();
        while ids.peek().is_some() {
            let mut len = 0;
            // The batch's slots first: a zip asks its second iterator only
            // when the first has an item, so no id is taken and lost.
            for ((block, long), id) in blocks.iter_mut().zip(&mut long).zip(ids.by_ref()) {
                *long = if id.len() <= ONE_BLOCK_ID {
                    self.key_block(id.as_bytes(), block);
                    None
                } else {
                    Some(self.entity_key(id).first_u64())
                };
                len += 1;
            }
            for (block, long) in blocks.iter().zip(&long).take(len) {
                f(long.unwrap_or_else(|| {
                    // The digest's first eight bytes, big-endian: its first two words.
                    let state = compress_one(block);
                    (u64::from(state[0]) << 32) | u64::from(state[1])
                }));
            }
        }
    }

    /// The one SHA-256 block of `T ‖ enc(id)` with its padding, for an id
    /// of at most [`ONE_BLOCK_ID`] bytes (a unified social credit code has
    /// 18): compressed directly, it gives the key without the hasher's
    /// buffering (a quarter less time per key).
    fn key_block(&self, id: &[u8], block: &mut [u8; 64]) {
        block[..32].copy_from_slice(self.0.as_bytes());
        // OK because id.len() <= 19.
        block[32..36].copy_from_slice(&(id.len() as u32).to_be_bytes());
        block[36..36 + id.len()].copy_from_slice(id);
        block[36 + id.len()] = 0x80;
        block[37 + id.len()..56].fill(0);
        let bits = ((36 + id.len()) * 8) as u64;
        block[56..].copy_from_slice(&bits.to_be_bytes());
    }

    /// DR3 step 6: the allocation offset `v`, the first 8 bytes of
    /// `H(T ‖ enc("DR1/alloc") ‖ enc(department) ‖ enc(class))` as a
    /// big-endian integer (read as `v / 2^64`).
    pub fn alloc_offset(&self, department: &str, class: &str) -> u64 {
        Hasher::new()
            .raw(self.0.as_bytes())
            .enc(b"DR1/alloc")
            .enc(department.as_bytes())
            .enc(class.as_bytes())
            .finish()
            .first_u64()
    }
}

/// An unbiased integer in `0..n` from a `next_u64` stream (Lemire's
/// multiply-and-reject: draw `x`, form the 128-bit product `x × n`, reject
/// when its low half is below `2^64 mod n`, return the high half).
///
/// This is DR3 step 10's documented mapping of a ChaCha20 stream (read
/// through `next_u64` only) to a range, for every random choice other than
/// the selection (the team seats, and synthetic data).
///
/// `n` must be positive.
pub(crate) fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    debug_assert!(n > 0);
    // The threshold `2^64 mod n` is below n, so a low half of at least n
    // passes without computing it (the division is the slow step).
    let mut threshold = None;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        // OK because the low half of a u128 fits in u64 by construction.
        let low = m as u64;
        if low >= n || low >= *threshold.get_or_insert_with(|| n.wrapping_neg() % n) {
            return (m >> 64) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Batched prefixes are the first eight bytes of each key, in the
        /// ids' order, whatever the mix of one-block and longer ids and
        /// however the ids fall into batches.
        #[test]
        fn key_prefixes_are_the_keys_first_bytes(ids in proptest::collection::vec("[0-9A-Z]{0,24}|\\PC{1,8}", 0..40)) {
            let salt = Salt::derive(&Seed::new("prefixes").unwrap(), "T", "1");
            let mut prefixes = Vec::new();
            salt.key_prefixes(ids.iter().map(String::as_str), |p| prefixes.push(p));
            let expected: Vec<u64> = ids.iter().map(|id| salt.entity_key(id).first_u64()).collect();
            prop_assert_eq!(prefixes, expected);
        }
    }
}
