//! Input files in another encoding than UTF-8, read as UTF-8: GB18030
//! (which covers GBK and GB2312), what Excel and WPS write for "CSV" on
//! Chinese Windows, declared in the plan's `encodings` or marked by a
//! byte-order mark; and UTF-16 marked by its byte-order mark.
//!
//! A converted file keeps its lines, so every error still names the line
//! of the file as given; its digest is that of the file as given.

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};

use crate::error::{Error, Location, Result};

/// Whether the plan names a workbook (an `.xlsx` file), read as its first sheet.
pub(crate) fn is_workbook(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// GB18030's byte-order mark (U+FEFF encoded in GB18030).
const GB18030_BOM: &[u8] = b"\x84\x31\x95\x33";

/// The encoding a file's byte-order mark names, unless it is UTF-8's
/// (which every reader of this crate skips).
pub(crate) fn marked(head: &[u8]) -> Option<&'static Encoding> {
    if head.starts_with(GB18030_BOM) {
        Some(GB18030)
    } else if head.starts_with(b"\xFF\xFE") {
        Some(UTF_16LE)
    } else if head.starts_with(b"\xFE\xFF") {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The file `name`'s bytes in `encoding` as UTF-8, without the
/// byte-order mark; an error names the first line that is not valid in
/// that encoding.
pub(crate) fn to_utf8(name: &str, bytes: &[u8], encoding: &'static Encoding) -> Result<Vec<u8>> {
    let body = match encoding {
        e if e == GB18030 => bytes.strip_prefix(GB18030_BOM).unwrap_or(bytes),
        _ => bytes.get(2..).unwrap_or_default(),
    };
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(body) {
        return Ok(text.into_owned().into_bytes());
    }
    // GB18030 never uses the byte 0x0A inside a character, so lines can
    // be checked one at a time to find the first bad one.
    if encoding == GB18030 {
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            if encoding
                .decode_without_bom_handling_and_without_replacement(line)
                .is_none()
            {
                return Err(Error::syntax(
                    Location::line(name, i as u64 + 1),
                    "the line is not valid GB18030 (the encoding the plan declares for this file)",
                ));
            }
        }
    }
    Err(Error::syntax(
        Location::file(name),
        format!("the file is not valid {}", encoding.name()),
    ))
}

/// The declaration the hint shows, for the entity file; [`for_role`]
/// names another file's role.
const DECLARATION: &str = "\"encodings\": {\"entities\": \"gb18030\"}";

/// The hint added to "not valid UTF-8" when the bytes read as GB18030:
/// the value as GB18030 reads it, and what to do.
pub(crate) fn gb18030_hint(value: &[u8]) -> Option<String> {
    let text = GB18030.decode_without_bom_handling_and_without_replacement(value)?;
    Some(format!(
        "; it reads as GB18030 (GBK), the encoding Excel and WPS use for CSV on Chinese Windows: {text:?}. \
         Declare it in the plan ({DECLARATION}, naming this file's role) \
         or save the file as \"CSV UTF-8\""
    ))
}

/// `e` with its GB18030 hint naming the role of the file it is about,
/// when the plan's `paths` give that file another role than `entities`.
pub(crate) fn for_role(e: Error, paths: &crate::inputs::InputPaths) -> Error {
    e.map_syntax_message(|at, message| {
        if let Some((role, _)) = paths.iter().find(|(_, path)| *path == at.file)
            && message.contains(DECLARATION)
        {
            *message = message.replace(DECLARATION, &format!("\"encodings\": {{\"{role}\": \"gb18030\"}}"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_reads_as_utf8_and_keeps_its_lines() {
        let (bytes, _, _) = GB18030.encode("id,name\nE1,河曲县顺达润田农资有限公司\n");
        assert_eq!(
            to_utf8("e.csv", &bytes, GB18030).unwrap(),
            "id,name\nE1,河曲县顺达润田农资有限公司\n".as_bytes()
        );
        let mut marked_bytes = GB18030_BOM.to_vec();
        marked_bytes.extend_from_slice(&bytes);
        assert_eq!(marked(&marked_bytes), Some(GB18030));
        assert_eq!(
            to_utf8("e.csv", &marked_bytes, GB18030).unwrap(),
            to_utf8("e.csv", &bytes, GB18030).unwrap()
        );
    }

    #[test]
    fn a_bad_gb18030_line_is_named() {
        let mut bytes = b"id,name\nE1,ok\nE2,".to_vec();
        bytes.extend_from_slice(b"\x81\x20\n");
        let e = to_utf8("e.csv", &bytes, GB18030).unwrap_err();
        assert_eq!(
            e.to_string(),
            "e.csv, line 3: the line is not valid GB18030 (the encoding the plan declares for this file)"
        );
    }

    #[test]
    fn utf16_marked_files_read_as_utf8() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "id,name\nE1,企业\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(marked(&bytes), Some(UTF_16LE));
        assert_eq!(
            to_utf8("e.csv", &bytes, UTF_16LE).unwrap(),
            "id,name\nE1,企业\n".as_bytes()
        );
    }
}
