//! Visits: every department's selections and directed checks, over one or
//! more task draws, merged into one visit per entity and common window
//! (进一次门、查多项事), then dated and staffed.

use std::collections::{BTreeMap, BTreeSet};

use crate::draw::{Basis, Draw, Independence, Visit, VisitPart};
use crate::error::{Error, Location, Result};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Hasher, Salt, Seed};
use crate::merge::merge_windows;
use crate::plan::Window;

/// One department of one task that must visit one entity.
struct Call {
    task: usize,
    department: String,
    basis: BTreeSet<Basis>,
    items: Vec<String>,
}

/// Appends the items not yet in the list, in order.
fn add_items(items: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !items.contains(item) {
            items.push(item.clone());
        }
    }
}

/// The visits of the given task draws, which share one entity library:
/// merged, numbered, dated and (with an inspector library) staffed.
pub(crate) fn schedule(tasks: &[(&Inputs, &Draw)], salt: &Salt) -> Result<Vec<Visit>> {
    // OK because callers pass at least one task.
    let Some(&(base, _)) = tasks.first() else {
        return Ok(Vec::new());
    };
    let population = &base.population;
    // Calls by entity, in task order, then department (plan) order, then directed checks.
    let mut calls: BTreeMap<usize, Vec<Call>> = BTreeMap::new();
    for (t, &(inputs, draw)) in tasks.iter().enumerate() {
        let plan = &inputs.plan;
        let mut random: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (di, d) in draw.departments.iter().enumerate() {
            for c in &d.classes {
                for s in c.strata.iter().flat_map(|s| &s.selected) {
                    random.insert((s.entity, di));
                }
            }
        }
        // Per task: random parts bring the department's plan items, directed ones their items.
        let mut parts: BTreeMap<(usize, usize), Call> = BTreeMap::new();
        for &(e, di) in &random {
            parts.insert(
                (e, di),
                Call {
                    task: t,
                    department: plan.departments[di].id.clone(),
                    basis: BTreeSet::from([Basis::Random]),
                    items: plan.departments[di].items.clone(),
                },
            );
        }
        // DR1 step 10: directed checks are visited regardless of the draw.
        for d in &inputs.directed {
            let (Some(e), Some(di)) = (
                inputs.population.index_of(&d.entity_id),
                plan.departments.iter().position(|p| p.id == d.department),
            ) else {
                continue; // OK because the loader rejected unknown entities and departments.
            };
            let call = parts.entry((e, di)).or_insert_with(|| Call {
                task: t,
                department: d.department.clone(),
                basis: BTreeSet::new(),
                items: Vec::new(),
            });
            call.basis.insert(Basis::Directed);
            add_items(&mut call.items, &d.item_ids);
        }
        for ((e, _), call) in parts {
            calls.entry(e).or_default().push(call);
        }
    }

    // Per entity: the fewest visits covering the windows of its calls.
    let window_of = |t: usize| tasks[t].0.plan.window;
    let mut visits: Vec<Visit> = Vec::new();
    for (entity, calls) in calls {
        let windows: Vec<Window> = calls.iter().map(|c| window_of(c.task)).collect();
        for (window, members) in merge_windows(&windows) {
            let mut parts: Vec<VisitPart> = Vec::new();
            for &m in &members {
                let c = &calls[m];
                let part = match parts.iter_mut().position(|p| p.department == c.department) {
                    Some(k) => &mut parts[k],
                    None => {
                        parts.push(VisitPart {
                            department: c.department.clone(),
                            tasks: Vec::new(),
                            basis: BTreeSet::new(),
                            items: Vec::new(),
                            inspectors: Vec::new(),
                        });
                        // OK because an element was just pushed.
                        parts.last_mut().unwrap_or_else(|| unreachable!())
                    }
                };
                part.basis.extend(c.basis.iter().copied());
                if !part.tasks.contains(&c.task) {
                    part.tasks.push(c.task);
                }
                add_items(&mut part.items, &c.items);
            }
            // Most visits have one part of one task: hold no spare room.
            for p in &mut parts {
                p.tasks.shrink_to_fit();
                p.items.shrink_to_fit();
            }
            parts.shrink_to_fit();
            visits.push(Visit {
                id: String::new(),
                entity,
                key: salt.entity_key(population.id(entity)),
                window,
                parts,
                date: None,
                leader: None,
            });
        }
    }
    visits.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| {
                population
                    .id(a.entity)
                    .as_bytes()
                    .cmp(population.id(b.entity).as_bytes())
            })
            .then_with(|| a.window.start.cmp(&b.window.start))
    });
    for (n, v) in visits.iter_mut().enumerate() {
        v.id = format!("V{:06}", n + 1);
    }

    crate::schedule::assign_dates(base, salt, &mut visits)?;
    if !base.inspectors.is_empty() {
        let staffing = crate::assign::assign(base, salt, &visits)?;
        for (v, teams) in visits.iter_mut().zip(staffing) {
            let entity_id = population.id(v.entity);
            for (part, team) in v.parts.iter_mut().zip(teams) {
                part.inspectors = team.into_iter().map(|i| base.inspectors[i].id.clone()).collect();
            }
            v.leader = v
                .parts
                .iter()
                .flat_map(|p| &p.inspectors)
                .min_by_key(|id| {
                    Hasher::new()
                        .raw(salt.digest().as_bytes())
                        .enc(b"DR1/leader")
                        .enc(entity_id.as_bytes())
                        .enc(id.as_bytes())
                        .finish()
                })
                .cloned();
        }
    }
    Ok(visits)
}

/// Several task draws of the same period, drawn together: each task's
/// selection is its own DR1 draw, and the visits of all of them are merged
/// per entity into the fewest visits whose dates fall inside all of their
/// windows, then dated and staffed together.
///
/// The tasks must share their entity library, items, history, calendar,
/// inspectors and recusal pairs (the same file contents); the team rules of
/// the first task (in task order) apply to every visit. The visit keys,
/// dates and teams use the joint salt
/// `H(enc("DR1/joint") ‖ T_1 ‖ … ‖ T_n)` over the tasks' salts in
/// (task id, round id) order; with one task it is that task's `T`, so a
/// joint draw of one task is exactly its [`Draw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JointDraw {
    /// Each task's draw, in (task id, round id) order; their `visits` are empty.
    pub draws: Vec<Draw>,
    /// The joint salt.
    pub salt: Salt,
    /// The merged visits, in key order.
    pub visits: Vec<Visit>,
}

impl JointDraw {
    /// Draws several tasks together. `inputs` are reordered by (task id,
    /// round id); the returned draws follow that order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Policy`](crate::ErrorKind::Policy) when there is no
    /// task, when two tasks are the same task and round or do not share their entity library (or
    /// items, history, calendar, inspectors, recusal pairs), and every error
    /// of [`Draw::run`].
    pub fn run(inputs: &mut [Inputs], seed: &Seed) -> Result<JointDraw> {
        JointDraw::order_and_check(inputs)?;
        let frames = inputs.iter().map(Frame::build).collect();
        JointDraw::run_framed(inputs, frames, seed)
    }

    /// Orders tasks by (task id, round id) and checks they can be drawn
    /// together (the errors of [`JointDraw::run`] before drawing).
    pub(crate) fn order_and_check(inputs: &mut [Inputs]) -> Result<()> {
        if inputs.is_empty() {
            return Err(Error::policy(Location::file("plan"), "there is no task to draw"));
        }
        inputs.sort_by(|a, b| {
            (a.plan.task_id.as_bytes(), a.plan.round_id.as_bytes())
                .cmp(&(b.plan.task_id.as_bytes(), b.plan.round_id.as_bytes()))
        });
        for pair in inputs.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.plan.task_id == b.plan.task_id && a.plan.round_id == b.plan.round_id {
                return Err(Error::policy(
                    Location::file(b.files[0].path.clone()).with_field("task_id"),
                    format!("task {} round {} is drawn twice", b.plan.task_id, b.plan.round_id),
                ));
            }
            for role in ["entities", "items", "history", "calendar", "inspectors", "conflicts"] {
                let digest = |i: &Inputs| i.files.iter().find(|f| f.role == role).map(|f| f.digest);
                if digest(a) != digest(b) {
                    return Err(Error::policy(
                        Location::file(b.files[0].path.clone()).with_field(format!("inputs.{role}")),
                        format!(
                            "tasks drawn together must share their {role} file, and this one differs from task {}'s",
                            a.plan.task_id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Draws tasks already ordered and checked by [`JointDraw::order_and_check`],
    /// on frames already built (one per task, in the same order), so a caller
    /// that checked commitments against those frames does not build them twice.
    pub(crate) fn run_framed(inputs: &[Inputs], frames: Vec<Frame>, seed: &Seed) -> Result<JointDraw> {
        let draws: Vec<Draw> = inputs
            .iter()
            .zip(frames)
            .map(|(i, frame)| Draw::select_in(i, frame, seed, Independence::Shared))
            .collect();
        let salt = match draws.as_slice() {
            [one] => one.salt,
            many => {
                let mut h = Hasher::new();
                h.enc(b"DR1/joint");
                for d in many {
                    h.raw(d.salt.digest().as_bytes());
                }
                Salt::from_digest(h.finish())
            }
        };
        let tasks: Vec<(&Inputs, &Draw)> = inputs.iter().zip(&draws).collect();
        let visits = schedule(&tasks, &salt)?;
        Ok(JointDraw { draws, salt, visits })
    }

    /// How many department visits there would be with one visit per
    /// department task and entity, and how many merged visits there are.
    pub fn visits_saved(&self) -> (usize, usize) {
        visits_saved(&self.visits)
    }
}

/// (department visits — one per task, department and entity — and the visits merged from them).
pub(crate) fn visits_saved(visits: &[Visit]) -> (usize, usize) {
    let separate: usize = visits.iter().flat_map(|v| &v.parts).map(|p| p.tasks.len()).sum();
    (separate, visits.len())
}
