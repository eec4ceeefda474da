//! Exact inclusion: over many seeds, every eligible entity is selected with
//! probability n/|E|, whatever the size of its stratum.

mod common;

use double_random::{Draw, Seed};

const SEEDS: u32 = 2_000;

#[test]
fn every_entity_has_inclusion_probability_n_over_e() {
    // Class B: eligible strata of 7, 13 and 20, plus one suspended entity
    // that counts in the base but is excluded from on-site work: ratio 0.25
    // gives n = ceil(0.25 × 41) = 11 over |E| = 40 (q_h = 1.925, 3.575, 5.5).
    // Class C: strata of 2 and 7 (ratio 0.5 → n = 5). Class D: 3 entities at ratio 1.
    let mut rows = String::new();
    let mut i = 0;
    for (class, region, count) in [
        ("B", "North", 7),
        ("B", "South", 13),
        ("B", "West", 20),
        ("C", "North", 2),
        ("C", "East", 7),
        ("D", "East", 3),
    ] {
        for _ in 0..count {
            rows.push_str(&common::entity_row(i, class, region, "retail", "active"));
            i += 1;
        }
    }
    rows.push_str(&common::entity_row(i, "B", "North", "retail", "suspended"));
    let inputs = common::load(&common::plan(["0", "0.25", "0.5", "1"], ""), &common::files(&rows)).unwrap();
    let n = inputs.population().len();
    let mut counts = vec![0u32; n];
    for s in 0..SEEDS {
        let draw = Draw::run(&inputs, &Seed::new(format!("seed {s}")).unwrap()).unwrap();
        let d = &draw.departments[0];
        assert_eq!(d.classes[1].selected(), 11);
        assert_eq!(d.classes[2].selected(), 5);
        for c in &d.classes {
            for st in &c.strata {
                for sel in &st.selected {
                    counts[sel.entity] += 1;
                }
            }
        }
    }
    let pop = &inputs.population();
    for class in ["B", "C", "D"] {
        let members: Vec<usize> = (0..n)
            .filter(|&e| {
                pop.entity(e).class().map(|c| c.as_str()) == Some(class) && pop.entity(e).status().is_registered()
            })
            .filter(|&e| pop.entity(e).status() == double_random::model::Status::Active)
            .collect();
        let p = match class {
            "B" => 11.0 / 40.0,
            "C" => 5.0 / 9.0,
            _ => 1.0,
        };
        let expected = f64::from(SEEDS) * p;
        let se = (f64::from(SEEDS) * p * (1.0 - p)).sqrt();
        // The class rate as a whole, and every entity's own rate.
        let total: u32 = members.iter().map(|&e| counts[e]).sum();
        let rate = f64::from(total) / (f64::from(SEEDS) * members.len() as f64);
        assert!((rate - p).abs() < 1e-12, "class {class}: rate {rate}, expected {p}");
        for &e in &members {
            assert!(counts[e] > 0, "{} never selected", pop.id(e));
            let z = if se == 0.0 {
                0.0
            } else {
                (f64::from(counts[e]) - expected) / se
            };
            assert!(
                z.abs() <= 4.0,
                "{} (class {class}, {}): {} selections, expected {expected:.0} ± {se:.1} (z = {z:.2})",
                pop.id(e),
                pop.entity(e).region(),
                counts[e]
            );
        }
    }
    // The suspended entity is excluded from on-site work, so never drawn.
    assert_eq!(counts[n - 1], 0);
}
