//! Finding the line of a value in a JSON text by its path, so that errors
//! found after parsing (an unknown item, a decreasing ratio) can still name
//! the line. serde_json keeps no spans, so this is a small scanner over a
//! text that serde_json has already accepted.

use serde::Deserialize;

use crate::error::{Error, Location, Result};

/// Parses JSON into `T`; an error names the file, the line and the path of
/// the offending value (`departments[0].classes.D.ratio`).
///
/// The text must be one JSON object and nothing else: text after it (a
/// second object, a stray character) is an error, not ignored. A UTF-8
/// byte order mark before it is skipped, as editors on Windows write one.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(file: &str, bytes: &[u8]) -> Result<T> {
    let bytes = strip_bom(bytes);
    // Every file this crate reads is one JSON object; serde would also
    // accept an array for a struct and then complain about its elements.
    if let Some(at) = bytes.iter().position(|b| !b.is_ascii_whitespace())
        && bytes[at] != b'{'
    {
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(Error::syntax(Location::line(file, line), "expected a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let mut message = e.to_string();
        // serde_json appends the position; the location carries it instead.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        let mut at = Location::line(file, e.line() as u64);
        if path != "." && !e.is_syntax() && !e.is_eof() {
            at = at.with_field(path);
        }
        Error::syntax(at, message)
    })?;
    de.end().map_err(|e| {
        Error::syntax(
            Location::line(file, e.line() as u64),
            "text after the end of the JSON object (a file holds one object)",
        )
    })?;
    Ok(value)
}

/// The bytes after a UTF-8 byte order mark, if they start with one.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Deserializes a JSON object into a map, refusing a key that appears
/// twice (serde keeps the last silently, while a reader sees the first).
pub(crate) fn unique_map<'de, D, V>(d: D) -> std::result::Result<std::collections::BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = std::collections::BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
            let mut out = std::collections::BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "the key {} appears twice",
                        crate::error::quote(&key)
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Renders a path as `departments[1].classes.A.ratio`.
pub(crate) fn render(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The 1-based line where the value at `path` starts, if the text has it.
pub(crate) fn line_of(text: &str, path: &[Step<'_>]) -> Option<u64> {
    let mut s = Scanner {
        b: strip_bom(text.as_bytes()),
        i: 0,
        line: 1,
    };
    s.ws();
    s.find(path)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: u64,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        if c == b'\n' {
            self.line += 1;
        }
        self.i += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    /// Reads a string and returns its raw (escaped) contents.
    fn string(&mut self) -> Option<String> {
        if self.bump()? != b'"' {
            return None;
        }
        let start = self.i;
        loop {
            match self.bump()? {
                b'\\' => {
                    self.bump()?;
                }
                b'"' => break,
                _ => {}
            }
        }
        let raw = std::str::from_utf8(&self.b[start..self.i - 1]).ok()?;
        // Keys of plans are plain; decode the common escapes through serde_json.
        serde_json::from_str::<String>(&format!("\"{raw}\"")).ok()
    }

    /// Skips one value.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.bump();
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                ) {
                    self.bump();
                }
            }
        }
        Some(())
    }

    fn find(&mut self, path: &[Step<'_>]) -> Option<u64> {
        let Some((step, rest)) = path.split_first() else {
            return Some(self.line);
        };
        match (step, self.bump()?) {
            (Step::Key(want), b'{') => loop {
                self.ws();
                if self.peek()? == b'}' {
                    return None;
                }
                let key = self.string()?;
                self.ws();
                if self.bump()? != b':' {
                    return None;
                }
                self.ws();
                if key == *want {
                    return self.find(rest);
                }
                self.skip()?;
                self.ws();
                if self.bump()? != b',' {
                    return None;
                }
            },
            (Step::Index(want), b'[') => {
                let mut index = 0;
                loop {
                    self.ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                    if index == *want {
                        return self.find(rest);
                    }
                    self.skip()?;
                    self.ws();
                    if self.bump()? != b',' {
                        return None;
                    }
                    index += 1;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_values() {
        let text = "{\n  \"a\": 1,\n  \"b\": [\n    {\"x\": \"}\"},\n    {\"x\": 2,\n     \"y\": [1, 2]}\n  ]\n}";
        assert_eq!(line_of(text, &[Step::Key("a")]), Some(2));
        assert_eq!(
            line_of(text, &[Step::Key("b"), Step::Index(0), Step::Key("x")]),
            Some(4)
        );
        assert_eq!(
            line_of(text, &[Step::Key("b"), Step::Index(1), Step::Key("y")]),
            Some(6)
        );
        assert_eq!(line_of(text, &[Step::Key("b"), Step::Index(2)]), None);
        assert_eq!(line_of(text, &[Step::Key("c")]), None);
        assert_eq!(render(&[Step::Key("b"), Step::Index(1), Step::Key("y")]), "b[1].y");
    }
}
