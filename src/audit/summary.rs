//! The plain-text summary of a draw that the command line prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::inputs::Inputs;
use crate::key::SPEC_ID;
use crate::model::Mode;
use crate::visit::JointDraw;

/// How many directed checks not visited the summary names one by one.
const SHOWN_UNSCHEDULED: usize = 20;

impl JointDraw {
    /// A plain-text summary: per task, a table per department and class
    /// (ratio, mode, base, eligible, quota, selected, shortfall); then the
    /// visits, the department visits merged into them, and each
    /// department's inspector load. `inputs` are in task order.
    pub fn summary(&self, inputs: &[Inputs]) -> String {
        let mut out = String::new();
        for (task, draw) in inputs.iter().zip(&self.draws) {
            let _ = writeln!(
                out,
                "{SPEC_ID} draw: plan {}, task {}, round {}, seed {:?}",
                task.plan.plan_id,
                task.plan.task_id,
                task.plan.round_id,
                draw.seed.as_str()
            );
            let _ = writeln!(
                out,
                "{:<12} {:<5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "department", "class", "ratio", "mode", "base", "eligible", "quota", "selected", "shortfall"
            );
            for d in &draw.departments {
                for c in &d.classes {
                    // A trigger-only class is never drawn: no quota, nothing short.
                    let (mode, quota, selected, shortfall) = match c.mode {
                        Mode::TriggerOnly => ("trigger only", "-".into(), "-".into(), "-".into()),
                        mode => (
                            mode.as_str(),
                            c.quota.to_string(),
                            c.selected().to_string(),
                            c.shortfall().to_string(),
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "{:<12} {:<5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
                        d.department,
                        c.class.as_str(),
                        c.ratio.as_str(),
                        mode,
                        c.base,
                        c.eligible,
                        quota,
                        selected,
                        shortfall
                    );
                }
            }
        }
        let directed = self
            .visits
            .iter()
            .filter(|v| v.parts.iter().any(|p| p.basis.contains(&crate::visit::Basis::Directed)))
            .count();
        let (separate, merged) = self.visits_saved();
        let _ = writeln!(
            out,
            "visits: {merged} ({directed} with a directed check); {separate} department visits merged into them, {} visits saved",
            separate - merged
        );
        if !self.offsite.is_empty() {
            let reviewed = self.offsite.iter().filter(|c| c.reviewer.is_some()).count();
            let _ = writeln!(
                out,
                "off-site checks: {} (offsite.csv), not visits{}",
                self.offsite.len(),
                if reviewed > 0 { ", each with a reviewer" } else { "" }
            );
        }
        // Directed checks never silently dropped: how many were not visited,
        // and the first few with why (all of them are in unscheduled.csv).
        let unscheduled: Vec<_> = inputs
            .iter()
            .zip(&self.draws)
            .flat_map(|(task, draw)| draw.unscheduled.iter().map(move |u| (task, u)))
            .collect();
        if !unscheduled.is_empty() {
            let _ = writeln!(
                out,
                "directed checks not visited, the entity not being active: {} (unscheduled.csv)",
                unscheduled.len()
            );
        }
        for (task, u) in unscheduled.iter().take(SHOWN_UNSCHEDULED) {
            let _ = writeln!(
                out,
                "  not visited: {} directed check of {} (line {} of {}) on {}, which is {}",
                u.department,
                u.reason.as_str(),
                u.line,
                task.plan.inputs.directed.as_deref().unwrap_or("the directed checks"),
                task.population.id(u.entity),
                u.status.as_str()
            );
        }
        if unscheduled.len() > SHOWN_UNSCHEDULED {
            let _ = writeln!(out, "  … and {} more", unscheduled.len() - SHOWN_UNSCHEDULED);
        }
        let Some(base) = inputs.first() else {
            return out;
        };
        if !base.inspectors.is_empty() {
            let mut load: BTreeMap<&str, u32> = BTreeMap::new();
            for v in &self.visits {
                for p in &v.parts {
                    for id in &p.inspectors {
                        *load.entry(id.as_str()).or_insert(0) += 1;
                    }
                }
            }
            let _ = writeln!(
                out,
                "inspector load per department (visits per inspector): min / median / max"
            );
            // Departments in plan order, each once.
            let mut departments: Vec<&str> = Vec::new();
            for d in inputs.iter().flat_map(|i| &i.plan.departments) {
                if !departments.contains(&d.id.as_str()) {
                    departments.push(&d.id);
                }
            }
            for d in departments {
                let mut loads: Vec<u32> = base
                    .inspectors
                    .iter()
                    .filter(|i| i.department == d)
                    .map(|i| load.get(i.id.as_str()).copied().unwrap_or(0))
                    .collect();
                loads.sort_unstable();
                if let (Some(min), Some(max)) = (loads.first(), loads.last()) {
                    let median = loads[loads.len() / 2];
                    let _ = writeln!(
                        out,
                        "  {:<12} {min} / {median} / {max} over {} inspectors",
                        d,
                        loads.len()
                    );
                }
            }
        }
        out
    }
}
