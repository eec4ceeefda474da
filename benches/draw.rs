//! Criterion benches: keys, allocation, selection, load, the whole draw
//! and its verification from disk, at county size (the fixtures, 6,000
//! entities), city size (200,000 synthetic entities) and province size
//! (2,000,000), each next to the baselines it is compared with in the
//! README (a bare csv-crate parse of the same file; SHA-256 of the ids).
//! The synthetic plans are drawn without their inspector library; teams
//! are benched on their own. Every bench asserts its result once before
//! timing, so `cargo bench -- --test` is also a test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/common/mod.rs"]
mod common;
use double_random::audit::Outputs;
use double_random::draw::allocate;
use double_random::frame::Frame;
use double_random::key::Salt;
use double_random::synth::synth;
use double_random::{Draw, Drawer, Inputs, Seed, Verifier};

const SEED: &str = "2027-03-01 lottery 0417 2953";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A synthetic population of `n` entities, written afresh into target/ on
/// every run (synth is deterministic; a stale copy from an older version
/// would measure other data).
fn synthetic(n: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/synth-{n}"));
    // synth writes a new folder only: clear the one this bench wrote last time.
    let _ = std::fs::remove_dir_all(&dir);
    synth(&dir, n, "bench").expect("synth writes the bench population");
    dir
}

/// The synth plan of `dir` without its inspector library and recusal pairs.
fn selection_plan(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    let inputs = plan["inputs"].as_object_mut().unwrap();
    inputs.remove("inspectors");
    inputs.remove("conflicts");
    let path = dir.join("plan-selection.json");
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    path
}

fn csv_parse(path: &Path) -> u64 {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut record = csv::ByteRecord::new();
    let mut fields = 0u64;
    while reader.read_byte_record(&mut record).unwrap() {
        fields += record.len() as u64;
    }
    fields
}

fn benches(c: &mut Criterion) {
    for (label, dir) in [
        ("fixtures", fixtures()),
        ("200k", synthetic(200_000)),
        ("2m", synthetic(2_000_000)),
    ] {
        let plan = if label == "fixtures" {
            dir.join("plan.json")
        } else {
            selection_plan(&dir)
        };
        let inputs = Inputs::load(&plan).unwrap();
        let n = inputs.population().len();
        let seed = Seed::new(SEED).unwrap();
        let salt = Salt::derive(&seed, inputs.plan().task_id(), inputs.plan().round_id());
        let ids: Vec<&str> = inputs.population().iter().map(|e| e.id()).collect();

        let mut g = c.benchmark_group(format!("draw/{label}"));
        g.sample_size(10).measurement_time(Duration::from_secs(3));

        // Baselines, in the same run.
        assert_eq!(csv_parse(&dir.join("entities.csv")), n as u64 * 8);
        g.bench_function("baseline/csv-parse-entities", |b| {
            b.iter(|| csv_parse(black_box(&dir.join("entities.csv"))))
        });
        g.bench_function("baseline/sha256-ids", |b| {
            b.iter(|| {
                ids.iter()
                    .map(|id| salt.entity_key(black_box(id)).as_bytes()[0] as u64)
                    .sum::<u64>()
            })
        });

        assert_eq!(Inputs::load(&plan).unwrap().population().len(), n);
        g.bench_function("load", |b| b.iter(|| Inputs::load(black_box(&plan)).unwrap()));

        let frame = Frame::build(&inputs);
        assert_eq!(frame.departments.len(), 4);
        g.bench_function("frame", |b| b.iter(|| Frame::build(black_box(&inputs))));

        let selected = Draw::select(&inputs, &seed);
        let total: u64 = selected
            .departments
            .iter()
            .flat_map(|d| &d.classes)
            .map(|c| c.drawn)
            .sum();
        assert_eq!(selected.selections().count() as u64, total);
        g.bench_function("select", |b| {
            b.iter(|| Draw::select(black_box(&inputs), black_box(&seed)))
        });

        let draw = Draw::run(&inputs, &seed).unwrap();
        assert_eq!(draw.selections().count() as u64, total);
        g.bench_function("run", |b| {
            b.iter(|| Draw::run(black_box(&inputs), black_box(&seed)).unwrap())
        });

        let outputs = Outputs::render(&inputs, &draw, "plan.json", None).unwrap();
        assert_eq!(outputs.files.len(), double_random::audit::OUTPUT_FILES.len());
        g.bench_function("render", |b| {
            b.iter(|| Outputs::render(black_box(&inputs), &draw, "plan.json", None).unwrap())
        });

        // An auditor's replay: a draw written to disk, verified from its record.
        let written = tempfile::tempdir().unwrap();
        let out = written.path().join("out");
        Drawer::new(seed.clone(), &out).plan(&plan).run().unwrap();
        let record = out.join("record.json");
        let v = Verifier::new(&record).run().unwrap();
        assert!(v.is_verified(), "{:?}", v.differences);
        g.bench_function("verify", |b| {
            b.iter(|| Verifier::new(black_box(&record)).run().unwrap())
        });
        g.finish();
    }

    // Allocation alone: 100 000 strata.
    let sizes: Vec<u64> = (0..100_000u64).map(|i| 1 + i * 7919 % 97).collect();
    let total: u64 = sizes.iter().sum();
    let out = allocate(total / 20, &sizes, 0x612ca9597a202968).unwrap();
    assert_eq!(out.iter().sum::<u64>(), total / 20);
    c.bench_function("allocate/100k-strata", |b| {
        b.iter(|| allocate(black_box(total / 20), black_box(&sizes), 0x612ca9597a202968))
    });
}

/// Teams at 2k / 20k / 200k visits (150 / 150 / 1,500 inspectors per
/// department, 4 departments), and 200k visits with a province's roster
/// (20,000 per department: the 80,000 of `synth --entities 10000000`),
/// each next to the same draw without an inspector library (selection and
/// dates only), so the difference is the teams.
fn team_benches(c: &mut Criterion) {
    for (label, entities, per_department) in [
        ("2k", 2_000, 150),
        ("20k", 20_000, 150),
        ("200k", 200_000, 1_500),
        ("200k-province-roster", 200_000, 20_000),
    ] {
        let (plan, files) = common::team_instance(entities, per_department, 1);
        let inputs = common::load(&plan, &files).unwrap();
        let no_teams = common::load(&plan.replace(r#", "inspectors": "inspectors.csv""#, ""), &files).unwrap();
        assert!(no_teams.inspectors().is_empty());
        let seed = Seed::new("bench").unwrap();
        let draw = Draw::run(&inputs, &seed).unwrap();
        assert_eq!(draw.visits.len(), entities);
        assert_eq!(common::broken_team_rules(&inputs, &draw), Vec::<String>::new());

        let mut g = c.benchmark_group(format!("teams/{label}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(if entities > 100_000 { 60 } else { 5 }));
        g.bench_function("baseline/selection-and-dates", |b| {
            b.iter(|| Draw::run(black_box(&no_teams), &seed).unwrap())
        });
        g.bench_function("selection-dates-and-teams", |b| {
            b.iter(|| Draw::run(black_box(&inputs), &seed).unwrap())
        });
        g.finish();
    }
}

criterion_group!(draw_benches, benches, team_benches);
criterion_main!(draw_benches);
