//! The plain-text summary of a draw that the command line prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::inputs::Inputs;
use crate::key::SPEC_ID;
use crate::messages::{Lang, Msg, display_width, fill, header_cells, mode_word, table_row, text};
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
        let header = header_cells(Msg::SummaryHeader, lang);
        let widths = [12, 5, 8, 12, 9, 9, 9, 9, 9];
        let row = |out: &mut String, cells: &[&str]| table_row(out, cells, &widths, 2);
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
            row(&mut out, &header);
            for d in &draw.departments {
                for c in &d.classes {
                    // A trigger-only class is never drawn: no quota, nothing short.
                    let mode = mode_word(c.mode, lang);
                    let (quota, selected, shortfall) = match c.mode {
                        Mode::TriggerOnly => ("-".into(), "-".into(), "-".into()),
                        _ => (c.quota.to_string(), c.selected().to_string(), c.shortfall().to_string()),
                    };
                    let (base, eligible) = (c.base.to_string(), c.eligible.to_string());
                    row(
                        &mut out,
                        &[
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
            let reviewed = self.offsite.iter().any(|c| c.reviewer.is_some());
            let msg = if reviewed {
                Msg::OffSiteReviewed
            } else {
                Msg::OffSiteChecks
            };
            let _ = writeln!(
                out,
                "{}",
                fill(msg, lang, &[("count", &self.offsite.len().to_string())])
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
            let count = unscheduled.len().to_string();
            let _ = writeln!(out, "{}", fill(Msg::Unscheduled, lang, &[("count", &count)]));
        }
        for (task, u) in unscheduled.iter().take(SHOWN_UNSCHEDULED) {
            let line = fill(
                Msg::NotVisited,
                lang,
                &[
                    ("department", &u.department),
                    ("reason", u.reason.as_str()),
                    ("line", &u.line.to_string()),
                    (
                        "file",
                        task.plan.inputs.directed.as_deref().unwrap_or("the directed checks"),
                    ),
                    ("entity", task.population.id(u.entity)),
                    ("status", u.status.as_str()),
                ],
            );
            let _ = writeln!(out, "{line}");
        }
        if unscheduled.len() > SHOWN_UNSCHEDULED {
            let more = (unscheduled.len() - SHOWN_UNSCHEDULED).to_string();
            let _ = writeln!(out, "{}", fill(Msg::AndMore, lang, &[("count", &more)]));
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
            let _ = writeln!(out, "{}", text(Msg::LoadTitle, lang));
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
                    let pad = " ".repeat(12usize.saturating_sub(display_width(d)));
                    let row = fill(
                        Msg::LoadRow,
                        lang,
                        &[
                            ("department", &format!("{d}{pad}")),
                            ("min", &min.to_string()),
                            ("median", &median.to_string()),
                            ("max", &max.to_string()),
                            ("count", &loads.len().to_string()),
                        ],
                    );
                    let _ = writeln!(out, "{row}");
                }
            }
        }
        out
    }
}
