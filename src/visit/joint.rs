//! The visits of one or more task draws: every department's calls
//! gathered per entity, merged into the fewest visits, numbered in key
//! order, then dated and staffed.

use std::collections::{BTreeMap, BTreeSet};

use super::merge::merge_windows_with;
use super::{Basis, OffSiteCheck, Visit, VisitPart};
use crate::draw::{Draw, Independence, Unscheduled};
use crate::error::{Error, Location, Result};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::inputs::plan::Window;
use crate::key::{Digest, Hasher, Salt, Seed};

/// One department of one task that must visit one entity.
struct Call<'a> {
    department: &'a str,
    random: bool,
    directed: bool,
    /// The department's plan items (a random call's; empty for a directed check alone).
    plan_items: &'a [String],
    /// Directed items not among the plan items, in file order.
    more_items: Vec<&'a str>,
    /// The entity's key under the visits' salt, when the draw computed it already.
    key: Option<Digest>,
}

impl<'a> Call<'a> {
    /// The items, in plan order, then directed items in file order.
    fn items(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.plan_items
            .iter()
            .map(String::as_str)
            .chain(self.more_items.iter().copied())
    }

    /// Adds directed items, each once.
    fn add_directed(&mut self, items: impl IntoIterator<Item = &'a str>) {
        for item in items {
            if !self.plan_items.iter().any(|p| p == item) && !self.more_items.contains(&item) {
                self.more_items.push(item);
            }
        }
    }
}

/// The visits of the given task draws, which share one entity library:
/// merged, numbered, dated and (with an inspector library) staffed; and
/// their off-site checks, each with a reviewer.
pub(crate) fn schedule(tasks: &[(&Inputs, &Draw)], salt: &Salt) -> Result<(Vec<Visit>, Vec<OffSiteCheck>)> {
    let visits = schedule_visits(tasks, salt)?;
    let offsite = super::offsite::gather(tasks, salt)?;
    Ok((visits, offsite))
}

/// The on-site visits of [`schedule`].
fn schedule_visits(tasks: &[(&Inputs, &Draw)], salt: &Salt) -> Result<Vec<Visit>> {
    // OK because callers pass at least one task.
    let Some(&(base, _)) = tasks.first() else {
        return Ok(Vec::new());
    };
    let population = &base.population;
    // Calls as (entity, task, department position, call): each task's
    // random parts bring the department's plan items, directed ones their
    // items; sorted, an entity's calls come in task order, then department
    // (plan) order, a directed check joining its department's call.
    let mut calls: Vec<(usize, usize, usize, Call<'_>)> = Vec::new();
    for (t, &(inputs, draw)) in tasks.iter().enumerate() {
        let plan = &inputs.plan;
        // The keys the draw computed serve the visits when they share its salt.
        let same_salt = draw.salt == *salt;
        let mut random: Vec<(usize, usize, &Digest)> = draw
            .departments
            .iter()
            .enumerate()
            .flat_map(|(di, d)| {
                // Off-site classes are reviewed, not visited (`offsite`).
                d.classes
                    .iter()
                    .filter(|c| !super::offsite::is_off_site(c.mode))
                    .flat_map(|c| c.strata.iter().flat_map(|s| &s.selected))
                    .map(move |s| (s.entity, di, &s.key))
            })
            .collect();
        random.sort_unstable_by_key(|&(e, di, _)| (e, di));
        random.dedup_by_key(|&mut (e, di, _)| (e, di));
        let first = calls.len();
        calls.extend(random.into_iter().map(|(e, di, key)| {
            let dep = &plan.departments[di];
            let call = Call {
                department: dep.id.as_str(),
                random: true,
                directed: false,
                plan_items: &dep.items,
                more_items: Vec::new(),
                key: same_salt.then_some(*key),
            };
            (e, t, di, call)
        }));
        // DR3 step 8: directed checks are visited regardless of the draw,
        // when their entity is active (the others are `Draw::unscheduled`).
        let directed_ids: Vec<&str> = inputs.directed.iter().map(|d| d.entity_id.as_str()).collect();
        let entities = inputs.population.positions(&directed_ids);
        let mut directed_only: BTreeMap<(usize, usize), Call<'_>> = BTreeMap::new();
        for (d, e) in inputs.directed.iter().zip(entities) {
            let (Some(e), Some(di)) = (e, plan.departments.iter().position(|p| p.id == d.department)) else {
                continue; // OK because the loader rejected unknown entities and departments.
            };
            if !Unscheduled::visits(population.entity(e).status()) {
                continue;
            }
            let call = match calls[first..].binary_search_by_key(&(e, di), |&(e, _, di, _)| (e, di)) {
                Ok(k) => &mut calls[first + k].3,
                Err(_) => directed_only.entry((e, di)).or_insert_with(|| Call {
                    department: d.department.as_str(),
                    random: false,
                    directed: false,
                    plan_items: &[],
                    more_items: Vec::new(),
                    key: None,
                }),
            };
            call.directed = true;
            call.add_directed(d.item_ids.iter().map(String::as_str));
        }
        calls.extend(directed_only.into_iter().map(|((e, di), call)| (e, t, di, call)));
    }
    // Each task's calls are sorted already: a stable sort merges the runs.
    calls.sort_by_key(|&(e, t, di, _)| (e, t, di));

    // Per entity: the fewest visits covering the windows of its calls,
    // first as plans (the entity's calls and the common window), sorted
    // into key order; an entity's visits (distinct ids otherwise) by window
    // start, which differ: the order is total. The visits are then built
    // in that order, so that the files written from them read their parts
    // from memory in order.
    struct Planned {
        key: Digest,
        entity: usize,
        window: Window,
        /// The calls, as `members[start..end]` (positions in `calls`).
        start: usize,
        end: usize,
    }
    let window_of = |t: usize| tasks[t].0.plan.window;
    let mut planned: Vec<Planned> = Vec::with_capacity(calls.len());
    let mut members: Vec<usize> = Vec::with_capacity(calls.len());
    let mut windows: Vec<Window> = Vec::new();
    let mut first = 0;
    for run in calls.chunk_by(|a, b| a.0 == b.0) {
        let entity = run[0].0;
        let key = run.iter().find_map(|(_, _, _, c)| c.key);
        let key = key.unwrap_or_else(|| salt.entity_key(population.id(entity)));
        debug_assert_eq!(key, salt.entity_key(population.id(entity)));
        let plan = |window: Window, calls: &mut dyn Iterator<Item = usize>| {
            let start = members.len();
            members.extend(calls.map(|m| first + m));
            planned.push(Planned {
                key,
                entity,
                window,
                start,
                end: members.len(),
            });
        };
        windows.clear();
        windows.extend(run.iter().map(|(_, t, _, _)| window_of(*t)));
        merge_windows_with(&windows, plan);
        first += run.len();
    }
    planned.sort_unstable_by(|a, b| {
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
    let mut visits: Vec<Visit> = Vec::with_capacity(planned.len());
    for p in &planned {
        let mut parts: Vec<VisitPart> = Vec::with_capacity(1);
        for &m in &members[p.start..p.end] {
            let (_, task, _, c) = &calls[m];
            let k = match parts.iter().position(|p| p.department == c.department) {
                Some(k) => k,
                None => {
                    parts.push(VisitPart {
                        department: c.department.to_string(),
                        tasks: Vec::with_capacity(1),
                        basis: BTreeSet::new(),
                        items: Vec::with_capacity(c.plan_items.len() + c.more_items.len()),
                        inspectors: Vec::new(),
                    });
                    parts.len() - 1
                }
            };
            let part = &mut parts[k];
            if c.random {
                part.basis.insert(Basis::Random);
            }
            if c.directed {
                part.basis.insert(Basis::Directed);
            }
            if !part.tasks.contains(task) {
                part.tasks.push(*task);
            }
            for item in c.items() {
                if !part.items.iter().any(|i| i == item) {
                    part.items.push(item.to_string());
                }
            }
        }
        // Hold no spare room: most visits have one part of one task.
        for p in &mut parts {
            p.tasks.shrink_to_fit();
            p.items.shrink_to_fit();
        }
        parts.shrink_to_fit();
        visits.push(Visit {
            id: String::new(),
            entity: p.entity,
            key: p.key,
            window: p.window,
            parts,
            date: None,
            leader: None,
        });
    }
    drop((planned, members));
    for (n, v) in visits.iter_mut().enumerate() {
        v.id = format!("V{:06}", n + 1);
    }

    super::dates::assign_dates(base, salt, &mut visits)?;
    if !base.inspectors.is_empty() {
        let staffing = super::teams::assign(base, salt, &visits)?;
        for (v, teams) in visits.iter_mut().zip(staffing) {
            for (part, team) in v.parts.iter_mut().zip(teams) {
                part.inspectors = team.into_iter().map(|i| base.inspectors[i].id.clone()).collect();
            }
        }
        // The leaders, one hash per member, on every core.
        let leaders = crate::par::map(&visits, |v| {
            let entity_id = population.id(v.entity);
            v.parts
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
                .cloned()
        });
        for (v, leader) in visits.iter_mut().zip(leaders) {
            v.leader = leader;
        }
    }
    Ok(visits)
}

impl Draw {
    /// Runs DR3 on loaded inputs with a seed: selection, visits, dates and,
    /// when the plan names an inspector library, teams. The result is a pure
    /// function of the inputs' contents (not their row order) and the seed
    /// text.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unreviewable`](crate::ErrorKind::Unreviewable) when an
    /// off-site check has no possible reviewer;
    /// [`ErrorKind::Unstaffable`](crate::ErrorKind::Unstaffable) when no
    /// complete team assignment exists, naming each visit and department
    /// that cannot be staffed; [`ErrorKind::Policy`](crate::ErrorKind::Policy)
    /// when the window has no working day for the visits, or when the plan
    /// breaks an item's floor ([`CheckItem::floor`](crate::model::CheckItem::floor)).
    pub fn run(inputs: &Inputs, seed: &Seed) -> crate::Result<Draw> {
        let frame = Frame::build(inputs);
        frame.check_floors(inputs)?;
        let mut draw = Draw::select_in(inputs, frame, seed, Independence::Shared);
        (draw.visits, draw.offsite) = schedule(&[(inputs, &draw)], &draw.salt)?;
        Ok(draw)
    }
}

/// Several task draws of the same period, drawn together: each task's
/// selection is its own DR3 draw, and the visits of all of them are merged
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
#[non_exhaustive]
pub struct JointDraw {
    /// Each task's draw, in (task id, round id) order; their `visits` and `offsite` are empty.
    pub draws: Vec<Draw>,
    /// The joint salt.
    pub salt: Salt,
    /// The merged visits, in key order.
    pub visits: Vec<Visit>,
    /// The off-site checks of every task, in key order.
    pub offsite: Vec<OffSiteCheck>,
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
        JointDraw::run_framed_beside(inputs, frames, seed, |_| ()).map(|(joint, ())| joint)
    }

    /// [`JointDraw::run_framed`], running `beside` on the selections (on
    /// another core when there is one) while the visits are merged, dated
    /// and staffed.
    pub(crate) fn run_framed_beside<T: Send>(
        inputs: &[Inputs],
        frames: Vec<Frame>,
        seed: &Seed,
        beside: impl FnOnce(&[Draw]) -> T + Send,
    ) -> Result<(JointDraw, T)> {
        for (i, frame) in inputs.iter().zip(&frames) {
            frame.check_floors(i)?;
        }
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
        let (scheduled, aside) = crate::par::join(|| schedule(&tasks, &salt), || beside(&draws));
        let (visits, offsite) = scheduled?;
        Ok((
            JointDraw {
                draws,
                salt,
                visits,
                offsite,
            },
            aside,
        ))
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
