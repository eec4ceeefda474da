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

/// A year of fixtures/program.json: each class draws its declared annual
/// count within one entity in every run, class D (drawn in both rounds)
/// is the only class visited twice by the draw, and class A is reviewed
/// off site, never visited by the draw.
#[test]
fn a_year_of_the_fixture_program_meets_every_frequency() {
    use double_random::fairness::simulate_year;
    use double_random::model::RiskClass;
    let program = double_random::program::Program::load(fixtures().join("program.json")).unwrap();
    let year = simulate_year(&program, "year test", 60, &|_| {}).unwrap();
    assert_eq!(year.runs, 60);
    assert_eq!(year.rounds, ["2027-1", "2027-2"]);
    assert!(year.meets_frequencies(), "{year}");
    let class = |d: &str, c: RiskClass| year.classes.iter().find(|x| x.department == d && x.class == c).unwrap();
    // An annual ratio over two rounds: exactly ceil(0.06 × 1925) in every run.
    let b = class("SCJG", RiskClass::B);
    assert_eq!(
        (b.declared_ratio.as_str(), b.expected, b.min_drawn, b.max_drawn),
        ("0.06", 116, 116, 116)
    );
    // Twice a year at 30 %: 20 in each round, the second after a 90-day cooldown.
    let d = class("SCJG", RiskClass::D);
    assert_eq!((d.declared_ratio.as_str(), d.expected, d.short_runs), ("0.60", 40, 0.0));
    assert!(b.cooldown_excluded > 0.0, "round 1's visits cool down in round 2");
    let burden = |c: RiskClass| year.burden.iter().find(|x| x.class == c).unwrap();
    for c in RiskClass::ALL {
        let sum: f64 = burden(c).visited.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{c:?}: {sum}");
    }
    assert!(burden(RiskClass::D).visited[2] > 0.05, "{year}");
    // Class A: 206 off-site checks a year over 3,403 entities, and only directed visits.
    assert!((burden(RiskClass::A).mean_reviews - 206.0 / 3403.0).abs() < 1e-9);
    assert!(burden(RiskClass::A).mean_visits < 0.01);
}

/// Rounds close together: the second round starts the day after the first
/// ends, inside the 90-day cooldown of class D. WLJ's one class-D entity is
/// due in both rounds: the program warns, and the year shows the cooldown
/// binding (the entity visited in round 1 is still cooling down in round 2
/// unless its visit fell in the first two days of March).
#[test]
fn a_year_shows_the_cooldown_binding() {
    use double_random::fairness::simulate_year;
    use double_random::model::RiskClass;
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &["program.json"]);
    let path = dir.path().join("program.json");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        r#""start": "2027-09-01", "end": "2027-11-10""#,
        r#""start": "2027-06-01", "end": "2027-06-30""#,
    );
    std::fs::write(&path, text).unwrap();
    let program = double_random::program::Program::load(&path).unwrap();
    let schedule = program.schedule(&dir.path().join("year")).unwrap();
    assert_eq!(
        schedule.warnings,
        [
            "WLJ class D: round 2027-2 starts 1 days after round 2027-1 ends, within the 90-day cooldown, and draws 1 there from a base of 1 after 1 in round 2027-1: it falls short unless enough of round 2027-1's visits come early"
        ]
    );
    let year = simulate_year(&program, "close rounds", 40, &|_| {}).unwrap();
    let d = year
        .classes
        .iter()
        .find(|x| x.department == "WLJ" && x.class == RiskClass::D)
        .unwrap();
    assert_eq!(d.expected, 2);
    assert!(d.short_runs > 0.5, "{year}");
    assert!(d.cooldown_excluded > 0.5, "{year}");
    assert!(!year.meets_frequencies());
}
