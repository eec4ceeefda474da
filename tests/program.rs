//! The annual program: `program` turns fixtures/program.json into the plan
//! of each round (goldens in fixtures/year), the rounds are drawn in turn
//! with each round's visits fed into the next round's history, and the
//! year draws the declared annual ratio of every class.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::BTreeMap;

use cli::{bin, fixtures, read, s, stderr};

const SEEDS: [&str; 2] = ["2027-03-01 lottery 0417 2953", "2027-09-01 lottery 1120 0386"];
const ROUNDS: [&str; 2] = ["2027-1", "2027-2"];

/// The fixture inputs and program in a temporary folder.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &["program.json"]);
    dir
}

/// `(department, class)` → selected, summed over a draw's strata.csv.
fn selected(strata: &str) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    let mut lines = strata.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (d, c, n) = (col("department"), col("class"), col("selected"));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        *out.entry((f[d].to_string(), f[c].to_string())).or_insert(0) += f[n].parse::<u64>().unwrap();
    }
    out
}

#[test]
fn a_two_round_program_draws_the_declared_annual_ratio() {
    let dir = copy();
    let year = dir.path().join("year");
    let o = bin(&["program", s(&dir.path().join("program.json")), "--out", s(&year)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    // The plans and the expected counts are the goldens.
    for name in ["round-2027-1.json", "round-2027-2.json", "expected.csv"] {
        assert_eq!(
            read(&year.join(name)),
            read(&fixtures().join("year").join(name)),
            "{name}"
        );
    }
    // Round by round: draw, then feed the visits into the next round's history.
    for (k, round) in ROUNDS.iter().enumerate() {
        let plan = year.join(format!("round-{round}.json"));
        let out = dir.path().join(format!("draw-{round}"));
        if k > 0 {
            let previous = dir.path().join(format!("draw-{}", ROUNDS[k - 1]));
            let o = bin(&[
                "history",
                s(&previous.join("record.json")),
                "--base",
                s(&dir.path().join("history.csv")),
                "--out",
                s(&year.join(format!("history-{round}.csv"))),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let o = bin(&["draw", "--plan", s(&plan), "--seed", SEEDS[k], "--out", s(&out)]);
        assert!(o.status.success(), "{}", stderr(&o));
        for name in ["selection.csv", "strata.csv", "visits.csv", "offsite.csv"] {
            let golden = fixtures().join("year").join(format!("golden-{round}")).join(name);
            assert!(
                read(&out.join(name)) == read(&golden),
                "round {round}: {name} differs from its golden"
            );
        }
        let v = bin(&["verify", s(&out.join("record.json"))]);
        assert_eq!(String::from_utf8_lossy(&v.stdout), "verified\n");
    }
    assert_eq!(
        read(&year.join("history-2027-2.csv")),
        read(&fixtures().join("year/history-2027-2.csv"))
    );
    // The year: per department and class, what the two rounds drew is what
    // expected.csv declares for the year, within one entity of the
    // declared annual ratio × base.
    let mut drawn: BTreeMap<(String, String), u64> = BTreeMap::new();
    for round in ROUNDS {
        for (k, n) in selected(&read(&dir.path().join(format!("draw-{round}/strata.csv")))) {
            *drawn.entry(k).or_insert(0) += n;
        }
    }
    let expected = read(&year.join("expected.csv"));
    let mut checked = 0;
    for line in expected.lines().skip(1).filter(|l| l.starts_with("year,")) {
        let f: Vec<&str> = line.split(',').collect();
        let (dep, class, mode, base, ratio, count) = (f[1], f[2], f[3], f[4], f[5], f[6]);
        let got = drawn.get(&(dep.to_string(), class.to_string())).copied().unwrap_or(0);
        assert_eq!(got.to_string(), count, "{dep} {class}");
        if mode == "trigger_only" {
            assert_eq!(got, 0);
            continue;
        }
        // ratio × base, exactly: the declared ratio has at most 2 decimals here.
        let (int, frac) = ratio.split_once('.').unwrap_or((ratio, ""));
        let scale = 10u64.pow(frac.len() as u32);
        let r = int.parse::<u64>().unwrap() * scale + frac.parse::<u64>().unwrap_or(0);
        let target = r * base.parse::<u64>().unwrap();
        let low = target / scale;
        assert!(
            got >= low && got <= low + 2 && got * scale <= target + 2 * scale,
            "{dep} {class}: drew {got} over the year for a declared {ratio} of {base}"
        );
        if ["B", "C"].contains(&class) && dep == "SCJG" {
            // An annual ratio (之和) is exact: ceil(R × base).
            assert_eq!(got, target.div_ceil(scale), "{dep} {class}");
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

/// Runs `program` on the fixture program edited by `edit`; returns stderr.
fn refused(edit: impl FnOnce(&mut serde_json::Value), plan_edit: impl FnOnce(&mut String)) -> String {
    let dir = copy();
    let path = dir.path().join("program.json");
    let mut program: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    edit(&mut program);
    std::fs::write(&path, serde_json::to_string_pretty(&program).unwrap()).unwrap();
    let plan = dir.path().join("plan.json");
    let mut text = read(&plan);
    plan_edit(&mut text);
    std::fs::write(&plan, text).unwrap();
    let out = dir.path().join("year");
    let o = bin(&["program", s(&path), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(!out.exists(), "nothing is written");
    stderr(&o).replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn unreachable_frequencies_and_bad_programs_are_refused() {
    // Twice a year at 60 % is more than a cap of one visit per entity.
    assert_eq!(
        refused(
            |p| p["frequencies"]["SCJG"]["D"] = serde_json::json!({"ratio": "0.60", "annual_cap": 1}),
            |_| ()
        ),
        "error: program.json, line 34, field frequencies.SCJG.D: unreachable: SCJG class D draws 78 over the year from a base of 65, more than its annual cap of 1 visit(s) per entity allows\n"
    );
    // A 200-day cooldown: nobody drawn on 1 March can be drawn on 1 September.
    assert_eq!(
        refused(
            |p| p["frequencies"]["SCJG"]["D"] = serde_json::json!({"ratio": "0.60"}),
            |plan| *plan = plan.replace(r#""D": {"cooldown_days": 90}"#, r#""D": {"cooldown_days": 200}"#)
        ),
        "error: program.json, line 34, field frequencies.SCJG.D: unreachable: rounds 2027-1, 2027-2 start within the 200-day cooldown of each other, so nobody can be drawn in two of them, yet SCJG class D draws 78 in them from a base of 65\n"
    );
    // Every class that is drawn needs a frequency.
    assert_eq!(
        refused(
            |p| {
                p["frequencies"]["WLJ"].as_object_mut().unwrap().remove("C");
            },
            |_| ()
        ),
        "error: program.json, line 38, field frequencies.WLJ.C: the program gives no frequency for department WLJ class C (a ratio or an annual_ratio)\n"
    );
    assert_eq!(
        refused(
            |p| p["frequencies"]["NYJ"]["D"]["rounds"] = serde_json::json!(["2027-3"]),
            |_| ()
        ),
        "error: program.json, line 64, field frequencies.NYJ.D.rounds: round \"2027-3\" is not in the program\n"
    );
    assert_eq!(
        refused(|p| p["rounds"][1]["window"]["start"] = "2027-05-20".into(), |_| ()),
        "error: program.json, line 17, field rounds[1].window: round 2027-2 must start after round 2027-1 ends (2027-05-31): each round's visits feed the next\n"
    );
    // A round's plan that breaks a floor: the 3 % of the publicised-information item.
    assert_eq!(
        refused(|p| p["frequencies"]["SCJG"]["A"]["ratio"] = "0.01".into(), |_| ()),
        "error: program.json, line 6, field rounds[0]: the plan of round 2027-1 is refused: items.csv, line 4, field kind: item \"SCJG-03\" must be drawn for at least 0.03 of department \"SCJG\"'s base population (174 of 5790 entities), and the plan's class ratios draw 133\n"
    );
}

#[test]
fn a_program_folder_is_never_replaced() {
    let dir = copy();
    let out = dir.path().join("year");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("round-2027-1.json"), "committed already").unwrap();
    let o = bin(&["program", s(&dir.path().join("program.json")), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: the folder exists already, and a program's plans are never replaced (a round may have been committed from them); choose a new folder\n",
            out.display()
        )
    );
    assert_eq!(read(&out.join("round-2027-1.json")), "committed already");
}

#[test]
fn fairness_simulates_the_programs_year() {
    let dir = copy();
    let json = dir.path().join("year.json");
    let o = bin(&[
        "fairness",
        "--program",
        s(&dir.path().join("program.json")),
        "--runs",
        "20",
        "--seed",
        "year",
        "--json",
        s(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("program 14093020271000: 2 round(s) (2027-1, 2027-2), 20 runs from seed \"year\"\n"),
        "{text}"
    );
    // SCJG B: an annual 6 % of 1,925 is 116, drawn in every run.
    assert!(
        text.contains("\nSCJG       B          on_site   1925     0.06      116    116–116    0.0603      yes    0.0%"),
        "{text}"
    );
    let report: serde_json::Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(report["runs"], 20);
    assert_eq!(report["classes"].as_array().unwrap().len(), 16);
    assert!(
        report["classes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["meets_frequency"] == true)
    );
}

/// A case-driven check is made once: the template's directed checks go to
/// the first round only, unless a round names its own file.
#[test]
fn directed_checks_belong_to_one_round() {
    let dir = copy();
    let year = dir.path().join("year");
    let o = bin(&["program", s(&dir.path().join("program.json")), "--out", s(&year)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&year.join("round-2027-1.json")).contains(r#""directed": "../directed.csv""#));
    assert!(!read(&year.join("round-2027-2.json")).contains("directed"));
    // A round with its own file.
    std::fs::write(
        dir.path().join("directed-autumn.csv"),
        "entity_id,department,reason,item_ids\n91140930QHPGHBHX1P,SCJG,complaint,SCJG-01\n",
    )
    .unwrap();
    let path = dir.path().join("program.json");
    let text = read(&path).replace(
        r#""window": {"start": "2027-09-01", "end": "2027-11-10"}"#,
        r#""window": {"start": "2027-09-01", "end": "2027-11-10"}, "directed": "directed-autumn.csv""#,
    );
    std::fs::write(&path, text).unwrap();
    let autumn = dir.path().join("autumn");
    let o = bin(&["program", s(&path), "--out", s(&autumn)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&autumn.join("round-2027-2.json")).contains(r#""directed": "../directed-autumn.csv""#));
}

/// A program named by a bare file name, run from its own folder: its
/// folder is the current one (this once failed with "cannot make an empty
/// path absolute").
#[test]
fn a_program_named_by_a_bare_file_name_is_read_from_the_current_folder() {
    let dir = copy();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_double-random"))
        .args(["program", "program.json", "--out", "year"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        read(&dir.path().join("year/round-2027-1.json")),
        read(&fixtures().join("year/round-2027-1.json"))
    );
}
