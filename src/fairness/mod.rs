//! The analyst's tooling (feature `fairness`): how fair a plan's draws
//! are, and whether another system's draws look random.
//!
//! - [`simulate`] runs a plan over many seeds (Monte Carlo) and reports
//!   inclusion, allocation, coordination, inspector workload, rotation
//!   and burden ([`FairnessReport`]); [`fairness_svg`] draws it (feature
//!   `svg`).
//! - [`simulate_year`] runs an annual program's rounds in turn over many
//!   seeds, each round's visits fed into the next round's history, and
//!   reports whether each class meets its frequency and how often entities
//!   are visited in a year ([`YearReport`]).
//! - [`audit_observed`] tests another system's published draws for
//!   equal-probability sampling within the groups it claims
//!   ([`ObservedAudit`]).
//!
//! Statistics here use floating point; nothing here decides a selection.
//! The draw, its outputs and verification do not need this module.

mod observed;
#[cfg(feature = "svg")]
mod plot;
mod year;

pub use observed::{ObservedAudit, ObservedTest, audit_observed};
#[cfg(feature = "svg")]
pub use plot::{calibration_svg, fairness_svg, fairness_svg_in};
pub use year::{YearBurden, YearClass, YearReport, simulate_year};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal};

use crate::draw::{Draw, Independence};
use crate::error::Result;
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::Seed;
use crate::model::RiskClass;
use crate::progress::{OnProgress, Progress};

/// What one run contributes to the report.
struct Run {
    /// (department, entity) selected.
    selected: Vec<(u16, u32)>,
    /// Per (department, class, stratum) in frame order: the allocation.
    allocations: Vec<u64>,
    /// Whether every class's allocations summed to its quota (capped).
    totals_match: bool,
    /// Distinct entities selected by any department.
    coordinated: u32,
    /// The same with one salt per department.
    independent: u32,
    /// Visits of the run (selections and directed checks, merged).
    visits: u32,
    /// Per inspector (index into `Inputs::inspectors`), visits assigned.
    loads: Vec<u32>,
    /// Whether some inspector reached max_visits or max_per_day.
    cap_binds: bool,
    /// (entity, inspector) pairs, sorted.
    pairs: Vec<(u32, u32)>,
    /// Teammate pairs (smaller index first), sorted.
    teammates: Vec<(u32, u32)>,
    /// Entities visited.
    visited: Vec<u32>,
}

/// The seed text of run `k`: the base seed, a space, `#`, and `k` in decimal.
pub fn run_seed(base: &str, k: u64) -> String {
    format!("{base} #{k}")
}

fn one_run(inputs: &Inputs, frame: &Frame, seed: &Seed) -> Result<Run> {
    let draw = Draw::select_in(inputs, frame.clone(), seed, Independence::Shared);
    let independent = Draw::select_in(inputs, frame.clone(), seed, Independence::PerDepartment);
    let mut selected = Vec::new();
    let mut allocations = Vec::new();
    let mut totals_match = true;
    for (di, d) in draw.departments.iter().enumerate() {
        for c in &d.classes {
            let total: u64 = c.strata.iter().map(|s| s.allocated).sum();
            totals_match &= total == c.drawn && c.selected() == c.drawn;
            for s in &c.strata {
                allocations.push(s.allocated);
                // OK because plans have far fewer than 65,536 departments and populations fit in u32.
                selected.extend(s.selected.iter().map(|x| (di as u16, x.entity as u32)));
            }
        }
    }
    let distinct = |d: &Draw| {
        d.selections()
            .map(|(_, _, _, s)| s.entity)
            .collect::<BTreeSet<_>>()
            .len() as u32
    };
    let (visits, _offsite) = crate::visit::schedule(&[(inputs, &draw)], &draw.salt)?;
    let by_id: BTreeMap<&str, u32> = inputs
        .inspectors
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i as u32))
        .collect();
    let mut loads = vec![0u32; inputs.inspectors.len()];
    let mut day: BTreeMap<(u32, chrono::NaiveDate), u32> = BTreeMap::new();
    let mut pairs = Vec::new();
    let mut teammates = Vec::new();
    for v in &visits {
        let team: Vec<u32> = v
            .parts
            .iter()
            .flat_map(|p| p.inspectors.iter().filter_map(|id| by_id.get(id.as_str()).copied()))
            .collect();
        for &i in &team {
            loads[i as usize] += 1;
            if let Some(date) = v.date {
                *day.entry((i, date)).or_insert(0) += 1;
            }
            pairs.push((v.entity as u32, i));
        }
        for (a, &x) in team.iter().enumerate() {
            for &y in &team[a + 1..] {
                teammates.push((x.min(y), x.max(y)));
            }
        }
    }
    let cap_binds = loads.iter().zip(&inputs.inspectors).any(|(&n, i)| n >= i.max_visits)
        || day
            .iter()
            .any(|(&(i, _), &n)| n >= inputs.inspectors[i as usize].max_per_day);
    pairs.sort_unstable();
    teammates.sort_unstable();
    Ok(Run {
        selected,
        allocations,
        totals_match,
        coordinated: distinct(&draw),
        independent: distinct(&independent),
        visits: visits.len() as u32,
        loads,
        cap_binds,
        pairs,
        teammates,
        visited: visits.iter().map(|v| v.entity as u32).collect(),
    })
}

/// Inclusion counts of one department, class and stratum.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StratumInclusion {
    /// The department.
    pub department: String,
    /// The class.
    pub class: String,
    /// The stratum label.
    pub stratum: String,
    /// Eligible entities.
    pub eligible: u64,
    /// The target inclusion probability `n/|E|` of the class.
    pub target: f64,
    /// The observed inclusion rate over all runs.
    pub rate: f64,
    /// The chi-square statistic of equal inclusion within the stratum.
    pub chi_square: f64,
    /// Its degrees of freedom.
    pub df: u64,
    /// Its p-value.
    pub p_value: f64,
}

/// Per-inspector workload of one department.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct DepartmentWorkload {
    /// The department.
    pub department: String,
    /// Inspectors on the roster.
    pub inspectors: u64,
    /// Mean visits per inspector per run.
    pub mean_load: f64,
    /// The largest |z| of an inspector's total against the department mean
    /// (Poisson scale). The assigner balances loads among the eligible, so
    /// this is small where inspectors are interchangeable; a lapsing
    /// certificate, unavailable days or a qualification that only some hold
    /// make it large by design.
    pub max_abs_z: f64,
    /// The mean over runs of the Gini coefficient of loads.
    pub mean_gini: f64,
    /// The mean over runs of the busiest minus the least busy load.
    pub mean_spread: f64,
    /// The largest such spread in any run.
    pub max_spread: u32,
    /// Each inspector's total over all runs, by id.
    pub totals: Vec<(String, u64)>,
}

/// The result of [`simulate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct FairnessReport {
    /// The base seed; run `k` uses [`run_seed`]`(base, k)`.
    pub base_seed: String,
    /// The number of runs.
    pub runs: u64,
    /// Entities tested for inclusion (eligible with a target strictly between 0 and 1).
    pub entities_tested: u64,
    /// The largest |z| of an entity's inclusion count against its target.
    pub max_abs_z: f64,
    /// The two-sided Bonferroni bound on |z| at level 0.05 for that many entities.
    pub bonferroni_bound: f64,
    /// Entities whose exact two-sided binomial p-value is below 0.05 divided
    /// by the number of entities tested (exact even where few selections are
    /// expected and the normal approximation behind the z-scores is poor).
    pub beyond_bound: u64,
    /// Every entity's z-score, in frame order (for the histogram).
    pub z_scores: Vec<f64>,
    /// Per department, class and stratum: inclusion and a chi-square test.
    pub strata: Vec<StratumInclusion>,
    /// Runs in which some class's allocations did not sum to its quota (capped): always 0 for DR3.
    pub runs_with_wrong_totals: u64,
    /// The largest |mean allocation − q_h| over strata.
    pub max_allocation_error: f64,
    /// Mean distinct entities selected by any department per run (one salt per task).
    pub mean_selected_entities: f64,
    /// The lower bound `Σ_e max_d π_d(e)` on that mean.
    pub lower_bound_entities: f64,
    /// The same mean with independent draws (one salt per department).
    pub mean_independent_entities: f64,
    /// Mean visits per run (selections and directed checks, merged).
    pub mean_visits: f64,
    /// Per department, inspector workload (empty without an inspector library).
    pub workload: Vec<DepartmentWorkload>,
    /// Share of runs where some inspector reached a cap.
    pub cap_binding_share: f64,
    /// Share of inspector–entity pairs of run k+1 that were also pairs in run k.
    pub pair_repeat_rate: f64,
    /// Share of teammate pairs of run k+1 that were also teammates in run k.
    pub teammate_repeat_rate: f64,
    /// Per class: expected visits per entity per year (visit rate × rounds per year).
    pub visits_per_entity_year: Vec<(String, f64)>,
}

fn gini(values: &[u32]) -> f64 {
    let n = values.len() as f64;
    let total: f64 = values.iter().map(|&v| f64::from(v)).sum();
    if values.is_empty() || total == 0.0 {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64 + 1.0) * f64::from(v))
        .sum();
    (2.0 * weighted) / (n * total) - (n + 1.0) / n
}

fn overlap(a: &[(u32, u32)], b: &[(u32, u32)]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Runs a plan `runs` times with seeds derived from `base_seed` and
/// measures inclusion, allocation, coordination, inspector workload,
/// rotation and burden. `progress` is told the runs done as
/// [`Progress::Count`].
///
/// The report is identical for any thread count: runs are computed in
/// parallel (with the `parallel` feature) but combined in run order.
///
/// # Errors
///
/// Any error of [`Draw::run`] (an unstaffable run, an item floor the plan
/// breaks) and an invalid base seed.
pub fn simulate(inputs: &Inputs, base_seed: &str, runs: u64, progress: OnProgress<'_>) -> Result<FairnessReport> {
    Seed::new(base_seed)?;
    let frame = Frame::build(inputs);
    frame.check_floors(inputs)?;
    let done = std::sync::atomic::AtomicU64::new(0);
    let run = |k: u64| -> Result<Run> {
        let r = one_run(inputs, &frame, &Seed::new(run_seed(base_seed, k))?);
        progress(Progress::Count {
            done: done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            total: runs,
        });
        r
    };
    #[cfg(feature = "parallel")]
    let results: Vec<Run> = {
        use rayon::prelude::*;
        (0..runs).into_par_iter().map(run).collect::<Result<Vec<_>>>()?
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<Run> = (0..runs).map(run).collect::<Result<Vec<_>>>()?;
    Ok(report(inputs, &frame, base_seed, &results))
}

fn report(inputs: &Inputs, frame: &Frame, base_seed: &str, results: &[Run]) -> FairnessReport {
    let plan = &inputs.plan;
    let population = &inputs.population;
    let r = results.len() as f64;
    // Inclusion counts per (department, entity).
    let mut counts: BTreeMap<(u16, u32), u64> = BTreeMap::new();
    for run in results {
        for &k in &run.selected {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    let mut strata = Vec::new();
    let mut z_scores = Vec::new();
    let mut binomial_p: Vec<f64> = Vec::new();
    let mut alloc_sums: Vec<f64> = vec![0.0; results.first().map_or(0, |x| x.allocations.len())];
    for run in results {
        for (s, &a) in alloc_sums.iter_mut().zip(&run.allocations) {
            *s += a as f64;
        }
    }
    let mut max_allocation_error: f64 = 0.0;
    let mut slot = 0;
    // π_d(e) per entity, for the coordination lower bound.
    let mut pi: BTreeMap<u32, f64> = BTreeMap::new();
    for (di, (dep, df)) in plan.departments.iter().zip(&frame.departments).enumerate() {
        for (class, cf) in RiskClass::ALL.iter().zip(&df.classes) {
            let eligible = cf.eligible();
            let quota = dep.class(*class).ratio.quota(cf.base).min(eligible);
            let p = if eligible == 0 {
                0.0
            } else {
                quota as f64 / eligible as f64
            };
            for s in &cf.strata {
                let q_h = if eligible == 0 {
                    0.0
                } else {
                    quota as f64 * s.members.len() as f64 / eligible as f64
                };
                if !results.is_empty() {
                    max_allocation_error = max_allocation_error.max((alloc_sums[slot] / r - q_h).abs());
                }
                slot += 1;
                let c: Vec<f64> = s
                    .members
                    .iter()
                    .map(|&m| counts.get(&(di as u16, m)).copied().unwrap_or(0) as f64)
                    .collect();
                for &m in &s.members {
                    let e = pi.entry(m).or_insert(0.0);
                    *e = e.max(p);
                }
                if c.is_empty() {
                    continue;
                }
                if p > 0.0 && p < 1.0 {
                    let sd = (r * p * (1.0 - p)).sqrt();
                    z_scores.extend(c.iter().map(|&x| (x - r * p) / sd));
                    if let Ok(b) = Binomial::new(p, results.len() as u64) {
                        // Two-sided: twice the smaller tail, at most 1.
                        binomial_p.extend(c.iter().map(|&x| {
                            let k = x as u64;
                            let upper = if k == 0 { 1.0 } else { b.sf(k - 1) };
                            (2.0 * b.cdf(k).min(upper)).min(1.0)
                        }));
                    }
                }
                let mean = c.iter().sum::<f64>() / c.len() as f64;
                let (chi, df_n) = if mean > 0.0 && c.len() > 1 && p < 1.0 {
                    (
                        c.iter().map(|&x| (x - mean).powi(2)).sum::<f64>() / mean,
                        c.len() as u64 - 1,
                    )
                } else {
                    (0.0, 0)
                };
                let p_value = if df_n > 0 {
                    ChiSquared::new(df_n as f64).map_or(1.0, |d| d.sf(chi))
                } else {
                    1.0
                };
                strata.push(StratumInclusion {
                    department: dep.id.clone(),
                    class: class.as_str().to_string(),
                    stratum: s.values.join("|"),
                    eligible: s.members.len() as u64,
                    target: p,
                    rate: if r > 0.0 { mean / r } else { 0.0 },
                    chi_square: chi,
                    df: df_n,
                    p_value,
                });
            }
        }
    }
    let m = z_scores.len().max(1) as f64;
    // OK because the standard normal always exists.
    let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    let bonferroni_bound = normal.inverse_cdf(1.0 - 0.05 / (2.0 * m));
    let max_abs_z = z_scores.iter().fold(0.0f64, |a, z| a.max(z.abs()));
    let beyond_bound = binomial_p.iter().filter(|&&p| p < 0.05 / m).count() as u64;
    let mean = |f: &dyn Fn(&Run) -> f64| {
        if r > 0.0 {
            results.iter().map(f).sum::<f64>() / r
        } else {
            0.0
        }
    };

    // Inspectors.
    let mut workload = Vec::new();
    if !inputs.inspectors.is_empty() {
        for dep in &plan.departments {
            let roster: Vec<usize> = (0..inputs.inspectors.len())
                .filter(|&i| inputs.inspectors[i].department == dep.id)
                .collect();
            if roster.is_empty() {
                continue;
            }
            let totals: Vec<u64> = roster
                .iter()
                .map(|&i| results.iter().map(|run| u64::from(run.loads[i])).sum())
                .collect();
            let mean_total = totals.iter().sum::<u64>() as f64 / roster.len() as f64;
            let max_abs_z = if mean_total > 0.0 {
                totals
                    .iter()
                    .fold(0.0f64, |a, &t| a.max((t as f64 - mean_total).abs() / mean_total.sqrt()))
            } else {
                0.0
            };
            let per_run: Vec<Vec<u32>> = results
                .iter()
                .map(|run| roster.iter().map(|&i| run.loads[i]).collect())
                .collect();
            let spread = |l: &Vec<u32>| l.iter().max().copied().unwrap_or(0) - l.iter().min().copied().unwrap_or(0);
            workload.push(DepartmentWorkload {
                department: dep.id.clone(),
                inspectors: roster.len() as u64,
                mean_load: mean_total / r.max(1.0),
                max_abs_z,
                mean_gini: per_run.iter().map(|l| gini(l)).sum::<f64>() / r.max(1.0),
                mean_spread: per_run.iter().map(|l| f64::from(spread(l))).sum::<f64>() / r.max(1.0),
                max_spread: per_run.iter().map(spread).max().unwrap_or(0),
                totals: roster
                    .iter()
                    .zip(&totals)
                    .map(|(&i, &t)| (inputs.inspectors[i].id.clone(), t))
                    .collect(),
            });
        }
    }
    let repeat = |f: &dyn Fn(&Run) -> &Vec<(u32, u32)>| {
        let (mut shared, mut total) = (0usize, 0usize);
        for w in results.windows(2) {
            shared += overlap(f(&w[0]), f(&w[1]));
            total += f(&w[1]).len();
        }
        if total == 0 { 0.0 } else { shared as f64 / total as f64 }
    };
    // Visits per entity per year, by class: visit rate × the most rounds any department runs for the class.
    let mut visited_count: BTreeMap<u32, u64> = BTreeMap::new();
    for run in results {
        for &e in &run.visited {
            *visited_count.entry(e).or_insert(0) += 1;
        }
    }
    let mut visits_per_entity_year = Vec::new();
    for class in RiskClass::ALL {
        let members: Vec<u32> = (0..population.len() as u32)
            .filter(|&i| {
                let e = population.entity(i as usize);
                e.status().is_registered() && e.class().or(plan.unclassified_class) == Some(class)
            })
            .collect();
        if members.is_empty() {
            continue;
        }
        let rounds = plan
            .departments
            .iter()
            .map(|d| d.class(class).rounds_per_year)
            .max()
            .unwrap_or(1);
        let rate = members
            .iter()
            .map(|e| visited_count.get(e).copied().unwrap_or(0))
            .sum::<u64>() as f64
            / (members.len() as f64 * r.max(1.0));
        visits_per_entity_year.push((class.as_str().to_string(), rate * f64::from(rounds)));
    }
    FairnessReport {
        base_seed: base_seed.to_string(),
        runs: results.len() as u64,
        entities_tested: z_scores.len() as u64,
        max_abs_z,
        bonferroni_bound,
        beyond_bound,
        z_scores,
        strata,
        runs_with_wrong_totals: results.iter().filter(|x| !x.totals_match).count() as u64,
        max_allocation_error,
        mean_selected_entities: mean(&|x| f64::from(x.coordinated)),
        lower_bound_entities: pi.values().sum(),
        mean_independent_entities: mean(&|x| f64::from(x.independent)),
        mean_visits: mean(&|x| f64::from(x.visits)),
        workload,
        cap_binding_share: mean(&|x| f64::from(u8::from(x.cap_binds))),
        pair_repeat_rate: repeat(&|x| &x.pairs),
        teammate_repeat_rate: repeat(&|x| &x.teammates),
        visits_per_entity_year,
    }
}

impl fmt::Display for FairnessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fairness over {} runs (seeds \"{} #0\" …)",
            self.runs, self.base_seed
        )?;
        writeln!(
            f,
            "inclusion: {} entities tested; max |z| {:.2} (Bonferroni bound {:.2} at 0.05); {} beyond it by an exact binomial test",
            self.entities_tested, self.max_abs_z, self.bonferroni_bound, self.beyond_bound
        )?;
        let tested: Vec<&StratumInclusion> = self.strata.iter().filter(|s| s.df > 0).collect();
        let min_p = tested.iter().map(|s| s.p_value).fold(1.0f64, f64::min);
        writeln!(
            f,
            "equal inclusion within strata: {} chi-square tests, smallest p-value {:.4} (Bonferroni level {:.5})",
            tested.len(),
            min_p,
            0.05 / tested.len().max(1) as f64
        )?;
        writeln!(
            f,
            "allocation: totals equal the quota in every run: {}; largest |mean allocation − q_h| {:.4}",
            if self.runs_with_wrong_totals == 0 { "yes" } else { "NO" },
            self.max_allocation_error
        )?;
        writeln!(
            f,
            "coordination: {:.1} entities selected per run (lower bound {:.1}); {:.1} with independent draws, {:.1} saved",
            self.mean_selected_entities,
            self.lower_bound_entities,
            self.mean_independent_entities,
            self.mean_independent_entities - self.mean_selected_entities
        )?;
        writeln!(f, "visits per run: {:.1}", self.mean_visits)?;
        for w in &self.workload {
            writeln!(
                f,
                "inspectors {}: {} on the roster, {:.2} visits each per run, max |z| {:.2}, Gini {:.3}, max−min {:.2} on average ({} at most)",
                w.department, w.inspectors, w.mean_load, w.max_abs_z, w.mean_gini, w.mean_spread, w.max_spread
            )?;
        }
        if !self.workload.is_empty() {
            writeln!(
                f,
                "caps bind in {:.1} % of runs; inspector–entity pairs repeated from the previous run {:.2} %, teammates {:.2} %",
                100.0 * self.cap_binding_share,
                100.0 * self.pair_repeat_rate,
                100.0 * self.teammate_repeat_rate
            )?;
        }
        let burden: Vec<String> = self
            .visits_per_entity_year
            .iter()
            .map(|(c, v)| format!("{c} {v:.3}"))
            .collect();
        writeln!(f, "visits per entity per year: {}", burden.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_equal_and_unequal_loads() {
        assert_eq!(gini(&[3, 3, 3, 3]), 0.0);
        assert!((gini(&[0, 0, 0, 4]) - 0.75).abs() < 1e-12);
        assert_eq!(overlap(&[(1, 2), (2, 3), (5, 1)], &[(1, 2), (5, 1), (6, 0)]), 2);
    }
}
