//! Tamper-evidence: any single changed byte of any input, output or the
//! record makes verification fail and name the file.

mod common;

use std::path::Path;
use std::sync::LazyLock;

use double_random::audit::OUTPUT_FILES;
use double_random::{Drawer, Seed, Verifier};
use proptest::prelude::*;

/// Every input and output of a draw, outputs under `out/`.
static FILES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let inputs = common::FIXTURE_INPUTS.iter().map(|f| f.to_string());
    inputs.chain(OUTPUT_FILES.iter().map(|f| format!("out/{f}"))).collect()
});

/// A copy of the fixtures with a fresh draw in `out/`, made once.
fn drawn() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        common::copy_fixture_inputs(dir.path(), &[]);
        let seed = Seed::new("tamper test").unwrap();
        Drawer::new(seed, dir.path().join("out"))
            .plan(dir.path().join("plan.json"))
            .run()
            .unwrap();
        dir
    })
    .path()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn any_changed_byte_fails_verification_and_names_the_file(
        file in 0usize..common::FIXTURE_INPUTS.len() + OUTPUT_FILES.len(),
        position in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let base = drawn();
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("out")).unwrap();
        for name in FILES.iter() {
            std::fs::copy(base.join(name), work.path().join(name)).unwrap();
        }
        let target = work.path().join(&FILES[file]);
        let mut bytes = std::fs::read(&target).unwrap();
        let at = position.index(bytes.len());
        bytes[at] = bytes[at].wrapping_add(delta);
        std::fs::write(&target, &bytes).unwrap();

        let name = Path::new(&FILES[file]).file_name().unwrap().to_str().unwrap();
        match Verifier::new(work.path().join("out/record.json")).run() {
            Ok(v) => {
                prop_assert!(!v.is_verified(), "{} byte {} changed, still verified", FILES[file], at);
                prop_assert!(
                    v.differences.iter().any(|d| d.contains(name)),
                    "{} byte {at}: no difference names it: {:?}", FILES[file], v.differences
                );
            }
            Err(e) => prop_assert!(e.to_string().contains(name), "{}: {e}", FILES[file]),
        }
    }
}

#[test]
fn an_untouched_copy_verifies() {
    let v = Verifier::new(drawn().join("out/record.json")).run().unwrap();
    assert_eq!(v.differences, Vec::<String>::new());
}

#[test]
fn every_byte_of_the_record_head_is_guarded() {
    // The head of the record holds the spec, version, plan path and ids,
    // the seed and the salt: the fields a forger would most like to change.
    let base = drawn();
    let record = std::fs::read(base.join("out/record.json")).unwrap();
    let head = record.windows(8).position(|w| w == b"\"inputs\"").unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("out")).unwrap();
    for name in FILES.iter() {
        std::fs::copy(base.join(name), work.path().join(name)).unwrap();
    }
    let target = work.path().join("out/record.json");
    for at in 0..head {
        let mut bytes = record.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&target, &bytes).unwrap();
        match Verifier::new(&target).run() {
            Ok(v) => assert!(
                v.differences.iter().any(|d| d.contains("record.json")),
                "byte {at}: {:?}",
                v.differences
            ),
            Err(e) => assert!(e.to_string().starts_with("record.json"), "byte {at}: {e}"),
        }
    }
}

/// Every single-byte change to a draw log of two entries (a draw and a
/// redraw) makes a log-only `Verifier` report a difference naming the log.
#[test]
fn every_byte_of_the_draw_log_is_guarded() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let log = dir.path().join("draws.jsonl");
    let plan = dir.path().join("plan.json");
    for (out, seed, reason) in [
        ("first", "one", None),
        ("second", "two", Some("the first seed was misread")),
    ] {
        let mut drawer = Drawer::new(Seed::new(seed).unwrap(), dir.path().join(out));
        drawer.plan(&plan).log(&log);
        if let Some(reason) = reason {
            drawer.redraw_reason(reason);
        }
        drawer.run().unwrap();
    }
    let record = dir.path().join("second/record.json");
    let clean = Verifier::new(&record).log(&log).replay(false).run().unwrap();
    assert!(clean.is_verified(), "{:?}", clean.differences);
    assert_eq!(clean.notes.len(), 1);
    let bytes = std::fs::read(&log).unwrap();
    let name = log.display().to_string();
    for at in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        std::fs::write(&log, &changed).unwrap();
        let v = Verifier::new(&record).log(&log).replay(false).run().unwrap();
        assert!(
            v.differences.iter().any(|d| d.contains(&name)),
            "byte {at} ({:?}): {:?}",
            bytes[at] as char,
            v.differences
        );
    }
}

/// When the plan names another file than the record does, the plan's
/// digest differs, and the file the record names is still read (it is
/// not among the files loaded) and reported; here it was renamed away.
#[test]
fn a_plan_naming_another_file_is_reported_with_the_file_the_record_names() {
    let base = drawn();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("out")).unwrap();
    for name in FILES.iter() {
        std::fs::copy(base.join(name), work.path().join(name)).unwrap();
    }
    let plan = work.path().join("plan.json");
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(&plan, text.replacen("\"items.csv\"", "\"items-2.csv\"", 1)).unwrap();
    std::fs::rename(work.path().join("items.csv"), work.path().join("items-2.csv")).unwrap();
    let v = Verifier::new(work.path().join("out/record.json")).run().unwrap();

    let record = std::fs::read_to_string(work.path().join("out/record.json")).unwrap();
    let at = record.find("\"path\": \"plan.json\"").unwrap();
    let sha = record[at..].find("\"sha256\": \"").unwrap() + at + 11;
    let recorded = &record[sha..sha + 64];
    let plan_sha = double_random::key::Digest::of_bytes(&std::fs::read(&plan).unwrap()).to_hex();
    let missing = std::fs::File::open(work.path().join("items.csv")).unwrap_err();
    assert_eq!(
        v.differences[..2],
        [
            format!("plan.json: sha256 {plan_sha} differs from the record's {recorded}"),
            format!("items.csv: cannot be read ({missing}) where record.json says it is"),
        ]
    );
    // The replay, from the renamed but unchanged file, agrees with every
    // output but the record, which holds the plan's digest.
    let line = 1 + record.lines().position(|l| l.contains(recorded)).unwrap();
    assert_eq!(v.differences.len(), 3, "{:?}", v.differences);
    assert!(
        v.differences[2].starts_with(&format!("record.json, line {line}, ")),
        "{:?}",
        v.differences
    );
}
