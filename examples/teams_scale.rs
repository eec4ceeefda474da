//! Times team assignment at a given scale:
//! `cargo run --release --example teams_scale -- ENTITIES INSPECTORS_PER_DEPARTMENT`.
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use double_random::{Draw, Seed};

fn main() -> Result<(), double_random::Error> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (entities, per_department) = (
        args.first().copied().unwrap_or(20_000),
        args.get(1).copied().unwrap_or(150),
    );
    let (plan, files) = common::team_instance(entities, per_department, 1);
    let inputs = common::load(&plan, &files)?;
    let no_teams = common::load(&plan.replace(r#", "inspectors": "inspectors.csv""#, ""), &files)?;
    let seed = Seed::new("scale")?;
    // Best of three, each with teams and without, so the difference is the team pass.
    let (mut with, mut without) = (f64::MAX, f64::MAX);
    let mut draw = None;
    for _ in 0..3 {
        let t = Instant::now();
        draw = Some(Draw::run(&inputs, &seed)?);
        with = with.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        Draw::run(&no_teams, &seed)?;
        without = without.min(t.elapsed().as_secs_f64());
    }
    // OK because the loop ran.
    let draw = draw.expect("three runs");
    let parts: usize = draw.visits.iter().map(|v| v.parts.len()).sum();
    println!(
        "{} visits ({parts} department parts), {} inspectors: draw {with:.3} s with teams, {without:.3} s without; teams {:.3} s",
        draw.visits.len(),
        inputs.inspectors().len(),
        with - without
    );
    let broken = common::broken_team_rules(&inputs, &draw);
    println!("rules broken: {}", broken.len());
    Ok(())
}
