//! The plain-text summary of a draw that the command line prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::inputs::Inputs;
use crate::key::SPEC_ID;
use crate::messages::{Lang, Msg, fill, text};
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
        self.summary_in(inputs, Lang::En)
    }

    /// [`summary`](JointDraw::summary) in `lang`: the same table and
    /// numbers, its words from the [catalogue](crate::messages).
    pub fn summary_in(&self, inputs: &[Inputs], lang: Lang) -> String {
        let mut out = String::new();
        let header: Vec<&str> = text(Msg::SummaryHeader, lang).split('|').collect();
        let widths: [usize; 9] = [12, 5, 8, 12, 9, 9, 9, 9, 9];
        let row = |out: &mut String, cells: [&str; 9]| {
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                let pad = " ".repeat(width.saturating_sub(display_width(cell)));
                if i > 0 {
                    out.push(' ');
                }
                // The first two columns are text, left-aligned; the others right-aligned.
                if i < 2 {
                    out.push_str(cell);
                    out.push_str(&pad);
                } else {
                    out.push_str(&pad);
                    out.push_str(cell);
                }
            }
            out.push('\n');
        };
        for (task, draw) in inputs.iter().zip(&self.draws) {
            let title = fill(
                Msg::SummaryTitle,
                lang,
                &[
                    ("spec", SPEC_ID),
                    ("plan", &task.plan.plan_id),
                    ("task", &task.plan.task_id),
                    ("round", &task.plan.round_id),
                    ("seed", &format!("{:?}", draw.seed.as_str())),
                ],
            );
            out.push_str(&title);
            out.push('\n');
            let h: [&str; 9] = std::array::from_fn(|i| header.get(i).copied().unwrap_or(""));
            row(&mut out, h);
            for d in &draw.departments {
                for c in &d.classes {
                    // A trigger-only class is never drawn: no quota, nothing short.
                    let (mode, quota, selected, shortfall) = match c.mode {
                        Mode::TriggerOnly => (text(Msg::TriggerOnly, lang), "-".into(), "-".into(), "-".into()),
                        mode => (
                            match (mode, lang) {
                                (Mode::OnSite, Lang::Zh) => text(Msg::OnSite, lang),
                                (Mode::OffSite, Lang::Zh) => text(Msg::OffSite, lang),
                                (mode, _) => mode.as_str(),
                            },
                            c.quota.to_string(),
                            c.selected().to_string(),
                            c.shortfall().to_string(),
                        ),
                    };
                    let (base, eligible) = (c.base.to_string(), c.eligible.to_string());
                    row(
                        &mut out,
                        [
                            &d.department,
                            c.class.as_str(),
                            c.ratio.as_str(),
                            mode,
                            &base,
                            &eligible,
                            &quota,
                            &selected,
                            &shortfall,
                        ],
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
        let visits = fill(
            Msg::Visits,
            lang,
            &[
                ("visits", &merged.to_string()),
                ("directed", &directed.to_string()),
                ("separate", &separate.to_string()),
                ("saved", &(separate - merged).to_string()),
            ],
        );
        let _ = writeln!(out, "{visits}");
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

/// The columns a text takes in a terminal: two for a wide (CJK) character.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if ('\u{1100}'..='\u{115F}').contains(&c) || ('\u{2E80}'..='\u{FFDC}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}
