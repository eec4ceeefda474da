//! Draws a plan and checks every hard team rule with the test suite's
//! independent checker: `cargo run --release --example check_rules -- PLAN SEED`.
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use double_random::{Draw, Inputs, Seed};

fn main() -> Result<(), double_random::Error> {
    let args: Vec<String> = std::env::args().collect();
    let plan = args.get(1).map_or("fixtures/plan.json", String::as_str);
    let seed = args.get(2).map_or("check", String::as_str);
    let t = Instant::now();
    let inputs = Inputs::load(plan)?;
    let loaded = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let draw = Draw::run(&inputs, &Seed::new(seed)?)?;
    let drawn = t.elapsed().as_secs_f64();
    let broken = common::broken_team_rules(&inputs, &draw);
    println!(
        "{} entities, {} inspectors, {} visits: loaded in {loaded:.2} s, drawn with dates and teams in {drawn:.2} s; rules broken: {}",
        inputs.population().len(),
        inputs.inspectors().len(),
        draw.visits.len(),
        broken.len()
    );
    for b in broken.iter().take(20) {
        println!("  {b}");
    }
    Ok(())
}
