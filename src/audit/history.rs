//! The history rows of a draw's own visits, for the next round's history
//! file: how one round feeds the cooldown, the annual cap and rotation of
//! the next.

use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::key::Digest;

use super::record::AuditRecord;

/// The draw's visits as rows of a history file (`entity_id, department,
/// date, kind, inspector_ids`), one per department part of every dated
/// visit, in visit order: append them to the history the next round's plan
/// names.
///
/// `record` is the draw's `record.json`; the `visits.csv` beside it must be
/// the one the record names (its SHA-256 is checked), so that no edited
/// file is fed forward. A part is `random` when the draw selected it (a
/// directed check that joined it changes nothing) and `directed` when only
/// a directed check brought the department. The header comes first.
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when a file cannot be read, a
/// [`Syntax`](crate::ErrorKind::Syntax) error when the record is not one,
/// and a [`Policy`](crate::ErrorKind::Policy) error when `visits.csv`
/// differs from the record or a visit has no date.
pub fn history_rows(record: &Path) -> Result<String> {
    let record_name = record.display().to_string();
    let bytes = crate::inputs::io::read_file(record, &record_name)?;
    let parsed = AuditRecord::from_json(&record_name, &bytes)?;
    let visits = read_output(record, &parsed, "visits.csv")?;
    rows_of_visits(&record.with_file_name("visits.csv").display().to_string(), &visits)
}

/// An output file of the draw whose record (`record`, parsed as `parsed`)
/// is at `record`, read from beside it and checked against the record's
/// digest, so that no edited file is read as the draw's.
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when it cannot be read, and a
/// [`Policy`](crate::ErrorKind::Policy) error when it differs from the record.
pub(crate) fn read_output(record: &Path, parsed: &AuditRecord, file: &str) -> Result<Vec<u8>> {
    let path = record.with_file_name(file);
    let shown = path.display().to_string();
    let bytes = crate::inputs::io::read_file(&path, &shown)?;
    let expected = parsed.outputs.iter().find(|f| f.path == file);
    if expected.map(|f| f.sha256.as_str()) != Some(Digest::of_bytes(&bytes).to_hex().as_str()) {
        return Err(Error::policy(
            Location::file(&shown),
            format!(
                "the file is not the {file} that {} names; verify the draw first",
                record.display()
            ),
        ));
    }
    Ok(bytes)
}

/// [`history_rows`] of the bytes of a draw's `visits.csv` (named
/// `visits_name` in errors), already checked against its record.
pub(crate) fn rows_of_visits(visits_name: &str, visits: &[u8]) -> Result<String> {
    let visits_name = visits_name.to_string();
    let mut reader = csv::ReaderBuilder::new().from_reader(visits);
    let headers = reader
        .headers()
        .map_err(|e| Error::syntax(Location::file(&visits_name), e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::syntax(Location::line(&visits_name, 1), format!("missing column {name}")))
    };
    let (c_entity, c_date, c_basis, c_team) = (
        column("entity_id")?,
        column("date")?,
        column("basis")?,
        column("inspectors")?,
    );
    let failed = |e: csv::Error| Error::io("history", std::io::Error::other(e));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER.split(',')).map_err(failed)?;
    let mut row = csv::StringRecord::new();
    while reader
        .read_record(&mut row)
        .map_err(|e| Error::syntax(Location::file(&visits_name), e.to_string()))?
    {
        let line = row.position().map_or(0, csv::Position::line);
        let field = |c: usize| unneutralised(row.get(c).unwrap_or_default());
        let date = field(c_date);
        if date.is_empty() {
            return Err(Error::policy(
                Location::line(&visits_name, line).with_field("date"),
                "the visit has no date",
            ));
        }
        let teams = parts(field(c_team));
        for (department, basis) in parts(field(c_basis)) {
            let kind = if basis.split('+').any(|b| b == "random") {
                "random"
            } else {
                "directed"
            };
            let team = teams
                .iter()
                .find(|(d, _)| *d == department)
                .map_or(String::new(), |(_, t)| t.replace('+', ";"));
            writer
                .write_record([field(c_entity), department, date, kind, team.as_str()])
                .map_err(failed)?;
        }
    }
    let written = writer
        .into_inner()
        .map_err(|e| Error::io("history", std::io::Error::other(e.to_string())))?;
    // OK because every value came from a UTF-8 CSV file.
    Ok(String::from_utf8_lossy(&written).into_owned())
}

/// The header [`history_rows`] writes.
const HEADER: &str = "entity_id,department,date,kind,inspector_ids";

/// The history file `base` (the one the round read) followed by `rows`
/// (from [`history_rows`], header included), as the next round's history:
/// one file, one header.
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when `base` cannot be read, and a
/// [`Syntax`](crate::ErrorKind::Syntax) error when it is not UTF-8 (or
/// GB18030 or UTF-16 marked by a byte-order mark, the result being UTF-8)
/// or its header is not `entity_id,department,date,kind,inspector_ids` (the
/// columns `history_rows` writes, in that order).
pub fn history_after(base: &Path, rows: &str) -> Result<String> {
    let name = base.display().to_string();
    let bytes = crate::inputs::io::read_file(base, &name)?;
    // A byte-order mark says the encoding for certain (GB18030 or UTF-16
    // from Excel or WPS): the history is then carried on in UTF-8.
    let bytes = match crate::inputs::decode::marked(&bytes) {
        Some(encoding) => crate::inputs::decode::to_utf8(&name, &bytes, encoding)?,
        None => bytes,
    };
    let bytes = crate::inputs::json::strip_bom(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        let hint = if encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .is_some()
        {
            "; it reads as GB18030 (GBK): save it as \"CSV UTF-8\""
        } else {
            ""
        };
        Error::syntax(Location::file(&name), format!("the file is not valid UTF-8{hint}"))
    })?;
    let header = text.lines().next().unwrap_or_default().trim_end_matches('\r');
    if header != HEADER {
        return Err(Error::syntax(
            Location::line(&name, 1),
            format!("the header must be {HEADER} to add the round's rows to it"),
        ));
    }
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(rows.split_once('\n').map_or("", |(_, rest)| rest));
    Ok(out)
}

/// `DEP:value;DEP:value` as (department, value) pairs.
fn parts(text: &str) -> Vec<(&str, &str)> {
    text.split(';').filter_map(|p| p.split_once(':')).collect()
}

/// A value as it was before the spreadsheet-safe writer put a `'` in
/// front of it.
fn unneutralised(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}
