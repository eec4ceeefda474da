//! CSV loading with positioned errors: every error names the file, the
//! 1-based line and the column.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use csv::ByteRecord;

use crate::error::{Error, ErrorKind, Location, Result, quote};

/// The longest value accepted in any CSV field, in bytes.
pub const MAX_FIELD_BYTES: usize = 4096;

/// The longest line accepted in any input file read by rows (CSV files and
/// the draw log), in bytes: reading stops there, so that a file with no
/// line end (or a quote left open) costs at most this much memory before
/// it is refused, however large it is.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The message for a row longer than [`MAX_LINE_BYTES`].
pub(crate) fn line_too_long() -> String {
    format!(
        "no line end within {MAX_LINE_BYTES} bytes, the most a row may take (a line end is missing, or a quote left open)"
    )
}

/// Opens an input file for reading, after checking that it is a regular
/// file: a directory, a device (`/dev/zero`), a pipe or a socket is
/// refused, since it may never end or block forever. `name` names it in
/// errors.
pub(crate) fn open_input(path: &Path, name: &str) -> Result<std::fs::File> {
    open_regular(path).map_err(|e| Error::io(name, e))
}

/// [`open_input`] with the bare I/O error.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    check_regular(path)?;
    std::fs::File::open(path)
}

/// An error unless `path` is a regular file (links followed).
pub(crate) fn check_regular(path: &Path) -> std::io::Result<()> {
    if std::fs::metadata(path)?.is_file() {
        return Ok(());
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a regular file (a directory, device or pipe cannot be read as an input)",
    ))
}

/// Reads a whole input file (a regular file, see [`open_input`]), naming it
/// by `name` in errors.
pub(crate) fn read_file(path: &Path, name: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = open_input(path, name)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(name, e))?;
    Ok(bytes)
}

/// Reads a whole input file of rows (CSV, JSON lines): as [`read_file`],
/// but reading stops with an error naming the line as soon as a line grows
/// past [`MAX_LINE_BYTES`].
pub(crate) fn read_rows(path: &Path, name: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    const CHUNK: u64 = 1 << 20;
    let mut file = open_input(path, name)?;
    let io = |e: std::io::Error| Error::io(name, e);
    let size = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    // Where the line being read starts.
    let mut line_start = 0;
    loop {
        let before = bytes.len();
        let n = (&mut file).take(CHUNK).read_to_end(&mut bytes).map_err(io)?;
        if n == 0 {
            return Ok(bytes);
        }
        if let Some(end) = memchr::memrchr(b'\n', &bytes[before..]) {
            line_start = before + end + 1;
        }
        if bytes.len() - line_start > MAX_LINE_BYTES {
            let line = 1 + memchr::memchr_iter(b'\n', &bytes[..line_start]).count() as u64;
            return Err(Error::syntax(Location::line(name, line), line_too_long()));
        }
    }
}

/// The Chinese column names input files may use, by the canonical name
/// they stand for, as Excel and WPS exports of the registers write them.
/// A file is read as if its header had the canonical name; the record and
/// the commitment still hash the file as given. `统一社会信用代码` stands for
/// `id` in the entity and inspector files and for `entity_id` in the others.
pub const COLUMN_ALIASES: &[(&str, &[&str])] = &[
    ("id", &["统一社会信用代码", "信用代码", "编号", "人员编号", "事项编号"]),
    ("entity_id", &["统一社会信用代码", "信用代码", "主体统一社会信用代码"]),
    ("name", &["企业名称", "主体名称", "名称", "姓名", "事项名称"]),
    (
        "risk_class",
        &[
            "信用风险分类",
            "信用风险分类结果",
            "信用风险类别",
            "风险分类",
            "信用风险等级",
            "风险等级",
        ],
    ),
    ("region", &["区域", "所属区域", "辖区", "所属辖区", "地区"]),
    ("industry", &["行业", "所属行业", "行业类别", "行业门类"]),
    ("status", &["登记状态", "经营状态", "企业状态", "状态"]),
    ("established", &["成立日期"]),
    ("department", &["部门", "检查部门", "所属部门"]),
    ("date", &["检查日期", "日期"]),
    ("kind", &["检查类型", "类型", "事项类型"]),
    ("inspector_ids", &["检查人员编号", "执法人员编号", "检查人员"]),
    ("max_ratio", &["最高抽查比例", "抽查比例上限"]),
    ("min_ratio", &["最低抽查比例", "抽查比例下限"]),
    ("legal_basis", &["法律依据", "检查依据"]),
    ("method", &["检查方式"]),
    ("qualification", &["资质要求", "所需资质"]),
    ("qualifications", &["资质", "专业资质", "执法资质"]),
    ("reason", &["原因", "检查原因", "线索来源", "回避原因"]),
    ("item_ids", &["检查事项", "检查事项编号"]),
    ("inspector_id", &["执法人员编号", "检查人员编号"]),
    ("station", &["所属站所", "站所", "所属单位"]),
    ("certificate_valid_until", &["执法证有效期", "执法证件有效期"]),
    ("max_visits", &["最多检查户数"]),
    ("max_per_day", &["每日最多户数"]),
    ("unavailable", &["不可用日期", "请假日期"]),
    ("scale", &["规模", "企业规模"]),
];

/// The Chinese names of the canonical column `column`.
pub(crate) fn aliases_of(column: &str) -> impl Iterator<Item = &'static str> + '_ {
    COLUMN_ALIASES
        .iter()
        .filter(move |(canonical, _)| *canonical == column)
        .flat_map(|(_, aliases)| aliases.iter().copied())
}

/// The canonical name of a header that is an alias of exactly one column.
fn unambiguous_alias(header: &str) -> Option<&'static str> {
    let mut of = COLUMN_ALIASES
        .iter()
        .filter(|(_, aliases)| aliases.contains(&header))
        .map(|(canonical, _)| *canonical);
    match (of.next(), of.next()) {
        (Some(canonical), None) => Some(canonical),
        _ => None,
    }
}

/// A CSV file being read: the header, positioned rows, errors that say where.
pub(crate) struct CsvFile<'a> {
    name: &'a str,
    reader: csv::Reader<&'a [u8]>,
    headers: Vec<String>,
    columns: BTreeMap<String, usize>,
    record: ByteRecord,
    /// Lines before the bytes being read (for a part of a file read on its own).
    line_base: u64,
    /// The file offset of the bytes being read.
    byte_base: u64,
    /// The bytes being read (to place records exactly).
    bytes: &'a [u8],
}

/// One record of a [`CsvFile`].
pub(crate) struct Row<'a> {
    pub(crate) file: &'a str,
    pub(crate) line: u64,
    /// The byte offset of the record in the file.
    pub(crate) offset: u64,
    record: &'a ByteRecord,
    headers: &'a [String],
}

impl<'a> CsvFile<'a> {
    /// Opens CSV bytes (UTF-8, LF or CRLF, an optional BOM) and reads the header.
    pub(crate) fn open(name: &'a str, bytes: &'a [u8]) -> Result<CsvFile<'a>> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::syntax(
                Location::file(name),
                "the file is empty (expected a header row)",
            ));
        }
        let mut reader = body_reader(bytes);
        let mut header = ByteRecord::new();
        reader.read_byte_record(&mut header).map_err(|e| csv_error(name, e))?;
        let mut headers = Vec::with_capacity(header.len());
        let mut columns = BTreeMap::new();
        for (i, field) in header.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| {
                Error::syntax(
                    Location::line(name, 1),
                    format!(
                        "column {} of the header is not valid UTF-8{}",
                        i + 1,
                        super::decode::gb18030_hint(field).unwrap_or_default()
                    ),
                )
            })?;
            let text = text.trim().to_string();
            if columns.insert(text.clone(), i).is_some() {
                return Err(ErrorKind::DuplicateColumn {
                    at: Location::line(name, 1).with_field(text),
                }
                .into());
            }
            headers.push(text);
        }
        // A column under one of its documented Chinese names is read under
        // its canonical name, unless the file has that column too.
        for (i, header) in headers.iter_mut().enumerate() {
            if let Some(canonical) = unambiguous_alias(header)
                && !columns.contains_key(canonical)
            {
                columns.remove(header.as_str());
                columns.insert(canonical.to_string(), i);
                *header = canonical.to_string();
            }
        }
        Ok(CsvFile {
            name,
            reader,
            headers,
            columns,
            record: ByteRecord::new(),
            line_base: 0,
            byte_base: 0,
            bytes,
        })
    }

    /// Reads records (no header) from a part of a file that starts on a
    /// record boundary, `lines` lines and `offset` bytes into the file.
    pub(crate) fn part(name: &'a str, headers: &[String], bytes: &'a [u8], lines: u64, offset: u64) -> CsvFile<'a> {
        CsvFile {
            name,
            reader: body_reader(bytes),
            headers: headers.to_vec(),
            columns: BTreeMap::new(),
            record: ByteRecord::new(),
            line_base: lines,
            byte_base: offset,
            bytes,
        }
    }

    /// The byte offset just after the header (the bytes after an optional BOM).
    pub(crate) fn header_end(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The index of a required column (under its name, or one of its
    /// [Chinese names](COLUMN_ALIASES)).
    pub(crate) fn require(&self, column: &str) -> Result<usize> {
        self.optional(column).ok_or_else(|| {
            ErrorKind::MissingColumn {
                at: Location::line(self.name, 1),
                column: column.to_string(),
            }
            .into()
        })
    }

    /// The index of an optional column (under its name, or one of its
    /// [Chinese names](COLUMN_ALIASES)).
    pub(crate) fn optional(&self, column: &str) -> Option<usize> {
        self.columns
            .get(column)
            .copied()
            .or_else(|| aliases_of(column).find_map(|alias| self.columns.get(alias).copied()))
    }

    /// The header, trimmed.
    pub(crate) fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next record, or `None` at the end.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        loop {
            // Into one reused record.
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(self.name, e).shift_line(self.line_base))?;
            if !more {
                return Ok(None);
            }
            // OK because a record that was just read has a position.
            let (line, offset) = self
                .record
                .position()
                .map_or((0, 0), |p| (self.line_base + p.line(), p.byte()));
            // After a CRLF the reader places the next record at the LF
            // before it: the record starts after any line ends.
            let mut start = usize::try_from(offset).unwrap_or(usize::MAX);
            while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            let offset = self.byte_base + start as u64;
            // A blank line in the middle of a file is one empty field: skip it.
            if self.record.len() == 1 && self.record[0].is_empty() && self.headers.len() > 1 {
                continue;
            }
            // Every field must be UTF-8. The fields are checked at once with
            // SIMD (most bytes are names, often not ASCII): valid together
            // and none starting with a continuation byte means valid each.
            let valid = simdutf8::basic::from_utf8(self.record.as_slice()).is_ok()
                && self
                    .record
                    .iter()
                    .all(|f| f.first().is_none_or(|&b| !(0x80..0xC0).contains(&b)));
            if !valid && let Some(i) = self.record.iter().position(|f| std::str::from_utf8(f).is_err()) {
                let field = self.headers.get(i).cloned().unwrap_or_default();
                let hint = super::decode::gb18030_hint(&self.record[i]).unwrap_or_default();
                return Err(Error::syntax(
                    Location::line(self.name, line).with_field(field),
                    format!("the value is not valid UTF-8{hint}"),
                ));
            }
            if self.record.len() != self.headers.len() {
                return Err(Error::syntax(
                    Location::line(self.name, line),
                    format!(
                        "the row has {} fields, the header has {}",
                        self.record.len(),
                        self.headers.len()
                    ),
                ));
            }
            for (i, field) in self.record.iter().enumerate() {
                if field.len() > MAX_FIELD_BYTES {
                    let at = Location::line(self.name, line).with_field(self.headers[i].clone());
                    return Err(Error::syntax(
                        at,
                        format!(
                            "a value of {} bytes (at most {MAX_FIELD_BYTES} are accepted)",
                            field.len()
                        ),
                    ));
                }
            }
            return Ok(Some(Row {
                file: self.name,
                line,
                offset,
                record: &self.record,
                headers: &self.headers,
            }));
        }
    }
}

/// A CSV reader of records without a header; row lengths are checked by [`CsvFile::next_row`].
fn body_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

fn csv_error(name: &str, e: csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => Error::syntax(
            Location::line(name, pos.as_ref().map_or(0, |p| p.line())),
            format!("the row has {len} fields, the header has {expected_len}"),
        ),
        csv::ErrorKind::Io(io) => Error::syntax(Location::file(name), io.to_string()),
        _ => Error::syntax(Location::file(name), e.to_string()),
    }
}

impl Row<'_> {
    /// The raw value of column `i`.
    pub(crate) fn get(&self, i: usize) -> &str {
        // OK because next_row checked that every row has the header's length
        // and that every field is UTF-8.
        std::str::from_utf8(&self.record[i]).unwrap_or_default()
    }

    /// The location of column `i` of this row.
    pub(crate) fn at(&self, i: usize) -> Location {
        Location::line(self.file, self.line).with_field(self.headers[i].clone())
    }

    /// A required id: non-empty, no control characters.
    pub(crate) fn id(&self, i: usize) -> Result<String> {
        self.id_str(i).map(str::to_string)
    }

    /// A required id, borrowed.
    pub(crate) fn id_str(&self, i: usize) -> Result<&str> {
        let v = self.get(i);
        if !is_id(v) {
            return Err(Error::invalid(
                self.at(i),
                "an id (not empty, no surrounding spaces or control characters)",
                v,
            ));
        }
        Ok(v)
    }

    /// A value parsed with `parse`, or an error saying what was expected.
    pub(crate) fn parse<T>(&self, i: usize, expected: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
        let v = self.get(i);
        parse(v).ok_or_else(|| Error::invalid(self.at(i), expected, v))
    }

    /// A date in the form YYYY-MM-DD.
    pub(crate) fn date(&self, i: usize) -> Result<NaiveDate> {
        self.parse(i, "a date (YYYY-MM-DD)", parse_date)
    }

    /// A `;`-separated list; empty parts are ignored.
    pub(crate) fn list(&self, i: usize) -> Vec<String> {
        split_list(self.get(i))
    }
}

/// Whether a value can be an id: not empty, no surrounding spaces, no
/// control characters.
pub(crate) fn is_id(v: &str) -> bool {
    let b = v.as_bytes();
    // Printable ASCII throughout (the common case) is an id at once. No
    // early exit, so that the check is done 16 bytes at a time.
    if !b.is_empty() && b.iter().fold(true, |ok, &c| ok & (0x21..0x7F).contains(&c)) {
        return true;
    }
    !v.trim().is_empty() && !v.chars().any(char::is_control) && v.trim() == v
}

/// Splits a `;`-separated list, trimming each part and dropping empty parts.
pub(crate) fn split_list(v: &str) -> Vec<String> {
    list_parts(v).map(str::to_string).collect()
}

/// The parts of a `;`-separated list, trimmed, without empty parts.
pub(crate) fn list_parts(v: &str) -> impl Iterator<Item = &str> {
    v.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// Parses a date in exactly the form YYYY-MM-DD (a valid calendar date).
pub(crate) fn parse_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter()
            .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    // OK because four decimal digits fit in i32.
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Checks an id's first occurrence; `seen` maps ids to their first line.
pub(crate) fn check_unique(seen: &mut BTreeMap<String, u64>, id: &str, at: Location) -> Result<()> {
    let line = at.line.unwrap_or(0);
    if let Some(&first_line) = seen.get(id) {
        return Err(ErrorKind::DuplicateId {
            at,
            id: id.to_string(),
            first_line,
        }
        .into());
    }
    seen.insert(id.to_string(), line);
    Ok(())
}

/// A message for a value that is not one of a fixed set.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("one of {} or {last}", rest.join(", ")),
        None => String::new(),
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

/// Splits a part of a CSV file that starts on a record boundary into rows,
/// calling `row` with each row's fields and the offset of its first byte,
/// when the part is plain: valid UTF-8 with no quote, no carriage return,
/// no blank line, and every row as wide as the header (`width`) with
/// fields of at most [`MAX_FIELD_BYTES`]. Such a part is one record per
/// line and one field per comma, so it is split without the CSV state
/// machine. `None` for any other part, or when `row` says `None`; the
/// caller then reads the part with the CSV reader, which gives the same
/// rows or the exact error.
pub(crate) fn plain_rows<'a>(
    bytes: &'a [u8],
    width: usize,
    mut row: impl FnMut(&[&'a str], usize) -> Option<()>,
) -> Option<()> {
    if memchr::memchr2(b'"', b'\r', bytes).is_some() {
        return None;
    }
    let text = simdutf8::basic::from_utf8(bytes).ok()?;
    let mut fields: Vec<&str> = Vec::with_capacity(width);
    let mut checked = |fields: &[&'a str], start: usize| -> Option<()> {
        if fields.len() != width || fields.iter().any(|f| f.len() > MAX_FIELD_BYTES) {
            return None;
        }
        row(fields, start)
    };
    // One pass over the part finds every comma and newline.
    let (mut line, mut field) = (0, 0);
    for at in Delimiters::new(bytes) {
        if fields.len() == width {
            return None;
        }
        fields.push(&text[field..at]);
        field = at + 1;
        if bytes[at] == b'\n' {
            if at == line {
                return None; // A blank line.
            }
            checked(&fields, line)?;
            fields.clear();
            line = field;
        }
    }
    if line < text.len() {
        // The last record, without a newline.
        if fields.len() == width {
            return None;
        }
        fields.push(&text[field..]);
        checked(&fields, line)?;
    }
    Some(())
}

/// The positions of every `,` and `\n` in a text, in order, found eight
/// bytes at a time in a `u64`: in an entity file they are a dozen bytes
/// apart, too close for a vectorised search to pay for starting one per
/// match (this takes two thirds of `memchr2_iter`'s time there).
struct Delimiters<'a> {
    bytes: &'a [u8],
    /// Where the next word starts.
    next: usize,
    /// Where the current word starts, and its matches (the high bit of each matching byte).
    word: usize,
    matches: u64,
}

impl<'a> Delimiters<'a> {
    fn new(bytes: &'a [u8]) -> Delimiters<'a> {
        Delimiters {
            bytes,
            next: 0,
            word: 0,
            matches: 0,
        }
    }

    /// The high bit of each byte of `x` that equals the byte repeated in `pattern`:
    /// no carry crosses a byte, so no other byte is marked.
    fn equal(x: u64, pattern: u64) -> u64 {
        const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        let v = x ^ pattern;
        !(((v & LOW) + LOW) | v | LOW)
    }
}

impl Iterator for Delimiters<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        const COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
        const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
        while self.matches == 0 {
            let rest = self.bytes.get(self.next..).filter(|r| !r.is_empty())?;
            let n = rest.len().min(8);
            let x = match rest.first_chunk::<8>() {
                // One load (a copy of fewer bytes into a zeroed word costs a
                // call to `memcpy` and a stalled load for every word).
                Some(word) => u64::from_le_bytes(*word),
                // The last word is padded with zeros, which match neither.
                None => {
                    let mut word = [0u8; 8];
                    word[..n].copy_from_slice(rest);
                    u64::from_le_bytes(word)
                }
            };
            self.matches = Delimiters::equal(x, COMMAS) | Delimiters::equal(x, NEWLINES);
            self.word = self.next;
            self.next += n;
        }
        // OK because a set bit is the high bit of one of the word's 8 bytes.
        let at = self.word + (self.matches.trailing_zeros() / 8) as usize;
        self.matches &= self.matches - 1;
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Every `,` and `\n`, in order, and nothing else: bytes one off
        /// either (and with the high bit set) are not delimiters, and the
        /// last word may be short.
        #[test]
        fn delimiters_are_every_comma_and_newline(bytes in proptest::collection::vec(
            proptest::sample::select(vec![b',', b'\n', b'+', b'-', b'\t', 0x0B, 0, 0xAC, 0x8A, b'a']), 0..100)
        ) {
            let found: Vec<usize> = super::Delimiters::new(&bytes).collect();
            let expected: Vec<usize> = memchr::memchr2_iter(b',', b'\n', &bytes).collect();
            prop_assert_eq!(found, expected);
        }
    }
}
