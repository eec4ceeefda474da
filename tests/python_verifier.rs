//! The independent Python verifier (standard library only) agrees with the
//! Rust draw on the fixtures and on a synthetic population, and catches a
//! changed selection.

use std::path::Path;
use std::process::Command;

use double_random::synth::synth;
use double_random::{Drawer, Seed};

fn python(plan: &Path, seed: &str, dir: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_draw.py");
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
    Drawer::new(Seed::new(seed).unwrap(), &out)
        .plan(data.join("plan.json"))
        .run()
        .unwrap();
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

/// Values a spreadsheet would run as formulas (ids, names, strata, the
/// task id) reach no output CSV file as they are: each gets a `'` in
/// front, the same rule in the draw, in `verify` and in the Python
/// verifier, which all agree on the result.
#[test]
fn formula_like_values_are_neutralised_the_same_way_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let hyperlink = r#"=HYPERLINK("http://example.com/x","点击")"#;
    let entities = format!(
        "id,name,risk_class,region,industry,status,established\n\
         =1+1,\"{}\",D,=cmd|' /C calc'!A0,retail,active,2015-01-01\n\
         -E2,@SUM(A1:A9),D,\tNorth,retail,active,2016-01-01\n\
         +E3,\"\rShop\",D,North,retail,active,2017-01-01\n\
         E4,Plain shop,D,North,retail,active,2018-01-01\n",
        hyperlink.replace('"', "\"\"")
    );
    std::fs::write(dir.path().join("entities.csv"), entities).unwrap();
    std::fs::write(
        dir.path().join("items.csv"),
        "id,department,name,kind,max_ratio\n-S1,=S,+licence,key,\n",
    )
    .unwrap();
    let plan = r#"{"plan_id": "@P1", "task_id": "=T1", "round_id": "-1",
  "window": {"start": "2027-03-01", "end": "2027-05-31"}, "lead_department": "=S",
  "inputs": {"entities": "entities.csv", "items": "items.csv"},
  "departments": [{"id": "=S", "name": "=2+3", "items": ["-S1"], "classes": {
    "A": {"ratio": "1"}, "B": {"ratio": "1"}, "C": {"ratio": "1"}, "D": {"ratio": "1"}}}]}"#;
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan).unwrap();
    let out = dir.path().join("out");
    let seed = "formulas";
    Drawer::new(Seed::new(seed).unwrap(), &out)
        .plan(&plan_path)
        .run()
        .unwrap();

    let mut cells = 0;
    for name in [
        "selection.csv",
        "strata.csv",
        "exclusions.csv",
        "visits.csv",
        "public.csv",
    ] {
        let mut reader = csv::Reader::from_path(out.join(name)).unwrap();
        for row in reader.records() {
            for value in row.unwrap().iter() {
                cells += 1;
                assert!(
                    !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{name}: {value:?} would run as a formula"
                );
            }
        }
    }
    assert!(cells > 50);
    let public = std::fs::read_to_string(out.join("public.csv")).unwrap();
    assert!(
        public.contains(&format!("\"'{}\"", hyperlink.replace('"', "\"\""))),
        "{public}"
    );
    assert!(public.contains(",'@SUM(A1:A9),"), "{public}");
    assert!(public.starts_with(
        "plan_id,task_id,department,visit_id,entity_id,entity_name,items,visit_date,result,deadline\n'@P1,'=T1,'=S,"
    ));
    let selection = std::fs::read_to_string(out.join("selection.csv")).unwrap();
    assert!(
        selection.contains("'=T1,'=S,'=1+1,D,'=cmd|' /C calc'!A0,"),
        "{selection}"
    );
    assert!(selection.contains("'=T1,'=S,'-E2,D,'\tNorth,"), "{selection}");

    let v = double_random::Verifier::new(out.join("record.json")).run().unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    let (code, text) = python(&plan_path, seed, &out);
    assert_eq!((code, text.as_str()), (0, "verified\n"));
}

/// Which past visits the cooldown and the annual cap count (DR3): by
/// default a directed visit starts a cooldown but does not use up the
/// annual cap; `annual_cap_counts` and `cooldown_counts` change that, and
/// `class_limits` sets a class's own cooldown and cap. The draw and the
/// Python verifier agree in every case.
#[test]
fn the_cap_and_the_cooldown_count_the_kinds_the_plan_names() {
    let dir = tempfile::tempdir().unwrap();
    let entities = "id,name,risk_class,region,industry,status,established\n\
        E1,Twice directed,D,North,retail,active,2015-01-01\n\
        E2,Twice random,D,North,retail,active,2015-01-01\n\
        E3,Directed lately,D,North,retail,active,2015-01-01\n\
        E4,Never visited,D,North,retail,active,2015-01-01\n";
    // E1 and E2: two visits early in the year, before any cooldown; E3: a
    // directed visit a week before the window.
    let history = "entity_id,department,date,kind,inspector_ids\n\
        E1,S,2027-01-05,directed,X1\nE1,S,2027-01-20,directed,X2\n\
        E2,S,2027-01-05,random,X1\nE2,S,2027-01-20,random,X2\n\
        E3,S,2027-02-22,directed,X1\n";
    for (name, text) in [
        ("entities.csv", entities),
        ("history.csv", history),
        ("items.csv", "id,department,name,kind,max_ratio\nS1,S,licence,key,\n"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let excluded = |extra: &str, name: &str| -> Vec<String> {
        let plan = format!(
            r#"{{"plan_id": "P1", "task_id": "T1", "round_id": "1",
  "window": {{"start": "2027-03-01", "end": "2027-05-31"}}, "lead_department": "S",
  "inputs": {{"entities": "entities.csv", "items": "items.csv", "history": "history.csv"}},
  "cooldown_days": 30, "annual_cap": 2{extra},
  "departments": [{{"id": "S", "items": ["S1"], "classes": {{
    "A": {{"ratio": "1"}}, "B": {{"ratio": "1"}}, "C": {{"ratio": "1"}}, "D": {{"ratio": "1"}}}}}}]}}"#
        );
        let plan_path = dir.path().join(format!("{name}.json"));
        std::fs::write(&plan_path, plan).unwrap();
        let out = dir.path().join(name);
        Drawer::new(Seed::new("kinds").unwrap(), &out)
            .plan(&plan_path)
            .run()
            .unwrap();
        assert_eq!(
            python(&plan_path, "kinds", &out),
            (0, "verified\n".to_string()),
            "{name}"
        );
        let text = std::fs::read_to_string(out.join("exclusions.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').skip(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(excluded("", "default"), ["E2,D,annual_cap", "E3,D,cooldown"]);
    assert_eq!(
        excluded(r#", "annual_cap_counts": ["random", "directed"]"#, "cap-counts-all"),
        ["E1,D,annual_cap", "E2,D,annual_cap", "E3,D,cooldown"]
    );
    assert_eq!(
        excluded(r#", "cooldown_counts": ["random"]"#, "cooldown-counts-random"),
        ["E2,D,annual_cap"]
    );
    // Per-class limits replace the plan-wide ones for that class only.
    assert_eq!(
        excluded(r#", "class_limits": {"D": {"annual_cap": 3}}"#, "class-d-cap-3"),
        ["E3,D,cooldown"]
    );
    assert_eq!(
        excluded(
            r#", "class_limits": {"D": {"cooldown_days": 0}}"#,
            "class-d-no-cooldown"
        ),
        ["E2,D,annual_cap"]
    );
    assert_eq!(
        excluded(
            r#", "class_limits": {"A": {"cooldown_days": 0, "annual_cap": 9}}"#,
            "class-a-only"
        ),
        ["E2,D,annual_cap", "E3,D,cooldown"]
    );
}
