//! End-to-end tests of the `double-random` binary on the fixtures.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "2027-03-01 lottery 0417 2953";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Runs the binary in English whatever the locale (tests/lang.rs covers Chinese).
fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_double-random"))
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh copy of the fixture inputs in a temporary directory.
fn copy_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &["commitment.json"]);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Draws `plan` at the test seed, checked against `commitment`, into `out`.
fn draw_committed(plan: &Path, commitment: &Path, out: &Path) -> Output {
    bin(&[
        "draw",
        "--plan",
        s(plan),
        "--seed",
        SEED,
        "--commitment",
        s(commitment),
        "--out",
        s(out),
    ])
}

/// Draws the plan in `dir` at the test seed into `out`.
fn draw_in(dir: &Path, out: &Path) -> Output {
    bin(&[
        "draw",
        "--plan",
        s(&dir.join("plan.json")),
        "--seed",
        SEED,
        "--out",
        s(out),
    ])
}

#[test]
fn draw_on_fixtures_matches_the_golden_outputs() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let plan = fixtures().join("plan.json");
    let commitment = fixtures().join("commitment.json");
    let o = draw_committed(&plan, &commitment, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let text = stdout(&o);
    assert!(text.starts_with("DR3 draw: plan 14093020271000, task 140930202703011001, round 2027-1"));
    assert!(
        text.contains("SCJG         C         0.10      on_site       397       369        40        40         0"),
        "{text}"
    );
    // A trigger-only class is never drawn, so it has no quota to fall short of.
    assert!(
        text.contains("WLJ          A         0.01 trigger only       110         0         -         -         -"),
        "{text}"
    );
    assert!(
        text.contains("visits: 144 (15 with a directed check); 149 department visits merged into them, 5 visits saved"),
        "{text}"
    );
    assert!(text.contains("  SCJG         8 / 9 / 9 over 30 inspectors"), "{text}");
    // SCJG checks class A off site: 69 reviews, none of them a visit by SCJG.
    assert!(
        text.contains("off-site checks: 69 (offsite.csv), not visits, each with a reviewer\n"),
        "{text}"
    );
    let reviews = std::fs::read_to_string(out.join("offsite.csv")).unwrap();
    let visits = std::fs::read_to_string(out.join("visits.csv")).unwrap();
    let reviewed: Vec<&str> = reviews.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
    assert_eq!(reviewed.len(), 69);
    for id in reviewed {
        let visit = visits.lines().find(|l| l.split(',').nth(1) == Some(id));
        assert!(
            visit.is_none_or(|v| !v.contains("SCJG:random")),
            "{id} is visited: {visit:?}"
        );
    }
    for name in [
        "selection.csv",
        "strata.csv",
        "exclusions.csv",
        "visits.csv",
        "offsite.csv",
        "unscheduled.csv",
    ] {
        let got = std::fs::read(out.join(name)).unwrap();
        let want = std::fs::read(fixtures().join("golden").join(name)).unwrap();
        assert!(got == want, "{name} differs from fixtures/golden/{name}");
    }
    // The record differs from the golden one only in the plan's relative path.
    let got = std::fs::read_to_string(out.join("record.json")).unwrap();
    let want = std::fs::read_to_string(fixtures().join("golden/record.json")).unwrap();
    let rel = pathdiff_like(&plan, &out);
    assert_eq!(
        got,
        want.replace("\"path\": \"../plan.json\"", &format!("\"path\": \"{rel}\""))
    );
    // The directory holds exactly the documented files.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut documented = double_random::audit::OUTPUT_FILES.to_vec();
    documented.sort();
    assert_eq!(names, documented);
    // No temporary directory is left beside the output, only the draw log.
    let mut leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    leftovers.sort();
    assert_eq!(leftovers, ["draw-log.jsonl", "out"]);

    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!((stdout(&v).as_str(), v.status.code()), ("verified\n", Some(0)));
    let log = work.path().join("draw-log.jsonl");
    let v = bin(&["verify", s(&out.join("record.json")), "--log", s(&log)]);
    assert_eq!((stdout(&v).as_str(), v.status.code()), ("verified\n", Some(0)));
}

/// Every draw is logged; a second draw of a task and round needs a reason,
/// is appended, and makes the first record fail verification against the
/// log; an altered log stops both drawing and verification.
#[test]
fn the_draw_log_chains_every_draw_and_redraws_need_a_reason() {
    let dir = copy_fixtures();
    let plan = dir.path().join("plan.json");
    let log = dir.path().join("draws.jsonl");
    let draw = |out: &Path, reason: Option<&str>| {
        // A redraw comes with a new seed (the published one had a typo).
        let seed = if reason.is_some() {
            "2027-03-01 lottery 0417 2954"
        } else {
            SEED
        };
        let mut args = vec![
            "draw",
            "--plan",
            s(&plan),
            "--seed",
            seed,
            "--out",
            s(out),
            "--log",
            s(&log),
        ];
        if let Some(r) = reason {
            args.extend(["--redraw-reason", r]);
        }
        bin(&args)
    };
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));

    let o = draw(&first, Some("no reason to redraw"));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}, field redraw_reason: task \"140930202703011001\" round \"2027-1\" was never drawn, so it cannot be redrawn\n",
            log.display()
        )
    );
    assert!(!first.exists());

    let o = draw(&first, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let entries = double_random::audit::DrawLog::read(&log).unwrap();
    assert!(entries.is_intact());
    assert_eq!(entries.entries.len(), 1);
    let record = double_random::key::Digest::of_bytes(&std::fs::read(first.join("record.json")).unwrap()).to_hex();
    assert_eq!(entries.entries[0].record_sha256, record);
    assert!(stdout(&o).contains(&format!("logged entry 1 of {}", log.display())));

    let o = draw(&second, None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: task \"140930202703011001\" round \"2027-1\" was drawn already (entry 1, record {record}); give --redraw-reason to draw it again\n",
            log.display()
        )
    );
    assert!(!second.exists());

    let o = draw(&second, Some("the published seed had a typo"));
    assert!(o.status.success(), "{}", stderr(&o));
    let after = double_random::audit::DrawLog::read(&log).unwrap();
    assert!(after.is_intact());
    assert_eq!(after.entries.len(), 2);
    assert_eq!(
        after.entries[0], entries.entries[0],
        "the first entry is never rewritten"
    );
    assert_eq!(after.entries[1].previous, after.entries[0].entry_sha256);

    let v = bin(&["verify", s(&first.join("record.json")), "--log", s(&log)]);
    assert_eq!(v.status.code(), Some(1));
    assert!(
        stdout(&v).contains("record.json: task 140930202703011001 round 2027-1 was drawn again after this record (log entry 2: the published seed had a typo)"),
        "{}",
        stdout(&v)
    );
    let v = bin(&["verify", s(&second.join("record.json")), "--log", s(&log)]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(stdout(&v).starts_with("note: task 140930202703011001 round 2027-1 was redrawn (log entry 2, "));
    assert!(stdout(&v).ends_with("): the published seed had a typo\nverified\n"));

    // Rewrite the first entry's output directory: its digest no longer holds.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("first", "fir5t", 1)).unwrap();
    let v = bin(&["verify", s(&second.join("record.json")), "--log", s(&log)]);
    assert_eq!(v.status.code(), Some(1));
    assert!(stdout(&v).contains(", line 1: the entry was altered"), "{}", stdout(&v));
    let o = draw(&dir.path().join("third"), Some("again"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the draw log is broken, so nothing is drawn"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("third").exists());
}

/// The relative path the record should name, computed independently of the crate.
fn pathdiff_like(plan: &Path, out: &Path) -> String {
    let plan = std::path::absolute(plan).unwrap();
    let out = std::path::absolute(out).unwrap();
    let p: Vec<_> = plan.components().collect();
    let o: Vec<_> = out.components().collect();
    let common = p.iter().zip(&o).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); o.len() - common];
    parts.extend(p[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    parts.join("/")
}

#[test]
fn the_golden_record_verifies() {
    let v = bin(&["verify", s(&fixtures().join("golden/record.json"))]);
    assert_eq!(stdout(&v), "verified\n");
    assert_eq!(v.status.code(), Some(0));
}

#[test]
fn a_changed_byte_in_the_entities_file_fails_verification_and_names_it() {
    let dir = copy_fixtures();
    let out = dir.path().join("out");
    let o = draw_in(dir.path(), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let path = dir.path().join("entities.csv");
    let mut bytes = std::fs::read(&path).unwrap();
    // A class letter of an entity: B → C.
    let at = bytes.windows(3).position(|w| w == b",B,").unwrap() + 1;
    bytes[at] = b'C';
    std::fs::write(&path, bytes).unwrap();
    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!(v.status.code(), Some(1));
    let text = stdout(&v);
    assert!(
        text.lines().next().unwrap().starts_with("entities.csv: sha256 "),
        "{text}"
    );
    assert!(text.trim_end().ends_with("difference(s)"), "{text}");
}

#[test]
fn a_changed_output_fails_verification_and_names_it() {
    let dir = copy_fixtures();
    let out = dir.path().join("out");
    assert!(draw_in(dir.path(), &out).status.success());
    let path = out.join("selection.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(",1\n", ",2\n", 1)).unwrap();
    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!(v.status.code(), Some(1));
    assert!(
        stdout(&v).starts_with("selection.csv, line 2, from character "),
        "{}",
        stdout(&v)
    );
}

#[test]
fn commit_then_draw_with_the_commitment() {
    let dir = copy_fixtures();
    let plan = dir.path().join("plan.json");
    let c = dir.path().join("c.json");
    let o = bin(&["commit", "--plan", s(&plan), "--out", s(&c)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The commitment is the bundled one: same inputs, same bytes.
    assert_eq!(
        std::fs::read(&c).unwrap(),
        std::fs::read(fixtures().join("commitment.json")).unwrap()
    );
    // Without --out it goes to standard output.
    assert_eq!(bin(&["commit", "--plan", s(&plan)]).stdout, std::fs::read(&c).unwrap());

    // A changed input after the commitment: the draw refuses and writes nothing.
    let items = dir.path().join("items.csv");
    let text = std::fs::read_to_string(&items).unwrap();
    std::fs::write(&items, text.replace("营业执照", "营業執照")).unwrap();
    let out = dir.path().join("out");
    let o = draw_committed(&plan, &c, &out);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: {}: the inputs differ from the commitment: items.csv: sha256 ",
            c.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
}

/// An existing folder is refused; `--force` replaces only a folder a
/// draw wrote (a record and nothing but output files), never one of the
/// user's.
#[test]
fn an_existing_output_directory_is_refused_and_forced_only_over_a_draw() {
    let dir = copy_fixtures();
    let plan = dir.path().join("plan.json");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let o = draw_in(dir.path(), &out);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: output directory exists already (use --force to replace it)\n",
            out.display()
        )
    );
    let forced = |reason: &str| {
        bin(&[
            "draw",
            "--plan",
            s(&plan),
            "--seed",
            SEED,
            "--out",
            s(&out),
            "--force",
            "--redraw-reason",
            reason,
        ])
    };
    let o = forced("the first one was wrong");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: --force replaces only a folder written by a draw, and this one holds \"keep.txt\"\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
    assert!(
        !dir.path().join("draw-log.jsonl").exists(),
        "a refused draw logs nothing"
    );

    std::fs::remove_dir_all(&out).unwrap();
    assert!(draw_in(dir.path(), &out).status.success());
    let first = std::fs::read(out.join("record.json")).unwrap();
    // A redraw with another seed over the draw's own folder is allowed.
    let o = bin(&[
        "draw",
        "--plan",
        s(&plan),
        "--seed",
        "another seed",
        "--out",
        s(&out),
        "--force",
        "--redraw-reason",
        "the seed was misread",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(out.join("record.json")).unwrap(), first);
    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!(stdout(&v), "verified\n");
}

/// Bad inputs through the CLI: exit code 2, the exact message, no output directory.
#[test]
fn bad_inputs_exit_2_with_the_exact_message_and_write_nothing() {
    type Edit = fn(&Path);
    fn append(path: &Path, text: &str) {
        let mut s = std::fs::read(path).unwrap();
        s.extend_from_slice(text.as_bytes());
        std::fs::write(path, s).unwrap();
    }
    fn replace(path: &Path, from: &str, to: &str) {
        let s = std::fs::read_to_string(path).unwrap();
        assert!(s.contains(from), "{} has no {from}", path.display());
        std::fs::write(path, s.replacen(from, to, 1)).unwrap();
    }
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "unknown class",
            |d| {
                append(
                    &d.join("entities.csv"),
                    "91140930ZZZZZZZZ0X,新店,E,巡镇,住宿,active,2020-01-01,微型\n",
                )
            },
            "entities.csv, line 6002, field risk_class: \"E\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)",
        ),
        (
            "duplicate id",
            |d| {
                append(
                    &d.join("entities.csv"),
                    "9114093000003FYB9W,重复,B,巡镇,住宿,active,2020-01-01,微型\n",
                )
            },
            "entities.csv, line 6002, field id: duplicate id \"9114093000003FYB9W\" (first on line 2)",
        ),
        (
            "impossible date",
            |d| {
                append(
                    &d.join("entities.csv"),
                    "91140930ZZZZZZZZ0X,新店,B,巡镇,住宿,active,2023-02-30,微型\n",
                )
            },
            "entities.csv, line 6002, field established: \"2023-02-30\" is not a date (YYYY-MM-DD)",
        ),
        (
            "missing column",
            |d| replace(&d.join("entities.csv"), ",status,", ",state,"),
            "entities.csv, line 1: missing column status",
        ),
        (
            "empty entity file",
            |d| std::fs::write(d.join("entities.csv"), "").unwrap(),
            "entities.csv: the file is empty (expected a header row)",
        ),
        (
            "header only",
            |d| {
                std::fs::write(
                    d.join("entities.csv"),
                    "id,name,risk_class,region,industry,status,established\n",
                )
                .unwrap()
            },
            "entities.csv: the file has no entities (only a header)",
        ),
        (
            "non-UTF-8 name",
            |d| {
                let mut b = std::fs::read(d.join("entities.csv")).unwrap();
                b.extend_from_slice(b"91140930ZZZZZZZZ0X,\xb5\xea,B,x,y,active,,\n");
                std::fs::write(d.join("entities.csv"), b).unwrap();
            },
            "entities.csv, line 6002, field name: the value is not valid UTF-8; it reads as GB18030 (GBK), the \
             encoding Excel and WPS use for CSV on Chinese Windows: \"店\". Declare it in the plan (\"encodings\": \
             {\"entities\": \"gb18030\"}, naming this file's role) or save the file as \"CSV UTF-8\"",
        ),
        (
            "general item without a cap",
            |d| append(&d.join("items.csv"), "SCJG-09,SCJG,广告发布,general,,,现场检查,\n"),
            "items.csv, line 12, field max_ratio: \"\" is not a ratio (a general item needs a max_ratio)",
        ),
        (
            "history of an unknown entity",
            |d| {
                append(
                    &d.join("history.csv"),
                    "91140930NOTHERE000,SCJG,2026-05-05,random,SCJG-001\n",
                )
            },
            "history.csv, line 717, field entity_id: unknown entity \"91140930NOTHERE000\"",
        ),
        (
            "directed check with an unknown reason",
            |d| append(&d.join("directed.csv"), "9114093000003FYB9W,SCJG,rumour,SCJG-01\n"),
            "directed.csv, line 17, field reason: \"rumour\" is not a reason (one of \"complaint\", \"big_data\", \"referral\", \"legal\" or \"commitment\")",
        ),
        (
            "ratio as a JSON number",
            |d| replace(&d.join("plan.json"), r#""ratio": "0.30""#, r#""ratio": 0.3"#),
            "plan.json, line 40, field departments[0].classes.D.ratio: the JSON number 0.3 is not a ratio: write ratios as decimal strings, like \"0.05\"",
        ),
        (
            "decreasing ratios",
            |d| replace(&d.join("plan.json"), r#""ratio": "0.10""#, r#""ratio": "0.01""#),
            "plan.json, line 39, field departments[0].classes.C.ratio: the ratio of class C (0.01) is below that of class B (0.03); ratios must not decrease from A to D unless the plan sets \"ratio_order\": \"any\"",
        ),
        (
            "window ending before it starts",
            |d| replace(&d.join("plan.json"), r#""end": "2027-05-31""#, r#""end": "2026-05-31""#),
            "plan.json, line 6, field window.end: \"2026-05-31\" is not a date on or after the window start 2027-03-01",
        ),
        (
            "unknown item",
            |d| replace(&d.join("plan.json"), r#""SCJG-03"]"#, r#""SCJG-33"]"#),
            "plan.json, line 35, field departments[0].items[2]: unknown item \"SCJG-33\"",
        ),
        (
            "unknown stratum column",
            |d| replace(&d.join("plan.json"), r#""strata": ["region"]"#, r#""strata": ["town"]"#),
            "plan.json, line 17, field strata[0]: unknown column \"town\"",
        ),
        (
            "ratio above one",
            |d| replace(&d.join("plan.json"), r#""ratio": "0.30""#, r#""ratio": "3.0""#),
            "plan.json, line 40, field departments[0].classes.D.ratio: \"3.0\" is not a ratio between 0 and 1",
        ),
        (
            "missing input file",
            |d| std::fs::remove_file(d.join("history.csv")).unwrap(),
            "history.csv: No such file or directory (os error 2)",
        ),
    ];
    assert!(cases.len() >= 15);
    for (what, edit, message) in cases {
        let dir = copy_fixtures();
        edit(dir.path());
        let out = dir.path().join("out");
        let o = draw_in(dir.path(), &out);
        assert_eq!(o.status.code(), Some(2), "{what}");
        assert_eq!(stderr(&o), format!("error: {message}\n"), "{what}");
        assert_eq!(stdout(&o), "", "{what}");
        assert!(!out.exists(), "{what}: an output directory was left behind");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{what}: temporary files left: {names:?}");
    }
}

#[test]
fn bad_seeds_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let o = bin(&[
        "draw",
        "--plan",
        s(&fixtures().join("plan.json")),
        "--seed",
        "  ",
        "--out",
        s(&out.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "error: seed: the seed is empty\n");
    assert!(!out.path().join("o").exists());
}

#[test]
fn synth_is_deterministic_and_its_draw_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        let o = bin(&["synth", "--entities", "3000", "--seed", "s1", "--out", s(d)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for name in ["entities.csv", "items.csv", "history.csv", "directed.csv", "plan.json"] {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
    let out = dir.path().join("draw");
    let o = bin(&[
        "draw",
        "--plan",
        s(&a.join("plan.json")),
        "--seed",
        "x",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!(stdout(&v), "verified\n");
}

/// fixtures/README.md promises that `synth` regenerates the fixtures byte for byte.
#[test]
fn synth_regenerates_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin(&[
        "synth",
        "--entities",
        "6000",
        "--seed",
        "hequ-2027",
        "--out",
        s(&dir.path().join("fixtures")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in common::FIXTURE_INPUTS {
        let written = std::fs::read(dir.path().join("fixtures").join(name)).unwrap();
        assert!(
            written == std::fs::read(fixtures().join(name)).unwrap(),
            "{name} differs from fixtures/{name}"
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in ["commit", "draw", "verify", "history", "program", "synth", "fairness"] {
        let o = bin(&[cmd, "--help"]);
        assert!(o.status.success());
        let text = stdout(&o);
        assert!(
            text.contains("\nExample:\n  double-random ") || text.contains("\nExamples:\n  double-random "),
            "{cmd}"
        );
    }
    assert!(stdout(&bin(&["--help"])).contains("Example, on the bundled fixtures:"));
}

#[test]
fn an_unstaffable_draw_names_the_visits_and_writes_nothing() {
    let dir = copy_fixtures();
    // No agriculture inspector holds the pesticide qualification any more.
    let path = dir.path().join("inspectors.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(",农药,", ",,")).unwrap();
    let out = dir.path().join("out");
    let o = draw_in(dir.path(), &out);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "error: no complete team assignment exists; 5 visit part(s) cannot be staffed:"
    );
    assert_eq!(
        lines[3],
        "  visit V000090 (91140930WUD97PXP8N on 2027-03-15), department NYJ: needs 1 inspector(s), one of them holding 农药, 0 could be assigned; 5 of its 6 inspectors are eligible (1 unavailable that day); no eligible inspector holds 农药"
    );
    assert_eq!(lines.len(), 6);
    assert!(lines[1..].iter().all(|l| l.contains("department NYJ")));
    assert!(!out.exists());
}

#[test]
fn fairness_reports_write_json_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let (json, svg) = (dir.path().join("f.json"), dir.path().join("f.svg"));
    let plan = fixtures().join("plan.json");
    let o = bin(&[
        "fairness",
        "--plan",
        s(&plan),
        "--runs",
        "20",
        "--json",
        s(&json),
        "--svg",
        s(&svg),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("fairness over 20 runs (seeds \"fairness #0\" …)\n"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["runs"], 20);
    assert_eq!(report["runs_with_wrong_totals"], 0);
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("Inclusion z-scores"));
}

#[test]
fn the_observed_audit_exits_1_when_it_flags_the_draws() {
    let dir = fixtures().join("observed");
    let run = |draws: &str| {
        bin(&[
            "fairness",
            "--observed",
            s(&dir.join(draws)),
            "--frame",
            s(&dir.join("frame.csv")),
            "--claims",
            s(&dir.join("claims.csv")),
        ])
    };
    let flagged = run("systematic-draws.csv");
    assert_eq!(flagged.status.code(), Some(1));
    assert!(stdout(&flagged).contains("tail                     FLAGGED  the last 1000 positions were never selected"));
    let honest = run("honest-draws.csv");
    assert_eq!(honest.status.code(), Some(0), "{}", stdout(&honest));
    assert!(stdout(&honest).ends_with(
        "the draws are consistent with equal-probability sampling (each test at the Bonferroni level 2.00e-3)\n"
    ));
}

/// A directed check on an entity that is not active (here deregistered) is
/// not visited: it is listed in `unscheduled.csv` and in the summary, and
/// the replay verifies.
#[test]
fn directed_checks_on_inactive_entities_are_listed_not_visited() {
    let dir = copy_fixtures();
    let directed = dir.path().join("directed.csv");
    let mut text = std::fs::read_to_string(&directed).unwrap();
    text.push_str("9114093017UADLYQ47,WLJ,complaint,WLJ-01\n");
    let line = text.lines().count();
    std::fs::write(&directed, text).unwrap();
    let out = dir.path().join("out");
    let o = draw_in(dir.path(), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "directed checks not visited, the entity not being active: 1 (unscheduled.csv)\n  not visited: WLJ directed check of complaint (line {line} of directed.csv) on 9114093017UADLYQ47, which is deregistered\n"
        )),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("unscheduled.csv")).unwrap(),
        "task_id,department,entity_id,status,reason,item_ids\n140930202703011001,WLJ,9114093017UADLYQ47,deregistered,complaint,WLJ-01\n"
    );
    let visits = std::fs::read_to_string(out.join("visits.csv")).unwrap();
    assert!(!visits.contains("9114093017UADLYQ47"));
    // The visits of the active entities are those of the fixture draw.
    assert_eq!(
        visits,
        std::fs::read_to_string(fixtures().join("golden/visits.csv")).unwrap()
    );
    let v = bin(&["verify", s(&out.join("record.json"))]);
    assert_eq!(stdout(&v), "verified\n");
}

/// A round feeds the next: `history` turns the draw's visits into history
/// rows; appended to the history file, they put every entity visited in
/// round 1 inside the cooldown of round 2. An edited visits.csv is refused.
#[test]
fn a_round_feeds_the_next_through_its_history() {
    let dir = copy_fixtures();
    let first = dir.path().join("round-1");
    let o = draw_in(dir.path(), &first);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows_path = dir.path().join("round-1-history.csv");
    let o = bin(&["history", s(&first.join("record.json")), "--out", s(&rows_path)]);
    assert_eq!(
        (stdout(&o), stderr(&o)),
        (format!("wrote {} (149 rows)\n", rows_path.display()), String::new())
    );
    let rows = std::fs::read_to_string(&rows_path).unwrap();
    assert!(rows.starts_with(
        "entity_id,department,date,kind,inspector_ids\n9214093069QC3MN990,SCJG,2027-05-20,random,SCJG-001;SCJG-009\n"
    ));
    assert!(rows.lines().any(|l| l.contains(",directed,")), "{rows}");
    // Refused: writing over an existing file, and an edited visits.csv.
    let o = bin(&["history", s(&first.join("record.json")), "--out", s(&rows_path)]);
    assert_eq!(o.status.code(), Some(2));
    let visits = first.join("visits.csv");
    let text = std::fs::read_to_string(&visits).unwrap();
    std::fs::write(&visits, text.replacen("2027-05-19", "2027-05-20", 1)).unwrap();
    let o = bin(&["history", s(&first.join("record.json"))]);
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: the file is not the visits.csv that {} names; verify the draw first\n",
            visits.display(),
            first.join("record.json").display()
        )
    );
    std::fs::write(&visits, text).unwrap();

    // Round 2, a quarter later, with round 1's visits in its history.
    let history = dir.path().join("history.csv");
    let mut all = std::fs::read_to_string(&history).unwrap();
    all.extend(rows.lines().skip(1).map(|l| format!("{l}\n")));
    std::fs::write(&history, all).unwrap();
    let plan = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let plan = plan
        .replacen(r#""round_id": "2027-1""#, r#""round_id": "2027-2""#, 1)
        .replacen(
            r#""start": "2027-03-01", "end": "2027-05-31""#,
            r#""start": "2027-06-01", "end": "2027-08-31""#,
            1,
        );
    std::fs::write(dir.path().join("plan.json"), plan).unwrap();
    let second = dir.path().join("round-2");
    let o = draw_in(dir.path(), &second);
    assert!(o.status.success(), "{}", stderr(&o));
    let visited: std::collections::BTreeSet<String> = rows
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let selection = std::fs::read_to_string(second.join("selection.csv")).unwrap();
    for line in selection.lines().skip(1) {
        let entity = line.split(',').nth(2).unwrap();
        assert!(
            !visited.contains(entity),
            "{entity} was visited in round 1 and drawn again"
        );
    }
    let exclusions = std::fs::read_to_string(second.join("exclusions.csv")).unwrap();
    let cooled: std::collections::BTreeSet<&str> = exclusions
        .lines()
        .filter(|l| l.ends_with(",cooldown"))
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(visited.iter().filter(|e| cooled.contains(e.as_str())).count() > 100);
}

/// A reader that goes away (`| head -1`) does not turn into a panic: the
/// draw is written and the command exits 0.
#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let dir = copy_fixtures();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_double-random"))
        .args([
            "draw",
            "--plan",
            s(&dir.path().join("plan.json")),
            "--seed",
            SEED,
            "--out",
            s(&out),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(out.join("record.json").exists());
}
