//! Hostile shapes at scale: no quadratic behaviour. Each case is timed
//! against a case ten times smaller (the ratio would be about 100 if the
//! work were quadratic) and against a generous absolute bound.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use double_random::{Draw, Inputs, Seed};

const HEADER: &str = "id,name,risk_class,region,industry,status,established";

/// Loads `entities` (CSV body) with the default plan (strata by region), draws, and returns the time.
fn draw(entities: String, extra_files: &[(&'static str, String)], plan_extra: &str) -> Duration {
    let mut files: BTreeMap<&str, String> = common::files("");
    files.insert("entities.csv", entities);
    for (name, body) in extra_files {
        files.insert(name, body.clone());
    }
    let plan = common::plan(["0.01", "0.02", "0.1", "0.3"], r#" "strata": ["region"],"#).replace(
        r#""directed": "directed.csv"}"#,
        &format!(r#""directed": "directed.csv"{plan_extra}}}"#),
    );
    let start = Instant::now();
    let inputs = common::load(&plan, &files).unwrap();
    let _ = Draw::run(&inputs, &Seed::new("adversarial").unwrap());
    start.elapsed()
}

/// One timing at a time: the cases of this file would otherwise run on
/// parallel test threads and slow each other down unevenly.
static TIMING: Mutex<()> = Mutex::new(());

/// Asserts that a case of 10 n takes less than `factor` times a case of n,
/// and less than `bound` in all. Each case is timed as the best of a few
/// runs, so one slow run on a busy machine does not decide the ratio.
fn scales(label: &str, small: impl Fn() -> Duration, large: impl Fn() -> Duration, bound: Duration) {
    let _one_at_a_time = TIMING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let best = |case: &dyn Fn() -> Duration, runs: usize| (0..runs).map(|_| case()).min().unwrap();
    let small = best(&small, 3);
    let large = best(&large, 2);
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-3);
    eprintln!("{label}: {small:?} -> {large:?} (x{ratio:.1})");
    assert!(ratio < 40.0, "{label}: 10x the input took {ratio:.1}x the time");
    assert!(large < bound, "{label}: {large:?}");
}

fn entities(n: usize, row: impl Fn(usize) -> String) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str(HEADER);
    s.push('\n');
    for i in 0..n {
        s.push_str(&row(i));
        s.push('\n');
    }
    s
}

#[test]
fn a_stratum_per_entity() {
    // Up to a million strata: every entity its own region.
    let run = |n| draw(entities(n, |i| format!("E{i:07},n,B,R{i:07},retail,active,")), &[], "");
    scales(
        "a stratum per entity",
        || run(100_000),
        || run(1_000_000),
        Duration::from_secs(120),
    );
}

#[test]
fn one_stratum_holds_every_entity() {
    let run = |n| draw(entities(n, |i| format!("E{i:07},n,C,North,retail,active,")), &[], "");
    scales(
        "one stratum",
        || run(100_000),
        || run(1_000_000),
        Duration::from_secs(120),
    );
}

#[test]
fn very_long_ids() {
    // Ids of 4,000 bytes that differ only at the end: every comparison reads them whole.
    let long = "9".repeat(3990);
    let run = |n| {
        draw(
            entities(n, |i| format!("{long}{i:08},n,D,North,retail,active,")),
            &[],
            "",
        )
    };
    scales("4,000-byte ids", || run(2_000), || run(20_000), Duration::from_secs(60));
}

#[test]
fn every_entity_in_conflict_with_all_inspectors_but_one() {
    // Department S has 30 inspectors; each entity is recused from 29 of
    // them, so each visit has one eligible inspector and needs two: the
    // draw must fail quickly, naming the visits, not search for long.
    let run = |n: usize| {
        let mut inspectors = String::from(
            "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable\n",
        );
        for k in 0..30 {
            inspectors.push_str(&format!("S{k:02},x,S,North,2029-12-31,,100000,100000,\n"));
        }
        inspectors.push_str("W00,x,W,North,2029-12-31,,100000,100000,\n");
        let mut conflicts = String::from("inspector_id,entity_id,reason\n");
        for i in 0..n {
            for k in 0..30 {
                if k != i % 30 {
                    conflicts.push_str(&format!("S{k:02},E{i:07},relative\n"));
                }
            }
        }
        let start = Instant::now();
        let mut files: BTreeMap<&str, String> = common::files("");
        files.insert(
            "entities.csv",
            entities(n, |i| format!("E{i:07},n,D,North,retail,active,")),
        );
        files.insert("inspectors.csv", inspectors);
        files.insert("conflicts.csv", conflicts);
        let plan = common::plan(["0.01", "0.02", "0.1", "1"], "").replace(
            r#""directed": "directed.csv"}"#,
            r#""directed": "directed.csv", "inspectors": "inspectors.csv", "conflicts": "conflicts.csv"}"#,
        );
        let inputs: Inputs = common::load(&plan, &files).unwrap();
        let err = Draw::run(&inputs, &Seed::new("adversarial").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "no complete team assignment exists; {n} visit part(s) cannot be staffed"
            )),
            "{err}"
        );
        start.elapsed()
    };
    scales(
        "recused from all but one",
        || run(300),
        || run(3_000),
        Duration::from_secs(120),
    );
}
