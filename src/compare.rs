//! Comparing an output being rendered with the file a draw wrote, as it is
//! rendered: `verify` holds neither file in memory (at 10 million entities
//! the outputs are 260 MB), and describes the first difference as a reader
//! would look for it, by line.

use std::io::BufRead;

/// Compares the bytes written to it, in order, with what a reader of the
/// file already written gives. Only the line being compared is kept; once
/// the two differ, the rest of the file found is read at once, and only
/// the differing line of each and their line counts are kept.
pub(crate) struct Comparer<R> {
    /// The file name, for the description.
    name: String,
    state: State<R>,
    /// Newlines in the bytes both have in common.
    lines: usize,
    /// The bytes both have in common since their last newline.
    line: Vec<u8>,
}

enum State<R> {
    /// Every byte so far is the same.
    Same(R),
    /// The two differ: the line of each where they first do.
    Differ(Differing),
    /// The file found cannot be opened or read.
    Unreadable(std::io::Error),
}

/// Where the two streams first differ: each one's line there, and the
/// newlines of each from that line's start on.
struct Differing {
    expected: Tail,
    found: Tail,
}

/// One stream from the start of the line where the streams first differ.
struct Tail {
    /// That line, as far as it is read.
    line: Vec<u8>,
    /// Whether `line` is whole (its newline was read).
    ended: bool,
    newlines: usize,
}

impl Tail {
    /// A tail whose line begins with `line`, the bytes both streams hold.
    fn new(line: &[u8]) -> Tail {
        Tail {
            line: line.to_vec(),
            ended: false,
            newlines: 0,
        }
    }

    /// The stream's next bytes. At most [`MAX_LINE_BYTES`] of the line are
    /// kept: a file found with one endless line costs no more memory, and
    /// a line that long differs from every line an output has.
    ///
    /// [`MAX_LINE_BYTES`]: crate::inputs::io::MAX_LINE_BYTES
    fn push(&mut self, bytes: &[u8]) {
        if !self.ended {
            let (part, ended) = match memchr::memchr(b'\n', bytes) {
                Some(end) => (&bytes[..end], true),
                None => (bytes, false),
            };
            let room = crate::inputs::io::MAX_LINE_BYTES.saturating_sub(self.line.len());
            self.line.extend_from_slice(&part[..part.len().min(room)]);
            self.ended = ended;
        }
        self.newlines += memchr::memchr_iter(b'\n', bytes).count();
    }
}

impl<R: BufRead> Comparer<R> {
    /// Compares with `found`, or reports `found`'s error as the difference.
    pub(crate) fn new(name: &str, found: std::io::Result<R>) -> Comparer<R> {
        Comparer {
            name: name.to_string(),
            state: match found {
                Ok(r) => State::Same(r),
                Err(e) => State::Unreadable(e),
            },
            lines: 0,
            line: Vec::new(),
        }
    }

    /// The next bytes expected.
    pub(crate) fn write(&mut self, mut buf: &[u8]) {
        while !buf.is_empty() {
            let (same, found_rest) = match &mut self.state {
                State::Same(found) => match found.fill_buf() {
                    Ok(f) => {
                        let n = f.len().min(buf.len());
                        let same = if buf[..n] == f[..n] {
                            n
                        } else {
                            buf.iter().zip(f).take_while(|(a, b)| a == b).count()
                        };
                        // `n` is 0 when the file found has ended.
                        if same == n && n > 0 {
                            found.consume(n);
                            (n, None)
                        } else {
                            let rest = f[same..].to_vec();
                            let len = f.len();
                            found.consume(len);
                            (same, Some(rest))
                        }
                    }
                    Err(e) => {
                        self.state = State::Unreadable(e);
                        return;
                    }
                },
                State::Differ(d) => {
                    d.expected.push(buf);
                    return;
                }
                State::Unreadable(_) => return,
            };
            self.common(&buf[..same]);
            buf = &buf[same..];
            if let Some(rest) = found_rest {
                self.differ(&rest);
                if let State::Differ(d) = &mut self.state {
                    d.expected.push(buf);
                }
                return;
            }
        }
    }

    /// The first difference, or `None` when the file found holds exactly
    /// the bytes written: the line where the two first differ, or their
    /// counts of lines when one ends where the other's line does (as a
    /// comparison of the whole files, line by line, would say).
    pub(crate) fn finish(mut self) -> Option<String> {
        if let State::Same(found) = &mut self.state {
            match found.fill_buf() {
                Ok([]) => return None,
                Ok(f) => {
                    // The file found goes on after the last byte expected.
                    let rest = f.to_vec();
                    let n = rest.len();
                    found.consume(n);
                    self.differ(&rest);
                }
                Err(e) => self.state = State::Unreadable(e),
            }
        }
        let name = &self.name;
        match self.state {
            State::Same(_) => None,
            State::Unreadable(e) => Some(format!("{name}: cannot be read: {e}")),
            State::Differ(d) if d.expected.line != d.found.line => {
                Some(line_difference(name, self.lines + 1, &d.expected.line, &d.found.line))
            }
            State::Differ(d) => Some(format!(
                "{name}: expected {} lines, found {}",
                self.lines + d.expected.newlines + 1,
                self.lines + d.found.newlines + 1
            )),
        }
    }

    /// Bytes both streams hold.
    fn common(&mut self, bytes: &[u8]) {
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => {
                self.lines += memchr::memchr_iter(b'\n', bytes).count();
                self.line.clear();
                self.line.extend_from_slice(&bytes[last + 1..]);
            }
            None => self.line.extend_from_slice(bytes),
        }
    }

    /// The streams differ here; `rest` is what the file found holds from
    /// here on before the rest of its reader. Reads the file found to its
    /// end.
    fn differ(&mut self, rest: &[u8]) {
        let State::Same(found) = &mut self.state else {
            return;
        };
        let mut tail = Tail::new(&self.line);
        tail.push(rest);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match found.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => tail.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.state = State::Unreadable(e);
                    return;
                }
            }
        }
        self.state = State::Differ(Differing {
            expected: Tail::new(&self.line),
            found: tail,
        });
    }
}

/// Describes line `line` (from 1) of file `name`, expected `a` and found
/// `b`: both from a little before their first differing character.
fn line_difference(name: &str, line: usize, a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let from = same.saturating_sub(12);
    let tail = |s: &str| {
        let rest: String = s.chars().skip(from).collect();
        let shown = crate::error::quote(&rest);
        if from > 0 { format!("…{shown}") } else { shown }
    };
    format!(
        "{name}, line {line}, from character {}: expected {}, found {}",
        from + 1,
        tail(&a),
        tail(&b)
    )
}

/// The first difference of two whole files, by line: the description
/// [`Comparer`] gives without holding them.
#[cfg(test)]
fn first_difference(name: &str, expected: &[u8], found: &[u8]) -> Option<String> {
    if expected == found {
        return None;
    }
    let e: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let f: Vec<&[u8]> = found.split(|&b| b == b'\n').collect();
    for (i, (a, b)) in e.iter().zip(&f).enumerate() {
        if a != b {
            return Some(line_difference(name, i + 1, a, b));
        }
    }
    Some(format!("{name}: expected {} lines, found {}", e.len(), f.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Writes `expected` in pieces cut at `cuts`, against `found` read
    /// through a buffer of `capacity` bytes.
    fn compare(expected: &[u8], cuts: &[usize], found: &[u8], capacity: usize) -> Option<String> {
        let mut c = Comparer::new("f.csv", Ok(std::io::BufReader::with_capacity(capacity, found)));
        let mut at = 0;
        for &cut in cuts.iter().chain([&expected.len()]) {
            let cut = cut.clamp(at, expected.len());
            c.write(&expected[at..cut]);
            at = cut;
        }
        c.finish()
    }

    #[test]
    fn the_same_bytes_are_no_difference() {
        assert_eq!(compare(b"a,b\n1,2\n", &[3, 5], b"a,b\n1,2\n", 2), None);
        assert_eq!(compare(b"", &[], b"", 4), None);
    }

    #[test]
    fn a_changed_field_is_named_by_line_and_character() {
        assert_eq!(
            compare(b"id,n\nx1,1\nx2,2\n", &[7], b"id,n\nx1,1\nx2,3\n", 4).as_deref(),
            Some("f.csv, line 3, from character 1: expected \"x2,2\", found \"x2,3\"")
        );
        // A long common start is cut to the last twelve characters before the difference.
        let long = b"0123456789abcdefghij,1\n";
        assert_eq!(
            compare(long, &[], b"0123456789abcdefghij,2\n", 8).as_deref(),
            Some("f.csv, line 1, from character 10: expected …\"9abcdefghij,1\", found …\"9abcdefghij,2\"")
        );
    }

    #[test]
    fn a_file_cut_short_or_grown_is_named() {
        /// Expected, cuts, found, buffer size, description.
        type Case = (&'static [u8], &'static [usize], &'static [u8], usize, &'static str);
        let cases: [Case; 4] = [
            (
                b"a\nb\n",
                &[],
                b"a\nb\nc\n",
                64,
                "f.csv, line 3, from character 1: expected \"\", found \"c\"",
            ),
            (
                b"a\nb\nc\n",
                &[2],
                b"a\nb\n",
                64,
                "f.csv, line 3, from character 1: expected \"c\", found \"\"",
            ),
            // The lines are the same as far as both go: the counts differ.
            (b"a\nb", &[], b"a\nb\n", 1, "f.csv: expected 2 lines, found 3"),
            (b"a\nb\n\n", &[1], b"a\nb", 64, "f.csv: expected 4 lines, found 2"),
        ];
        for (expected, cuts, found, capacity, description) in cases {
            assert_eq!(compare(expected, cuts, found, capacity).as_deref(), Some(description));
        }
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named() {
        let c: Comparer<&[u8]> = Comparer::new("f.csv", Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone")));
        assert_eq!(c.finish().as_deref(), Some("f.csv: cannot be read: gone"));
    }

    proptest! {
        /// Whatever the bytes and however they are cut, the streamed
        /// comparison says what a comparison of the whole files says.
        #[test]
        fn streaming_describes_the_first_difference_as_whole_files_do(
            expected in proptest::collection::vec(prop::sample::select(b"ab,\n\xc3\xa9".to_vec()), 0..40),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(b"ab,\nz".to_vec())), 0..3),
            cuts in proptest::collection::vec(0usize..40, 0..6),
            capacity in 1usize..16,
        ) {
            let mut found = expected.clone();
            for (at, op, byte) in edits {
                match op {
                    0 if !found.is_empty() => {
                        let i = at.index(found.len());
                        found[i] = byte;
                    }
                    1 if !found.is_empty() => {
                        found.remove(at.index(found.len()));
                    }
                    2 => {
                        let i = at.index(found.len() + 1);
                        found.insert(i, byte);
                    }
                    _ => found.truncate(at.index(found.len() + 1)),
                }
            }
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(
                compare(&expected, &cuts, &found, capacity),
                first_difference("f.csv", &expected, &found)
            );
        }
    }
}
