//! Helpers shared by the integration tests: small in-memory inputs.
#![allow(dead_code)]

use std::collections::BTreeMap;

use double_random::{Inputs, Result};

/// The fixture's input files, the plan first.
pub const FIXTURE_INPUTS: [&str; 8] = [
    "plan.json",
    "entities.csv",
    "items.csv",
    "history.csv",
    "directed.csv",
    "calendar.csv",
    "inspectors.csv",
    "conflicts.csv",
];

/// Copies the fixture's input files, and the `extra` fixture files, into `dir`.
pub fn copy_fixture_inputs(dir: &std::path::Path, extra: &[&str]) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in FIXTURE_INPUTS.iter().chain(extra) {
        std::fs::copy(fixtures.join(name), dir.join(name)).unwrap();
    }
}

pub const HEADER: &str = "id,name,risk_class,region,industry,status,established";

pub const ITEMS: &str = "id,department,name,kind,max_ratio,legal_basis,method,qualification
S1,S,licence use,general,1,basis,on-site,
S2,S,public information,key,,basis,written,
W1,W,travel agency,key,,basis,on-site,
";

/// A plan with departments S (everything) and W (industry `travel`), with the given ratios.
pub fn plan(ratios: [&str; 4], extra: &str) -> String {
    let classes = format!(
        r#"{{"A": {{"ratio": "{}"}}, "B": {{"ratio": "{}"}}, "C": {{"ratio": "{}"}}, "D": {{"ratio": "{}"}}}}"#,
        ratios[0], ratios[1], ratios[2], ratios[3]
    );
    format!(
        r#"{{
  "plan_id": "P1",
  "task_id": "T1",
  "round_id": "1",
  "window": {{"start": "2027-03-01", "end": "2027-05-31"}},
  "lead_department": "S",
  "inputs": {{"entities": "entities.csv", "items": "items.csv", "history": "history.csv", "directed": "directed.csv"}},
  "unclassified_class": "B",{extra}
  "departments": [
    {{"id": "S", "items": ["S1", "S2"], "classes": {classes}}},
    {{"id": "W", "scope": {{"industry": ["travel"]}}, "items": ["W1"], "classes": {classes}}}
  ]
}}"#
    )
}

/// Loads in-memory files; `files` maps names to contents.
pub fn load(plan: &str, files: &BTreeMap<&str, String>) -> Result<Inputs> {
    Inputs::from_files("plan.json", plan.as_bytes(), |p| {
        files
            .get(p)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
            .map_err(|e| {
                double_random::Error::from(double_random::ErrorKind::Io {
                    path: p.into(),
                    source: e,
                })
            })
    })
}

/// A default set of files around an entity CSV body (without header).
pub fn files(entities: &str) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("entities.csv", format!("{HEADER}\n{entities}"));
    m.insert("items.csv", ITEMS.to_string());
    m.insert(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\n".to_string(),
    );
    m.insert("directed.csv", "entity_id,department,reason,item_ids\n".to_string());
    m
}

/// A generated entity row.
pub fn entity_row(i: usize, class: &str, region: &str, industry: &str, status: &str) -> String {
    format!("E{i:05},Entity {i},{class},{region},{industry},{status},2015-01-01\n")
}

/// Inspector CSV header.
pub const INSPECTOR_HEADER: &str =
    "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable";

/// A team-sized instance: `entities` entities all drawn (ratio 1), in 20
/// regions; departments S (everyone), W (travel), N (pesticide) and G
/// (chemicals), so about a third of the visits are joint; `per_department`
/// inspectors on each roster. Returns the plan and the files.
pub fn team_instance(entities: usize, per_department: usize, seed: u64) -> (String, BTreeMap<&'static str, String>) {
    // A small linear congruential generator: test data only, never a selection.
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let industries = ["retail", "retail", "retail", "travel", "pesticide", "chemicals"];
    let mut rows = String::new();
    for i in 0..entities {
        let industry = industries[next(industries.len() as u64) as usize];
        let region = format!("R{:02}", next(20));
        rows.push_str(&format!("E{i:07},Entity {i},C,{region},{industry},active,2010-01-01\n"));
    }
    let mut inspectors = format!("{INSPECTOR_HEADER}\n");
    let seats_s = entities as u64 * 2;
    for (dep, tag, seats) in [
        ("S", "", seats_s),
        ("W", "", seats_s / 6),
        ("N", "pest", seats_s / 6),
        ("G", "chem", seats_s / 6),
    ] {
        let max_visits = seats / per_department as u64 + 4;
        let max_per_day = max_visits / 40 + 2;
        for k in 0..per_department {
            let tags = if !tag.is_empty() && next(3) > 0 { tag } else { "" };
            let station = format!("R{:02}", next(20));
            inspectors.push_str(&format!(
                "{dep}{k:04},Inspector {k},{dep},{station},2030-12-31,{tags},{max_visits},{max_per_day},\n"
            ));
        }
    }
    let items = "id,department,name,kind,max_ratio,legal_basis,method,qualification
S1,S,licence use,key,,,,
W1,W,travel agency,key,,,,
N1,N,pesticide licence,key,,,,pest
G1,G,precursor chemicals,key,,,,chem
";
    let classes = r#"{"A": {"ratio": "1"}, "B": {"ratio": "1"}, "C": {"ratio": "1"}, "D": {"ratio": "1"}}"#;
    let plan = format!(
        r#"{{
  "plan_id": "P", "task_id": "T", "round_id": "1",
  "window": {{"start": "2027-03-01", "end": "2027-05-31"}},
  "lead_department": "S",
  "inputs": {{"entities": "entities.csv", "items": "items.csv", "inspectors": "inspectors.csv"}},
  "departments": [
    {{"id": "S", "items": ["S1"], "classes": {classes}}},
    {{"id": "W", "scope": {{"industry": ["travel"]}}, "items": ["W1"], "classes": {classes}}},
    {{"id": "N", "scope": {{"industry": ["pesticide"]}}, "items": ["N1"], "classes": {classes}}},
    {{"id": "G", "scope": {{"industry": ["chemicals"]}}, "items": ["G1"], "classes": {classes}}}
  ]
}}"#
    );
    let mut files = BTreeMap::new();
    files.insert("entities.csv", format!("{HEADER}\n{rows}"));
    files.insert("items.csv", items.to_string());
    files.insert("inspectors.csv", inspectors);
    (plan, files)
}

/// An independent check of every hard team rule on a draw; returns each
/// broken rule as a sentence. It shares no code with the assigner.
pub fn broken_team_rules(inputs: &Inputs, draw: &double_random::Draw) -> Vec<String> {
    let mut broken = broken_team_rules_within(inputs, &draw.visits);
    broken.extend(broken_review_rules(inputs, &draw.offsite));
    for v in &draw.visits {
        let w = inputs.plan().window();
        if v.date.is_some_and(|d| d < w.start() || d > w.end()) {
            broken.push(format!("{}: outside the task window", v.id));
        }
    }
    broken
}

/// Every rule an off-site check's reviewer must keep, checked from the
/// inputs alone: one reviewer of the department, a certificate valid on the
/// due date, every qualification of the items, no recusal, another station
/// under the cross-station rule, and, taking the checks in id order, no
/// eligible inspector with fewer reviews so far than the one chosen.
pub fn broken_review_rules(inputs: &Inputs, checks: &[double_random::visit::OffSiteCheck]) -> Vec<String> {
    use double_random::inputs::CrossStation;
    let mut broken = Vec::new();
    if inputs.inspectors().is_empty() {
        return broken;
    }
    let mut load: BTreeMap<&str, u32> = BTreeMap::new();
    for c in checks {
        let e = inputs.population().entity(c.entity);
        let eligible = |i: &double_random::inputs::Inspector| {
            i.department == c.department
                && i.certificate_valid_until >= c.due
                && c.items.iter().all(|id| {
                    let item = inputs.items().iter().find(|it| &it.id == id).unwrap();
                    item.qualification.as_ref().is_none_or(|q| i.qualifications.contains(q))
                })
                && !inputs
                    .conflicts()
                    .iter()
                    .any(|x| x.inspector_id == i.id && x.entity_id == e.id())
                && !(inputs.plan().teams().cross_station == CrossStation::ExcludeHome && i.station == e.region())
        };
        let Some(reviewer) = c.reviewer.as_deref() else {
            broken.push(format!("{}: no reviewer", c.id));
            continue;
        };
        let Some(ins) = inputs.inspectors().iter().find(|i| i.id == reviewer) else {
            broken.push(format!("{}: reviewer {reviewer} is not on the roster", c.id));
            continue;
        };
        if !eligible(ins) {
            broken.push(format!("{}: reviewer {reviewer} may not review it", c.id));
        }
        let before = load.get(reviewer).copied().unwrap_or(0);
        for other in inputs.inspectors().iter().filter(|i| eligible(i)) {
            if load.get(other.id.as_str()).copied().unwrap_or(0) < before {
                broken.push(format!("{}: {} had fewer reviews than {reviewer}", c.id, other.id));
            }
        }
        *load.entry(reviewer).or_insert(0) += 1;
    }
    broken
}

/// [`broken_team_rules`] for visits of one or more tasks sharing `inputs`'
/// entity library, inspectors and rules; dates are checked against each
/// visit's own window.
pub fn broken_team_rules_within(inputs: &Inputs, visits: &[double_random::visit::Visit]) -> Vec<String> {
    use std::collections::BTreeSet;
    let mut broken = Vec::new();
    let plan = &inputs.plan();
    let by_id: BTreeMap<&str, &double_random::inputs::Inspector> =
        inputs.inspectors().iter().map(|i| (i.id.as_str(), i)).collect();
    let recused: BTreeSet<(&str, &str)> = inputs
        .conflicts()
        .iter()
        .map(|c| (c.inspector_id.as_str(), c.entity_id.as_str()))
        .collect();
    let mut load: BTreeMap<&str, u32> = BTreeMap::new();
    let mut day_load: BTreeMap<(&str, chrono::NaiveDate), u32> = BTreeMap::new();
    for v in visits {
        let e = inputs.population().entity(v.entity);
        let Some(date) = v.date else {
            broken.push(format!("{}: no date", v.id));
            continue;
        };
        if date < v.window.start() || date > v.window.end() || !inputs.calendar().is_working_day(date) {
            broken.push(format!("{}: {date} is not a working day of the window", v.id));
        }
        if inputs.inspectors().is_empty() {
            continue;
        }
        let team: Vec<&str> = v
            .parts
            .iter()
            .flat_map(|p| p.inspectors.iter().map(String::as_str))
            .collect();
        if team.len() < 2 {
            broken.push(format!("{}: a team of {}", v.id, team.len()));
        }
        if team.iter().collect::<BTreeSet<_>>().len() != team.len() {
            broken.push(format!("{}: an inspector twice", v.id));
        }
        if !v.leader.as_deref().is_some_and(|l| team.contains(&l)) {
            broken.push(format!("{}: the leader is not on the team", v.id));
        }
        for p in &v.parts {
            let need = if v.parts.len() == 1 {
                plan.teams().single_department
            } else {
                plan.teams().per_department
            };
            let tags: BTreeSet<&str> = p
                .items
                .iter()
                .filter_map(|id| inputs.items().iter().find(|i| &i.id == id))
                .filter_map(|i| i.qualification.as_deref())
                .collect();
            if (p.inspectors.len() as u32) < need.max(tags.len() as u32) {
                broken.push(format!("{} {}: {} inspectors", v.id, p.department, p.inspectors.len()));
            }
            // Distinct holders for the tags: try every assignment (teams are small).
            let members: Vec<&double_random::inputs::Inspector> = p
                .inspectors
                .iter()
                .filter_map(|id| by_id.get(id.as_str()).copied())
                .collect();
            let tags: Vec<&str> = tags.into_iter().collect();
            fn cover(tags: &[&str], members: &[&double_random::inputs::Inspector], used: &mut Vec<bool>) -> bool {
                let Some((first, rest)) = tags.split_first() else {
                    return true;
                };
                for k in 0..members.len() {
                    if !used[k] && members[k].qualifications.contains(*first) {
                        used[k] = true;
                        if cover(rest, members, used) {
                            return true;
                        }
                        used[k] = false;
                    }
                }
                false
            }
            if !cover(&tags, &members, &mut vec![false; members.len()]) {
                broken.push(format!(
                    "{} {}: tags {tags:?} not held by distinct members",
                    v.id, p.department
                ));
            }
            let previous: BTreeSet<&str> = {
                let last = inputs
                    .history()
                    .iter()
                    .filter(|h| h.entity() == e.index() && h.department() == p.department)
                    .map(|h| h.date())
                    .max();
                inputs
                    .history()
                    .iter()
                    .filter(|h| h.entity() == e.index() && h.department() == p.department && Some(h.date()) == last)
                    .flat_map(|h| h.inspectors())
                    .collect()
            };
            for id in &p.inspectors {
                let Some(i) = by_id.get(id.as_str()) else {
                    broken.push(format!("{}: unknown inspector {id}", v.id));
                    continue;
                };
                let mut fail = |rule: &str| broken.push(format!("{} {}: {id} {rule}", v.id, p.department));
                if i.department != p.department {
                    fail("is from another department");
                }
                if i.certificate_valid_until < date {
                    fail("has an expired certificate");
                }
                if i.unavailable.contains(&date) {
                    fail("is unavailable");
                }
                if recused.contains(&(id.as_str(), e.id())) {
                    fail("is recused");
                }
                if plan.teams().rotation == double_random::inputs::Rotation::ExcludePrevious
                    && previous.contains(id.as_str())
                {
                    fail("inspected the previous visit");
                }
                if plan.teams().cross_station == double_random::inputs::CrossStation::ExcludeHome
                    && i.station == e.region()
                {
                    fail("is from the entity's own station");
                }
                *load.entry(id.as_str()).or_insert(0) += 1;
                *day_load.entry((id.as_str(), date)).or_insert(0) += 1;
            }
        }
    }
    for (id, n) in &load {
        if *n > by_id[id].max_visits {
            broken.push(format!("{id}: {n} visits, over max_visits"));
        }
    }
    for ((id, date), n) in &day_load {
        if *n > by_id[id].max_per_day {
            broken.push(format!("{id}: {n} visits on {date}, over max_per_day"));
        }
    }
    broken
}

/// A file of the fixtures.
pub fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}
