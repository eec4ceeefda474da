//! The publication records (一公开): `public.csv`, what each department
//! publishes of its visits.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Result;

use super::outputs::{DrawView, Rendered, Sink, TaskInputs, join_into};

/// `public.csv`, the publication records (一公开): one per task, department
/// and visit, with no inspector data, and the publication deadline in
/// working days after the visit.
pub(super) fn public(
    tasks: &[TaskInputs<'_>],
    joint: &DrawView<'_>,
    names: &[&str],
    sink: Sink<'_>,
) -> Result<Rendered> {
    let base = tasks[0].inputs;
    let population = &base.population;
    sink.csv(
        "public.csv",
        &[
            "plan_id",
            "task_id",
            "department",
            "visit_id",
            "entity_id",
            "entity_name",
            "items",
            "visit_date",
            "result",
            "deadline",
        ],
        |w| {
            let mut items = String::new();
            for (t, task) in tasks.iter().enumerate() {
                let plan = &task.inputs.plan;
                // Each visit date once: as text, and the task's publication deadline.
                let mut dates: BTreeMap<chrono::NaiveDate, (String, String)> = BTreeMap::new();
                // Per department (plan position), the entities it drew, one bit
                // per entity: the visits come in key order, and a search of a
                // sorted list would miss the cache at every step.
                let words = population.len().div_ceil(64);
                let drawn: Vec<Vec<u64>> = joint.draws[t]
                    .departments
                    .iter()
                    .map(|dep| {
                        let mut bits = vec![0u64; words];
                        for s in dep.selected() {
                            bits[s.entity / 64] |= 1 << (s.entity % 64);
                        }
                        bits
                    })
                    .collect();
                // This task's directed items per (entity, department).
                let mut directed: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
                for c in &task.inputs.directed {
                    directed
                        .entry((c.entity_id.as_str(), c.department.as_str()))
                        .or_default()
                        .extend(c.item_ids.iter().map(String::as_str));
                }
                // Per department (plan position), the visits it takes part in for
                // this task, with its part of each: one pass over the visits.
                let mut taking: Vec<Vec<(usize, &crate::visit::VisitPart)>> = vec![Vec::new(); plan.departments.len()];
                for (k, v) in joint.visits.iter().enumerate() {
                    for p in v.parts.iter().filter(|p| p.tasks.contains(&t)) {
                        let Some(di) = plan.departments.iter().position(|d| d.id == p.department) else {
                            continue;
                        };
                        // A department's first part of the visit.
                        if taking[di].last().is_none_or(|&(last, _)| last != k) {
                            taking[di].push((k, p));
                        }
                    }
                }
                for ((di, d), taking) in plan.departments.iter().enumerate().zip(&taking) {
                    for (j, &(k, p)) in taking.iter().enumerate() {
                        population.prefetch_ahead(taking, j, |&(ahead, _)| joint.visits[ahead].entity);
                        let (v, name) = (&joint.visits[k], names[k]);
                        // This task's items: the department's plan items if it drew the
                        // entity, and the items of this task's directed checks.
                        let drew = drawn[di][v.entity / 64] & (1 << (v.entity % 64)) != 0;
                        let named = if p.basis.contains(&crate::visit::Basis::Directed) {
                            directed.get(&(population.id(v.entity), d.id.as_str()))
                        } else {
                            None
                        };
                        join_into(
                            &mut items,
                            ";",
                            p.items
                                .iter()
                                .filter(|i| {
                                    (drew && d.items.contains(i))
                                        || named.is_some_and(|items| items.contains(i.as_str()))
                                })
                                .map(String::as_str),
                        );
                        let (date, deadline) = match v.date {
                            Some(date) => {
                                let (date, deadline) = dates.entry(date).or_insert_with(|| {
                                    let deadline = base
                                        .calendar
                                        .add_working_days(date, plan.teams.publication_days)
                                        .map(|d| d.to_string())
                                        .unwrap_or_default();
                                    (date.to_string(), deadline)
                                });
                                (date.as_str(), deadline.as_str())
                            }
                            None => ("", ""),
                        };
                        w.write_record([
                            plan.plan_id.as_str(),
                            &plan.task_id,
                            &d.id,
                            &v.id,
                            population.id(v.entity),
                            name,
                            &items,
                            date,
                            "",
                            deadline,
                        ])?;
                    }
                }
            }
            Ok(())
        },
    )
}
