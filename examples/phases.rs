//! Times each phase of a draw, with the peak memory and the CPU time so
//! far: `cargo run --release --example phases -- PLAN SEED`.
use std::time::Instant;

use double_random::audit::Outputs;
use double_random::frame::Frame;
use double_random::{Draw, Inputs, Seed};

/// The peak resident set so far, from /proc (Linux), in MB.
fn peak_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
        })
        .map_or_else(|| "?".to_string(), |kb| format!("peak {} MB", kb / 1024))
}

/// The CPU time of the process so far (user and system, all threads), from /proc (Linux).
fn cpu() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => format!("cpu {:.2} s", (user + system) / 100.0),
        _ => "cpu ?".to_string(),
    }
}

fn main() -> Result<(), double_random::Error> {
    let args: Vec<String> = std::env::args().collect();
    let (plan, seed) = (
        args.get(1).map_or("fixtures/plan.json", String::as_str),
        args.get(2).map_or("seed", String::as_str),
    );
    let t = Instant::now();
    let inputs = Inputs::load(plan)?;
    println!(
        "load    {:>8.3} s ({} entities) {} {}",
        t.elapsed().as_secs_f64(),
        inputs.population().len(),
        peak_mb(),
        cpu()
    );
    let t = Instant::now();
    let frame = Frame::build(&inputs);
    println!(
        "frame   {:>8.3} s ({} exclusions) {} {}",
        t.elapsed().as_secs_f64(),
        frame.exclusions.len(),
        peak_mb(),
        cpu()
    );
    let t = Instant::now();
    let digest = frame.digest(&inputs);
    println!(
        "digest  {:>8.3} s ({digest}) {} {}",
        t.elapsed().as_secs_f64(),
        peak_mb(),
        cpu()
    );
    let t = Instant::now();
    let draw = Draw::run(&inputs, &Seed::new(seed)?)?;
    println!(
        "draw    {:>8.3} s ({} visits) {} {}",
        t.elapsed().as_secs_f64(),
        draw.visits.len(),
        peak_mb(),
        cpu()
    );
    let t = Instant::now();
    let out = Outputs::render(&inputs, &draw, "plan.json", None)?;
    let bytes: usize = out.files.iter().map(|(_, b)| b.len()).sum();
    println!(
        "render  {:>8.3} s ({bytes} bytes) {} {}",
        t.elapsed().as_secs_f64(),
        peak_mb(),
        cpu()
    );
    Ok(())
}
