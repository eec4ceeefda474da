//! `outputs.xlsx`: a draw's CSV outputs as one Excel workbook for the
//! bureau's staff, one sheet per file, derived from the CSV files and
//! checked against them by `verify`.
//!
//! Every cell is written as text, exactly the CSV value: a workbook cell
//! is never a formula, and a value a spreadsheet would read as one already
//! carries the `'` the CSV files give it. The workbook is not in the
//! record (the CSV files are the draw); `verify` reads it back and names
//! the first cell of each sheet that differs from its CSV file.

use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};

use super::{OUTPUT_FILES, WORKBOOK};
use crate::error::{Error, Location, Result};
use crate::inputs::sheet::column_letter;

/// Rows a sheet holds, the header included.
const MAX_ROWS: usize = 1_048_576;

/// The CSV outputs, each with its sheet's name.
fn sheets() -> impl Iterator<Item = (&'static str, &'static str)> {
    OUTPUT_FILES
        .iter()
        .filter_map(|f| f.strip_suffix(".csv").map(|sheet| (*f, sheet)))
}

/// Writes `dir/outputs.xlsx` from the CSV files in `dir`.
///
/// # Errors
///
/// A [`Policy`](crate::ErrorKind::Policy) error when a file has more rows
/// than a sheet holds (1,048,576), and I/O errors.
pub(crate) fn write(dir: &Path) -> Result<()> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let path = dir.join(WORKBOOK);
    let failed = |e: rust_xlsxwriter::XlsxError| Error::io(&path, std::io::Error::other(e.to_string()));
    for (file, sheet) in sheets() {
        let rows = super::read_back(&dir.join(file), file)?;
        if rows.len() > MAX_ROWS {
            return Err(Error::policy(
                Location::file(file),
                format!(
                    "{} rows are more than an Excel sheet holds ({MAX_ROWS}): draw without --xlsx and open the CSV files",
                    rows.len()
                ),
            ));
        }
        let ws = book.add_worksheet();
        ws.set_name(sheet).map_err(failed)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                // OK because a sheet has at most 2^20 rows (checked) and CSV outputs have few columns.
                let (r, c) = (r as u32, c as u16);
                if r == 0 {
                    ws.write_string_with_format(r, c, value, &bold).map_err(failed)?;
                } else if !value.is_empty() {
                    ws.write_string(r, c, value).map_err(failed)?;
                }
            }
        }
        if !rows.is_empty() {
            ws.set_freeze_panes(1, 0).map_err(failed)?;
        }
    }
    book.save(&path).map_err(failed)
}

/// How `dir/outputs.xlsx` differs from the CSV files in `dir`: per sheet,
/// the first cell that differs, or a missing sheet or row.
pub(crate) fn differences(dir: &Path) -> Vec<String> {
    let path = dir.join(WORKBOOK);
    let mut book: Xlsx<_> = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| Xlsx::new(std::io::Cursor::new(b)).map_err(|e| e.to_string()))
    {
        Ok(book) => book,
        Err(e) => return vec![format!("{WORKBOOK}: cannot be read as a workbook ({e})")],
    };
    let mut out = Vec::new();
    for (file, sheet) in sheets() {
        let Ok(csv) = super::read_back(&dir.join(file), file) else {
            continue; // OK because the replay reports a CSV file it cannot read.
        };
        let Ok(range) = book.worksheet_range(sheet) else {
            out.push(format!("{WORKBOOK}: the sheet {sheet} is missing"));
            continue;
        };
        let cells: Vec<Vec<String>> = range
            .rows()
            .map(|row| row.iter().map(text).collect::<Vec<_>>())
            .collect();
        if let Some(d) = first_difference(&csv, &cells) {
            out.push(format!("{WORKBOOK}, sheet {sheet}, {d} ({file})"));
        }
    }
    out
}

/// Where `cells` (a sheet) first differs from `csv` (its file), in words.
fn first_difference(csv: &[Vec<String>], cells: &[Vec<String>]) -> Option<String> {
    for r in 0..csv.len().max(cells.len()) {
        let (Some(want), Some(got)) = (csv.get(r), cells.get(r)) else {
            return Some(match csv.get(r) {
                Some(_) => format!("row {} is missing", r + 1),
                None => format!("row {} is extra", r + 1),
            });
        };
        for c in 0..want.len().max(got.len()) {
            let (w, g) = (
                want.get(c).map_or("", String::as_str),
                got.get(c).map_or("", String::as_str),
            );
            if w != g {
                // OK because output files have few columns.
                return Some(format!(
                    "row {}, column {}: {g:?} where the file has {w:?}",
                    r + 1,
                    column_letter(c as u32)
                ));
            }
        }
    }
    None
}

/// A cell as the text it was written as; a number or formula result as
/// calamine shows it (never equal to a CSV value that was text).
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        other => format!("{other} (not text)"),
    }
}
