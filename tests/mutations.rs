//! Random byte mutations of every input never panic: each mutated set of
//! files either loads and draws (with teams) or gives an error. The
//! cargo-fuzz targets in `fuzz/` do the same at length; these run in CI.

mod common;

use std::collections::BTreeMap;

use double_random::{Draw, Seed};
use proptest::prelude::*;

const INSPECTORS: &str = "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable\n\
    S1,a,S,North,2029-12-31,,12,3,\nS2,b,S,South,2029-12-31,,12,3,2027-04-21\nS3,e,S,East,2029-12-31,,12,3,\n\
    W1,c,W,North,2029-12-31,,12,3,\nW2,d,W,South,2029-12-31,,12,3,\n";

fn inputs() -> (String, BTreeMap<&'static str, String>) {
    let plan = common::plan(["0.5", "0.5", "0.5", "1"], r#" "strata": ["region"], "cooldown_days": 30,"#).replace(
        r#""directed": "directed.csv"}"#,
        r#""directed": "directed.csv", "calendar": "calendar.csv", "inspectors": "inspectors.csv", "conflicts": "conflicts.csv"}"#,
    );
    let mut files = common::files(
        "E1,Shop 1,A,North,retail,active,2015-01-01\nE2,\"Shop, 2\",B,North,travel,active,2016-01-01\n\
         E3,Shop 3,B,South,retail,suspended,2017-01-01\nE4,Shop 4,C,South,travel,active,\n\
         E5,Shop 5,,East,retail,active,2018-05-05\nE6,Shop 6,D,East,retail,revoked,2010-01-01\n",
    );
    files.insert(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE1,S,2026-10-05,random,S1\nE4,W,2027-02-20,directed,W1\n".into(),
    );
    files.insert(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE2,W,complaint,W1\n".into(),
    );
    files.insert("inspectors.csv", INSPECTORS.into());
    files.insert(
        "conflicts.csv",
        "inspector_id,entity_id,reason\nS1,E3,relative\n".into(),
    );
    files.insert("calendar.csv", "date,kind,name\n2027-04-05,holiday,x\n".into());
    (plan, files)
}

/// Applies edits (position, operation, byte) to `text`.
fn mutate(text: &[u8], edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for (at, op, b) in edits {
        let i = at.index(bytes.len() + 1);
        match op % 3 {
            0 if i < bytes.len() => bytes[i] = *b,
            1 => bytes.insert(i, *b),
            _ if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
    }
    bytes
}

fn load_and_draw(plan: &[u8], files: &BTreeMap<&'static str, Vec<u8>>) {
    let read = |p: &str| -> double_random::Result<Vec<u8>> {
        files.get(p).cloned().ok_or_else(|| {
            double_random::ErrorKind::Io {
                path: p.into(),
                source: std::io::Error::other("no such file"),
            }
            .into()
        })
    };
    if let Ok(inputs) = double_random::Inputs::from_files("plan.json", plan, read) {
        let _ = Draw::run(&inputs, &Seed::new("mutations").unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_never_panic(
        which in 0usize..9,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let (plan, files) = inputs();
        let mut bytes: BTreeMap<&'static str, Vec<u8>> =
            files.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
        let mut plan = plan.into_bytes();
        let names: Vec<&'static str> = bytes.keys().copied().collect();
        if which == 0 || which > names.len() {
            plan = mutate(&plan, &edits);
        } else {
            let name = names[which - 1];
            let mutated = mutate(&bytes[name], &edits);
            bytes.insert(name, mutated);
        }
        load_and_draw(&plan, &bytes);
    }
}

#[test]
fn the_unmutated_inputs_draw() {
    let (plan, files) = inputs();
    let inputs = common::load(&plan, &files).unwrap();
    let draw = Draw::run(&inputs, &Seed::new("mutations").unwrap()).unwrap();
    assert!(!draw.visits.is_empty());
    assert!(draw.visits.iter().all(|v| v.leader.is_some()));
}
