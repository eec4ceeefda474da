//! The `double-random` command: commit, draw, verify and synthesize.
//!
//! Exit codes: 0 success (or `verified`), 1 a verification that found
//! differences, 2 bad input or any other error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use double_random::contract;
use double_random::messages::{self, Lang, Msg, fill, text};
use double_random::place::{check_output_file, write_output_file};
use double_random::results::publish::is_publication;
use double_random::{Drawer, FrameMode, Inputs, Progress, Seed};

/// `print!` to standard output, ignoring a reader that went away (`| head`):
/// the command's work is done or its files are written, and a closed pipe
/// must not turn into a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` the same way as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "double-random",
    version,
    about = "Reproducible, verifiable \"double random, one public\" (双随机、一公开) inspection draws",
    after_help = "Example, on the bundled fixtures:\n  double-random commit --plan fixtures/plan.json --out commitment.json\n  double-random draw --plan fixtures/plan.json --seed \"2027-03-01 lottery 0417 2953\" --commitment commitment.json --out out\n  double-random verify out/record.json"
)]
struct Cli {
    /// The language of summaries, steps and errors: en or zh [default: from LC_ALL, LC_MESSAGES or LANG; zh for a zh_* locale].
    #[arg(long, global = true, value_enum)]
    lang: Option<LangArg>,
    #[command(subcommand)]
    command: Command,
}

/// A language of the command line (`--lang`).
#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    /// English.
    En,
    /// 简体中文.
    Zh,
}

impl Cli {
    /// The language asked for, else the locale's.
    fn lang(&self) -> Lang {
        match self.lang {
            Some(LangArg::En) => Lang::En,
            Some(LangArg::Zh) => Lang::Zh,
            None => Lang::from_env(),
        }
    }
}

/// How the frame is built (`--frame`).
#[derive(Clone, Copy, ValueEnum)]
enum FrameArg {
    /// Streamed when the entity file is over 2 GiB, else in memory.
    Auto,
    /// The whole entity file held in memory.
    Memory,
    /// Streamed in chunks: memory bounded by a chunk, the history and the selection.
    Stream,
}

impl From<FrameArg> for contract::Frame {
    fn from(f: FrameArg) -> contract::Frame {
        match f {
            FrameArg::Auto => contract::Frame::Auto,
            FrameArg::Memory => contract::Frame::Memory,
            FrameArg::Stream => contract::Frame::Stream,
        }
    }
}

impl From<FrameArg> for FrameMode {
    fn from(f: FrameArg) -> FrameMode {
        contract::Frame::from(f).into()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write a commitment to the inputs (SHA-256 of every file and of the canonical frame), to publish before the seed exists.
    #[command(after_help = "Example:\n  double-random commit --plan fixtures/plan.json --out commitment.json")]
    Commit {
        /// The plan (JSON); input files are relative to it.
        #[arg(long)]
        plan: PathBuf,
        /// Where to write the commitment; standard output when absent. An existing file is refused unless --force.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing commitment file (never the plan or one of its inputs).
        #[arg(long, requires = "out")]
        force: bool,
        /// How the frame is built; the outputs are the same either way.
        #[arg(long, value_enum, default_value = "auto")]
        frame: FrameArg,
        /// Print the result as JSON (the contract's response envelope) instead of text; errors too, on standard output.
        #[arg(long)]
        json: bool,
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
        /// The output directory; it must not exist unless --force is given. Missing folders above it are created.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing output directory written by a draw (one that holds a draw's record.json and nothing but its output files, and no input or draw log).
        #[arg(long)]
        force: bool,
        /// The hash-chained draw log to append to [default: draw-log.jsonl beside the output directory].
        #[arg(long)]
        log: Option<PathBuf>,
        /// Why a task and round already in the log is drawn again (required for a redraw).
        #[arg(long)]
        redraw_reason: Option<String>,
        /// How the frame is built; the outputs are the same either way.
        #[arg(long, value_enum, default_value = "auto")]
        frame: FrameArg,
        /// Also write outputs.xlsx: the CSV outputs as one Excel workbook, a sheet per file, which verify checks against them.
        #[arg(long)]
        xlsx: bool,
        /// Print the result as JSON (the contract's response envelope) instead of text; errors too, on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Re-read the inputs named by a record, replay the draw and compare every file; prints `verified` or each difference.
    #[command(
        after_help = "Example:\n  double-random verify out/record.json\n\nExit code 0 when verified, 1 when any difference is found, 2 when the record cannot be read."
    )]
    Verify {
        /// The record.json written by `draw`.
        record: PathBuf,
        /// The plan, when it was moved or renamed since the draw (a path as usual, from the working directory); its inputs are read relative to it.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// A draw log to check too: its chain, that the record is in it, and any redraws.
        #[arg(long)]
        log: Option<PathBuf>,
        /// How the frame is built; the outputs are the same either way.
        #[arg(long, value_enum, default_value = "auto")]
        frame: FrameArg,
        /// Print the result as JSON (the contract's response envelope) instead of text; errors too, on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Write a draw's visits as history rows, to append to the next round's history file.
    #[command(
        after_help = "Examples:\n  double-random history out/record.json --out round-1-history.csv\n  double-random history round-1/record.json --base fixtures/history.csv --out year/history-2027-2.csv\n\nThe visits.csv beside the record must be the one the record names. Without --out the rows go to standard output."
    )]
    History {
        /// The record.json written by `draw`.
        record: PathBuf,
        /// The file to write (refused if it exists, unless --force).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The history file the round read: written first, then the round's rows (one header), as the next round's history.
        #[arg(long)]
        base: Option<PathBuf>,
        /// Replace an existing --out file (never the record or its visits).
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Publish a round's results (一公开): public.csv from the draw and the results, with deadlines from the result dates, the re-classification list, the next round's history rows, and a record that `verify` replays.
    #[command(
        after_help = "Example:\n  double-random publish out/record.json --results fixtures/results.csv --on 2027-06-30 --out out-published\n\nThe results file has one row per visit (or off-site check), department and item: visit_id, department, item_id, result (a national code or its Chinese label), result_date, and optionally follow_up, penalty, penalty_date. The folder must not exist."
    )]
    Publish {
        /// The record.json written by `draw`.
        record: PathBuf,
        /// The results file.
        #[arg(long)]
        results: PathBuf,
        /// The day of publication (YYYY-MM-DD): rows whose deadline is before it are flagged overdue.
        #[arg(long)]
        on: String,
        /// The folder to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the notices of a draw: one notice per drawn enterprise (一次告知: who comes when, for which items, what to prepare) and the pre-warning list (事前失信警示提醒: classes C and D, and classes that rose).
    #[command(
        after_help = "Example:\n  double-random notices out/record.json --reclassify out-published/reclassify.csv --out out-notices\n\nWrites notices.csv and prewarning.csv into a new folder."
    )]
    Notices {
        /// The record.json written by `draw`.
        record: PathBuf,
        /// A publication's reclassify.csv: its entities join the pre-warning list.
        #[arg(long)]
        reclassify: Option<PathBuf>,
        /// The folder to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure whether the credit-risk classes predict what inspections find: problem rates by class, department and item with exact intervals, the trend across A→D, and each class's lift.
    #[command(
        after_help = "Example:\n  double-random calibrate out-published/publication.json --json calibration.json --svg calibration.svg\n\nGive several publications (rounds, years) to pool them. Only checks the draw selected count: directed checks are targeted."
    )]
    Calibrate {
        /// The publication.json files written by `publish`.
        #[arg(required = true)]
        publications: Vec<PathBuf>,
        /// Write the report as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Draw the rates as SVG.
        #[cfg(feature = "svg")]
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Replace existing --json and --svg files (never an input).
        #[arg(long)]
        force: bool,
    },
    /// Turn an annual program (its rounds and each class's frequency) into the task plan of every round, with the expected counts.
    #[command(
        after_help = "Example:\n  double-random program fixtures/program.json --out year-2027\n\nWrites round-<round_id>.json for every round and expected.csv (the expected count per round, department and class, then the year). The folder must not exist."
    )]
    Program {
        /// The program file (JSON); its template plan is relative to it.
        program: PathBuf,
        /// The folder to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure fairness: Monte Carlo over many seeds on a plan, or an audit of another system's draws.
    #[command(
        after_help = "Examples:\n  double-random fairness --plan fixtures/plan.json --runs 10000 --json fairness.json --svg fairness.svg\n  double-random fairness --observed fixtures/observed/systematic-draws.csv --frame fixtures/observed/frame.csv --claims fixtures/observed/claims.csv\n\nRun k uses the seed \"BASE #k\". Exit code 0 when the draws pass every test, 1 when a test flags them, 2 on bad input."
    )]
    Fairness {
        /// The plan to simulate.
        #[arg(long, conflicts_with_all = ["observed", "frame", "claims", "program"], required_unless_present_any = ["observed", "program"])]
        plan: Option<PathBuf>,
        /// An annual program to simulate over its year: its rounds drawn in turn, each round's visits fed into the next round's history.
        #[arg(long, conflicts_with_all = ["observed", "frame", "claims"])]
        program: Option<PathBuf>,
        /// How many runs (seeds) to simulate.
        #[arg(long, default_value_t = 1000)]
        runs: u64,
        /// The base seed text of the runs.
        #[arg(long, default_value = "fairness")]
        seed: String,
        /// Another system's selections to audit: columns `round` and `entity_id`.
        #[arg(long, requires = "frame")]
        observed: Option<PathBuf>,
        /// The frame those selections were drawn from, in the system's sort order: `entity_id` and any columns to test (class, region, industry …).
        #[arg(long)]
        frame: Option<PathBuf>,
        /// The ratios the system claims: columns `column`, `value`, `ratio`.
        #[arg(long)]
        claims: Option<PathBuf>,
        /// Write the full report as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the pictures as SVG.
        #[cfg(feature = "svg")]
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Replace existing --json and --svg files (never an input).
        #[arg(long)]
        force: bool,
    },
    /// Serve the draw ceremony, public verification and the fairness report to a browser (in Chinese; ?lang=en for English), on this computer only unless --addr says otherwise.
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Example:\n  double-random serve --dir fixtures\n\nThen open http://127.0.0.1:8080 in a browser. Plans are the .json plans of --dir; draws are written to DIR/draws, uploads for verification to DIR/uploads. Nothing outside DIR is read or written."
    )]
    Serve {
        /// The working folder: its plans are offered; draws and uploads are written under it.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The address to listen on; the default serves this computer only.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// The largest file an upload may hold, in MB.
        #[arg(long, default_value = "512")]
        max_upload_mb: u64,
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
        /// Print the result as JSON (the contract's response envelope) instead of text; errors too, on standard output.
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// Whether the command prints its result, and its error, as JSON.
    fn json(&self) -> bool {
        match self {
            Command::Commit { json, .. }
            | Command::Draw { json, .. }
            | Command::Verify { json, .. }
            | Command::Synth { json, .. } => *json,
            _ => false,
        }
    }
}

fn run(cli: Cli, lang: Lang) -> Result<ExitCode, double_random::Error> {
    match cli.command {
        Command::Commit {
            plan,
            out,
            force,
            frame,
            json,
        } => {
            let request = contract::CommitRequest {
                plan,
                out,
                force,
                frame: frame.into(),
            };
            if json {
                out!("{}", contract::envelope(Ok(contract::commit(&request, &|_| {})?)));
                return Ok(ExitCode::SUCCESS);
            }
            let spinner = spinner();
            let committed = contract::commit(&request, &|p| show(&spinner, p, lang));
            spinner.finish_and_clear();
            let committed = committed?;
            for w in &committed.warnings {
                eprintln!("{}", fill(Msg::Warning, lang, &[("message", w)]));
            }
            if request.out.is_none() {
                out!("{}", committed.commitment.to_json());
            }
        }
        Command::Draw {
            plan,
            seed,
            commitment,
            out,
            force,
            log,
            redraw_reason,
            frame,
            xlsx,
            json,
        } => {
            let log = log.unwrap_or_else(|| contract::default_log(&out));
            let spinner = spinner();
            let step = |p: Progress<'_>| show(&spinner, p, lang);
            let mut drawer = Drawer::new(Seed::new(seed)?, &out);
            for path in &plan {
                drawer.plan(path);
            }
            for path in &commitment {
                drawer.commitment(path);
            }
            drawer
                .replace(force)
                .log(&log)
                .progress(&step)
                .frame_mode(FrameMode::from(frame))
                .xlsx(xlsx);
            if let Some(reason) = redraw_reason {
                drawer.redraw_reason(reason);
            }
            let drawn = drawer.run();
            spinner.finish_and_clear();
            let drawn = drawn?;
            if json {
                let report = contract::DrawReport::new(&drawn, &out, Some(&log), false)?;
                out!("{}", contract::envelope(Ok(report)));
                std::mem::forget(drawn);
                return Ok(ExitCode::SUCCESS);
            }
            for w in drawn.inputs.iter().flat_map(|i| i.plan().warnings()) {
                eprintln!("{}", fill(Msg::Warning, lang, &[("message", &w)]));
            }
            out!("{}", drawn.summary_in(lang));
            outln!("{}", fill(Msg::Wrote, lang, &[("path", &out.display().to_string())]));
            for e in &drawn.log_entries {
                let logged = fill(
                    Msg::Logged,
                    lang,
                    &[
                        ("seq", &e.seq.to_string()),
                        ("log", &log.display().to_string()),
                        ("task", &e.task_id),
                        ("round", &e.round_id),
                        ("digest", &e.entry_sha256),
                    ],
                );
                outln!("{logged}");
            }
            // The process ends here and the system takes its memory back at
            // once; freeing a large draw piece by piece took half a second
            // at 10 million entities.
            std::mem::forget(drawn);
        }
        Command::Verify {
            record,
            plan,
            log,
            frame,
            json,
        } => {
            if !json && is_publication(&record) && (plan.is_some() || log.is_some()) {
                let note = messages::phrase("--plan and --log apply to a draw's record, not a publication", lang);
                eprintln!("{}", fill(Msg::Note, lang, &[("message", &note)]));
            }
            let request = contract::VerifyRequest {
                record,
                plan,
                log,
                frame: frame.into(),
            };
            if json {
                let report = contract::verify(&request, &|_| {})?;
                let verified = report.verified;
                out!("{}", contract::envelope(Ok(report)));
                return Ok(if verified { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
            let spinner = spinner();
            let report = contract::verify(&request, &|p| show(&spinner, p, lang));
            spinner.finish_and_clear();
            let report = report?;
            for n in &report.notes {
                outln!("{}", fill(Msg::Note, lang, &[("message", &messages::phrase(n, lang))]));
            }
            return Ok(report_verification(&report.differences, lang));
        }
        Command::Fairness {
            plan,
            program,
            runs,
            seed,
            observed,
            frame,
            claims,
            json,
            #[cfg(feature = "svg")]
            svg,
            force,
        } => {
            #[cfg(not(feature = "svg"))]
            let svg: Option<PathBuf> = None;
            for path in json.iter().chain(&svg) {
                check_output_file(path, force, &[])?;
            }
            if let (Some(observed), Some(frame)) = (observed, frame) {
                let audit = double_random::fairness::audit_observed(&observed, &frame, claims.as_deref())?;
                out!("{audit}");
                if let Some(path) = json {
                    let read = [observed, frame].into_iter().chain(claims).collect::<Vec<_>>();
                    write_output_file(&path, audit.to_json().as_bytes(), force, &read)?;
                }
                return Ok(if audit.is_flagged() {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            }
            if let Some(program) = program {
                #[cfg(feature = "svg")]
                if svg.is_some() {
                    let note = messages::phrase(
                        "--svg draws a plan's report; a program's year has no pictures yet",
                        lang,
                    );
                    eprintln!("{}", fill(Msg::Note, lang, &[("message", &note)]));
                }
                let p = double_random::program::Program::load(&program)?;
                let bar = count_bar(runs, "years");
                let report = double_random::fairness::simulate_year(&p, &seed, runs, &|p| {
                    if let Progress::Count { done, .. } = p {
                        bar.set_position(done);
                    }
                })?;
                bar.finish_and_clear();
                out!("{report}");
                if let Some(path) = json {
                    write_output_file(&path, report.to_json().as_bytes(), force, &[program])?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            // OK because clap requires --plan unless --observed or --program is given.
            let Some(plan) = plan else {
                return Ok(ExitCode::from(2));
            };
            let inputs = Inputs::load(&plan)?;
            let bar = count_bar(runs, "runs");
            let report = double_random::fairness::simulate(&inputs, &seed, runs, &|p| {
                if let Progress::Count { done, .. } = p {
                    bar.set_position(done);
                }
            })?;
            bar.finish_and_clear();
            out!("{report}");
            let read = inputs.file_paths(&plan);
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
                write_output_file(&path, text.as_bytes(), force, &read)?;
            }
            #[cfg(feature = "svg")]
            if let Some(path) = svg {
                write_output_file(
                    &path,
                    double_random::fairness::fairness_svg_in(&report, lang).as_bytes(),
                    force,
                    &read,
                )?;
            }
        }
        Command::History {
            record,
            out,
            base,
            force,
        } => {
            let mut read = vec![record.clone(), record.with_file_name("visits.csv")];
            read.extend(base.clone());
            if let Some(path) = &out {
                check_output_file(path, force, &read)?;
            }
            let rows = double_random::audit::history_rows(&record)?;
            let added = rows.lines().count() - 1;
            let text = match &base {
                Some(base) => double_random::audit::history_after(base, &rows)?,
                None => rows,
            };
            match out {
                Some(path) => {
                    write_output_file(&path, text.as_bytes(), force, &read)?;
                    let (path, rows) = (path.display().to_string(), added.to_string());
                    let line = match base {
                        Some(base) => fill(
                            Msg::HistoryWroteOnBase,
                            lang,
                            &[
                                ("path", &path),
                                ("base_rows", &(text.lines().count() - 1 - added).to_string()),
                                ("base", &base.display().to_string()),
                                ("rows", &rows),
                            ],
                        ),
                        None => fill(Msg::HistoryWrote, lang, &[("path", &path), ("rows", &rows)]),
                    };
                    outln!("{line}");
                }
                None => out!("{text}"),
            }
        }
        Command::Publish {
            record,
            results,
            on,
            out,
        } => {
            let on = double_random::results::publish::publication_date(&on)?;
            let p = double_random::results::publish::Publication::make(&record, &results, on, &out)?;
            p.write_dir(&out)?;
            let overdue = String::from_utf8_lossy(&p.files[0].1)
                .lines()
                .filter(|l| l.ends_with(",yes"))
                .count();
            let published = fill(
                Msg::Published,
                lang,
                &[
                    ("results", &p.record.results_count.to_string()),
                    ("problems", &p.record.problems.to_string()),
                    (
                        "rows",
                        &(String::from_utf8_lossy(&p.files[0].1).lines().count() - 1).to_string(),
                    ),
                    ("overdue", &overdue.to_string()),
                    ("on", &on.to_string()),
                ],
            );
            outln!("{published}");
            let files = double_random::results::publish::PUBLICATION_FILES.join(", ");
            outln!("{}", wrote_files(&out, &files, lang));
        }
        Command::Notices {
            record,
            reclassify,
            out,
        } => {
            let n = double_random::results::notices::Notices::make(&record, reclassify.as_deref())?;
            n.write_dir(&out)?;
            let made = fill(
                Msg::NoticesMade,
                lang,
                &[("notices", &n.notices.to_string()), ("warned", &n.warned.to_string())],
            );
            outln!("{made}");
            outln!("{}", wrote_files(&out, "notices.csv, prewarning.csv", lang));
        }
        Command::Calibrate {
            publications,
            json,
            #[cfg(feature = "svg")]
            svg,
            force,
        } => {
            #[cfg(not(feature = "svg"))]
            let svg: Option<PathBuf> = None;
            for path in json.iter().chain(&svg) {
                check_output_file(path, force, &publications)?;
            }
            let paths: Vec<&std::path::Path> = publications.iter().map(PathBuf::as_path).collect();
            let report = double_random::results::calibrate::calibrate(&paths)?;
            out!("{report}");
            if let Some(path) = json {
                write_output_file(&path, report.to_json().as_bytes(), force, &publications)?;
            }
            #[cfg(feature = "svg")]
            if let Some(path) = svg {
                let picture = double_random::fairness::calibration_svg(&report);
                write_output_file(&path, picture.as_bytes(), force, &publications)?;
            }
        }
        Command::Program { program, out } => {
            let p = double_random::program::Program::load(&program)?;
            let schedule = p.schedule(&out)?;
            schedule.write_dir(&out)?;
            for w in &schedule.warnings {
                eprintln!("{}", fill(Msg::Warning, lang, &[("message", w)]));
            }
            let title = fill(
                Msg::ProgramTitle,
                lang,
                &[
                    ("program", p.id()),
                    ("year", &p.year().to_string()),
                    ("rounds", &p.rounds().len().to_string()),
                ],
            );
            outln!("{title}");
            out!("{}", schedule.table_in(lang));
            let plans: Vec<&str> = schedule.plans.iter().map(|(n, _)| n.as_str()).collect();
            let wrote = fill(
                Msg::ProgramWrote,
                lang,
                &[("path", &out.display().to_string()), ("plans", &plans.join(", "))],
            );
            outln!("{wrote}");
            outln!("{}", messages::text(Msg::ProgramThen, lang));
            let output = |round: &str| fill(Msg::RoundOutput, lang, &[("round", round)]);
            for (k, r) in p.rounds().iter().enumerate() {
                let plan = out.join(p.plan_file(k));
                if k > 0 {
                    let previous = output(&p.rounds()[k - 1].round_id);
                    let base = if k == 1 {
                        p.template_history()
                    } else {
                        Some(out.join(p.history_file(k - 1)))
                    };
                    let base = base.map_or(String::new(), |b| format!(" --base {}", b.display()));
                    outln!(
                        "  double-random history {previous}/record.json{base} --out {}",
                        out.join(p.history_file(k)).display()
                    );
                }
                let commitment = fill(Msg::RoundCommitment, lang, &[("round", &r.round_id)]);
                outln!("  double-random commit --plan {} --out {commitment}", plan.display());
                outln!(
                    "  double-random draw --plan {} --seed {} --commitment {commitment} --out {}",
                    plan.display(),
                    text(Msg::SeedPlaceholder, lang),
                    output(&r.round_id)
                );
            }
        }
        #[cfg(feature = "serve")]
        Command::Serve {
            dir,
            addr,
            max_upload_mb,
        } => {
            let running = double_random::serve::start(double_random::serve::Options {
                dir,
                addr,
                max_upload: max_upload_mb.saturating_mul(1 << 20),
            })?;
            outln!("{}", fill(Msg::Serving, lang, &[("addr", &running.addr.to_string())]));
            running.wait();
        }
        Command::Synth {
            entities,
            seed,
            out,
            json,
        } => {
            let s = contract::synth(&contract::SynthRequest { entities, seed, out })?;
            if json {
                out!("{}", contract::envelope(Ok(s)));
                return Ok(ExitCode::SUCCESS);
            }
            let wrote = fill(
                Msg::SynthWrote,
                lang,
                &[
                    ("path", &s.out),
                    ("entities", &s.entities.to_string()),
                    ("history", &s.history.to_string()),
                    ("directed", &s.directed.to_string()),
                ],
            );
            outln!("{wrote}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A spinner on standard error with the current step and the time so far,
/// for the commands that take seconds at scale (commit, draw, verify);
/// indicatif draws nothing when standard error is not a terminal.
fn spinner() -> indicatif::ProgressBar {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}

/// A progress bar over `len` simulated `unit` (runs, years).
fn count_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {unit}, {{eta}} left"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Shows a step of a long command on the spinner.
fn show(spinner: &indicatif::ProgressBar, progress: Progress<'_>, lang: Lang) {
    if let Progress::Step(text) = progress {
        spinner.set_message(messages::step(text, lang));
    }
}

/// Caps glibc's malloc arenas at one per core. glibc gives each thread that
/// allocates an arena of its own, up to eight per core, and memory freed
/// into one is not reused by the others: a streamed draw of 60 million
/// entities peaked at 1.92 GB with the default and 1.65 GB with this, and
/// was faster (125 s → 115 s); in memory at 10 million it changed nothing.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let cores = i32::try_from(cores).unwrap_or(i32::MAX);
        // SAFETY: `mallopt` takes no pointer and only sets a limit; it is
        // called first thing in `main`, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores);
        }
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let json = cli.command.json();
    let lang = cli.lang();
    match run(cli, lang) {
        Ok(code) => code,
        Err(e) => {
            if json {
                out!("{}", contract::envelope::<()>(Err(contract::ErrorReport::from(&e))));
            }
            eprintln!("{}", fill(Msg::Error, lang, &[("message", &e.localized(lang))]));
            ExitCode::from(2)
        }
    }
}

/// Prints `verified`, or each difference and their count; the exit code
/// is 0 or 1.
fn report_verification(differences: &[String], lang: Lang) -> ExitCode {
    if differences.is_empty() {
        outln!("{}", text(Msg::Verified, lang));
        return ExitCode::SUCCESS;
    }
    for d in differences {
        outln!("{}", messages::phrase(d, lang));
    }
    let count = differences.len().to_string();
    outln!("{}", fill(Msg::NotVerified, lang, &[("count", &count)]));
    ExitCode::from(1)
}

/// "wrote FOLDER: FILES" in `lang`.
fn wrote_files(dir: &std::path::Path, files: &str, lang: Lang) -> String {
    fill(
        Msg::WroteFiles,
        lang,
        &[("path", &dir.display().to_string()), ("files", files)],
    )
}
