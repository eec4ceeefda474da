//! The renderers of the draw's CSV files, one function per file, each
//! writing straight into a [`Sink`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::Result;

use super::outputs::{DrawView, Rendered, Sink, TaskInputs, fraction, join_into};

/// `selection.csv`: per task, department, class and stratum, the selected
/// entities in key order, with their key and rank (DR3 step 7).
pub(super) fn selection(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Rendered> {
    let population = &tasks[0].inputs.population;
    sink.csv(
        "selection.csv",
        &["task_id", "department", "entity_id", "class", "stratum", "key", "rank"],
        |w| {
            let (mut hex, mut rank) = ([0u8; 64], String::new());
            for (task, draw) in tasks.iter().zip(&joint.draws) {
                for (department, c, stratum) in draw.strata() {
                    let label = stratum.label();
                    for (k, s) in stratum.selected.iter().enumerate() {
                        // The selected come in key order, spread over the library.
                        population.prefetch_ahead(&stratum.selected, k, |s| s.entity);
                        rank.clear();
                        // OK because writing to a String cannot fail.
                        let _ = write!(rank, "{}", s.rank);
                        w.write_record([
                            task.inputs.plan.task_id.as_str(),
                            department,
                            population.id(s.entity),
                            c.class.as_str(),
                            &label,
                            s.key.hex_into(&mut hex),
                            &rank,
                        ])?;
                    }
                }
            }
            Ok(())
        },
    )
}

/// `strata.csv`: per task, department, class and stratum, the base and
/// eligible counts, the exact share, the allocation and the threshold
/// (DR3 steps 4–7).
pub(super) fn strata(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Rendered> {
    sink.csv(
        "strata.csv",
        &[
            "task_id",
            "department",
            "class",
            "stratum",
            "base",
            "eligible",
            "quota_share",
            "allocated",
            "selected",
            "threshold",
        ],
        |w| {
            for (task, draw) in tasks.iter().zip(&joint.draws) {
                for (department, c, s) in draw.strata() {
                    w.write_record([
                        task.inputs.plan.task_id.as_str(),
                        department,
                        c.class.as_str(),
                        &s.label(),
                        &s.base.to_string(),
                        &s.eligible.to_string(),
                        &fraction(s.share_numerator, c.eligible),
                        &s.allocated.to_string(),
                        &s.selected.len().to_string(),
                        &s.threshold().map(|t| t.to_hex()).unwrap_or_default(),
                    ])?;
                }
            }
            Ok(())
        },
    )
}

/// `exclusions.csv`: every entity of a base population left out of the
/// eligible frame, with its reason (DR3 step 4).
pub(super) fn exclusions(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Rendered> {
    let population = &tasks[0].inputs.population;
    sink.csv(
        "exclusions.csv",
        &["task_id", "department", "entity_id", "class", "reason"],
        |w| {
            for (task, draw) in tasks.iter().zip(&joint.draws) {
                let plan = &task.inputs.plan;
                if let Some(spilled) = &draw.frame.streamed {
                    spilled.each(|d, class, reason, id| {
                        w.write_record([
                            plan.task_id.as_str(),
                            plan.departments[d].id.as_str(),
                            id,
                            class.as_str(),
                            reason.as_str(),
                        ])
                    })?;
                }
                let exclusions = &draw.frame.exclusions;
                for (k, x) in exclusions.iter().enumerate() {
                    population.prefetch_ahead(exclusions, k, |x| x.entity);
                    w.write_record([
                        plan.task_id.as_str(),
                        plan.departments[x.department].id.as_str(),
                        population.id(x.entity),
                        x.class.as_str(),
                        x.reason.as_str(),
                    ])?;
                }
            }
            Ok(())
        },
    )
}

/// `unscheduled.csv`: the directed checks that are not visited because
/// their entity is not active, with the entity's status and the check's
/// reason, per task in file order.
pub(super) fn unscheduled(tasks: &[TaskInputs<'_>], joint: &DrawView<'_>, sink: Sink<'_>) -> Result<Rendered> {
    let population = &tasks[0].inputs.population;
    sink.csv(
        "unscheduled.csv",
        &["task_id", "department", "entity_id", "status", "reason", "item_ids"],
        |w| {
            for (task, draw) in tasks.iter().zip(&joint.draws) {
                for u in &draw.unscheduled {
                    w.write_record([
                        task.inputs.plan.task_id.as_str(),
                        u.department.as_str(),
                        population.id(u.entity),
                        u.status.as_str(),
                        u.reason.as_str(),
                        u.item_ids.join(";").as_str(),
                    ])?;
                }
            }
            Ok(())
        },
    )
}

/// `offsite.csv`: one row per off-site check (DR3 step 11), in id order,
/// with its items, reviewer and due date.
pub(super) fn offsite(
    tasks: &[TaskInputs<'_>],
    joint: &DrawView<'_>,
    names: &[&str],
    sink: Sink<'_>,
) -> Result<Rendered> {
    let population = &tasks[0].inputs.population;
    sink.csv(
        "offsite.csv",
        &[
            "check_id",
            "task_id",
            "department",
            "entity_id",
            "entity_name",
            "key",
            "items",
            "reviewer",
            "due_date",
        ],
        |w| {
            let mut items = String::new();
            let mut hex = [0u8; 64];
            for (c, name) in joint.offsite.iter().zip(names) {
                join_into(&mut items, ";", c.items.iter().map(String::as_str));
                w.write_record([
                    c.id.as_str(),
                    tasks[c.task].inputs.plan.task_id.as_str(),
                    c.department.as_str(),
                    population.id(c.entity),
                    name,
                    c.key.hex_into(&mut hex),
                    items.as_str(),
                    c.reviewer.as_deref().unwrap_or(""),
                    c.due.to_string().as_str(),
                ])?;
            }
            Ok(())
        },
    )
}

/// `visits.csv`: one row per visit, with its date, departments, items,
/// basis, team and leader (DR3 steps 8–10).
pub(super) fn visits(
    tasks: &[TaskInputs<'_>],
    joint: &DrawView<'_>,
    names: &[&str],
    sink: Sink<'_>,
) -> Result<Rendered> {
    let population = &tasks[0].inputs.population;
    sink.csv(
        "visits.csv",
        &[
            "visit_id",
            "entity_id",
            "entity_name",
            "key",
            "tasks",
            "date",
            "departments",
            "items",
            "basis",
            "inspectors",
            "leader",
        ],
        |w| {
            let mut dates: BTreeMap<chrono::NaiveDate, String> = BTreeMap::new();
            // Each row's joined fields, in buffers kept across rows.
            let (mut task_ids, mut departments, mut items, mut basis, mut team) = (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            );
            let mut ids: Vec<usize> = Vec::new();
            let mut hex = [0u8; 64];
            for (k, (v, name)) in joint.visits.iter().zip(names).enumerate() {
                // The visits come in key order, spread over the library.
                population.prefetch_ahead(joint.visits, k, |v| v.entity);
                ids.clear();
                ids.extend(v.parts.iter().flat_map(|p| p.tasks.iter().copied()));
                ids.sort_unstable();
                ids.dedup();
                join_into(
                    &mut task_ids,
                    ";",
                    ids.iter().map(|&t| tasks[t].inputs.plan.task_id.as_str()),
                );
                join_into(&mut departments, ";", v.parts.iter().map(|p| p.department.as_str()));
                join_into(
                    &mut items,
                    ";",
                    v.parts.iter().flat_map(|p| p.items.iter().map(String::as_str)),
                );
                basis.clear();
                team.clear();
                let staffed = v.parts.iter().any(|p| !p.inspectors.is_empty());
                for (k, p) in v.parts.iter().enumerate() {
                    let sep = if k == 0 { "" } else { ";" };
                    basis.push_str(sep);
                    basis.push_str(&p.department);
                    basis.push(':');
                    for (j, b) in p.basis.iter().enumerate() {
                        basis.push_str(if j == 0 { "" } else { "+" });
                        basis.push_str(b.as_str());
                    }
                    if staffed {
                        team.push_str(sep);
                        team.push_str(&p.department);
                        team.push(':');
                        team.push_str(&p.inspectors.join("+"));
                    }
                }
                let date = match v.date {
                    Some(d) => dates.entry(d).or_insert_with(|| d.to_string()).as_str(),
                    None => "",
                };
                w.write_record([
                    v.id.as_str(),
                    population.id(v.entity),
                    name,
                    v.key.hex_into(&mut hex),
                    &task_ids,
                    date,
                    &departments,
                    &items,
                    &basis,
                    &team,
                    v.leader.as_deref().unwrap_or(""),
                ])?;
            }
            Ok(())
        },
    )
}
