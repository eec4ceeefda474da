//! Fairness: the Monte Carlo report on the fixtures shows exact inclusion
//! and allocation, and the observed-draws audit flags systematic sampling
//! while passing honest draws.

use std::path::{Path, PathBuf};

use double_random::Inputs;
use double_random::fairness::{audit_observed, simulate};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn the_fixture_report_shows_exact_inclusion_and_allocation() {
    let inputs = Inputs::load(fixtures().join("plan.json")).unwrap();
    let report = simulate(&inputs, "fairness test", 300, &|_| {}).unwrap();
    assert_eq!(report.runs, 300);
    assert_eq!(report.runs_with_wrong_totals, 0);
    assert!(report.entities_tested > 5000, "{}", report.entities_tested);
    // Exact binomial tails, Bonferroni over every entity: none stands out. (The
    // z-scores' normal approximation is poor for class A's 1 % over few runs;
    // over 10,000 runs max |z| is within the bound too, see the README.)
    assert_eq!(
        report.beyond_bound, 0,
        "max |z| {} against {}",
        report.max_abs_z, report.bonferroni_bound
    );
    // The mean allocation of each stratum converges to q_h (each run is floor or ceil).
    assert!(report.max_allocation_error < 0.5, "{}", report.max_allocation_error);
    // Coordination: never fewer entities than the lower bound allows on average, nor more than independent draws.
    assert!(report.mean_selected_entities + 1.0 >= report.lower_bound_entities);
    assert!(report.mean_selected_entities <= report.mean_independent_entities + 1.0);
    // Every department with visits has a workload line; SCJG's inspectors are interchangeable.
    let scjg = report.workload.iter().find(|w| w.department == "SCJG").unwrap();
    assert_eq!(scjg.inspectors, 30);
    assert!(scjg.max_spread <= 2, "{}", scjg.max_spread);
    let text = report.to_string();
    assert!(
        text.contains("allocation: totals equal the quota in every run: yes"),
        "{text}"
    );
}

#[cfg(feature = "parallel")]
#[test]
fn the_report_is_the_same_for_any_thread_count() {
    let inputs = Inputs::load(fixtures().join("plan.json")).unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&inputs, "threads", 40, &|_| {}).unwrap())
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn systematic_sampling_over_a_sorted_list_is_flagged() {
    let dir = fixtures().join("observed");
    let audit = audit_observed(
        &dir.join("systematic-draws.csv"),
        &dir.join("frame.csv"),
        Some(&dir.join("claims.csv")),
    )
    .unwrap();
    assert!(audit.is_flagged());
    assert_eq!((audit.frame, audit.rounds), (10_000, 4));
    // The last N − 3n = 1,000 rows can never be drawn with step floor(N/n) = 3.
    assert_eq!(audit.dead_tail, (9_000, 1_000));
    let flagged: Vec<&str> = audit
        .tests
        .iter()
        .filter(|t| t.flagged)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(flagged, ["column region", "position", "tail"]);
}

#[test]
fn honest_draws_pass_every_test() {
    let dir = fixtures().join("observed");
    let audit = audit_observed(
        &dir.join("honest-draws.csv"),
        &dir.join("frame.csv"),
        Some(&dir.join("claims.csv")),
    )
    .unwrap();
    assert!(!audit.is_flagged(), "{audit}");
    assert_eq!(audit.tests.len(), 5);
}

#[test]
fn a_biased_claim_is_flagged() {
    // The honest draws take 30 % of every class; a claim of 40 % for class D does not hold.
    let dir = fixtures().join("observed");
    let work = tempfile::tempdir().unwrap();
    let claims = work.path().join("claims.csv");
    std::fs::write(
        &claims,
        "column,value,ratio\nrisk_class,A,0.30\nrisk_class,B,0.30\nrisk_class,C,0.30\nrisk_class,D,0.40\n",
    )
    .unwrap();
    let audit = audit_observed(&dir.join("honest-draws.csv"), &dir.join("frame.csv"), Some(&claims)).unwrap();
    let claim = audit.tests.iter().find(|t| t.name == "claims risk_class").unwrap();
    assert!(claim.flagged, "{audit}");
}

#[test]
fn an_unknown_entity_in_the_draws_is_an_error() {
    let dir = fixtures().join("observed");
    let work = tempfile::tempdir().unwrap();
    let draws = work.path().join("draws.csv");
    std::fs::write(&draws, "round,entity_id\n1,E000001\n1,NOPE\n").unwrap();
    let err = audit_observed(&draws, &dir.join("frame.csv"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}, line 3, field entity_id: unknown entity (not in the frame) \"NOPE\"",
            draws.display()
        )
    );
}

mod common;

#[test]
fn a_plan_without_inspectors_has_no_workload_section() {
    let (plan, files) = common::team_instance(300, 5, 2);
    let plan = plan.replace(r#", "inspectors": "inspectors.csv""#, "");
    let inputs = common::load(&plan, &files).unwrap();
    let report = simulate(&inputs, "no inspectors", 30, &|_| {}).unwrap();
    assert!(report.workload.is_empty());
    assert_eq!(report.runs_with_wrong_totals, 0);
    // Ratio 1 everywhere: every entity is drawn in every run, so nothing is tested for inclusion.
    assert_eq!(report.entities_tested, 0);
    assert!(!report.to_string().contains("\ninspectors "), "{report}");
}
