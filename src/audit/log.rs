//! The draw log: an append-only, hash-chained list of every draw made, so
//! that no draw can be redone or replaced without leaving a trace.
//!
//! The log is a text file of JSON lines, one [`LogEntry`] per draw and
//! task. Each entry names the task and round, the digests of the seed, the
//! commitment and the record, the reason for a redraw, and the digest of
//! the previous entry; its own digest covers all of that:
//!
//! `entry_sha256 = H(enc("DR1/log") ‖ enc(seq) ‖ enc(time) ‖ enc(plan_id) ‖
//! enc(task_id) ‖ enc(round_id) ‖ enc(seed_sha256) ‖ enc(commitment_sha256)
//! ‖ enc(record_sha256) ‖ enc(out) ‖ enc(redraw_reason) ‖ enc(previous))`,
//!
//! with `seq` in decimal, absent values as empty strings and `previous` the
//! previous entry's digest (64 zeros for the first). Changing, removing,
//! reordering or inserting an entry breaks the chain from there on; a log
//! cut short is caught by comparing its last digest ([`DrawLog::head`])
//! with one published earlier.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, quote};
use crate::key::{Digest, Hasher};

/// The `previous` of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One draw of one task, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The position in the log, from 1.
    pub seq: u64,
    /// When the entry was written (UTC, RFC 3339); informative only.
    pub time: String,
    /// The plan id.
    pub plan_id: String,
    /// The task id.
    pub task_id: String,
    /// The round id.
    pub round_id: String,
    /// SHA-256 of the seed (DR3 step 1).
    pub seed_sha256: String,
    /// SHA-256 of the commitment file the inputs were checked against, if any.
    pub commitment_sha256: Option<String>,
    /// SHA-256 of the draw's record.json.
    pub record_sha256: String,
    /// The output directory, as given.
    pub out: String,
    /// Why the task and round were drawn again; absent for a first draw.
    pub redraw_reason: Option<String>,
    /// The previous entry's digest (64 zeros for the first).
    pub previous: String,
    /// This entry's digest.
    pub entry_sha256: String,
}

impl LogEntry {
    /// The digest this entry should carry.
    pub fn digest(&self) -> Digest {
        Hasher::new()
            .enc(b"DR1/log")
            .enc(self.seq.to_string().as_bytes())
            .enc(self.time.as_bytes())
            .enc(self.plan_id.as_bytes())
            .enc(self.task_id.as_bytes())
            .enc(self.round_id.as_bytes())
            .enc(self.seed_sha256.as_bytes())
            .enc(self.commitment_sha256.as_deref().unwrap_or("").as_bytes())
            .enc(self.record_sha256.as_bytes())
            .enc(self.out.as_bytes())
            .enc(self.redraw_reason.as_deref().unwrap_or("").as_bytes())
            .enc(self.previous.as_bytes())
            .finish()
    }
}

/// A draw log as read: its entries and whatever breaks its chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrawLog {
    /// The entries that could be read, in file order.
    pub entries: Vec<LogEntry>,
    /// Each break of the chain, naming the line.
    pub problems: Vec<String>,
}

impl DrawLog {
    /// Reads a log from its text; `name` names it in messages.
    pub fn parse(name: &str, text: &[u8]) -> DrawLog {
        let mut log = DrawLog::default();
        let mut previous = GENESIS.to_string();
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        if body.is_empty() {
            return log;
        }
        for (k, line) in body.split(|&b| b == b'\n').enumerate() {
            let at = k + 1;
            let entry: LogEntry = match std::str::from_utf8(line)
                .ok()
                .and_then(|l| serde_json::from_str(l).ok())
            {
                Some(e) => e,
                None => {
                    log.problems.push(format!("{name}, line {at}: not a log entry"));
                    // The chain cannot be followed past a line that cannot be read.
                    break;
                }
            };
            let expected_seq = log.entries.len() as u64 + 1;
            if entry.seq != expected_seq {
                log.problems.push(format!(
                    "{name}, line {at}: entry {} where entry {expected_seq} belongs",
                    entry.seq
                ));
            }
            if entry.previous != previous {
                log.problems.push(format!(
                    "{name}, line {at}: the chain is broken (previous {}, but the entry before is {})",
                    entry.previous, previous
                ));
            }
            if entry.digest().to_hex() != entry.entry_sha256 {
                log.problems.push(format!(
                    "{name}, line {at}: the entry was altered (its digest is {}, it says {})",
                    entry.digest().to_hex(),
                    entry.entry_sha256
                ));
            }
            previous = entry.entry_sha256.clone();
            log.entries.push(entry);
        }
        // Every entry ends its line: a last line without its newline was
        // cut (or edited), and the next entry would be glued onto it.
        if log.problems.is_empty() && !text.ends_with(b"\n") {
            log.problems.push(format!(
                "{name}, line {}: the last entry has no line end (was the log cut short?)",
                log.entries.len()
            ));
        }
        log
    }

    /// Reads a log file; a file that does not exist is an empty log.
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error when the file exists but cannot be read.
    pub fn read(path: &Path) -> Result<DrawLog> {
        let name = path.display().to_string();
        if let Err(e) = std::fs::symlink_metadata(path)
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Ok(DrawLog::default());
        }
        let bytes = crate::inputs::io::read_rows(path, &name)?;
        Ok(DrawLog::parse(&name, &bytes))
    }

    /// Whether every entry is in place and unaltered.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// The entries of one task and round, in order: more than one means redraws.
    pub fn draws_of<'a>(&'a self, task_id: &'a str, round_id: &'a str) -> impl Iterator<Item = &'a LogEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.task_id == task_id && e.round_id == round_id)
    }

    /// The digest of the last entry (what a later draw chains to).
    pub fn head(&self) -> &str {
        self.entries.last().map_or(GENESIS, |e| e.entry_sha256.as_str())
    }
}

/// What a new entry says, before it is chained.
#[derive(Debug, Clone)]
pub(crate) struct NewEntry {
    pub(crate) plan_id: String,
    pub(crate) task_id: String,
    pub(crate) round_id: String,
    pub(crate) seed_sha256: String,
    pub(crate) commitment_sha256: Option<String>,
}

/// Checks a log before a draw of `tasks` (task and round ids): its chain
/// must be intact, a redraw needs a reason (not empty, no control
/// characters, at most [`MAX_REASON_CHARS`]), and a reason needs an earlier
/// draw. `name` names the log in errors.
pub(crate) fn check_draws(log: &DrawLog, name: &str, tasks: &[(String, String)], reason: Option<&str>) -> Result<()> {
    if let Some(problem) = log.problems.first() {
        return Err(Error::policy(
            Location::file(name),
            format!("the draw log is broken, so nothing is drawn: {problem}"),
        ));
    }
    if let Some(reason) = reason
        && (reason.trim().is_empty()
            || reason.chars().any(char::is_control)
            || reason.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Error::invalid(
            Location::file(name).with_field("redraw_reason"),
            format!("a reason (not empty, no control characters, at most {MAX_REASON_CHARS} characters)"),
            reason,
        ));
    }
    for (task, round) in tasks {
        let earlier: Vec<&LogEntry> = log.draws_of(task, round).collect();
        match (earlier.last(), reason) {
            (Some(last), None) => {
                return Err(Error::policy(
                    Location::file(name),
                    format!(
                        "task {} round {} was drawn already (entry {}, record {}); give --redraw-reason to draw it again",
                        quote(task),
                        quote(round),
                        last.seq,
                        last.record_sha256
                    ),
                ));
            }
            (None, Some(_)) => {
                return Err(Error::policy(
                    Location::file(name).with_field("redraw_reason"),
                    format!(
                        "task {} round {} was never drawn, so it cannot be redrawn",
                        quote(task),
                        quote(round)
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The longest redraw reason accepted, in characters: a reason is a
/// sentence or two, published with the log.
pub const MAX_REASON_CHARS: usize = 1000;

/// A draw log opened to append a draw's entries: locked against other
/// draws until dropped. Unless [committed](OpenLog::commit), dropping it
/// takes back what it appended (and removes the file if it created it),
/// so a draw that fails after appending leaves the log as it found it.
pub(crate) struct OpenLog {
    file: File,
    path: std::path::PathBuf,
    name: String,
    log: DrawLog,
    /// The length before this draw's entries.
    length: u64,
    /// Whether this draw created the file.
    created: bool,
    committed: bool,
}

impl OpenLog {
    /// Opens (or creates) a log, locks it, and checks it again for the
    /// draw of `tasks` under the lock ([`check_draws`]), so that two draws
    /// at once cannot both be first.
    pub(crate) fn open(path: &Path, tasks: &[(String, String)], reason: Option<&str>) -> Result<OpenLog> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| Error::io(path, e);
        loop {
            let mut options = OpenOptions::new();
            options.read(true).append(true);
            let (file, created) = match options.clone().create_new(true).open(path) {
                Ok(file) => (file, true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    crate::inputs::io::check_regular(path).map_err(io)?;
                    (options.open(path).map_err(io)?, false)
                }
                Err(e) => return Err(io(e)),
            };
            let mut open = OpenLog {
                file,
                path: path.to_path_buf(),
                name: name.clone(),
                log: DrawLog::default(),
                length: 0,
                created,
                committed: false,
            };
            open.file.lock().map_err(io)?;
            // A draw that failed may have removed the file it created
            // while this one waited for the lock: then start again.
            if !open.is_at_path() {
                open.created = false;
                continue;
            }
            let mut bytes = Vec::new();
            open.file.seek(SeekFrom::Start(0)).map_err(io)?;
            open.file.read_to_end(&mut bytes).map_err(io)?;
            open.length = bytes.len() as u64;
            // A draw that created the file but locked it second finds the
            // other's entries: the file is no longer its own to remove.
            open.created &= bytes.is_empty();
            open.log = DrawLog::parse(&name, &bytes);
            check_draws(&open.log, &name, tasks, reason)?;
            return Ok(open);
        }
    }

    /// Whether the open file is still the one at the path.
    #[cfg(unix)]
    fn is_at_path(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.metadata(), std::fs::metadata(&self.path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }

    #[cfg(not(unix))]
    fn is_at_path(&self) -> bool {
        self.path.exists()
    }

    /// Appends one entry per task, chained, and flushes them to disk. A
    /// write that fails (a full disk) is taken back whole: no half entry
    /// is left to break the chain.
    pub(crate) fn append(
        &mut self,
        entries: Vec<NewEntry>,
        record: &Digest,
        out: &str,
        reason: Option<&str>,
    ) -> Result<Vec<LogEntry>> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let time = chrono::DateTime::from_timestamp(i64::try_from(now.as_secs()).unwrap_or(0), 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        let mut previous = self.log.head().to_string();
        let first = self.log.entries.len() as u64 + 1;
        let mut text = String::new();
        let mut written = Vec::new();
        for (seq, e) in (first..).zip(entries) {
            let mut entry = LogEntry {
                seq,
                time: time.clone(),
                plan_id: e.plan_id,
                task_id: e.task_id,
                round_id: e.round_id,
                seed_sha256: e.seed_sha256,
                commitment_sha256: e.commitment_sha256,
                record_sha256: record.to_hex(),
                out: out.to_string(),
                redraw_reason: reason.map(str::to_string),
                previous: previous.clone(),
                entry_sha256: String::new(),
            };
            entry.entry_sha256 = entry.digest().to_hex();
            previous = entry.entry_sha256.clone();
            // OK because an entry of strings and numbers always serializes.
            text.push_str(&serde_json::to_string(&entry).unwrap_or_default());
            text.push('\n');
            written.push(entry);
        }
        let io = |e: std::io::Error| Error::io(&self.name, e);
        // A log cut short by hand (its last line without a newline) was
        // refused as broken by the check, so the entries start a line.
        self.file.write_all(text.as_bytes()).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        Ok(written)
    }

    /// Keeps what was appended: the draw is in place.
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for OpenLog {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Take back this draw's entries, whole or half written.
        let _ = self.file.set_len(self.length);
        let _ = self.file.sync_all();
        if self.created && self.is_at_path() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(task: &str) -> NewEntry {
        NewEntry {
            plan_id: "P".into(),
            task_id: task.into(),
            round_id: "1".into(),
            seed_sha256: "ab".repeat(32),
            commitment_sha256: None,
        }
    }

    /// A log of three draws (tasks A, B, C), as text lines.
    fn three() -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        for task in ["A", "B", "C"] {
            let tasks = [(task.to_string(), "1".to_string())];
            let mut log = OpenLog::open(&path, &tasks, None).unwrap();
            log.append(vec![entry(task)], &Digest::default(), "out", None).unwrap();
            log.commit();
        }
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn parse(lines: &[String]) -> DrawLog {
        DrawLog::parse("log.jsonl", format!("{}\n", lines.join("\n")).as_bytes())
    }

    #[test]
    fn an_intact_log_reads_back() {
        let lines = three();
        let log = parse(&lines);
        assert!(log.is_intact(), "{:?}", log.problems);
        assert_eq!(log.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(log.head(), log.entries[2].entry_sha256);
        assert!(DrawLog::parse("log.jsonl", b"").is_intact());
    }

    #[test]
    fn removing_reordering_altering_or_inserting_an_entry_breaks_the_chain() {
        let lines = three();
        let removed = parse(&[lines[0].clone(), lines[2].clone()]);
        assert_eq!(
            removed.problems[0], "log.jsonl, line 2: entry 3 where entry 2 belongs",
            "{:?}",
            removed.problems
        );
        assert!(removed.problems[1].starts_with("log.jsonl, line 2: the chain is broken"));
        let swapped = parse(&[lines[1].clone(), lines[0].clone(), lines[2].clone()]);
        assert!(swapped.problems[0].starts_with("log.jsonl, line 1: entry 2 where entry 1 belongs"));
        let altered = parse(&[
            lines[0].clone(),
            lines[1].replace("\"out\":\"out\"", "\"out\":\"0ut\""),
            lines[2].clone(),
        ]);
        assert_eq!(altered.problems.len(), 1, "{:?}", altered.problems);
        assert!(altered.problems[0].starts_with("log.jsonl, line 2: the entry was altered"));
        let garbage = parse(&[lines[0].clone(), "{".to_string(), lines[1].clone()]);
        assert_eq!(garbage.problems, ["log.jsonl, line 2: not a log entry"]);
        // Re-chaining a forged entry still fails: its digest covers `previous`.
        let forged = lines[1].replace("\"task_id\":\"B\"", "\"task_id\":\"X\"");
        assert!(!parse(&[lines[0].clone(), forged]).is_intact());
    }
}
