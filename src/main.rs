//! The `double-random` command: commit, draw, verify and synthesize.
//!
//! Exit codes: 0 success (or `verified`), 1 a verification that found
//! differences, 2 bad input or any other error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use double_random::{Commitment, Inputs, Seed, draw_to_dir, synth, verify};

#[derive(Parser)]
#[command(
    name = "double-random",
    version,
    about = "Reproducible, verifiable \"double random, one public\" (双随机、一公开) inspection draws",
    after_help = "Example, on the bundled fixtures:\n  double-random commit --plan fixtures/plan.json --out commitment.json\n  double-random draw --plan fixtures/plan.json --seed \"2027-03-01 lottery 0417 2953\" --commitment commitment.json --out out\n  double-random verify out/record.json"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commitment to the inputs (SHA-256 of every file and of the canonical frame), to publish before the seed exists.
    #[command(after_help = "Example:\n  double-random commit --plan fixtures/plan.json --out commitment.json")]
    Commit {
        /// The plan (JSON); input files are relative to it.
        #[arg(long)]
        plan: PathBuf,
        /// Where to write the commitment; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Draw the entities to inspect, date and staff the visits, and write selection.csv, strata.csv, exclusions.csv, visits.csv, public.csv and record.json.
    #[command(
        after_help = "Example:\n  double-random draw --plan fixtures/plan.json --seed \"2027-03-01 lottery 0417 2953\" --out out\n\nThe seed is a text published after the inputs were committed (lottery digits, dice, a beacon value). It is used exactly as given.\n\nSeveral task draws of one period (--plan repeated) are drawn together: each task's selection is its own, and each entity gets the fewest visits that fit all of its tasks' windows."
    )]
    Draw {
        /// The plan (JSON); input files are relative to it. Repeat it to draw several tasks together.
        #[arg(long, required = true)]
        plan: Vec<PathBuf>,
        /// The public seed text.
        #[arg(long)]
        seed: String,
        /// A commitment written by `commit`: the draw refuses inputs that differ from it. Repeat it for several plans.
        #[arg(long)]
        commitment: Vec<PathBuf>,
        /// The output directory; it must not exist unless --force is given.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing output directory.
        #[arg(long)]
        force: bool,
    },
    /// Re-read the inputs named by a record, replay the draw and compare every file; prints `verified` or each difference.
    #[command(
        after_help = "Example:\n  double-random verify out/record.json\n\nExit code 0 when verified, 1 when any difference is found, 2 when the record cannot be read."
    )]
    Verify {
        /// The record.json written by `draw`.
        record: PathBuf,
        /// The plan, when it is no longer where the record says (relative to the record).
        #[arg(long)]
        plan: Option<PathBuf>,
    },
    /// Write a realistic synthetic dataset (entities, items, history, directed checks, plan), deterministically.
    #[command(
        after_help = "Example:\n  double-random synth --entities 100000 --seed demo --out synth-100k\n  double-random draw --plan synth-100k/plan.json --seed 42 --out synth-100k-draw"
    )]
    Synth {
        /// How many entities.
        #[arg(long)]
        entities: u64,
        /// The generator's seed text.
        #[arg(long)]
        seed: String,
        /// The directory to write into.
        #[arg(long)]
        out: PathBuf,
    },
}

fn run(cli: Cli) -> Result<ExitCode, double_random::Error> {
    match cli.command {
        Command::Commit { plan, out } => {
            let inputs = Inputs::load(&plan)?;
            for w in inputs.plan.warnings() {
                eprintln!("warning: {w}");
            }
            let json = Commitment::compute(&inputs).to_json();
            match out {
                Some(path) => double_random::write_file_atomically(&path, json.as_bytes())?,
                None => print!("{json}"),
            }
        }
        Command::Draw {
            plan,
            seed,
            commitment,
            out,
            force,
        } => {
            let seed = Seed::new(seed)?;
            let plans: Vec<&std::path::Path> = plan.iter().map(PathBuf::as_path).collect();
            let commitments: Vec<&std::path::Path> = commitment.iter().map(PathBuf::as_path).collect();
            let (inputs, joint) = draw_to_dir(&plans, &seed, &commitments, &out, force)?;
            for w in inputs.iter().flat_map(|i| i.plan.warnings()) {
                eprintln!("warning: {w}");
            }
            print!("{}", joint.summary(&inputs));
            println!("wrote {}", out.display());
        }
        Command::Verify { record, plan } => {
            let v = verify(&record, plan.as_deref())?;
            if v.is_verified() {
                println!("verified");
            } else {
                for d in &v.differences {
                    println!("{d}");
                }
                println!("not verified: {} difference(s)", v.differences.len());
                return Ok(ExitCode::from(1));
            }
        }
        Command::Synth { entities, seed, out } => {
            let s = synth(&out, entities, &seed)?;
            println!(
                "wrote {}: {} entities, {} past visits, {} directed checks, plan.json",
                out.display(),
                s.entities,
                s.history,
                s.directed
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
