//! A small, consistent set of inputs; each target replaces one part with
//! the fuzzer's bytes and checks that loading and drawing never panic.
#![allow(dead_code)]

use double_random::{Draw, Inputs, Seed};

pub const PLAN: &str = r#"{
  "plan_id": "P1",
  "task_id": "T1",
  "round_id": "1",
  "window": {"start": "2027-03-01", "end": "2027-05-31"},
  "lead_department": "S",
  "inputs": {"entities": "entities.csv", "items": "items.csv", "history": "history.csv",
             "directed": "directed.csv", "calendar": "calendar.csv",
             "inspectors": "inspectors.csv", "conflicts": "conflicts.csv"},
  "strata": ["region"],
  "unclassified_class": "B",
  "cooldown_days": 180,
  "annual_cap": 2,
  "observation": {"days": 365, "classes": ["A"]},
  "departments": [
    {"id": "S", "items": ["S1", "S2"], "classes": {"A": {"ratio": "0.5"}, "B": {"ratio": "0.5"}, "C": {"ratio": "0.5"}, "D": {"ratio": "1"}}},
    {"id": "W", "scope": {"industry": ["travel"]}, "items": ["W1"], "classes": {"A": {"ratio": "0.5", "mode": "trigger_only"}, "B": {"ratio": "0.5"}, "C": {"ratio": "0.5"}, "D": {"ratio": "1"}}}
  ]
}"#;

pub const FILES: [(&str, &str); 7] = [
    (
        "entities.csv",
        "id,name,risk_class,region,industry,status,established\n\
         E1,Shop 1,A,North,retail,active,2015-01-01\n\
         E2,Shop 2,B,North,travel,active,2016-01-01\n\
         E3,Shop 3,B,South,retail,suspended,2017-01-01\n\
         E4,Shop 4,C,South,travel,active,\n\
         E5,Shop 5,,East,retail,active,2018-05-05\n\
         E6,Shop 6,D,East,retail,revoked,2010-01-01\n\
         E7,\"Shop, 7\",D,North,retail,active,2026-12-03\n\
         E8,Shop 8,C,East,travel,active,2012-02-02\n",
    ),
    (
        "items.csv",
        "id,department,name,kind,max_ratio,legal_basis,method,qualification\n\
         S1,S,licence use,general,1,basis,on-site,\n\
         S2,S,public information,key,,basis,written,boiler\n\
         W1,W,travel agency,key,,basis,on-site,\n",
    ),
    (
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\n\
         E1,S,2026-10-05,random,S-1;S-2\n\
         E4,W,2026-06-01,directed,W-1\n\
         E8,S,2027-01-10,random,S-3\n",
    ),
    (
        "directed.csv",
        "entity_id,department,reason,item_ids\nE2,W,complaint,W1\nE5,S,big_data,S1;S2\n",
    ),
    (
        "calendar.csv",
        "date,kind,name\n2027-04-05,holiday,Qingming\n2027-04-25,workday,swap\n",
    ),
    (
        "inspectors.csv",
        "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable\n\
         S-1,A,S,North,2029-12-31,boiler,12,3,\n\
         S-2,B,S,South,2029-12-31,,12,3,2027-04-21\n\
         S-3,C,S,East,2029-12-31,boiler,12,3,\n\
         S-4,D,S,North,2029-12-31,,12,3,\n\
         W-1,E,W,North,2029-12-31,,12,3,\n\
         W-2,F,W,South,2029-12-31,,12,3,\n\
         W-3,G,W,East,2029-12-31,,12,3,\n",
    ),
    ("conflicts.csv", "inspector_id,entity_id,reason\nS-1,E7,relative\n"),
];

/// Loads the inputs with `replace` standing in for the file of that name
/// (or the plan), then draws; any error is fine, a panic is not.
pub fn load_and_draw(plan: &[u8], replace: Option<(&str, &[u8])>) {
    let read = |path: &str| -> double_random::Result<Vec<u8>> {
        if let Some((name, bytes)) = replace
            && name == path
        {
            return Ok(bytes.to_vec());
        }
        FILES
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, text)| text.as_bytes().to_vec())
            .ok_or_else(|| {
                double_random::ErrorKind::Io {
                    path: path.into(),
                    source: std::io::Error::other("no such file"),
                }
                .into()
            })
    };
    if let Ok(inputs) = Inputs::from_files("plan.json", plan, read) {
        let _ = Draw::run(&inputs, &Seed::new("fuzz").unwrap());
    }
}

/// A directory holding the plan and the small inputs (made once).
pub fn input_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("double-random-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plan.json"), PLAN).unwrap();
        for (name, text) in FILES {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    })
}
