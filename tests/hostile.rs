//! Hostile use of the command line: someone who wants to delete evidence,
//! redraw quietly or crash the bureau's platform, and a hurried user who
//! points a command at the wrong path. Every case must end with exit code
//! 2 (or 1 for a verification that fails) and the exact message naming the
//! file, with every file in the working folder byte-identical afterwards
//! and nothing left behind: no output, no empty draw log, no temporary
//! file, no folder.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "2027-03-01 lottery 0417 2953";

fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_double-random"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A working folder with the fixture inputs and their commitment.
fn work() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &["commitment.json"]);
    dir
}

/// Draws the fixtures into `out` (relative to `dir`), logged beside it.
fn draw(dir: &Path, out: &str) {
    let o = bin(dir, &["draw", "--plan", "plan.json", "--seed", SEED, "--out", out]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// What a folder holds, recursively: each file's bytes, each link's target,
/// each folder, each other kind of file (a pipe) by name.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link to {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                walk(root, &path, out);
                "folder".to_string()
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                format!(
                    "{} bytes, sha256 {}",
                    bytes.len(),
                    double_random::key::Digest::of_bytes(&bytes).to_hex()
                )
            } else {
                "special file".to_string()
            };
            out.insert(rel, what);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success());
}

/// A valid draw log of `n` entries of other tasks, as text.
fn log_of(n: u64) -> String {
    let mut previous = "0".repeat(64);
    let mut text = String::new();
    for seq in 1..=n {
        let mut e = double_random::audit::LogEntry {
            seq,
            time: "2027-01-01T00:00:00Z".into(),
            plan_id: "P".into(),
            task_id: format!("other task {seq}"),
            round_id: "1".into(),
            seed_sha256: "ab".repeat(32),
            commitment_sha256: None,
            record_sha256: "cd".repeat(32),
            out: "elsewhere".into(),
            redraw_reason: None,
            previous: previous.clone(),
            entry_sha256: String::new(),
        };
        e.entry_sha256 = e.digest().to_hex();
        previous = e.entry_sha256.clone();
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    text
}

/// One hostile case: how the working folder is prepared, the command, and
/// the exact outcome.
struct Case {
    what: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
    code: i32,
    stderr: &'static str,
}

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let dir = work();
        (case.setup)(dir.path());
        let before = snapshot(dir.path());
        let o = bin(dir.path(), case.args);
        let err = stderr(&o);
        if o.status.code() != Some(case.code) || err != case.stderr {
            failures.push(format!(
                "{}: exit {:?}, expected {}\n  stderr: {err:?}\n  wanted: {:?}",
                case.what,
                o.status.code(),
                case.code,
                case.stderr
            ));
        }
        assert!(!err.contains("panicked"), "{}: {err}", case.what);
        let after = snapshot(dir.path());
        if after != before {
            let changed: Vec<_> = after
                .iter()
                .filter(|(k, v)| before.get(*k) != Some(*v))
                .map(|(k, _)| k.display().to_string())
                .chain(
                    before
                        .keys()
                        .filter(|k| !after.contains_key(*k))
                        .map(|k| format!("-{}", k.display())),
                )
                .collect();
            failures.push(format!("{}: the folder changed: {changed:?}", case.what));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The arguments of a draw of the fixtures, followed by `rest`.
macro_rules! draw_args {
    ($($rest:expr),*) => {
        &["draw", "--plan", "plan.json", "--seed", SEED, $($rest),*]
    };
}

#[test]
fn force_never_destroys_what_a_draw_did_not_write() {
    check(&[
        Case {
            what: "--force over the folder holding the plan and its inputs",
            setup: |_| {},
            args: draw_args!("--out", ".", "--force", "--log", "../elsewhere.jsonl"),
            code: 2,
            stderr: "error: .: --force replaces only a folder written by a draw, and this one holds \"calendar.csv\"\n",
        },
        Case {
            what: "--force over a parent of the plan's folder",
            setup: |d| {
                std::fs::create_dir(d.join("in")).unwrap();
                for name in common::FIXTURE_INPUTS {
                    std::fs::rename(d.join(name), d.join("in").join(name)).unwrap();
                }
            },
            args: &[
                "draw",
                "--plan",
                "in/plan.json",
                "--seed",
                SEED,
                "--out",
                ".",
                "--force",
                "--log",
                "../l.jsonl",
            ],
            code: 2,
            stderr: "error: .: --force replaces only a folder written by a draw, and this one holds \"commitment.json\"\n",
        },
        Case {
            what: "--force over an ordinary file",
            setup: |_| {},
            args: draw_args!("--out", "entities.csv", "--force"),
            code: 2,
            stderr: "error: entities.csv: --force replaces only a folder written by a draw, and this is a file\n",
        },
        Case {
            what: "--force over the plan itself",
            setup: |_| {},
            args: draw_args!("--out", "plan.json", "--force"),
            code: 2,
            stderr: "error: plan.json: --force replaces only a folder written by a draw, and this is a file\n",
        },
        Case {
            what: "--force over a draw folder the user added a file to",
            setup: |d| {
                draw(d, "out");
                std::fs::write(d.join("out/notes.txt"), "the notary's notes").unwrap();
            },
            args: draw_args!("--out", "out", "--force", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and this one holds \"notes.txt\"\n",
        },
        Case {
            what: "--force over a folder whose record.json is not a record",
            setup: |d| {
                std::fs::create_dir(d.join("out")).unwrap();
                std::fs::write(d.join("out/record.json"), "{\"minutes\": \"of the meeting\"}").unwrap();
                std::fs::write(d.join("out/public.csv"), "the only copy").unwrap();
            },
            args: draw_args!("--out", "out", "--force"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and its record.json is not a draw's record\n",
        },
        Case {
            what: "--force over a folder without a record",
            setup: |d| {
                std::fs::create_dir(d.join("out")).unwrap();
                std::fs::write(d.join("out/selection.csv"), "the only copy").unwrap();
            },
            args: draw_args!("--out", "out", "--force"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and this one has no record.json\n",
        },
        Case {
            what: "--force over a draw folder with a folder named like an output",
            setup: |d| {
                draw(d, "out");
                std::fs::remove_file(d.join("out/visits.csv")).unwrap();
                std::fs::create_dir(d.join("out/visits.csv")).unwrap();
                std::fs::write(d.join("out/visits.csv/keep"), "mine").unwrap();
            },
            args: draw_args!("--out", "out", "--force", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and its visits.csv is not a file\n",
        },
        Case {
            what: "--force over a link to a draw folder",
            setup: |d| {
                draw(d, "real");
                symlink("real", &d.join("out"));
            },
            args: draw_args!("--out", "out", "--force", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and this is a symbolic link\n",
        },
        Case {
            what: "without --force, a link to a draw folder exists",
            setup: |d| {
                draw(d, "real");
                symlink("real", &d.join("out"));
            },
            args: draw_args!("--out", "out", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: out: output directory exists already (use --force to replace it)\n",
        },
        Case {
            what: "--force over a draw folder that holds an input (a calendar named strata.csv)",
            setup: |d| {
                draw(d, "out");
                std::fs::copy(d.join("calendar.csv"), d.join("out/strata.csv")).unwrap();
                replace_in(&d.join("plan.json"), "\"calendar.csv\"", "\"out/strata.csv\"");
            },
            args: draw_args!("--out", "out", "--force", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: out: --force replaces only a folder written by a draw, and this one holds out/strata.csv, an input of the draw\n",
        },
        Case {
            what: "--force over a draw folder that holds the draw log",
            setup: |d| draw(d, "out"),
            args: draw_args!("--out", "out", "--force", "--log", "out/log.jsonl"),
            code: 2,
            stderr: "error: out/log.jsonl: the draw log cannot be inside the output folder out, which a redraw with --force replaces\n",
        },
        Case {
            what: "--force over the folder above the default draw log",
            setup: |d| {
                std::fs::create_dir(d.join("runs")).unwrap();
                draw(d, "runs/out");
            },
            args: draw_args!("--out", "runs", "--force", "--redraw-reason", "again"),
            code: 2,
            stderr: "error: runs: --force replaces only a folder written by a draw, and this one holds \"draw-log.jsonl\"\n",
        },
    ]);
}

#[test]
fn the_draw_log_cannot_be_hidden_forged_or_misplaced() {
    check(&[
        Case {
            what: "the log inside a new output folder",
            setup: |_| {},
            args: draw_args!("--out", "out", "--log", "out/draw-log.jsonl"),
            code: 2,
            stderr: "error: out/draw-log.jsonl: the draw log cannot be inside the output folder out, which a redraw with --force replaces\n",
        },
        Case {
            what: "the log is the plan",
            setup: |_| {},
            args: draw_args!("--out", "out", "--log", "plan.json"),
            code: 2,
            stderr: "error: plan.json: the draw log cannot be plan.json, an input of the draw\n",
        },
        Case {
            what: "the log is an input file",
            setup: |_| {},
            args: draw_args!("--out", "out", "--log", "entities.csv"),
            code: 2,
            stderr: "error: entities.csv: the draw log cannot be entities.csv, an input of the draw\n",
        },
        Case {
            what: "the log is the commitment",
            setup: |_| {},
            args: draw_args!(
                "--out",
                "out",
                "--commitment",
                "commitment.json",
                "--log",
                "commitment.json"
            ),
            code: 2,
            stderr: "error: commitment.json: the draw log cannot be commitment.json, a commitment of the draw\n",
        },
        Case {
            what: "the log is a folder",
            setup: |d| std::fs::create_dir(d.join("logs")).unwrap(),
            args: draw_args!("--out", "out", "--log", "logs"),
            code: 2,
            stderr: "error: logs: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the log is a link to /dev/zero",
            setup: |d| symlink("/dev/zero", &d.join("log.jsonl")),
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the log is a pipe",
            setup: |d| mkfifo(&d.join("log.jsonl")),
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "a log with an entry rewritten",
            setup: |d| {
                std::fs::write(d.join("log.jsonl"), log_of(3).replacen("elsewhere", "nowhere", 2)).unwrap();
            },
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl: the draw log is broken, so nothing is drawn: log.jsonl, line 1: the entry was altered (its digest is 036c5ce1ae8e57749b64e00ac66efca2acff14311731b3588b5303c83d6ceed8, it says 13c2243d04f02f73c29834795ac4ab61e95682f4d6ff46a6995999b30a97cbc3)\n",
        },
        Case {
            what: "a log with its last entry removed and the line end with it",
            setup: |d| {
                let text = log_of(3);
                std::fs::write(d.join("log.jsonl"), text.trim_end()).unwrap();
            },
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl: the draw log is broken, so nothing is drawn: log.jsonl, line 3: the last entry has no line end (was the log cut short?)\n",
        },
        Case {
            what: "a log with a line of garbage appended",
            setup: |d| std::fs::write(d.join("log.jsonl"), log_of(2) + "{\"seq\": 3}\n").unwrap(),
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl: the draw log is broken, so nothing is drawn: log.jsonl, line 3: not a log entry\n",
        },
        Case {
            what: "a log of one endless line",
            setup: |d| std::fs::write(d.join("log.jsonl"), "x".repeat(3 << 20)).unwrap(),
            args: draw_args!("--out", "out", "--log", "log.jsonl"),
            code: 2,
            stderr: "error: log.jsonl, line 1: no line end within 1048576 bytes, the most a row may take (a line end is missing, or a quote left open)\n",
        },
        Case {
            what: "a redraw without a reason",
            setup: |d| draw(d, "first"),
            args: draw_args!("--out", "second"),
            code: 2,
            stderr: "error: draw-log.jsonl: task \"140930202703011001\" round \"2027-1\" was drawn already (entry 1, record 25983fc78b4c9ee20ac0ff79b667b7fad94f311061bb9596d287305c07a74ed0); give --redraw-reason to draw it again\n",
        },
        Case {
            what: "a redraw reason that hides a second line",
            setup: |d| draw(d, "first"),
            args: draw_args!("--out", "second", "--redraw-reason", "typo\n{\"seq\":9}"),
            code: 2,
            stderr: "error: draw-log.jsonl, field redraw_reason: \"typo\\n{\\\"seq\\\":9}\" is not a reason (not empty, no control characters, at most 1000 characters)\n",
        },
        Case {
            what: "a redraw reason of a whole book",
            setup: |d| draw(d, "first"),
            args: &[
                "draw",
                "--plan",
                "plan.json",
                "--seed",
                SEED,
                "--out",
                "second",
                "--redraw-reason",
                include_str!("../fixtures/README.md"),
            ],
            code: 2,
            stderr: "error: draw-log.jsonl, field redraw_reason: \"# Fixtures\\n\\nA county-scale dataset for tests, examples and benchmarks, modelled …\" is not a reason (not empty, no control characters, at most 1000 characters)\n",
        },
        Case {
            what: "a redraw through the log moved elsewhere still needs a reason",
            setup: |d| {
                draw(d, "out");
                std::fs::rename(d.join("draw-log.jsonl"), d.join("hidden.jsonl")).unwrap();
            },
            args: draw_args!("--out", "out", "--force", "--log", "hidden.jsonl"),
            code: 2,
            stderr: "error: hidden.jsonl: task \"140930202703011001\" round \"2027-1\" was drawn already (entry 1, record 25983fc78b4c9ee20ac0ff79b667b7fad94f311061bb9596d287305c07a74ed0); give --redraw-reason to draw it again\n",
        },
    ]);
}

#[test]
fn commitments_and_seeds_cannot_be_sidestepped() {
    check(&[
        Case {
            what: "a commitment of another task",
            setup: |d| replace_in(&d.join("commitment.json"), "140930202703011001", "140930202703011002"),
            args: draw_args!("--out", "out", "--commitment", "commitment.json"),
            code: 2,
            stderr: "error: commitment.json: the commitment is for task \"140930202703011002\" round \"2027-1\", which no plan of this draw names\n",
        },
        Case {
            what: "a commitment of another round",
            setup: |d| replace_in(&d.join("commitment.json"), "\"2027-1\"", "\"2027-2\""),
            args: draw_args!("--out", "out", "--commitment", "commitment.json"),
            code: 2,
            stderr: "error: commitment.json: the commitment is for task \"140930202703011001\" round \"2027-2\", which no plan of this draw names\n",
        },
        Case {
            what: "the same commitment twice",
            setup: |_| {},
            args: draw_args!(
                "--out",
                "out",
                "--commitment",
                "commitment.json",
                "--commitment",
                "commitment.json"
            ),
            code: 2,
            stderr: "error: commitment.json: commitment.json commits task \"140930202703011001\" round \"2027-1\" already; give one commitment per plan\n",
        },
        Case {
            what: "a commitment with text after it",
            setup: |d| {
                let mut text = std::fs::read_to_string(d.join("commitment.json")).unwrap();
                text.push_str("{\"frame_sha256\": \"0\"}\n");
                std::fs::write(d.join("commitment.json"), text).unwrap();
            },
            args: draw_args!("--out", "out", "--commitment", "commitment.json"),
            code: 2,
            stderr: "error: commitment.json, line 50: text after the end of the JSON object (a file holds one object)\n",
        },
        Case {
            what: "a commitment listing the entity file twice",
            setup: |d| {
                replace_in(
                    &d.join("commitment.json"),
                    "\"inputs\": [",
                    "\"inputs\": [\n    {\"role\": \"entities\", \"path\": \"entities.csv\", \"sha256\": \"00\"},",
                )
            },
            args: draw_args!("--out", "out", "--commitment", "commitment.json"),
            code: 2,
            stderr: "error: commitment.json: the inputs differ from the commitment: entities.csv: sha256 de8194ab9a999ea968221eb770e72fdceec215d1393046b8ed95eab5421b2784 differs from the committed 00; entities.csv: a second file committed as the entities\n",
        },
        Case {
            what: "a commitment that is a folder",
            setup: |d| std::fs::create_dir(d.join("c.json")).unwrap(),
            args: draw_args!("--out", "out", "--commitment", "c.json"),
            code: 2,
            stderr: "error: c.json: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "a seed with a zero-width space",
            setup: |_| {},
            args: &[
                "draw",
                "--plan",
                "plan.json",
                "--seed",
                "2027-03-01 lottery 0417\u{200B} 2953",
                "--out",
                "out",
            ],
            code: 2,
            stderr: "error: seed: the seed holds the invisible character U+200B, which a published seed would not show\n",
        },
        Case {
            what: "a seed with a trailing space",
            setup: |_| {},
            args: &[
                "draw",
                "--plan",
                "plan.json",
                "--seed",
                "2027-03-01 lottery 0417 2953 ",
                "--out",
                "out",
            ],
            code: 2,
            stderr: "error: seed: the seed starts or ends with white space, which a published seed would not show\n",
        },
        Case {
            what: "one task drawn twice in one draw",
            setup: |_| {},
            args: draw_args!("--plan", "./plan.json", "--out", "out"),
            code: 2,
            stderr: "error: plan.json, field task_id: task 140930202703011001 round 2027-1 is drawn twice\n",
        },
    ]);
}

#[test]
fn inputs_that_never_end_or_block_are_refused() {
    check(&[
        Case {
            what: "the plan is /dev/zero",
            setup: |_| {},
            args: &["draw", "--plan", "/dev/zero", "--seed", SEED, "--out", "out"],
            code: 2,
            stderr: "error: /dev/zero: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the plan is a folder",
            setup: |_| {},
            args: &["draw", "--plan", ".", "--seed", SEED, "--out", "out"],
            code: 2,
            stderr: "error: .: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the entity file is a link to /dev/zero",
            setup: |d| {
                std::fs::remove_file(d.join("entities.csv")).unwrap();
                symlink("/dev/zero", &d.join("entities.csv"));
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: entities.csv: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the history is a pipe nobody writes to",
            setup: |d| {
                std::fs::remove_file(d.join("history.csv")).unwrap();
                mkfifo(&d.join("history.csv"));
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: history.csv: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "the calendar is /dev/urandom",
            setup: |d| {
                replace_in(
                    &d.join("plan.json"),
                    "\"calendar.csv\"",
                    "\"../../../../../../dev/urandom\"",
                )
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: ../../../../../../dev/urandom: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "a quote left open in the entity file, then megabytes",
            setup: |d| {
                let mut text = std::fs::read_to_string(d.join("entities.csv")).unwrap();
                let at = text.find("\n9114").unwrap() + 1;
                text.insert(at, '"');
                text.push_str(&"9114093000003FYB9W,x,B,y,z,active,,微型\n".repeat(200_000));
                std::fs::write(d.join("entities.csv"), text).unwrap();
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: entities.csv, line 2: no line end within 1048576 bytes, the most a row may take (a line end is missing, or a quote left open)\n",
        },
        Case {
            what: "an items file of one endless line",
            setup: |d| std::fs::write(d.join("items.csv"), "a".repeat(5 << 20)).unwrap(),
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: items.csv, line 1: no line end within 1048576 bytes, the most a row may take (a line end is missing, or a quote left open)\n",
        },
        Case {
            what: "an entity header of a million columns",
            setup: |d| {
                let header = (0..1_000_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
                std::fs::write(d.join("entities.csv"), header + "\n").unwrap();
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: entities.csv, line 1: no line end within 1048576 bytes, the most a row may take (a line end is missing, or a quote left open)\n",
        },
        Case {
            what: "an entity file of nothing but line ends",
            setup: |d| std::fs::write(d.join("entities.csv"), "\n".repeat(12 << 20)).unwrap(),
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: entities.csv: the file is empty (expected a header row)\n",
        },
        Case {
            what: "an absolute input path",
            setup: |d| replace_in(&d.join("plan.json"), "\"calendar.csv\"", "\"/etc/hostname\""),
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 13, field inputs.calendar: \"/etc/hostname\" is not a path relative to the plan (a record names no absolute path)\n",
        },
        Case {
            what: "a publication deadline of four billion days",
            setup: |d| {
                replace_in(
                    &d.join("plan.json"),
                    "\"publication_days\": 20",
                    "\"publication_days\": 4294967295",
                )
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 28, field teams.publication_days: \"4294967295\" is not a number of working days from 1 to 250\n",
        },
        Case {
            what: "a window of ten thousand years",
            setup: |d| {
                replace_in(
                    &d.join("plan.json"),
                    "\"end\": \"2027-05-31\"",
                    "\"end\": \"9999-12-31\"",
                )
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 6, field window.end: \"9999-12-31\" is not a date in the years 1900 to 2999\n",
        },
        Case {
            what: "a plan nested a hundred thousand arrays deep",
            setup: |d| {
                let deep = format!("{{\"strata\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
                std::fs::write(d.join("plan.json"), deep).unwrap();
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 1, field strata[0]: invalid type: sequence, expected a string\n",
        },
        Case {
            what: "a second plan glued after the first",
            setup: |d| {
                let text = std::fs::read_to_string(d.join("plan.json")).unwrap();
                std::fs::write(d.join("plan.json"), format!("{text}{}", text.replace("0.30", "0.01"))).unwrap();
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 81: text after the end of the JSON object (a file holds one object)\n",
        },
        Case {
            what: "a class given twice, the second one harmless-looking",
            setup: |d| {
                replace_in(
                    &d.join("plan.json"),
                    "\"D\": {\"ratio\": \"0.30\", \"mode\": \"on_site\", \"rounds_per_year\": 2}",
                    "\"D\": {\"ratio\": \"0.30\", \"mode\": \"on_site\", \"rounds_per_year\": 2}, \"D\": {\"ratio\": \"0.30\", \"mode\": \"trigger_only\"}",
                )
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: plan.json, line 40, field departments[0].classes: the key \"D\" appears twice\n",
        },
        Case {
            what: "an inspector library with a header and no inspector",
            setup: |d| {
                let text = std::fs::read_to_string(d.join("inspectors.csv")).unwrap();
                std::fs::write(
                    d.join("inspectors.csv"),
                    text.lines().next().unwrap().to_string() + "\n",
                )
                .unwrap();
                let text = std::fs::read_to_string(d.join("conflicts.csv")).unwrap();
                std::fs::write(d.join("conflicts.csv"), text.lines().next().unwrap().to_string() + "\n").unwrap();
            },
            args: draw_args!("--out", "out"),
            code: 2,
            stderr: "error: inspectors.csv: the file has no inspectors (only a header); to draw without teams, leave the inspectors out of the plan\n",
        },
    ]);
}

/// Errors found only after the draw (or the commitment check) leave no
/// draw log, no output folder and no folder above it behind.
#[test]
fn late_errors_leave_no_log_and_no_folder() {
    check(&[
        Case {
            what: "no team can be staffed",
            setup: |d| {
                // No agriculture inspector holds the pesticide qualification any more.
                let path = d.join("inspectors.csv");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replace(",农药,", ",,")).unwrap();
            },
            args: draw_args!("--out", "runs/2027/out"),
            code: 2,
            stderr: "error: no complete team assignment exists; 5 visit part(s) cannot be staffed:\n  visit V000113 (92140930CLNCND3Y1Q on 2027-03-08), department NYJ: needs 2 inspector(s), one of them holding 农药, 1 could be assigned; 4 of its 6 inspectors are eligible (2 inspected the entity's previous visit); no eligible inspector holds 农药\n  visit V000140 (91140930UFKMRY8L8A on 2027-03-09), department NYJ: needs 2 inspector(s), one of them holding 农药, 1 could be assigned; 6 of its 6 inspectors are eligible; no eligible inspector holds 农药\n  visit V000090 (91140930WUD97PXP8N on 2027-03-15), department NYJ: needs 1 inspector(s), one of them holding 农药, 0 could be assigned; 5 of its 6 inspectors are eligible (1 unavailable that day); no eligible inspector holds 农药\n  visit V000112 (93140930N7Y9CWH5XH on 2027-04-12), department NYJ: needs 2 inspector(s), one of them holding 农药, 1 could be assigned; 6 of its 6 inspectors are eligible; no eligible inspector holds 农药\n  visit V000016 (91140930JU8YMRTQ61 on 2027-05-06), department NYJ: needs 1 inspector(s), one of them holding 农药, 0 could be assigned; 6 of its 6 inspectors are eligible; no eligible inspector holds 农药\n",
        },
        Case {
            what: "no working day in the window",
            setup: |d| {
                let mut text = String::from("date,kind,name\n");
                let mut day = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
                while day <= chrono::NaiveDate::from_ymd_opt(2027, 5, 31).unwrap() {
                    text.push_str(&format!("{day},holiday,closed\n"));
                    day = day.succ_opt().unwrap();
                }
                std::fs::write(d.join("calendar.csv"), text).unwrap();
            },
            args: draw_args!("--out", "runs/out"),
            code: 2,
            stderr: "error: plan.json, field window: the window 2027-03-01 to 2027-05-31 has no working day for the visits\n",
        },
        Case {
            what: "inputs that differ from the commitment",
            setup: |d| replace_in(&d.join("items.csv"), "营业执照", "营業執照"),
            args: draw_args!("--out", "runs/out", "--commitment", "commitment.json"),
            code: 2,
            stderr: "error: commitment.json: the inputs differ from the commitment: items.csv: sha256 d8e79b1c05d132edca881748a0eb00e9bc3882c6b1f4dd43b86bb895893ed885 differs from the committed 149fe1e4ca60c64ee47067a4405b5c4855301f989fb904c17e47c22189a7d474\n",
        },
    ]);
}

#[test]
fn other_commands_overwrite_nothing() {
    check(&[
        Case {
            what: "commit --out over the plan",
            setup: |_| {},
            args: &["commit", "--plan", "plan.json", "--out", "plan.json"],
            code: 2,
            stderr: "error: plan.json: the file exists already (use --force to replace it)\n",
        },
        Case {
            what: "commit --out --force over the plan",
            setup: |_| {},
            args: &["commit", "--plan", "plan.json", "--out", "plan.json", "--force"],
            code: 2,
            stderr: "error: plan.json: --force never replaces an input\n",
        },
        Case {
            what: "commit --out --force over an input",
            setup: |_| {},
            args: &["commit", "--plan", "plan.json", "--out", "history.csv", "--force"],
            code: 2,
            stderr: "error: history.csv: --force never replaces an input\n",
        },
        Case {
            what: "commit --out --force over a folder",
            setup: |d| std::fs::create_dir(d.join("c")).unwrap(),
            args: &["commit", "--plan", "plan.json", "--out", "c", "--force"],
            code: 2,
            stderr: "error: c: --force replaces only a file, and this is a folder or a link\n",
        },
        Case {
            what: "commit of a bad plan into a new folder",
            setup: |d| replace_in(&d.join("plan.json"), "\"0.30\"", "0.3"),
            args: &["commit", "--plan", "plan.json", "--out", "new/c.json"],
            code: 2,
            stderr: "error: plan.json, line 40, field departments[0].classes.D.ratio: the JSON number 0.3 is not a ratio: write ratios as decimal strings, like \"0.05\"\n",
        },
        Case {
            what: "synth over the inputs' folder",
            setup: |_| {},
            args: &["synth", "--entities", "100", "--seed", "x", "--out", "."],
            code: 2,
            stderr: "error: .: the folder exists already (synth writes a new folder, and replaces none)\n",
        },
        Case {
            what: "fairness --json over the plan",
            setup: |_| {},
            args: &["fairness", "--plan", "plan.json", "--runs", "2", "--json", "plan.json"],
            code: 2,
            stderr: "error: plan.json: the file exists already (use --force to replace it)\n",
        },
        Case {
            what: "fairness --json --force over the plan",
            setup: |_| {},
            args: &[
                "fairness",
                "--plan",
                "plan.json",
                "--runs",
                "2",
                "--json",
                "plan.json",
                "--force",
            ],
            code: 2,
            stderr: "error: plan.json: --force never replaces an input\n",
        },
    ]);
}

#[test]
fn verify_never_hangs_or_trusts_what_the_record_names() {
    check(&[
        Case {
            what: "a record naming /dev/zero as its plan",
            setup: |d| {
                draw(d, "out");
                replace_in(
                    &d.join("out/record.json"),
                    "\"../plan.json\"",
                    "\"../../../../../../../dev/zero\"",
                );
            },
            args: &["verify", "out/record.json"],
            code: 1,
            stderr: "",
        },
        Case {
            what: "an output replaced by a pipe nobody writes to",
            setup: |d| {
                draw(d, "out");
                std::fs::remove_file(d.join("out/visits.csv")).unwrap();
                mkfifo(&d.join("out/visits.csv"));
            },
            args: &["verify", "out/record.json"],
            code: 1,
            stderr: "",
        },
        Case {
            what: "a record with a second record after it",
            setup: |d| {
                draw(d, "out");
                let text = std::fs::read_to_string(d.join("out/record.json")).unwrap();
                std::fs::write(d.join("out/record.json"), format!("{text}{text}")).unwrap();
            },
            args: &["verify", "out/record.json"],
            code: 2,
            stderr: "error: record.json, line 1679: text after the end of the JSON object (a file holds one object)\n",
        },
        Case {
            what: "a record that is a folder",
            setup: |d| std::fs::create_dir(d.join("record.json")).unwrap(),
            args: &["verify", "record.json"],
            code: 2,
            stderr: "error: record.json: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
        Case {
            what: "a draw log that is /dev/zero",
            setup: |d| draw(d, "out"),
            args: &["verify", "out/record.json", "--log", "/dev/zero"],
            code: 2,
            stderr: "error: /dev/zero: not a regular file (a directory, device or pipe cannot be read as an input)\n",
        },
    ]);
}

/// What `verify` reports for outputs it cannot trust, without hanging on
/// a pipe or reading /dev/zero.
#[test]
fn verify_names_what_it_cannot_read() {
    let dir = work();
    draw(dir.path(), "out");
    std::fs::remove_file(dir.path().join("out/visits.csv")).unwrap();
    mkfifo(&dir.path().join("out/visits.csv"));
    let o = bin(dir.path(), &["verify", "out/record.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "visits.csv: cannot be read: not a regular file (a directory, device or pipe cannot be read as an input)\nnot verified: 1 difference(s)\n"
    );

    let dir = work();
    draw(dir.path(), "out");
    replace_in(
        &dir.path().join("out/record.json"),
        "\"../plan.json\"",
        "\"../../../../../../../dev/zero\"",
    );
    let o = bin(dir.path(), &["verify", "out/record.json"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("record.json: the inputs of the plan it names (../../../../../../../dev/zero) do not load: out/../../../../../../../dev/zero: not a regular file"),
        "{text}"
    );
}

/// A full disk when the draw log is appended: the outputs are not
/// installed and the log is as it was, with no half entry (the file size
/// limit stops the write part way through an entry).
#[cfg(unix)]
#[test]
fn a_log_that_cannot_be_appended_installs_nothing() {
    let dir = work();
    // A log larger than any output, so that the outputs fit under the limit.
    // Its length is chosen so that the limit falls inside the next entry.
    let log = (300..)
        .map(log_of)
        .find(|log| (1..400).contains(&(log.len().div_ceil(1024) * 1024 - log.len())))
        .unwrap();
    let limit_blocks = log.len().div_ceil(1024);
    std::fs::write(dir.path().join("log.jsonl"), &log).unwrap();
    let before = snapshot(dir.path());
    let script = format!(
        "ulimit -f {limit_blocks}; trap '' XFSZ; exec \"$0\" draw --plan plan.json --seed '{SEED}' --out runs/out --log log.jsonl"
    );
    let o = Command::new("bash")
        .args(["-c", &script, env!("CARGO_BIN_EXE_double-random")])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o), "error: log.jsonl: File too large (os error 27)\n");
    assert_eq!(snapshot(dir.path()), before, "no output, no folder, the log unchanged");
}

/// Two draws of one task at once on one log: exactly one is logged and
/// installed, the other refused, and the chain stays intact.
#[test]
fn two_draws_at_once_cannot_both_be_first() {
    let dir = work();
    let spawn = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_double-random"))
            .args([
                "draw",
                "--plan",
                "plan.json",
                "--seed",
                SEED,
                "--out",
                out,
                "--log",
                "log.jsonl",
            ])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let won: Vec<bool> = [&a, &b].iter().map(|o| o.status.success()).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{} / {}", stderr(&a), stderr(&b));
    let (loser, lost_out) = if won[0] { (&b, "b") } else { (&a, "a") };
    assert!(
        stderr(loser).contains("was drawn already (entry 1, record "),
        "{}",
        stderr(loser)
    );
    assert!(!dir.path().join(lost_out).exists());
    let log = double_random::audit::DrawLog::read(&dir.path().join("log.jsonl")).unwrap();
    assert!(log.is_intact());
    assert_eq!(log.entries.len(), 1);
}

/// The newcomer's first draw into a folder that does not exist yet, then
/// a commitment written, replaced with --force, and readable by others.
#[test]
fn new_folders_are_made_and_commitments_are_published() {
    let dir = work();
    let o = bin(
        dir.path(),
        &[
            "draw",
            "--plan",
            "plan.json",
            "--seed",
            SEED,
            "--commitment",
            "commitment.json",
            "--out",
            "out/fixture-draw",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("out/draw-log.jsonl").is_file());
    let v = bin(
        dir.path(),
        &["verify", "out/fixture-draw/record.json", "--log", "out/draw-log.jsonl"],
    );
    assert_eq!(String::from_utf8_lossy(&v.stdout), "verified\n");

    let o = bin(
        dir.path(),
        &["commit", "--plan", "plan.json", "--out", "published/c.json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read(dir.path().join("published/c.json")).unwrap();
    assert_eq!(written, std::fs::read(dir.path().join("commitment.json")).unwrap());
    let o = bin(
        dir.path(),
        &["commit", "--plan", "plan.json", "--out", "published/c.json", "--force"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode any new file gets here (the umask applies), not 0600.
        std::fs::write(dir.path().join("plain"), "x").unwrap();
        let mode = |p: &str| std::fs::metadata(dir.path().join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("published/c.json"), mode("plain"));
        assert_eq!(mode("out/fixture-draw") & 0o077, mode("published") & 0o077);
    }
}

/// `verify --plan` takes the plan from where it is now, under another
/// name too, as its help says.
#[test]
fn a_moved_and_renamed_plan_verifies() {
    let dir = work();
    draw(dir.path(), "out");
    std::fs::create_dir(dir.path().join("archive")).unwrap();
    for name in common::FIXTURE_INPUTS {
        let to = if name == "plan.json" { "plan-2027-1.json" } else { name };
        std::fs::rename(dir.path().join(name), dir.path().join("archive").join(to)).unwrap();
    }
    let v = bin(dir.path(), &["verify", "out/record.json"]);
    assert_eq!(v.status.code(), Some(1));
    let v = bin(
        dir.path(),
        &["verify", "out/record.json", "--plan", "archive/plan-2027-1.json"],
    );
    assert_eq!(
        (String::from_utf8_lossy(&v.stdout).as_ref(), v.status.code()),
        ("verified\n", Some(0))
    );
}
