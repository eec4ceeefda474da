//! Auditing another system's draws: are its selections consistent with
//! equal-probability sampling within the groups it claims?
//!
//! Statistics here use floating point; nothing here decides a selection.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::gamma::ln_gamma;

use crate::error::{Error, Location, Result};
use crate::inputs::io::{CsvFile, check_unique, read_rows};
use crate::model::Ratio;

/// Positions are grouped into this many bins for the positional test.
const POSITION_BINS: usize = 20;
/// Columns with more distinct values than this are not tested as groups.
const MAX_GROUPS: usize = 200;
/// The family-wise level: each test is flagged below `LEVEL / tests` (Bonferroni).
const LEVEL: f64 = 0.01;

/// One statistical test of an audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ObservedTest {
    /// What is tested: `column region`, `claims risk_class`, `position`, `tail`.
    pub name: String,
    /// The statistic (chi-square, or the never-selected tail length).
    pub statistic: f64,
    /// Degrees of freedom (0 for the tail test).
    pub df: u64,
    /// The p-value.
    pub p_value: f64,
    /// Whether it is below the Bonferroni level.
    pub flagged: bool,
    /// The selection rate per group (or per position bin), with the group's size.
    pub rates: Vec<(String, u64, f64)>,
}

/// The result of [`audit_observed`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ObservedAudit {
    /// Entities in the frame.
    pub frame: u64,
    /// Rounds in the draws.
    pub rounds: u64,
    /// Selections per round.
    pub selected_per_round: Vec<(String, u64)>,
    /// The tests, each with its p-value.
    pub tests: Vec<ObservedTest>,
    /// The Bonferroni level each test is compared with.
    pub level: f64,
    /// The never-selected tail at the end of the frame's order: its first position (0-based) and length.
    pub dead_tail: (u64, u64),
}

impl ObservedAudit {
    /// Whether any test flags the draws.
    pub fn is_flagged(&self) -> bool {
        self.tests.iter().any(|t| t.flagged)
    }

    /// The audit as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// A chi-square test of equal selection rates across groups, each group
/// given as (label, size, selections over all rounds), with `rounds`
/// rounds; `expected` optionally gives each group's claimed ratio instead
/// of the pooled rate.
fn rate_test(name: String, groups: &[(String, u64, u64)], rounds: u64, expected: Option<&[f64]>) -> ObservedTest {
    let trials = |size: u64| (size * rounds) as f64;
    let total_sel: u64 = groups.iter().map(|g| g.2).sum();
    let total_trials: f64 = groups.iter().map(|g| trials(g.1)).sum();
    let pooled = if total_trials > 0.0 {
        total_sel as f64 / total_trials
    } else {
        0.0
    };
    let mut chi = 0.0;
    let mut used = 0u64;
    for (k, (_, size, sel)) in groups.iter().enumerate() {
        let n = trials(*size);
        let p = expected.map_or(pooled, |e| e[k]);
        let (e1, e0) = (n * p, n * (1.0 - p));
        if n == 0.0 {
            continue;
        }
        used += 1;
        let o1 = *sel as f64;
        if e1 > 0.0 {
            chi += (o1 - e1).powi(2) / e1;
        } else if o1 > 0.0 {
            chi = f64::INFINITY;
        }
        if e0 > 0.0 {
            chi += (n - o1 - e0).powi(2) / e0;
        } else if n - o1 > 0.0 {
            chi = f64::INFINITY;
        }
    }
    // Homogeneity loses a degree of freedom to the pooled rate; claims do not.
    let df = if expected.is_some() {
        used
    } else {
        used.saturating_sub(1)
    };
    let p_value = if df == 0 {
        1.0
    } else if chi.is_infinite() {
        0.0
    } else {
        ChiSquared::new(df as f64).map_or(1.0, |d| d.sf(chi))
    };
    ObservedTest {
        name,
        statistic: chi,
        df,
        p_value,
        flagged: false,
        rates: groups
            .iter()
            .map(|(label, size, sel)| (label.clone(), *size, *sel as f64 / trials(*size).max(1.0)))
            .collect(),
    }
}

/// `ln C(n, k)`.
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Audits another system's draws (`observed`: columns `round`, `entity_id`)
/// against the frame they were drawn from (`frame`: `entity_id` and any
/// columns, in the system's sort order) and, optionally, its claimed ratios
/// (`claims`: `column`, `value`, `ratio`).
///
/// Tests, each a chi-square test unless said otherwise, flagged below
/// 0.01 divided by the number of tests (Bonferroni):
///
/// - for every claimed column, the selection rate of each value against its
///   claimed ratio;
/// - for every other frame column with at most 200 values, equal selection
///   rates across its values;
/// - position: equal selection rates across 20 equal bins of the frame's
///   order, which exposes systematic sampling over a sorted list;
/// - tail: the longest run of positions at the end of the frame never
///   selected in any round, with the exact probability of so long a dead
///   tail under simple random sampling: `Π_r C(N − L, n_r) / C(N, n_r)`.
///
/// # Errors
///
/// Loading errors naming the file, line and field; an entity of the draws
/// missing from the frame; an unknown column in the claims.
pub fn audit_observed(observed: &Path, frame: &Path, claims: Option<&Path>) -> Result<ObservedAudit> {
    let name = |p: &Path| p.display().to_string();
    // The frame, in its order.
    let frame_name = name(frame);
    let bytes = read_rows(frame, &frame_name)?;
    let mut csv = CsvFile::open(&frame_name, &bytes)?;
    let c_id = csv.require("entity_id")?;
    let columns: Vec<(usize, String)> = csv
        .headers()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != c_id)
        .map(|(i, h)| (i, h.clone()))
        .collect();
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    let mut values: Vec<Vec<String>> = Vec::new();
    let mut seen = BTreeMap::new();
    while let Some(row) = csv.next_row()? {
        let id = row.id(c_id)?;
        check_unique(&mut seen, &id, row.at(c_id))?;
        position.insert(id, values.len());
        values.push(columns.iter().map(|(i, _)| row.get(*i).to_string()).collect());
    }
    let n = values.len() as u64;
    if n == 0 {
        return Err(Error::syntax(Location::file(frame_name), "the frame has no entities"));
    }

    // The draws.
    let observed_name = name(observed);
    let bytes = read_rows(observed, &observed_name)?;
    let mut csv = CsvFile::open(&observed_name, &bytes)?;
    let c_round = csv.require("round")?;
    let c_entity = csv.require("entity_id")?;
    let mut rounds: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    while let Some(row) = csv.next_row()? {
        let round = row.id(c_round)?;
        let id = row.id(c_entity)?;
        let Some(&p) = position.get(&id) else {
            return Err(Error::unknown(row.at(c_entity), "entity (not in the frame)", id));
        };
        if !rounds.entry(round).or_default().insert(p) {
            return Err(Error::invalid(
                row.at(c_entity),
                "an entity selected once per round",
                id,
            ));
        }
    }
    let r = rounds.len() as u64;
    let mut selections = vec![0u64; values.len()];
    for picked in rounds.values() {
        for &p in picked {
            selections[p] += 1;
        }
    }

    // Claims.
    let mut claimed: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    if let Some(path) = claims {
        let claims_name = name(path);
        let bytes = read_rows(path, &claims_name)?;
        let mut csv = CsvFile::open(&claims_name, &bytes)?;
        let c_col = csv.require("column")?;
        let c_val = csv.require("value")?;
        let c_ratio = csv.require("ratio")?;
        while let Some(row) = csv.next_row()? {
            let column = row.get(c_col).to_string();
            if !columns.iter().any(|(_, c)| *c == column) {
                return Err(Error::unknown(row.at(c_col), "column (not in the frame)", column));
            }
            let ratio = row
                .get(c_ratio)
                .parse::<Ratio>()
                .map_err(|e| Error::invalid(row.at(c_ratio), e.to_string(), row.get(c_ratio)))?;
            let p = ratio.numerator() as f64 / ratio.denominator() as f64;
            claimed.entry(column).or_default().insert(row.get(c_val).to_string(), p);
        }
    }

    let mut tests = Vec::new();
    for (k, (_, column)) in columns.iter().enumerate() {
        let mut groups: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (row, sel) in values.iter().zip(&selections) {
            let g = groups.entry(row[k].as_str()).or_insert((0, 0));
            g.0 += 1;
            g.1 += sel;
        }
        if (groups.len() < 2 && !claimed.contains_key(column)) || groups.len() > MAX_GROUPS {
            continue;
        }
        let list: Vec<(String, u64, u64)> = groups.iter().map(|(v, &(s, c))| (v.to_string(), s, c)).collect();
        match claimed.get(column) {
            Some(claims) => {
                // Only the values the claims name.
                let list: Vec<(String, u64, u64)> = list.into_iter().filter(|g| claims.contains_key(&g.0)).collect();
                let expected: Vec<f64> = list.iter().map(|g| claims[&g.0]).collect();
                tests.push(rate_test(format!("claims {column}"), &list, r, Some(&expected)));
            }
            None => tests.push(rate_test(format!("column {column}"), &list, r, None)),
        }
    }
    // Position bins.
    let bins = POSITION_BINS.min(values.len());
    let bin_groups: Vec<(String, u64, u64)> = (0..bins)
        .map(|b| {
            let (lo, hi) = (b * values.len() / bins, (b + 1) * values.len() / bins);
            (
                format!("{lo}-{}", hi - 1),
                (hi - lo) as u64,
                selections[lo..hi].iter().sum(),
            )
        })
        .collect();
    tests.push(rate_test("position".to_string(), &bin_groups, r, None));
    // The dead tail.
    let tail = selections.iter().rev().take_while(|&&s| s == 0).count() as u64;
    let ln_p: f64 = rounds
        .values()
        .map(|picked| {
            let k = picked.len() as u64;
            if n - tail < k {
                f64::NEG_INFINITY
            } else {
                ln_choose(n - tail, k) - ln_choose(n, k)
            }
        })
        .sum();
    tests.push(ObservedTest {
        name: "tail".to_string(),
        statistic: tail as f64,
        df: 0,
        p_value: ln_p.exp(),
        flagged: false,
        rates: vec![(format!("{}-{}", n - tail, n.saturating_sub(1)), tail, 0.0)],
    });
    let level = LEVEL / tests.len() as f64;
    for t in &mut tests {
        t.flagged = t.p_value < level;
    }
    Ok(ObservedAudit {
        frame: n,
        rounds: r,
        selected_per_round: rounds.iter().map(|(k, v)| (k.clone(), v.len() as u64)).collect(),
        tests,
        level,
        dead_tail: (n - tail, tail),
    })
}

impl fmt::Display for ObservedAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "audit of {} rounds over a frame of {} entities",
            self.rounds, self.frame
        )?;
        for t in &self.tests {
            let verdict = if t.flagged { "FLAGGED" } else { "ok" };
            if t.name == "tail" {
                writeln!(
                    f,
                    "{:<24} {verdict:<8} the last {} positions were never selected; p = {:.3e}",
                    t.name, t.statistic, t.p_value
                )?;
            } else {
                let (lo, hi) = t
                    .rates
                    .iter()
                    .fold((f64::INFINITY, 0.0f64), |(lo, hi), g| (lo.min(g.2), hi.max(g.2)));
                writeln!(
                    f,
                    "{:<24} {verdict:<8} chi-square {:.1} on {} df, p = {:.3e}; rates from {:.4} to {:.4}",
                    t.name, t.statistic, t.df, t.p_value, lo, hi
                )?;
            }
        }
        writeln!(
            f,
            "{} (each test at the Bonferroni level {:.2e})",
            if self.is_flagged() {
                "the draws are NOT consistent with equal-probability sampling"
            } else {
                "the draws are consistent with equal-probability sampling"
            },
            self.level
        )
    }
}
