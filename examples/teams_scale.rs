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
    let t = Instant::now();
    let draw = Draw::run(&inputs, &Seed::new("scale")?)?;
    let parts: usize = draw.visits.iter().map(|v| v.parts.len()).sum();
    println!(
        "{} visits ({parts} department parts), {} inspectors: draw with dates and teams in {:.3} s",
        draw.visits.len(),
        inputs.inspectors().len(),
        t.elapsed().as_secs_f64()
    );
    let broken = common::broken_team_rules(&inputs, &draw);
    println!("rules broken: {}", broken.len());
    Ok(())
}
