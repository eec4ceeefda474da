//! Output directories: concurrent draws into one directory never leave a
//! mixed or partial directory, nor temporary files.

mod common;

use std::path::Path;

use double_random::audit::DrawLog;
use double_random::{Drawer, Progress, Seed, Verifier};

#[test]
fn concurrent_draws_into_one_directory() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (fixtures, out) = (&fixtures, &out);
                scope.spawn(move || {
                    let seed = Seed::new(format!("seed {i}")).unwrap();
                    Drawer::new(seed, out).plan(fixtures.join("plan.json")).run().is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().any(|&ok| ok), "no draw succeeded");
    // Whichever draw won, the directory is complete and consistent.
    let v = Verifier::new(out.join("record.json")).run().unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    let names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out"], "temporary directories left behind");
}

/// Concurrent draws of one task with one draw log: the log is locked for
/// each draw, so exactly one is a first draw and every other is refused as
/// a redraw without a reason; the log stays one intact entry long. Run
/// several times, since which draw creates the log and which locks it
/// first varies (a draw that created the log but locked it second once
/// removed the winner's entry on failing).
#[test]
fn concurrent_draws_with_one_log_make_one_entry() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for round in 0..60 {
        let work = tempfile::tempdir().unwrap();
        let log = work.path().join("draws.jsonl");
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let (fixtures, work, log) = (&fixtures, work.path(), &log);
                    scope.spawn(move || {
                        let seed = Seed::new(format!("seed {i}")).unwrap();
                        let out = work.join(format!("out{i}"));
                        Drawer::new(seed, &out)
                            .plan(fixtures.join("plan.json"))
                            .log(log)
                            .run()
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(e.contains("was drawn already (entry 1, record "), "{e}");
        }
        let read = DrawLog::read(&log).unwrap();
        assert!(read.is_intact(), "{:?}", read.problems);
        assert_eq!(read.entries.len(), 1);
        let out = Path::new(&read.entries[0].out);
        let v = Verifier::new(out.join("record.json")).log(&log).run().unwrap();
        assert!(v.is_verified(), "{:?}", v.differences);
    }
}

/// A draw and its replay tell a progress display each step, in order (the
/// command line shows them beside a spinner).
#[test]
fn a_draw_and_its_replay_report_their_steps() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let plan = fixtures.join("plan.json");
    let steps = std::sync::Mutex::new(Vec::new());
    let step = |p: Progress<'_>| {
        if let Progress::Step(s) = p {
            steps.lock().unwrap().push(s.to_string());
        }
    };
    Drawer::new(Seed::new("steps").unwrap(), &out)
        .plan(&plan)
        .log(work.path().join("draws.jsonl"))
        .progress(&step)
        .run()
        .unwrap();
    let reading = format!("reading {} and its inputs", plan.display());
    assert_eq!(
        std::mem::take(&mut *steps.lock().unwrap()),
        [&reading, "building the frames", "drawing", "writing the outputs"]
    );
    let v = Verifier::new(out.join("record.json")).progress(&step).run().unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    // The record names the plan relative to the output directory.
    let replayed = format!("reading {} and its inputs", out.join(recorded_plan(&out)).display());
    assert_eq!(
        *steps.lock().unwrap(),
        [
            &replayed,
            "building the frames",
            "replaying the draw",
            "comparing the outputs"
        ]
    );
}

/// The plan path a record names.
fn recorded_plan(out: &Path) -> String {
    let record = std::fs::read_to_string(out.join("record.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    record["tasks"][0]["plan"]["path"].as_str().unwrap().to_string()
}

/// The README's library example, run as written from a folder holding the
/// fixtures: a committed, logged draw, then its verification.
#[test]
fn the_readme_library_example_draws_and_verifies() {
    let work = tempfile::tempdir().unwrap();
    let fixtures = work.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    common::copy_fixture_inputs(&fixtures, &["commitment.json"]);
    let at = |p: &str| work.path().join(p);
    let drawn = Drawer::new(
        Seed::new("2027-03-01 lottery 0417 2953").unwrap(),
        at("out/fixture-draw"),
    )
    .plan(at("fixtures/plan.json"))
    .commitment(at("fixtures/commitment.json"))
    .log(at("out/draw-log.jsonl"))
    .run()
    .unwrap();
    assert!(
        drawn
            .summary()
            .starts_with("DR3 draw: plan 14093020271000, task 140930202703011001")
    );
    assert_eq!(drawn.log_entries.len(), 1);
    let v = Verifier::new(at("out/fixture-draw/record.json"))
        .log(at("out/draw-log.jsonl"))
        .run()
        .unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden");
    for name in ["selection.csv", "visits.csv"] {
        assert_eq!(
            std::fs::read(at("out/fixture-draw").join(name)).unwrap(),
            std::fs::read(golden.join(name)).unwrap(),
            "{name}"
        );
    }
}
