//! Risk calibration (feature `fairness`): do the credit-risk classes
//! predict what the inspections find? Problem rates by class, department
//! and item with exact intervals, a trend test across A→D, and each class's
//! lift over the whole.
//!
//! Statistics here use floating point; nothing here decides a selection.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;
use statrs::distribution::{Beta, ContinuousCDF, Normal};

use super::Outcome;
use super::publish::PublicationRecord;
use crate::error::Result;
use crate::model::RiskClass;

/// The problem rate of one group of checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Rate {
    /// The group: a class, `all`, or a department or item with its class.
    pub group: String,
    /// Checks in the group.
    pub checked: u64,
    /// Of them, those that found a problem.
    pub problems: u64,
    /// `problems / checked` (0 when nothing was checked).
    pub rate: f64,
    /// The exact (Clopper–Pearson) 95 % interval.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// `rate` over the rate of all checks (the lift); 0 when none found a problem.
    pub lift: f64,
}

/// A risk calibration report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Calibration {
    /// The publications read.
    pub publications: Vec<String>,
    /// What one check is: a department's part of a visit (or an off-site
    /// check) that the draw selected; directed checks are targeted and left
    /// out, and so are parts whose entity could not be checked.
    pub unit: String,
    /// All checks.
    pub all: Rate,
    /// Per class, A to D (unclassified entities as the plan treats them).
    pub classes: Vec<Rate>,
    /// The Cochran–Armitage trend statistic across A→D (scores 0 to 3).
    pub trend_z: f64,
    /// Its one-sided p-value for a rate rising from A to D.
    pub trend_p: f64,
    /// Per department and class.
    pub departments: Vec<Rate>,
    /// Per item (each item check a unit) and class.
    pub items: Vec<Rate>,
}

/// The exact (Clopper–Pearson) 95 % interval of `x` successes in `n`.
pub fn clopper_pearson(x: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (xf, nf) = (x as f64, n as f64);
    let low = if x == 0 {
        0.0
    } else {
        Beta::new(xf, nf - xf + 1.0).map_or(0.0, |b| b.inverse_cdf(0.025))
    };
    let high = if x == n {
        1.0
    } else {
        Beta::new(xf + 1.0, nf - xf).map_or(1.0, |b| b.inverse_cdf(0.975))
    };
    (low, high)
}

fn rate(group: String, checked: u64, problems: u64, overall: f64) -> Rate {
    let r = if checked == 0 {
        0.0
    } else {
        problems as f64 / checked as f64
    };
    let (low, high) = clopper_pearson(problems, checked);
    Rate {
        group,
        checked,
        problems,
        rate: r,
        low,
        high,
        lift: if overall > 0.0 { r / overall } else { 0.0 },
    }
}

/// The Cochran–Armitage test for a trend in `(checked, problems)` over
/// scores 0, 1, 2, …: the statistic and its one-sided p-value for a rising
/// rate.
pub fn trend_test(groups: &[(u64, u64)]) -> (f64, f64) {
    let n: f64 = groups.iter().map(|g| g.0 as f64).sum();
    let x: f64 = groups.iter().map(|g| g.1 as f64).sum();
    if n == 0.0 || x == 0.0 || x == n {
        return (0.0, 1.0);
    }
    let p = x / n;
    let (mut t, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for (score, &(ni, xi)) in groups.iter().enumerate() {
        let (score, ni, xi) = (score as f64, ni as f64, xi as f64);
        t += score * (xi - ni * p);
        s1 += ni * score * score;
        s2 += ni * score;
    }
    let var = p * (1.0 - p) * (s1 - s2 * s2 / n);
    if var <= 0.0 {
        return (0.0, 1.0);
    }
    let z = t / var.sqrt();
    let p_value = Normal::new(0.0, 1.0).map_or(1.0, |d| 1.0 - d.cdf(z));
    (z, p_value)
}

/// Reads publications (`publication.json`, as `publish` writes them) and
/// measures how well the classes predict the problems found.
///
/// # Errors
///
/// Every error of reading a publication record and of
/// [`Publication::make`](super::publish::Publication::make) from the files
/// it names (the draw, its inputs and the results).
pub fn calibrate(publications: &[&Path]) -> Result<Calibration> {
    // (class, department, item) → (checked, problems), per item check;
    // (class, department) and class → per part.
    let mut parts: BTreeMap<(RiskClass, String), (u64, u64)> = BTreeMap::new();
    let mut items: BTreeMap<(String, RiskClass), (u64, u64)> = BTreeMap::new();
    let mut names = Vec::new();
    for path in publications {
        let name = path.display().to_string();
        let bytes = crate::inputs::io::read_file(path, &name)?;
        let record: PublicationRecord = crate::inputs::json::parse(&name, &bytes)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let on = crate::inputs::io::parse_date(&record.published_on).unwrap_or_default();
        let p =
            super::publish::Publication::make(&dir.join(&record.draw.path), &dir.join(&record.results.path), on, &dir)?;
        let base = &p.inputs[0];
        let unclassified = base.plan().unclassified_class();
        let mut by_part: BTreeMap<(&str, &str), Vec<&super::ResultRow>> = BTreeMap::new();
        for r in &p.results {
            by_part
                .entry((r.visit_id.as_str(), r.department.as_str()))
                .or_default()
                .push(r);
        }
        for ((visit, dep), results) in by_part {
            let Some(part) = p.drawn.parts.get(&(visit.to_string(), dep.to_string())) else {
                continue;
            };
            if !part.random {
                continue;
            }
            let Some(class) = base
                .population()
                .index_of(&part.entity_id)
                .and_then(|e| base.population().entity(e).class().or(unclassified))
            else {
                continue;
            };
            let checked: Vec<&&super::ResultRow> = results
                .iter()
                .filter(|r| r.result.outcome != Outcome::NotCheckable)
                .collect();
            if checked.is_empty() {
                continue;
            }
            let problem = checked.iter().any(|r| r.result.outcome == Outcome::Problem);
            let slot = parts.entry((class, dep.to_string())).or_default();
            slot.0 += 1;
            slot.1 += u64::from(problem);
            for r in checked {
                let slot = items.entry((r.item_id.clone(), class)).or_default();
                slot.0 += 1;
                slot.1 += u64::from(r.result.outcome == Outcome::Problem);
            }
        }
        names.push(name);
    }
    let sum = |f: &dyn Fn(&RiskClass) -> bool| {
        parts
            .iter()
            .filter(|((c, _), _)| f(c))
            .fold((0, 0), |(n, x), (_, &(a, b))| (n + a, x + b))
    };
    let (n, x) = sum(&|_| true);
    let overall = if n == 0 { 0.0 } else { x as f64 / n as f64 };
    let per_class: Vec<(u64, u64)> = RiskClass::ALL.iter().map(|c| sum(&|k| k == c)).collect();
    let (trend_z, trend_p) = trend_test(&per_class);
    Ok(Calibration {
        publications: names,
        unit: "a department's part of a visit, or an off-site check, that the draw selected".into(),
        all: rate("all".into(), n, x, overall),
        classes: RiskClass::ALL
            .iter()
            .zip(&per_class)
            .map(|(c, &(n, x))| rate(c.as_str().into(), n, x, overall))
            .collect(),
        trend_z,
        trend_p,
        departments: parts
            .iter()
            .map(|((c, d), &(n, x))| rate(format!("{d} {}", c.as_str()), n, x, overall))
            .collect(),
        items: items
            .iter()
            .map(|((i, c), &(n, x))| rate(format!("{i} {}", c.as_str()), n, x, overall))
            .collect(),
    })
}

impl Calibration {
    /// The report as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "risk calibration over {} publication(s); a check is {}",
            self.publications.len(),
            self.unit
        )?;
        writeln!(
            f,
            "{:<14} {:>8} {:>8} {:>7} {:>17} {:>6}",
            "group", "checked", "problems", "rate", "95% (exact)", "lift"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, r: &Rate| {
            writeln!(
                f,
                "{:<14} {:>8} {:>8} {:>6.1}% {:>7.1}% – {:>5.1}% {:>6.2}",
                r.group,
                r.checked,
                r.problems,
                100.0 * r.rate,
                100.0 * r.low,
                100.0 * r.high,
                r.lift
            )
        };
        for r in &self.classes {
            row(f, r)?;
        }
        row(f, &self.all)?;
        writeln!(
            f,
            "trend A→D (Cochran–Armitage): z = {:.2}, one-sided p = {:.2e}: {}",
            self.trend_z,
            self.trend_p,
            if self.trend_p < 0.05 {
                "the problem rate rises with the class"
            } else {
                "no rising trend shown at the 5 % level"
            }
        )?;
        writeln!(f, "by department and class:")?;
        for r in &self.departments {
            row(f, r)?;
        }
        writeln!(f, "by item and class (each item check a unit):")?;
        for r in &self.items {
            row(f, r)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_matches_known_values() {
        // Published values: 0 of 10 → [0, 0.3085]; 5 of 10 → [0.1871, 0.8129].
        let (l, h) = clopper_pearson(0, 10);
        assert!(l == 0.0 && (h - 0.3085).abs() < 1e-4, "{l} {h}");
        let (l, h) = clopper_pearson(5, 10);
        assert!((l - 0.1871).abs() < 1e-4 && (h - 0.8129).abs() < 1e-4, "{l} {h}");
        assert_eq!(clopper_pearson(3, 3).1, 1.0);
    }

    #[test]
    fn the_trend_test_finds_a_gradient_and_not_a_flat_line() {
        let (z, p) = trend_test(&[(100, 2), (100, 5), (100, 15), (100, 35)]);
        assert!(z > 6.0 && p < 1e-9, "{z} {p}");
        let (z, p) = trend_test(&[(100, 10), (100, 10), (100, 10), (100, 10)]);
        assert!(z.abs() < 1e-12 && (p - 0.5).abs() < 1e-12, "{z} {p}");
        // A falling rate is not a rising one.
        assert!(trend_test(&[(100, 35), (100, 15), (100, 5), (100, 2)]).1 > 0.999);
    }
}
