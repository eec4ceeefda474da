//! The one error type of the crate, and where an error happened.

use std::fmt;
use std::path::PathBuf;

/// A place in an input file: the file (as the plan names it), an optional
/// 1-based line and an optional field (a CSV column or a JSON path).
///
/// Lines are 1-based and count physical lines, so the header row of a CSV
/// file is line 1 and its first record is line 2.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file, as the plan names it (relative to the plan), or as given on the command line.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<u64>,
    /// The column name of a CSV file or the path of a JSON value (`departments[1].items[0]`).
    pub field: Option<String>,
    /// For a workbook (`.xlsx`), the sheet read; `line` is then its row.
    pub sheet: Option<String>,
    /// For a workbook, the column's letter (`C`).
    pub column: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            line: None,
            field: None,
            sheet: None,
            column: None,
        }
    }

    /// A location naming a file and a line.
    pub fn line(file: impl Into<String>, line: u64) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
            field: None,
            sheet: None,
            column: None,
        }
    }

    /// The same location with a field.
    pub fn with_field(mut self, field: impl Into<String>) -> Location {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet}")?;
            if let Some(row) = self.line {
                write!(f, ", row {row}")?;
            }
            match (&self.column, &self.field) {
                (Some(column), Some(field)) => write!(f, ", column {column} ({field})")?,
                (None, Some(field)) => write!(f, ", field {field}")?,
                _ => {}
            }
            return Ok(());
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        Ok(())
    }
}

/// An error of this crate: bad input, an I/O failure, or a commitment that
/// does not match the inputs.
///
/// It is one pointer wide, `Send + Sync`, and says where it happened; see
/// [`Error::kind`] and [`Error::location`].
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong. Each input variant carries a [`Location`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be read or written.
    Io {
        /// The path involved, as the user or the plan gave it.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not well-formed (not UTF-8, not CSV, not JSON, empty).
    Syntax {
        /// Where.
        at: Location,
        /// What is malformed.
        message: String,
    },
    /// A required column is missing from a CSV header.
    MissingColumn {
        /// The file and line 1.
        at: Location,
        /// The missing column.
        column: String,
    },
    /// A column appears twice in a CSV header.
    DuplicateColumn {
        /// The file, line 1 and the column.
        at: Location,
    },
    /// A field holds a value of the wrong shape.
    InvalidField {
        /// Where.
        at: Location,
        /// What was expected, in words.
        expected: String,
        /// The offending value.
        found: String,
    },
    /// An id appears twice.
    DuplicateId {
        /// The second occurrence.
        at: Location,
        /// The id.
        id: String,
        /// The line of the first occurrence.
        first_line: u64,
    },
    /// A reference to an id that does not exist (an entity, a department, an item, a column).
    UnknownReference {
        /// Where the reference is.
        at: Location,
        /// What kind of thing is referenced ("entity", "department", "item", "column").
        what: &'static str,
        /// The referenced id.
        id: String,
    },
    /// The plan's policy is inconsistent (decreasing ratios, an item cap below a ratio, …).
    Policy {
        /// Where.
        at: Location,
        /// What rule is broken.
        message: String,
    },
    /// The seed text is not acceptable (empty, whitespace only, control characters).
    InvalidSeed {
        /// Why.
        message: String,
    },
    /// The inputs differ from a commitment published before the draw.
    CommitmentMismatch {
        /// The commitment file.
        commitment: String,
        /// Each input that differs, in words.
        differences: Vec<String>,
    },
    /// No complete team assignment exists: each entry names a visit, a
    /// department and the constraints that bind (a minimum-cut certificate).
    Unstaffable {
        /// One sentence per visit part that cannot be staffed.
        visits: Vec<String>,
    },
    /// Off-site checks that no inspector of their department may review.
    Unreviewable {
        /// One sentence per check.
        checks: Vec<String>,
    },
    /// An output directory exists already.
    OutputExists {
        /// The directory.
        path: PathBuf,
    },
    /// A command refuses to write at a path: the file exists, or replacing
    /// it could destroy what the command did not write (an input, the draw
    /// log, a folder that is not a draw's output).
    OutputRefused {
        /// The path refused.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error and returns its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Where in the inputs the error is, when it is about an input.
    pub fn location(&self) -> Option<&Location> {
        match &*self.0 {
            ErrorKind::Syntax { at, .. }
            | ErrorKind::MissingColumn { at, .. }
            | ErrorKind::DuplicateColumn { at }
            | ErrorKind::InvalidField { at, .. }
            | ErrorKind::DuplicateId { at, .. }
            | ErrorKind::UnknownReference { at, .. }
            | ErrorKind::Policy { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The same error with its line moved down by `lines` (for errors found
    /// in a part of a file read on its own).
    pub(crate) fn shift_line(self, lines: u64) -> Error {
        self.map_location(|at| {
            if let Some(line) = &mut at.line {
                *line += lines;
            }
        })
    }

    /// A stable snake_case name of what went wrong, for programs: `io`,
    /// `syntax`, `missing_column`, `duplicate_column`, `invalid_field`,
    /// `duplicate_id`, `unknown_reference`, `policy`, `invalid_seed`,
    /// `commitment_mismatch`, `unstaffable`, `unreviewable`,
    /// `output_exists` or `output_refused`.
    pub fn code(&self) -> &'static str {
        match &*self.0 {
            ErrorKind::Io { .. } => "io",
            ErrorKind::Syntax { .. } => "syntax",
            ErrorKind::MissingColumn { .. } => "missing_column",
            ErrorKind::DuplicateColumn { .. } => "duplicate_column",
            ErrorKind::InvalidField { .. } => "invalid_field",
            ErrorKind::DuplicateId { .. } => "duplicate_id",
            ErrorKind::UnknownReference { .. } => "unknown_reference",
            ErrorKind::Policy { .. } => "policy",
            ErrorKind::InvalidSeed { .. } => "invalid_seed",
            ErrorKind::CommitmentMismatch { .. } => "commitment_mismatch",
            ErrorKind::Unstaffable { .. } => "unstaffable",
            ErrorKind::Unreviewable { .. } => "unreviewable",
            ErrorKind::OutputExists { .. } => "output_exists",
            ErrorKind::OutputRefused { .. } => "output_refused",
        }
    }

    /// The same error with its location changed by `f`, if it has one.
    /// This error with the message of a [`Syntax`](ErrorKind::Syntax)
    /// error rewritten by `f` (other kinds as they are).
    pub(crate) fn map_syntax_message(mut self, f: impl FnOnce(&Location, &mut String)) -> Error {
        if let ErrorKind::Syntax { at, message } = &mut *self.0 {
            f(at, message);
        }
        self
    }

    pub(crate) fn map_location(mut self, f: impl FnOnce(&mut Location)) -> Error {
        if let ErrorKind::Syntax { at, .. }
        | ErrorKind::MissingColumn { at, .. }
        | ErrorKind::DuplicateColumn { at }
        | ErrorKind::InvalidField { at, .. }
        | ErrorKind::DuplicateId { at, .. }
        | ErrorKind::UnknownReference { at, .. }
        | ErrorKind::Policy { at, .. } = &mut *self.0
        {
            f(at);
        }
        self
    }

    /// Whether this is an I/O error.
    pub fn is_io(&self) -> bool {
        matches!(&*self.0, ErrorKind::Io { .. })
    }

    /// Whether the inputs differ from a commitment.
    pub fn is_commitment_mismatch(&self) -> bool {
        matches!(&*self.0, ErrorKind::CommitmentMismatch { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        ErrorKind::Io {
            path: path.into(),
            source,
        }
        .into()
    }

    pub(crate) fn syntax(at: Location, message: impl Into<String>) -> Error {
        ErrorKind::Syntax {
            at,
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn invalid(at: Location, expected: impl Into<String>, found: impl Into<String>) -> Error {
        ErrorKind::InvalidField {
            at,
            expected: expected.into(),
            found: found.into(),
        }
        .into()
    }

    pub(crate) fn unknown(at: Location, what: &'static str, id: impl Into<String>) -> Error {
        ErrorKind::UnknownReference {
            at,
            what,
            id: id.into(),
        }
        .into()
    }

    pub(crate) fn policy(at: Location, message: impl Into<String>) -> Error {
        ErrorKind::Policy {
            at,
            message: message.into(),
        }
        .into()
    }
}

/// Writes the first twenty sentences, one per line, and how many more there
/// are; the error kind holds them all.
fn first_twenty(f: &mut fmt::Formatter<'_>, sentences: &[String]) -> fmt::Result {
    for s in sentences.iter().take(20) {
        write!(f, "\n  {s}")?;
    }
    if sentences.len() > 20 {
        write!(f, "\n  and {} more", sentences.len() - 20)?;
    }
    Ok(())
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

/// Quotes a value for an error message, shortening very long ones.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::from("\"");
    for (i, ch) in value.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.extend(ch.escape_debug());
    }
    out.push('"');
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Syntax { at, message } => write!(f, "{at}: {message}"),
            ErrorKind::MissingColumn { at, column } => write!(f, "{at}: missing column {column}"),
            ErrorKind::DuplicateColumn { at } => write!(f, "{at}: column appears twice"),
            ErrorKind::InvalidField { at, expected, found } => write!(f, "{at}: {} is not {expected}", quote(found)),
            ErrorKind::DuplicateId { at, id, first_line } => {
                write!(f, "{at}: duplicate id {} (first on line {first_line})", quote(id))
            }
            ErrorKind::UnknownReference { at, what, id } => {
                write!(f, "{at}: unknown {what} {}", quote(id))
            }
            ErrorKind::Policy { at, message } => write!(f, "{at}: {message}"),
            ErrorKind::InvalidSeed { message } => write!(f, "seed: {message}"),
            ErrorKind::CommitmentMismatch {
                commitment,
                differences,
            } => {
                write!(f, "{commitment}: the inputs differ from the commitment: ")?;
                f.write_str(&differences.join("; "))
            }
            ErrorKind::Unstaffable { visits } => {
                write!(
                    f,
                    "no complete team assignment exists; {} visit part(s) cannot be staffed:",
                    visits.len()
                )?;
                first_twenty(f, visits)
            }
            ErrorKind::Unreviewable { checks } => {
                write!(f, "no reviewer can be assigned to {} off-site check(s):", checks.len())?;
                first_twenty(f, checks)
            }
            ErrorKind::OutputExists { path } => write!(
                f,
                "{}: output directory exists already (use --force to replace it)",
                path.display()
            ),
            ErrorKind::OutputRefused { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
