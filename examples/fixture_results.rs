//! Writes the results of a draw as a bureau would record them, for the
//! fixtures (`fixtures/results.csv`), deterministically: each item of each
//! visit part and off-site check finds a problem with a probability that
//! rises with the entity's credit-risk class (A 2 %, B 5 %, C 15 %, D 35 %;
//! unclassified as the plan treats them), decided by SHA-256 of its ids,
//! never by a random number generator.
//!
//!     cargo run --release --example fixture_results -- fixtures/golden/record.json > fixtures/results.csv
//!
//! Problems are recorded with a code that fits the department (SCJG: `B`
//! for the publicised-information item, `D` otherwise; WLJ and NYJ: `5`;
//! GAJ: `G`), one problem in eight is serious (`C`, `6` or `8`), problems
//! are ordered corrected (`order_correction`) and one in four ends in a
//! fine (`low_fine` or `fine`) decided ten days after the result.

use std::path::Path;

use chrono::Days;
use double_random::results::DrawnParts;
use sha2::{Digest as _, Sha256};

/// A number in [0, 1) from the SHA-256 of `parts`.
fn unit(parts: &[&str]) -> f64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let v = u64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]));
    (v >> 11) as f64 / (1u64 << 53) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let record = std::env::args().nth(1).ok_or("usage: fixture_results RECORD.json")?;
    let record = Path::new(&record);
    let drawn = DrawnParts::read(record)?;
    let dir = record.parent().unwrap_or(Path::new(""));
    let plan = dir.join(&drawn.record.tasks[0].plan.path);
    let inputs = double_random::Inputs::load(&plan)?;
    // Each task's window start, for the off-site checks of that task.
    let mut starts = std::collections::BTreeMap::new();
    for task in &drawn.record.tasks {
        let start = chrono::NaiveDate::parse_from_str(&task.plan.window_start, "%Y-%m-%d")?;
        starts.insert(task.plan.task_id.clone(), start);
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record([
        "visit_id",
        "department",
        "item_id",
        "result",
        "result_date",
        "follow_up",
        "penalty",
        "penalty_date",
    ])?;
    for part in drawn.parts.values() {
        let entity = inputs
            .population()
            .index_of(&part.entity_id)
            .map(|e| inputs.population().entity(e));
        let class = entity
            .and_then(|e| e.class())
            .or(inputs.plan().unclassified_class())
            .map_or("B", |c| c.as_str());
        let p = match class {
            "A" => 0.02,
            "B" => 0.05,
            "C" => 0.15,
            _ => 0.35,
        };
        // The result date: a few days after the visit, or within the window for an off-site check.
        let offset = (unit(&[&part.visit_id, &part.department, "date"]) * 6.0) as u64;
        let date = match part.date {
            Some(d) => d + Days::new(offset),
            None => {
                let task = &part.tasks[0].0;
                starts.get(task).copied().unwrap_or_default() + Days::new(20 + offset * 5)
            }
        };
        for item in part.items() {
            let ids = [part.visit_id.as_str(), part.department.as_str(), item];
            let problem = unit(&[ids[0], ids[1], ids[2], "problem"]) < p;
            let (result, follow, penalty, penalty_date) = if problem {
                let serious = unit(&[ids[0], ids[1], ids[2], "serious"]) < 0.125;
                let code = if serious {
                    ["C", "6", "8"][(unit(&[ids[0], ids[1], ids[2], "which"]) * 3.0) as usize]
                } else {
                    match part.department.as_str() {
                        "SCJG" if item == "SCJG-03" => "B",
                        "SCJG" => "D",
                        "GAJ" => "G",
                        _ => "5",
                    }
                };
                let fined = unit(&[ids[0], ids[1], ids[2], "fine"]) < 0.25;
                let penalty = if !fined {
                    ""
                } else if unit(&[ids[0], ids[1], ids[2], "amount"]) < 0.5 {
                    "low_fine"
                } else {
                    "fine"
                };
                let decided = if fined {
                    (date + Days::new(10)).to_string()
                } else {
                    String::new()
                };
                (code, "order_correction", penalty, decided)
            } else {
                ("1", "", "", String::new())
            };
            out.write_record([
                part.visit_id.as_str(),
                part.department.as_str(),
                item,
                result,
                date.to_string().as_str(),
                follow,
                penalty,
                penalty_date.as_str(),
            ])?;
        }
    }
    out.flush()?;
    Ok(())
}
