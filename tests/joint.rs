//! Several task draws of one period drawn together: each entity gets the
//! fewest visits that fit all of its tasks' windows.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use double_random::inputs::Window;
use double_random::model::Mode;
use double_random::{Draw, Inputs, JointDraw, Seed};

const SEED: &str = "2027-03-01 lottery 0417 2953";

/// The fixture task (March–May) and two more SCJG tasks: special equipment
/// in April–June (overlapping) and in June–July (after it).
fn tasks() -> (tempfile::TempDir, Vec<Inputs>) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    common::copy_fixture_inputs(dir.path(), &[]);
    // Three tasks in one period need more visits per inspector than one.
    let roster = std::fs::read_to_string(dir.path().join("inspectors.csv")).unwrap();
    let roster: Vec<String> = roster
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            if f[0] != "id" {
                f[6] = "40";
            }
            f.join(",")
        })
        .collect();
    std::fs::write(dir.path().join("inspectors.csv"), roster.join("\n") + "\n").unwrap();
    let plan = std::fs::read_to_string(fixtures.join("plan.json")).unwrap();
    let special = |task: &str, start: &str, end: &str| {
        let scjg_start = plan
            .find(
                r#"    {
      "id": "SCJG""#,
            )
            .unwrap();
        let scjg_end = plan
            .find(
                r#"    {
      "id": "WLJ""#,
            )
            .unwrap();
        let scjg = plan[scjg_start..scjg_end]
            .trim_end()
            .trim_end_matches(',')
            .replace(r#""scope": {}"#, r#""scope": {"industry": ["特种设备使用"]}"#)
            .replace(r#"["SCJG-01", "SCJG-02", "SCJG-03"]"#, r#"["SCJG-04"]"#)
            .replace(r#""0.01""#, r#""0.30""#)
            .replace(r#""0.02""#, r#""0.30""#)
            .replace(r#""0.03""#, r#""0.30""#)
            .replace(r#""0.10""#, r#""0.30""#);
        let head = &plan[..plan.find(r#""departments": ["#).unwrap()];
        let head = head
            .replace(r#""task_id": "140930202703011001""#, &format!(r#""task_id": "{task}""#))
            .replace(
                r#""start": "2027-03-01", "end": "2027-05-31""#,
                &format!(r#""start": "{start}", "end": "{end}""#),
            )
            // Directed checks belong to the fixture task.
            .replace("    \"directed\": \"directed.csv\",\n", "");
        format!("{head}\"departments\": [\n{scjg}\n  ]\n}}\n")
    };
    std::fs::write(
        dir.path().join("special-q2.json"),
        special("140930202704011002", "2027-04-01", "2027-06-30"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("special-q3.json"),
        special("140930202706011003", "2027-06-01", "2027-07-30"),
    )
    .unwrap();
    let inputs = ["special-q3.json", "plan.json", "special-q2.json"]
        .iter()
        .map(|p| Inputs::load(dir.path().join(p)).unwrap())
        .collect();
    (dir, inputs)
}

/// The fewest points stabbing a set of windows, by brute force over the
/// windows' ends (an optimal point can always be moved to some window's end).
fn fewest_points(windows: &[Window]) -> usize {
    let ends: Vec<_> = windows.iter().map(|w| w.end()).collect();
    let n = ends.len();
    (0u32..1 << n)
        .filter(|mask| {
            windows
                .iter()
                .all(|w| (0..n).any(|b| mask & (1 << b) != 0 && w.start() <= ends[b] && ends[b] <= w.end()))
        })
        .map(|m| m.count_ones() as usize)
        .min()
        .unwrap()
}

#[test]
fn the_merge_reaches_the_stabbing_lower_bound() {
    let (_dir, mut inputs) = tasks();
    let joint = JointDraw::run(&mut inputs, &Seed::new(SEED).unwrap()).unwrap();
    // Tasks are ordered by task id.
    let ids: Vec<&str> = inputs.iter().map(|i| i.plan().task_id()).collect();
    assert_eq!(ids, ["140930202703011001", "140930202704011002", "140930202706011003"]);

    // Every (task, department, entity) call, independently of the merge;
    // the selections of off-site classes are reviews, not calls.
    let mut calls: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut reviews: Vec<(usize, String, String)> = Vec::new();
    for (t, (i, d)) in inputs.iter().zip(&joint.draws).enumerate() {
        for (dep, class, _, s) in d.selections() {
            let id = i.population().id(s.entity).to_string();
            if class.mode == Mode::OffSite {
                reviews.push((t, dep.to_string(), id));
                continue;
            }
            calls.entry(id).or_default().push((t, dep.to_string()));
        }
        for c in i.directed() {
            calls
                .entry(c.entity_id.clone())
                .or_default()
                .push((t, c.department.clone()));
        }
    }
    let lower_bound: usize = calls
        .values()
        .map(|c| {
            let mut windows: Vec<Window> = c.iter().map(|(t, _)| inputs[*t].plan().window()).collect();
            windows.dedup();
            fewest_points(&windows)
        })
        .sum();
    assert_eq!(joint.visits.len(), lower_bound);
    // Each off-site selection is one off-site check, due at its task's end.
    let mut checks: Vec<(usize, String, String)> = joint
        .offsite
        .iter()
        .map(|c| {
            (
                c.task,
                c.department.clone(),
                inputs[0].population().id(c.entity).to_string(),
            )
        })
        .collect();
    checks.sort();
    reviews.sort();
    assert!(!reviews.is_empty());
    assert_eq!(checks, reviews);
    for c in &joint.offsite {
        assert_eq!(c.due, inputs[c.task].plan().window().end());
        assert!(c.reviewer.is_some());
    }
    let (separate, merged) = joint.visits_saved();
    assert!(separate > merged, "{separate} department-task visits, {merged} visits");

    // Every visit's date is a working day inside the window of every task it serves.
    let base = &inputs[0];
    for v in &joint.visits {
        let date = v.date.unwrap();
        assert!(base.calendar().is_working_day(date));
        for p in &v.parts {
            for &t in &p.tasks {
                let w = inputs[t].plan().window();
                assert!(
                    w.start() <= date && date <= w.end(),
                    "{} on {date} outside task {t}",
                    v.id
                );
            }
        }
    }
    // Some entity is visited twice (tasks 0 and 2 do not overlap) and some
    // SCJG part serves two tasks at once (tasks 0 and 1 overlap).
    let mut per_entity: BTreeMap<usize, usize> = BTreeMap::new();
    for v in &joint.visits {
        *per_entity.entry(v.entity).or_insert(0) += 1;
    }
    assert!(per_entity.values().any(|&n| n == 2));
    assert!(joint.visits.iter().flat_map(|v| &v.parts).any(|p| p.tasks == [0, 1]));
    assert!(common::broken_team_rules_within(base, &joint.visits).is_empty());
}

#[test]
fn a_joint_draw_of_one_task_is_that_task_s_draw() {
    let inputs = Inputs::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plan.json")).unwrap();
    let seed = Seed::new(SEED).unwrap();
    let single = Draw::run(&inputs, &seed).unwrap();
    let joint = JointDraw::run(&mut [inputs], &seed).unwrap();
    assert_eq!(joint.visits, single.visits);
    assert_eq!(joint.salt, single.salt);
}

#[test]
fn tasks_drawn_together_must_share_their_entity_library() {
    let (dir, _) = tasks();
    let text = std::fs::read_to_string(dir.path().join("special-q2.json")).unwrap();
    std::fs::copy(dir.path().join("entities.csv"), dir.path().join("entities-2.csv")).unwrap();
    let mut bytes = std::fs::read(dir.path().join("entities-2.csv")).unwrap();
    bytes.extend_from_slice("91140930ZZZZZZZZ0X,新店,B,巡镇,住宿,active,2020-01-01,微型\n".as_bytes());
    std::fs::write(dir.path().join("entities-2.csv"), bytes).unwrap();
    std::fs::write(
        dir.path().join("special-q2.json"),
        text.replace(r#""entities": "entities.csv""#, r#""entities": "entities-2.csv""#),
    )
    .unwrap();
    let mut inputs = vec![
        Inputs::load(dir.path().join("plan.json")).unwrap(),
        Inputs::load(dir.path().join("special-q2.json")).unwrap(),
    ];
    let err = JointDraw::run(&mut inputs, &Seed::new(SEED).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "special-q2.json, field inputs.entities: tasks drawn together must share their entities file, and this one differs from task 140930202703011001's"
    );
}

#[test]
fn a_joint_draw_is_written_verified_and_checked_by_python_per_task() {
    let (dir, _) = tasks();
    let plans: Vec<std::path::PathBuf> = ["plan.json", "special-q2.json", "special-q3.json"]
        .iter()
        .map(|p| dir.path().join(p))
        .collect();
    let plan_refs: Vec<&Path> = plans.iter().map(|p| p.as_path()).collect();
    let out = dir.path().join("out");
    let seed = Seed::new(SEED).unwrap();
    let mut drawer = double_random::Drawer::new(seed.clone(), &out);
    for plan in &plan_refs {
        drawer.plan(plan);
    }
    let double_random::Drawn {
        inputs, draw: joint, ..
    } = drawer.run().unwrap();
    let summary = joint.summary(&inputs);
    assert_eq!(summary.matches("DR3 draw: plan ").count(), 3);
    let v = double_random::Verifier::new(out.join("record.json")).run().unwrap();
    assert_eq!(v.differences, Vec::<String>::new());
    let record = std::fs::read_to_string(out.join("record.json")).unwrap();
    assert!(record.contains(r#""path": "../special-q2.json""#));

    // Each task's selection, checked by the independent Python verifier.
    for plan in &plans {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_draw.py");
        let o = std::process::Command::new("python3")
            .arg(script)
            .arg(plan)
            .arg(SEED)
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout), "verified\n", "{}", plan.display());
    }

    // A changed input of the second task is named.
    let path = dir.path().join("special-q2.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("2027-06-30", "2027-06-29")).unwrap();
    let v = double_random::Verifier::new(out.join("record.json")).run().unwrap();
    assert!(
        v.differences[0].starts_with("special-q2.json: sha256 "),
        "{:?}",
        v.differences
    );
}

/// `Outputs::render_joint` is public: given the wrong number of tasks (none
/// at all, or one for a draw of two) it says so instead of panicking.
#[test]
fn rendering_a_joint_draw_needs_one_task_inputs_per_task() {
    let (_dir, mut inputs) = tasks();
    let joint = JointDraw::run(&mut inputs, &Seed::new(SEED).unwrap()).unwrap();
    let err = double_random::audit::Outputs::render_joint(&[], &joint).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "outputs: rendering a draw of {} task(s) needs one TaskInputs per task, and 0 were given",
            inputs.len()
        )
    );
    let one = [double_random::audit::TaskInputs {
        inputs: &inputs[0],
        plan_path: "plan.json",
        commitment: None,
    }];
    assert!(double_random::audit::Outputs::render_joint(&one, &joint).is_err());
}
