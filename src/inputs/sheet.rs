//! Input tables in Excel workbooks (`.xlsx`): the first sheet read with
//! calamine and turned into the CSV text every other reader takes, with a
//! map back from that text's lines to the sheet's rows, so that an error
//! names the sheet, the row and the column (`entities.xlsx, sheet 名录, row
//! 7, column C (risk_class)`).
//!
//! Cells are read as a person sees them: text as written, whole numbers
//! without a decimal point (`12`, not `12.0`), dates as `YYYY-MM-DD` (with
//! the time when it is not midnight), `TRUE`/`FALSE`; a cell holding a
//! spreadsheet error (`#N/A`) is an error. Rows that are wholly empty are
//! skipped. The commitment and the record hash the workbook's bytes.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::error::{Error, Location, Result};

/// A workbook read as CSV: the text, and where each of its lines came from.
pub(crate) struct Sheet {
    /// The file, as the plan names it.
    pub(crate) file: String,
    /// The sheet read.
    pub(crate) name: String,
    /// The CSV text.
    pub(crate) csv: Vec<u8>,
    /// Per line of `csv` (from line 1), the sheet's row (1-based).
    rows: Vec<u64>,
    /// The header as written, and each column's letter.
    columns: Vec<(String, String)>,
}

/// The column letters of a 0-based column index: `A`, …, `Z`, `AA`, ….
pub(crate) fn column_letter(mut index: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Sheet {
    /// Reads the first sheet of the workbook `file` (its bytes).
    pub(crate) fn read(file: &str, bytes: &[u8]) -> Result<Sheet> {
        let unreadable = |e: &dyn std::fmt::Display| {
            Error::syntax(
                Location::file(file),
                format!("the file is not a readable .xlsx workbook ({e})"),
            )
        };
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
        let Some(name) = book.sheet_names().into_iter().next() else {
            return Err(Error::syntax(Location::file(file), "the workbook has no sheet"));
        };
        let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let at = |row: usize, col: usize| Location {
            sheet: Some(name.clone()),
            column: Some(column_letter(left + col as u32)),
            ..Location::line(file, u64::from(top) + row as u64 + 1)
        };
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let mut rows = Vec::new();
        let mut columns = Vec::new();
        for (r, cells) in range.rows().enumerate() {
            if cells.iter().all(|c| matches!(c, Data::Empty)) {
                continue;
            }
            let mut fields = Vec::with_capacity(cells.len());
            for (c, cell) in cells.iter().enumerate() {
                fields.push(
                    text(cell).ok_or_else(|| {
                        Error::syntax(at(r, c), format!("the cell holds a spreadsheet error ({cell})"))
                    })?,
                );
            }
            if columns.is_empty() {
                columns = fields
                    .iter()
                    .enumerate()
                    .map(|(c, h)| (h.trim().to_string(), column_letter(left + c as u32)))
                    .collect();
            }
            let lines = 1 + fields.iter().map(|f| f.matches('\n').count()).sum::<usize>();
            rows.extend(std::iter::repeat_n(u64::from(top) + r as u64 + 1, lines));
            writer
                .write_record(&fields)
                .map_err(|e| Error::syntax(at(r, 0), e.to_string()))?;
        }
        let csv = writer
            .into_inner()
            .map_err(|e| Error::syntax(Location::file(file), e.to_string()))?;
        Ok(Sheet {
            file: file.to_string(),
            name,
            csv,
            rows,
            columns,
        })
    }

    /// An error found in the CSV text, placed in the sheet: its line
    /// becomes the row, its field gets the column's letter.
    pub(crate) fn locate(&self, e: Error) -> Error {
        e.map_location(|at| {
            if at.file != self.file || at.sheet.is_some() {
                return;
            }
            at.sheet = Some(self.name.clone());
            if let Some(line) = at.line {
                at.line = self.rows.get(line as usize - 1).copied().or(at.line);
            }
            if let Some(field) = &at.field {
                at.column = self
                    .columns
                    .iter()
                    .find(|(h, _)| h == field)
                    .or_else(|| {
                        // The field is named canonically; the header may hold an alias.
                        crate::inputs::io::aliases_of(field).find_map(|a| self.columns.iter().find(|(h, _)| h == a))
                    })
                    .map(|(_, letter)| letter.clone());
            }
        })
    }
}

/// A cell as text, or `None` for a spreadsheet error.
fn text(cell: &Data) -> Option<String> {
    Some(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.to_string(),
        },
        Data::Error(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702].map(column_letter).to_vec();
        assert_eq!(letters, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }
}
