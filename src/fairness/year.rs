//! A year in the fairness report: a program's rounds drawn in turn, each
//! round's visits fed into the next round's history, over many seeds.

use std::fmt;

use serde::Serialize;

use super::run_seed;
use crate::draw::Draw;
use crate::error::Result;
use crate::frame::ExclusionReason;
use crate::inputs::Inputs;
use crate::key::Seed;
use crate::model::{Mode, RiskClass, Status};
use crate::program::Program;
use crate::progress::{OnProgress, Progress};
use crate::visit::Basis;

/// One department and class over the year.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct YearClass {
    /// The department.
    pub department: String,
    /// The class.
    #[serde(serialize_with = "class_name")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub class: RiskClass,
    /// The class's mode.
    #[serde(serialize_with = "mode_name")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub mode: Mode,
    /// `|B(d,c)|` at program time.
    pub base: u64,
    /// The declared annual ratio (an annual ratio, or a round ratio times its rounds).
    pub declared_ratio: String,
    /// The year's expected count (`expected.csv`'s `year` row).
    pub expected: u64,
    /// Mean entities drawn over the year per run.
    pub mean_drawn: f64,
    /// The fewest and the most drawn in a run.
    pub min_drawn: u64,
    /// The most drawn in a run.
    pub max_drawn: u64,
    /// `mean_drawn / base`: the realised annual ratio.
    pub realised_ratio: f64,
    /// Whether every run drew the year's expected count (the declared
    /// ratio on the base, rounded per round: within one entity per round of
    /// `declared × base`, exact for an annual ratio).
    pub meets_frequency: bool,
    /// Share of runs that drew fewer than expected (a quota the eligible frame could not fill).
    pub short_runs: f64,
    /// Mean entities of the base excluded by the cooldown, summed over the year's rounds.
    pub cooldown_excluded: f64,
    /// Mean entities of the base excluded by the annual cap, summed over the year's rounds.
    pub cap_excluded: f64,
}

/// Visits per entity over the year, for the entities of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct YearBurden {
    /// The class (of the entity).
    #[serde(serialize_with = "class_name")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub class: RiskClass,
    /// Registered (active or suspended) entities of the class.
    pub entities: u64,
    /// Mean share of them visited on site 0, 1, and 2 or more times in the year.
    pub visited: [f64; 3],
    /// Mean on-site visits per entity per year.
    pub mean_visits: f64,
    /// Mean off-site checks per entity per year.
    pub mean_reviews: f64,
}

/// A program's year over many seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct YearReport {
    /// The program id.
    pub program_id: String,
    /// The rounds, in order.
    pub rounds: Vec<String>,
    /// Runs simulated; run `k` draws every round with the seed `"BASE #k"`.
    pub runs: u64,
    /// The base seed text.
    pub base_seed: String,
    /// Per department and class.
    pub classes: Vec<YearClass>,
    /// Per class of entity.
    pub burden: Vec<YearBurden>,
}

/// What one run of a year contributes.
struct YearRun {
    /// Per (department, class) in program order: drawn, cooldown and cap exclusions.
    classes: Vec<(u64, u64, u64)>,
    /// Per entity position: on-site visits and off-site checks in the year.
    visits: Vec<(u16, u16)>,
}

/// Simulates a program's year `runs` times: in run `k`, every round is
/// drawn with the seed `"BASE #k"` (each round's task and round ids make
/// its salt its own), and each round's visits are added to the history the
/// next round reads, as `double-random history --base` does.
///
/// # Errors
///
/// Any error of [`Program::schedule`] and of the rounds' draws, and an
/// [`InvalidSeed`](crate::ErrorKind::InvalidSeed) error for a bad base seed.
pub fn simulate_year(program: &Program, base_seed: &str, runs: u64, progress: OnProgress<'_>) -> Result<YearReport> {
    Seed::new(base_seed)?;
    let template_dir = program.template_dir();
    let schedule = program.schedule(&template_dir)?;
    let template_history: Vec<u8> = match program.template_history() {
        Some(path) => crate::inputs::io::read_file(&path, &path.display().to_string())?,
        None => b"entity_id,department,date,kind,inspector_ids\n".to_vec(),
    };
    // Every round's inputs, loaded once; each run swaps in its history.
    let mut rounds: Vec<Inputs> = Vec::with_capacity(schedule.plans.len());
    for (k, (name, text)) in schedule.plans.iter().enumerate() {
        let history = (k > 0).then(|| program.history_file(k));
        let inputs = Inputs::from_files(name, text.as_bytes(), |path| {
            if Some(path) == history.as_deref() {
                Ok(template_history.clone())
            } else {
                let full = template_dir.join(path);
                crate::inputs::io::read_file(&full, path)
            }
        })?;
        rounds.push(inputs);
    }
    let done = std::sync::atomic::AtomicU64::new(0);
    let run = |k: u64| -> Result<YearRun> {
        let r = one_year(program, &rounds, &template_history, &Seed::new(run_seed(base_seed, k))?);
        progress(Progress::Count {
            done: done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            total: runs,
        });
        r
    };
    #[cfg(feature = "parallel")]
    let results: Vec<YearRun> = {
        use rayon::prelude::*;
        (0..runs).into_par_iter().map(run).collect::<Result<Vec<_>>>()?
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<YearRun> = (0..runs).map(run).collect::<Result<Vec<_>>>()?;
    Ok(year_report(program, &schedule, &rounds[0], base_seed, &results))
}

fn one_year(program: &Program, rounds: &[Inputs], template_history: &[u8], seed: &Seed) -> Result<YearRun> {
    let population = rounds[0].population();
    let mut history = template_history.to_vec();
    if !history.is_empty() && !history.ends_with(b"\n") {
        history.push(b'\n');
    }
    let mut classes = vec![(0u64, 0u64, 0u64); program.frequencies().len()];
    let mut visits = vec![(0u16, 0u16); population.len()];
    for (k, round) in rounds.iter().enumerate() {
        let inputs = if k == 0 {
            round.clone()
        } else {
            round.with_history(&history)?
        };
        let draw = Draw::run(&inputs, seed)?;
        for (slot, f) in classes.iter_mut().zip(program.frequencies()) {
            let Some(d) = draw.departments.iter().find(|d| d.department == f.department) else {
                continue;
            };
            let c = d.class(f.class);
            slot.0 += c.selected();
            slot.1 += c.excluded.get(&ExclusionReason::Cooldown).copied().unwrap_or(0);
            slot.2 += c.excluded.get(&ExclusionReason::AnnualCap).copied().unwrap_or(0);
        }
        for v in &draw.visits {
            visits[v.entity].0 = visits[v.entity].0.saturating_add(1);
            // The visit's parts as history rows, for the next round.
            let date = v.date.map(|d| d.to_string()).unwrap_or_default();
            for p in &v.parts {
                let kind = if p.basis.contains(&Basis::Random) {
                    "random"
                } else {
                    "directed"
                };
                let row = format!(
                    "{},{},{date},{kind},{}\n",
                    population.id(v.entity),
                    p.department,
                    p.inspectors.join(";")
                );
                history.extend_from_slice(row.as_bytes());
            }
        }
        for c in &draw.offsite {
            visits[c.entity].1 = visits[c.entity].1.saturating_add(1);
        }
    }
    Ok(YearRun { classes, visits })
}

fn year_report(
    program: &Program,
    schedule: &crate::program::Schedule,
    inputs: &Inputs,
    base_seed: &str,
    results: &[YearRun],
) -> YearReport {
    let r = results.len().max(1) as f64;
    let classes = program
        .frequencies()
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let year = schedule
                .expected
                .iter()
                .find(|e| e.round_id == "year" && e.department == f.department && e.class == f.class)?;
            let drawn: Vec<u64> = results.iter().map(|x| x.classes[i].0).collect();
            let mean = |g: &dyn Fn(&YearRun) -> u64| results.iter().map(|x| g(x) as f64).sum::<f64>() / r;
            let mean_drawn = mean(&|x| x.classes[i].0);
            let (min_drawn, max_drawn) = (
                drawn.iter().copied().min().unwrap_or(0),
                drawn.iter().copied().max().unwrap_or(0),
            );
            Some(YearClass {
                department: f.department.clone(),
                class: f.class,
                mode: year.mode,
                base: year.base,
                declared_ratio: year.ratio.clone(),
                expected: year.expected,
                mean_drawn,
                min_drawn,
                max_drawn,
                realised_ratio: if year.base == 0 {
                    0.0
                } else {
                    mean_drawn / year.base as f64
                },
                meets_frequency: min_drawn >= year.expected,
                short_runs: drawn.iter().filter(|&&n| n < year.expected).count() as f64 / r,
                cooldown_excluded: mean(&|x| x.classes[i].1),
                cap_excluded: mean(&|x| x.classes[i].2),
            })
        })
        .collect();
    let population = inputs.population();
    let unclassified = inputs.plan().unclassified_class();
    let burden = RiskClass::ALL
        .iter()
        .map(|&class| {
            let members: Vec<usize> = (0..population.len())
                .filter(|&e| {
                    let entity = population.entity(e);
                    entity.status() != Status::Deregistered
                        && entity.status() != Status::Revoked
                        && entity.class().or(unclassified) == Some(class)
                })
                .collect();
            let n = members.len().max(1) as f64;
            let mut visited = [0.0; 3];
            let (mut visits, mut reviews) = (0.0, 0.0);
            for run in results {
                for &e in &members {
                    let (v, c) = run.visits[e];
                    visited[usize::from(v.min(2))] += 1.0 / n / r;
                    visits += f64::from(v) / n / r;
                    reviews += f64::from(c) / n / r;
                }
            }
            YearBurden {
                class,
                entities: members.len() as u64,
                visited,
                mean_visits: visits,
                mean_reviews: reviews,
            }
        })
        .collect();
    YearReport {
        program_id: program.id().to_string(),
        rounds: program.rounds().iter().map(|x| x.round_id.clone()).collect(),
        runs: results.len() as u64,
        base_seed: base_seed.to_string(),
        classes,
        burden,
    }
}

impl YearReport {
    /// The report as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Whether every department and class drew its year's expected count
    /// in every run.
    pub fn meets_frequencies(&self) -> bool {
        self.classes.iter().all(|c| c.meets_frequency)
    }
}

impl fmt::Display for YearReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "program {}: {} round(s) ({}), {} runs from seed {:?}",
            self.program_id,
            self.rounds.len(),
            self.rounds.join(", "),
            self.runs,
            self.base_seed
        )?;
        writeln!(
            f,
            "{:<10} {:<5} {:>12} {:>6} {:>8} {:>8} {:>10} {:>9} {:>8} {:>7} {:>9} {:>8}",
            "department",
            "class",
            "mode",
            "base",
            "declared",
            "expected",
            "drawn",
            "realised",
            "meets",
            "short",
            "cooldown",
            "cap"
        )?;
        for c in &self.classes {
            writeln!(
                f,
                "{:<10} {:<5} {:>12} {:>6} {:>8} {:>8} {:>10} {:>9.4} {:>8} {:>6.1}% {:>9.1} {:>8.1}",
                c.department,
                c.class.as_str(),
                c.mode.as_str(),
                c.base,
                c.declared_ratio,
                c.expected,
                format!("{}–{}", c.min_drawn, c.max_drawn),
                c.realised_ratio,
                if c.meets_frequency { "yes" } else { "NO" },
                100.0 * c.short_runs,
                c.cooldown_excluded,
                c.cap_excluded
            )?;
        }
        writeln!(
            f,
            "visits per entity in the year, by class: share visited 0 / 1 / 2+ times; mean visits; mean off-site checks"
        )?;
        for b in &self.burden {
            writeln!(
                f,
                "  {} ({} entities): {:.1}% / {:.1}% / {:.2}%; {:.3}; {:.3}",
                b.class.as_str(),
                b.entities,
                100.0 * b.visited[0],
                100.0 * b.visited[1],
                100.0 * b.visited[2],
                b.mean_visits,
                b.mean_reviews
            )?;
        }
        Ok(())
    }
}

fn class_name<S: serde::Serializer>(class: &RiskClass, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(class.as_str())
}

fn mode_name<S: serde::Serializer>(mode: &Mode, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(mode.as_str())
}
