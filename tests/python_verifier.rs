//! The independent Python verifier (standard library only) agrees with the
//! Rust draw on the fixtures and on a synthetic population, and catches a
//! changed selection.

use std::path::Path;
use std::process::Command;

use double_random::{Seed, draw_to_dir, synth};

fn python(plan: &Path, seed: &str, dir: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/dr1_verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(plan)
        .arg(seed)
        .arg(dir)
        .output()
        .expect("python3 runs (the CI script installs it when missing)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn python_verifies_the_golden_fixture_draw() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let (code, text) = python(
        &fixtures.join("plan.json"),
        "2027-03-01 lottery 0417 2953",
        &fixtures.join("golden"),
    );
    assert_eq!((code, text.as_str()), (0, "verified\n"));
}

#[test]
fn python_verifies_a_synthetic_draw_and_catches_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data, 20_000, "python check").unwrap();
    let out = dir.path().join("out");
    let seed = "ceremony 2027-04-01 / 31 07 19 44";
    draw_to_dir(&[&data.join("plan.json")], &Seed::new(seed).unwrap(), &[], &out, false).unwrap();
    let (code, text) = python(&data.join("plan.json"), seed, &out);
    assert_eq!((code, text.as_str()), (0, "verified\n"));

    // Swap the first selected entity for another one: both verifiers object.
    let path = out.join("selection.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let second = text.lines().nth(1).unwrap();
    let id = second.split(',').nth(1).unwrap();
    std::fs::write(&path, text.replacen(id, "91140930XXXXXXXXXX", 1)).unwrap();
    let (code, text) = python(&data.join("plan.json"), seed, &out);
    assert_eq!(code, 1);
    assert!(text.contains(&format!("selection.csv: missing {}", second)), "{text}");
}
