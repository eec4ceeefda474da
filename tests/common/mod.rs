//! Helpers shared by the integration tests: small in-memory inputs.
#![allow(dead_code)]

use std::collections::BTreeMap;

use double_random::{Inputs, Result};

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
