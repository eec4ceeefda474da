//! Where commands write, and what they may replace.
//!
//! Every command that writes must be safe for a hurried person: it writes
//! a new file or folder through a temporary one renamed into place (never a
//! partial file), creates the missing folders above it and removes them
//! again when it fails, and replaces nothing but what a command of this
//! crate wrote there, never an input:
//!
//! - a draw's output folder is replaced (with `--force`) only when it holds
//!   a draw's `record.json` and nothing but the draw's output files, and
//!   holds no input of the draw and not its draw log;
//! - a single output file (a commitment, a fairness report) is replaced
//!   (with `--force`) only when it is a regular file and not an input.

use std::fs::Permissions;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// An [`ErrorKind::OutputRefused`] for `path`.
pub(crate) fn refused(path: &Path, reason: impl Into<String>) -> Error {
    ErrorKind::OutputRefused {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
    .into()
}

/// The absolute form of a path with the symbolic links of its existing
/// part resolved, so that two names of one file compare equal, and a file
/// inside a folder starts with the folder's path.
pub(crate) fn resolve(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut found) = existing.canonicalize() {
            found.extend(rest.iter().rev());
            return found;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return abs,
        }
    }
}

/// Whether `path` is `folder` or lies inside it, both [resolved](resolve).
pub(crate) fn is_within(path: &Path, folder: &Path) -> bool {
    path.starts_with(folder)
}

/// The folder a new file or folder at `path` is created in.
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Permissions for new files and folders as any program gets them (the
/// umask applies), rather than a temporary file's owner-only ones: outputs
/// are meant to be published.
#[cfg(unix)]
fn published(dir: bool) -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(Permissions::from_mode(if dir { 0o777 } else { 0o666 }))
}

#[cfg(not(unix))]
fn published(_dir: bool) -> Option<Permissions> {
    None
}

/// A temporary file or folder builder beside the outputs, with published
/// permissions.
fn builder(prefix: &str, dir: bool) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    if let Some(p) = published(dir) {
        b.permissions(p);
    }
    b
}

/// A temporary folder in `parent` to write a folder's files into before
/// it is renamed into place.
pub(crate) fn staging_dir(parent: &Path) -> Result<tempfile::TempDir> {
    builder(".double-random-", true)
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))
}

/// The folders created for an output: removed again (when still empty),
/// deepest first, when dropped, unless [kept](CreatedDirs::keep), so that a
/// command that fails leaves no folder behind.
#[derive(Debug, Default)]
pub(crate) struct CreatedDirs(Vec<PathBuf>);

impl CreatedDirs {
    /// Creates the missing folders above `path`.
    pub(crate) fn above(path: &Path) -> Result<CreatedDirs> {
        let mut missing = Vec::new();
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            if std::fs::symlink_metadata(d).is_ok() {
                break;
            }
            missing.push(d.to_path_buf());
            dir = d.parent();
        }
        let mut created = CreatedDirs::default();
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => created.0.push(d),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(d, e)),
            }
        }
        Ok(created)
    }

    /// Keeps the folders: the command succeeded.
    pub(crate) fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        for d in self.0.iter().rev() {
            // Only an empty folder is removed; one that gained a file stays.
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// A file the command reads, which no output may replace, and what it is
/// (for the message).
#[derive(Debug, Clone)]
pub(crate) struct Protected {
    path: PathBuf,
    what: String,
}

impl Protected {
    /// `path`, described as `what` ("the plan", "an input of the draw" …).
    pub(crate) fn new(path: &Path, what: impl Into<String>) -> Protected {
        Protected {
            path: resolve(path),
            what: what.into(),
        }
    }

    /// Whether this is the file at `path`, [resolved](resolve).
    pub(crate) fn is(&self, path: &Path) -> bool {
        self.path == path
    }

    /// What the file is, in words.
    pub(crate) fn what(&self) -> &str {
        &self.what
    }
}

/// The head of a record, enough to know a draw wrote it.
#[derive(serde::Deserialize)]
struct RecordHead {
    spec: String,
    crate_version: String,
}

/// Checks that `out`, which exists, is a folder a draw wrote, so that
/// `--force` may replace it: a folder (not a link) holding a draw's
/// `record.json` and nothing but the draw's output files, and none of
/// `protected`.
pub(crate) fn check_draw_folder(out: &Path, protected: &[Protected]) -> Result<()> {
    let only = "--force replaces only a folder written by a draw";
    let meta = std::fs::symlink_metadata(out).map_err(|e| Error::io(out, e))?;
    if meta.file_type().is_symlink() {
        return Err(refused(out, format!("{only}, and this is a symbolic link")));
    }
    if !meta.is_dir() {
        return Err(refused(out, format!("{only}, and this is a file")));
    }
    let resolved = resolve(out);
    for p in protected {
        if is_within(&p.path, &resolved) {
            return Err(refused(out, format!("{only}, and this one holds {}", p.what)));
        }
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| Error::io(out, e))? {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map_err(|e| Error::io(out, e))?.is_file();
        names.push((name, is_file));
    }
    names.sort();
    for (name, is_file) in &names {
        if !crate::audit::is_draw_file(name) {
            return Err(refused(
                out,
                format!("{only}, and this one holds {}", crate::error::quote(name)),
            ));
        }
        if !is_file {
            return Err(refused(out, format!("{only}, and its {name} is not a file")));
        }
    }
    if !names.iter().any(|(n, _)| n == "record.json") {
        return Err(refused(out, format!("{only}, and this one has no record.json")));
    }
    let record = out.join("record.json");
    let file = crate::inputs::io::open_input(&record, &record.display().to_string())?;
    match serde_json::from_reader::<_, RecordHead>(std::io::BufReader::new(file)) {
        Ok(head) if head.spec.starts_with("DR") && !head.crate_version.is_empty() => Ok(()),
        _ => Err(refused(
            out,
            format!("{only}, and its record.json is not a draw's record"),
        )),
    }
}

/// Checks, before anything is read or drawn, that a draw may write its
/// output folder at `dir`: it does not exist, or `replace` is given and it
/// is a folder a draw wrote (see [`check_draw_folder`]; the inputs
/// it must not hold are checked again once they are known).
pub(crate) fn check_new_draw_folder(dir: &Path, replace: bool) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    if !replace {
        return Err(ErrorKind::OutputExists {
            path: dir.to_path_buf(),
        }
        .into());
    }
    check_draw_folder(dir, &[])
}

/// Renames a complete staging directory into place. With `replace`, an
/// existing `dir` is checked once more (a folder a draw wrote, holding
/// none of `protected`) and moved aside first, then deleted; without it, a
/// `dir` that appeared meanwhile is never replaced. Renaming the temporary
/// directory itself (not a kept copy) means a failed rename drops and
/// removes it, leaving nothing behind.
pub(crate) fn install_folder(tmp: tempfile::TempDir, dir: &Path, replace: bool, protected: &[Protected]) -> Result<()> {
    let parent = parent_of(dir);
    if replace && std::fs::symlink_metadata(dir).is_ok() {
        check_draw_folder(dir, protected)?;
        let old = staging_dir(&parent)?;
        let aside = old.path().join("previous");
        std::fs::rename(dir, &aside).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = std::fs::rename(tmp.path(), dir) {
            // Put the previous directory back before reporting.
            let _ = std::fs::rename(&aside, dir);
            return Err(Error::io(dir, e));
        }
    } else if let Err(e) = std::fs::rename(tmp.path(), dir) {
        return Err(match std::fs::symlink_metadata(dir) {
            Ok(_) => ErrorKind::OutputExists {
                path: dir.to_path_buf(),
            }
            .into(),
            Err(_) => Error::io(dir, e),
        });
    }
    // The directory is in place: nothing is left to clean up.
    let _ = tmp.keep();
    Ok(())
}

/// Writes `files` into the new folder `dir`, atomically: into a temporary
/// folder beside it, renamed into place, with the missing folders above it
/// created (and removed again on failure). An existing `dir` is refused
/// with `why_never_replaced`.
pub(crate) fn write_new_folder<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    why_never_replaced: &str,
) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok() {
        return Err(refused(
            dir,
            format!("the folder exists already, and {why_never_replaced}; choose a new folder"),
        ));
    }
    let created = CreatedDirs::above(dir)?;
    let tmp = staging_dir(&parent_of(dir))?;
    for (name, bytes) in files {
        std::fs::write(tmp.path().join(name), bytes).map_err(|e| Error::io(dir.join(name), e))?;
    }
    install_folder(tmp, dir, false, &[])?;
    created.keep();
    Ok(())
}

/// `path` relative to the folder `dir` (both made absolute first), with
/// `/` separators, as plans and records name files; the absolute path when
/// there is no relative one (another drive).
pub(crate) fn relative_to(path: &Path, dir: &Path) -> Result<String> {
    // The folder of a bare file name (`plan.json`) is the empty path: the current folder.
    let abs = |p: &Path| {
        let p = if p.as_os_str().is_empty() { Path::new(".") } else { p };
        std::path::absolute(p).map_err(|e| Error::io(p, e))
    };
    let path_abs = abs(path)?;
    let rel = pathdiff::diff_paths(&path_abs, abs(dir)?).unwrap_or(path_abs);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}

/// Checks that [`write_output_file`] may write at `path`, before a long
/// computation whose result it will write: the file does not exist, or
/// `replace` is given and it is a regular file that is none of `inputs`.
///
/// # Errors
///
/// As [`write_output_file`]'s refusals.
pub fn check_output_file(path: &Path, replace: bool, inputs: &[PathBuf]) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !replace {
        return Err(refused(path, "the file exists already (use --force to replace it)"));
    }
    let resolved = resolve(path);
    if inputs.iter().any(|p| resolve(p) == resolved) {
        return Err(refused(path, "--force never replaces an input"));
    }
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(refused(
            path,
            "--force replaces only a file, and this is a folder or a link",
        ));
    }
    Ok(())
}

/// Writes `bytes` as a new file at `path`: refused when the file exists,
/// unless `replace` is given and it is a regular file that is none of the
/// `inputs` (the files the command read); written to a temporary file
/// beside it and renamed into place, so a reader never sees a partial file;
/// missing folders above it are created, and removed again if the write
/// fails. The file gets the permissions any new file gets (the umask
/// applies), since outputs are meant to be published.
///
/// # Errors
///
/// [`ErrorKind::OutputRefused`] when the file exists and `replace` is
/// false, or it is one of `inputs`, a folder or a link; [`ErrorKind::Io`]
/// when it cannot be written.
///
/// # Example
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("reports/commitment.json");
/// double_random::place::write_output_file(&path, b"{}\n", false, &[])?;
/// let again = double_random::place::write_output_file(&path, b"{}\n", false, &[]).unwrap_err();
/// assert!(again.to_string().ends_with("commitment.json: the file exists already (use --force to replace it)"));
/// double_random::place::write_output_file(&path, b"{ }\n", true, &[])?;
/// assert_eq!(std::fs::read(&path)?, b"{ }\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_output_file(path: &Path, bytes: &[u8], replace: bool, inputs: &[PathBuf]) -> Result<()> {
    use std::io::Write as _;
    check_output_file(path, replace, inputs)?;
    let created = CreatedDirs::above(path)?;
    let parent = parent_of(path);
    let mut tmp = builder(".double-random-", false)
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    if replace {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    } else {
        // Never over a file that appeared meanwhile.
        tmp.persist_noclobber(path).map_err(|e| match e.error.kind() {
            std::io::ErrorKind::AlreadyExists => refused(path, "the file exists already (use --force to replace it)"),
            _ => Error::io(path, e.error),
        })?;
    }
    created.keep();
    Ok(())
}
