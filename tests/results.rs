//! Results, publication and feedback: fixtures/results.csv (written by
//! examples/fixture_results.rs for the fixture draw) publishes to the
//! goldens in fixtures/published, verifies, refuses planted faults with
//! positioned errors, feeds the next round's cooldown, and shows the class
//! gradient it was made with.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::path::Path;
use std::process::{Command, Output};

use cli::{bin, fixtures, read, s, stderr, stdout};

fn publish(results: &Path, out: &Path) -> Output {
    bin(&[
        "publish",
        s(&fixtures().join("golden/record.json")),
        "--results",
        s(results),
        "--on",
        "2027-06-15",
        "--out",
        s(out),
    ])
}

#[test]
fn the_fixture_results_publish_to_the_goldens_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("published");
    let o = publish(&fixtures().join("results.csv"), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "608 results, 68 with a problem; 608 rows published, 546 overdue on 2027-06-15\nwrote {}: public.csv, reclassify.csv, penalties.csv, history-rows.csv, publication.json\n",
            out.display()
        )
    );
    for name in ["public.csv", "reclassify.csv", "penalties.csv", "history-rows.csv"] {
        assert!(
            read(&out.join(name)) == read(&fixtures().join("published").join(name)),
            "{name} differs from fixtures/published/{name}"
        );
    }
    assert_eq!(
        stdout(&bin(&["verify", s(&out.join("publication.json"))])),
        "verified\n"
    );
    assert_eq!(
        stdout(&bin(&["verify", s(&fixtures().join("published/publication.json"))])),
        "verified\n"
    );
    // The deadline is 20 working days after the result date on the draw's
    // calendar: a result of 28 April skips 1–5 May and counts Saturday 8 May,
    // so it is due on 28 May and overdue when published on 15 June.
    let public = read(&out.join("public.csv"));
    let row = public.lines().find(|l| l.contains(",2027-04-28,")).unwrap();
    assert!(row.ends_with(",2027-04-28,2027-05-28,yes"), "{row}");
    assert!(public.starts_with("plan_id,task_id,check_type,method,authority,visit_id,entity_id,entity_name,item_id,item_name,result,result_label,completion_date,deadline,overdue\n14093020271000,140930202703011001,不定向,现场,河曲县市场监督管理局,V000001,"));
    // Off-site checks are published too, as 非现场.
    assert!(
        public
            .lines()
            .any(|l| l.contains(",非现场,") && l.contains(",R000001,"))
    );
    // A tampered publication is found out.
    std::fs::write(
        out.join("public.csv"),
        public.replacen(",1,未发现问题,", ",B,未按规定公示应当公示的信息,", 1),
    )
    .unwrap();
    let v = bin(&["verify", s(&out.join("publication.json"))]);
    assert_eq!(v.status.code(), Some(1));
    assert_eq!(
        stdout(&v),
        "public.csv: differs from the publication made again\nnot verified: 1 difference(s)\n"
    );
}

/// Writes the fixture results with `edit` applied to its lines (and the
/// index of V000001's first row, line `index + 1` of the file) and
/// publishes them; returns the error.
fn refused(edit: impl FnOnce(&mut Vec<String>, usize)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = read(&fixtures().join("results.csv"))
        .lines()
        .map(String::from)
        .collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("V000001,SCJG,SCJG-01,"))
        .unwrap();
    assert_eq!(first, 208, "the 69 off-site checks' 207 rows come first");
    edit(&mut lines, first);
    let results = dir.path().join("results.csv");
    std::fs::write(&results, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("published");
    let o = publish(&results, &out);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(!out.exists(), "nothing is written");
    stderr(&o).replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn planted_faults_are_refused_with_positioned_errors() {
    // A result for a visit the draw never made.
    assert_eq!(
        refused(|l, k| l[k] = l[k].replacen("V000001", "V999999", 1)),
        "error: results.csv, line 209, field visit_id: unknown visit or off-site check of the draw \"V999999\"\n"
    );
    // A missing item.
    assert_eq!(
        refused(|l, k| {
            l.remove(k + 1);
        }),
        "error: results.csv: no result for V000001 SCJG SCJG-02; every item of every visit part and off-site check needs one\n"
    );
    // A result dated before the visit (V000001 is on 2027-05-20).
    assert_eq!(
        refused(|l, k| l[k] = l[k].replace(",2027-05-25,", ",2027-05-19,")),
        "error: results.csv, line 209, field result_date: the result date 2027-05-19 is before the visit on 2027-05-20\n"
    );
    // An unknown result code.
    assert_eq!(
        refused(|l, k| l[k] = l[k].replace("SCJG-01,1,", "SCJG-01,Z,")),
        "error: results.csv, line 209, field result: \"Z\" is not a result code (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, B, C, D, E, F, G, P) or its Chinese label\n"
    );
    // The same item twice.
    assert_eq!(
        refused(|l, k| l[k + 1] = l[k].clone()),
        "error: results.csv, line 210, field item_id: a second result for V000001 SCJG SCJG-01 (the first is on line 209)\n"
    );
    // An item the department does not check in that visit.
    assert_eq!(
        refused(|l, k| l[k] = l[k].replace("SCJG-01", "SCJG-04")),
        "error: results.csv, line 209, field item_id: item \"SCJG-04\" is not checked by SCJG in V000001 (its items: SCJG-01;SCJG-02;SCJG-03)\n"
    );
    // A penalty with no date.
    assert_eq!(
        refused(|l, k| l[k] = l[k].replace(",,,", ",,warning,")),
        "error: results.csv, line 209, field penalty_date: a penalty needs the date it was decided (penalty_date)\n"
    );
}

/// The round's visits, as history rows, put every visited entity inside
/// the next round's cooldown.
#[test]
fn the_history_rows_feed_the_next_rounds_cooldown() {
    let dir = tempfile::tempdir().unwrap();
    // The fixture inputs, whose history.csv and plan.json are replaced below.
    common::copy_fixture_inputs(dir.path(), &[]);
    let rows = read(&fixtures().join("published/history-rows.csv"));
    let history = read(&fixtures().join("history.csv")) + rows.split_once('\n').unwrap().1;
    std::fs::write(dir.path().join("history.csv"), history).unwrap();
    let plan = read(&fixtures().join("plan.json"))
        .replace(
            r#""start": "2027-03-01", "end": "2027-05-31""#,
            r#""start": "2027-06-01", "end": "2027-08-31""#,
        )
        .replace(r#""round_id": "2027-1""#, r#""round_id": "2027-2""#)
        .replace("    \"directed\": \"directed.csv\",\n", "");
    std::fs::write(dir.path().join("plan.json"), plan).unwrap();
    let out = dir.path().join("round-2");
    let o = bin(&[
        "draw",
        "--plan",
        s(&dir.path().join("plan.json")),
        "--seed",
        "round 2",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let selection = read(&out.join("selection.csv"));
    let exclusions = read(&out.join("exclusions.csv"));
    let visited: std::collections::BTreeSet<&str> =
        rows.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert!(visited.len() > 100);
    // Each is excluded, by the cooldown unless an earlier reason (the
    // observation period of a new A or B entity) comes first.
    let mut cooled = 0;
    for id in &visited {
        assert!(!selection.contains(&format!(",{id},")), "{id} drawn again");
        let reason = exclusions
            .lines()
            .find(|l| l.contains(&format!(",SCJG,{id},")))
            .and_then(|l| l.rsplit(',').next())
            .unwrap_or_else(|| panic!("{id} is not excluded"));
        assert!(["cooldown", "observation"].contains(&reason), "{id}: {reason}");
        cooled += usize::from(reason == "cooldown");
    }
    assert!(cooled * 10 >= visited.len() * 9, "{cooled} of {}", visited.len());
}

#[test]
fn the_calibration_finds_the_planted_class_gradient() {
    let o = bin(&["calibrate", s(&fixtures().join("published/publication.json"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let rate = |class: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(&format!("{class:<14} "))).unwrap();
        line.split_whitespace()
            .nth(3)
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap()
    };
    assert!(
        rate("A") < rate("B") && rate("B") < rate("C") && rate("C") < rate("D"),
        "{text}"
    );
    assert!(
        text.contains(
            "trend A→D (Cochran–Armitage): z = 7.64, one-sided p = 1.05e-14: the problem rate rises with the class"
        ),
        "{text}"
    );
}

/// One notice per visit and off-site check, in Chinese, and the
/// pre-warning list: every registered C and D entity, and the classes the
/// results raise.
#[test]
fn notices_tell_each_enterprise_once_and_warn_the_high_risk_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("notices");
    let o = bin(&[
        "notices",
        s(&fixtures().join("golden/record.json")),
        "--reclassify",
        s(&fixtures().join("published/reclassify.csv")),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let notices = read(&out.join("notices.csv"));
    // 144 visits and 69 off-site checks.
    assert_eq!(notices.lines().count() - 1, 213);
    let joint = notices.lines().find(|l| l.contains(",V000008,")).unwrap();
    assert!(
        joint.contains(
            "河曲县市场监督管理局、河曲县文化和旅游局将于2027年04月22日联合上门检查一次（进一次门、查多项事）"
        ),
        "{joint}"
    );
    let offsite = notices.lines().find(|l| l.contains(",R000001,")).unwrap();
    assert!(
        offsite.contains(",非现场,2027-05-31,") && offsite.contains("进行非现场检查"),
        "{offsite}"
    );
    // The pre-warning list.
    let entities = read(&fixtures().join("entities.csv"));
    let high: std::collections::BTreeSet<&str> = entities
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| (f[2] == "C" || f[2] == "D") && (f[5] == "active" || f[5] == "suspended"))
        .map(|f| f[0])
        .collect();
    let reclassify = read(&fixtures().join("published/reclassify.csv"));
    let rose: std::collections::BTreeSet<&str> = reclassify
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let warned = read(&out.join("prewarning.csv"));
    let listed: std::collections::BTreeSet<&str> =
        warned.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(listed, high.union(&rose).copied().collect());
    assert!(warned.contains(",B,class rose from B to C\n"), "{warned}");
    // Never over an existing folder.
    let again = bin(&["notices", s(&fixtures().join("golden/record.json")), "--out", s(&out)]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn calibrate_writes_json_and_svg_and_refuses_to_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let (json, svg) = (dir.path().join("calibration.json"), dir.path().join("calibration.svg"));
    let publication = fixtures().join("published/publication.json");
    let o = bin(&["calibrate", s(&publication), "--json", s(&json), "--svg", s(&svg)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(report["classes"].as_array().unwrap().len(), 4);
    assert_eq!(report["all"]["checked"], 203);
    assert!(read(&svg).starts_with("<svg"));
    // --force never replaces the publication it reads.
    let o = bin(&["calibrate", s(&publication), "--json", s(&publication), "--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(read(&publication).contains("\"kind\": \"publication\""));
}

/// The Python publication checker (standard library only) agrees with the
/// crate on the fixture publication, and finds a deadline moved even when
/// the publication record's digest was updated to match.
#[test]
fn the_python_checker_verifies_the_publication_independently() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_publication.py");
    let python = |publication: &Path| {
        Command::new("python3")
            .arg(&script)
            .arg(publication)
            .output()
            .expect("python3 runs (the CI script installs it when missing)")
    };
    let o = python(&fixtures().join("published/publication.json"));
    assert_eq!(
        (stdout(&o), o.status.code()),
        ("verified\n".to_string(), Some(0)),
        "{}",
        stderr(&o)
    );
    // A copy whose public.csv moves one deadline, its digest updated in the record.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("published");
    assert!(publish(&fixtures().join("results.csv"), &out).status.success());
    let public = read(&out.join("public.csv"));
    let moved = public.replacen(",2027-05-25,2027-06-22,", ",2027-05-25,2027-06-29,", 1);
    assert_ne!(moved, public);
    std::fs::write(out.join("public.csv"), &moved).unwrap();
    let digest = |text: &str| {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    let record = read(&out.join("publication.json")).replace(&digest(&public), &digest(&moved));
    std::fs::write(out.join("publication.json"), record).unwrap();
    let o = python(&out.join("publication.json"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains(": the deadline is 2027-06-22, not 2027-06-29\n"),
        "{}",
        stdout(&o)
    );
    // And the crate's verify finds it too.
    let v = bin(&["verify", s(&out.join("publication.json"))]);
    assert_eq!(v.status.code(), Some(1));
}

/// A joint draw of two tasks publishes too: each task's rows name its own
/// task and items, an item two merged tasks share is published for each,
/// and the publication verifies.
#[test]
fn a_joint_draw_publishes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    // A second task of SCJG's licence item at 0.5 %, April to June, beside the fixture task.
    let mut plan: serde_json::Value = serde_json::from_str(&read(&fixtures().join("plan.json"))).unwrap();
    plan["task_id"] = "140930202704011002".into();
    plan["window"] = serde_json::json!({"start": "2027-04-01", "end": "2027-06-30"});
    plan["inputs"].as_object_mut().unwrap().remove("directed");
    let scjg = &mut plan["departments"][0];
    scjg["items"] = serde_json::json!(["SCJG-01"]);
    for class in ["A", "B", "C", "D"] {
        scjg["classes"][class]["ratio"] = "0.005".into();
    }
    std::fs::write(
        dir.path().join("plan2.json"),
        serde_json::to_string_pretty(&plan).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = bin(&[
        "draw",
        "--plan",
        s(&dir.path().join("plan.json")),
        "--plan",
        s(&dir.path().join("plan2.json")),
        "--seed",
        "joint",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every item clean, recorded on the visit day (an off-site check: on its task's last day).
    let drawn = double_random::results::DrawnParts::read(&out.join("record.json")).unwrap();
    let mut results = String::from("visit_id,department,item_id,result,result_date\n");
    let mut shared = 0;
    for part in drawn.parts.values() {
        let day = part.date.map_or_else(
            || {
                if part.tasks[0].0 == "140930202704011002" {
                    "2027-06-30"
                } else {
                    "2027-05-31"
                }
                .to_string()
            },
            |d| d.to_string(),
        );
        shared += usize::from(part.tasks.len() > 1);
        for item in part.items() {
            results.push_str(&format!("{},{},{item},1,{day}\n", part.visit_id, part.department));
        }
    }
    assert!(shared > 0, "some visits serve both tasks");
    std::fs::write(dir.path().join("results.csv"), results).unwrap();
    let published = dir.path().join("published");
    let o = bin(&[
        "publish",
        s(&out.join("record.json")),
        "--results",
        s(&dir.path().join("results.csv")),
        "--on",
        "2027-07-15",
        "--out",
        s(&published),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = read(&published.join("public.csv"));
    assert!(public.lines().any(|l| l.contains(",140930202704011002,")));
    assert!(public.lines().any(|l| l.contains(",140930202703011001,")));
    assert_eq!(
        stdout(&bin(&["verify", s(&published.join("publication.json"))])),
        "verified\n"
    );
}
