//! The frame (DR1 step 4): per department and class, the base population,
//! the eligible frame split into strata, and every exclusion with its
//! reason. The frame does not depend on the seed, so it can be committed
//! to before the seed exists.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::inputs::Inputs;
use crate::key::{Digest, Hasher};
use crate::model::{Mode, RiskClass, Status};

/// Why an entity is not in a department's eligible frame.
///
/// When several reasons apply, the first in this order is recorded:
/// `not_active`, `trigger_only`, `suspended`, `observation`, `cooldown`,
/// `annual_cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ExclusionReason {
    /// Deregistered or revoked: outside the base population.
    NotActive,
    /// The department draws this class only on a trigger (触发式监管).
    TriggerOnly,
    /// A filed suspension (歇业) and the class's mode is on-site.
    Suspended,
    /// Inside the observation period (观察期).
    Observation,
    /// Visited (by any department) within the cooldown.
    Cooldown,
    /// The annual visit cap is reached.
    AnnualCap,
}

impl ExclusionReason {
    /// The name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::NotActive => "not_active",
            ExclusionReason::TriggerOnly => "trigger_only",
            ExclusionReason::Suspended => "suspended",
            ExclusionReason::Observation => "observation",
            ExclusionReason::Cooldown => "cooldown",
            ExclusionReason::AnnualCap => "annual_cap",
        }
    }
}

/// One entity left out of one department's frame, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The department's position in the plan.
    pub department: usize,
    /// The entity's position in [`Population::entities`](crate::Population::entities).
    pub entity: usize,
    /// The entity's class after the plan's unclassified rule.
    pub class: RiskClass,
    /// Why.
    pub reason: ExclusionReason,
}

/// One stratum of a class frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumFrame {
    /// The values of the plan's stratum columns.
    pub values: Vec<String>,
    /// Base-population entities in the stratum.
    pub base: u64,
    /// Eligible entities, as positions in the population, in id order.
    pub members: Vec<u32>,
}

/// The frame of one department and class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassFrame {
    /// `|B(d,c)|`.
    pub base: u64,
    /// Exclusions by reason (`not_active` entities are counted though outside the base).
    pub excluded: BTreeMap<ExclusionReason, u64>,
    /// The strata with a non-empty base, ordered by their values (UTF-8 bytes).
    pub strata: Vec<StratumFrame>,
}

impl ClassFrame {
    /// `|E(d,c)|`.
    pub fn eligible(&self) -> u64 {
        self.strata.iter().map(|s| s.members.len() as u64).sum()
    }
}

/// The frame of one department: one [`ClassFrame`] per class, A to D.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentFrame {
    /// The classes, A to D.
    pub classes: [ClassFrame; 4],
}

/// The frames of every department of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Per department, in plan order.
    pub departments: Vec<DepartmentFrame>,
    /// Every exclusion, by department (plan order), then entity id.
    pub exclusions: Vec<Exclusion>,
}

/// What the history says about each entity.
struct HistoryIndex {
    /// entity → the date of its last visit (any department, any kind).
    last: BTreeMap<usize, NaiveDate>,
    /// entity → distinct dates of its visits (any department, any kind) in the window's calendar year.
    year_visits: BTreeMap<usize, BTreeSet<NaiveDate>>,
}

impl HistoryIndex {
    fn new(inputs: &Inputs) -> HistoryIndex {
        let year = inputs.plan.window.start.year();
        let mut last: BTreeMap<usize, NaiveDate> = BTreeMap::new();
        let mut year_visits: BTreeMap<usize, BTreeSet<NaiveDate>> = BTreeMap::new();
        for v in &inputs.history {
            // OK because the history loader rejected unknown entities.
            let Some(e) = inputs.population.index_of(&v.entity_id) else {
                continue;
            };
            let slot = last.entry(e).or_insert(v.date);
            *slot = (*slot).max(v.date);
            if v.date.year() == year {
                year_visits.entry(e).or_default().insert(v.date);
            }
        }
        HistoryIndex { last, year_visits }
    }
}

/// The first exclusion reason that applies to entity `i` in department `di`, if any.
fn exclusion(
    inputs: &Inputs,
    history: &HistoryIndex,
    start: NaiveDate,
    di: usize,
    i: usize,
    class: RiskClass,
) -> Option<ExclusionReason> {
    let plan = &inputs.plan;
    let dep = &plan.departments[di];
    let e = &inputs.population.entities()[i];
    let mode = dep.class(class).mode;
    let days_since = |d: NaiveDate| (start - d).num_days();
    if !e.status.is_registered() {
        Some(ExclusionReason::NotActive)
    } else if mode == Mode::TriggerOnly {
        Some(ExclusionReason::TriggerOnly)
    } else if e.status == Status::Suspended && mode == Mode::OnSite {
        Some(ExclusionReason::Suspended)
    } else if plan
        .observation
        .as_ref()
        .is_some_and(|o| o.classes.contains(&class) && e.established.is_some_and(|d| days_since(d) < i64::from(o.days)))
    {
        Some(ExclusionReason::Observation)
    } else if plan.cooldown_days > 0
        && history
            .last
            .get(&i)
            .is_some_and(|&d| days_since(d) < i64::from(plan.cooldown_days))
    {
        Some(ExclusionReason::Cooldown)
    } else if plan
        .annual_cap
        .is_some_and(|cap| history.year_visits.get(&i).map_or(0, |s| s.len() as u64) >= u64::from(cap))
    {
        Some(ExclusionReason::AnnualCap)
    } else {
        None
    }
}

impl Frame {
    /// Builds the frames of every department (DR1 step 4).
    ///
    /// The base population `B(d,c)` holds the registered (active or
    /// suspended) entities in the department's scope whose class, after
    /// the plan's unclassified rule, is `c`. The eligible frame `E(d,c)`
    /// is `B(d,c)` less the exclusions, each recorded with the first
    /// reason that applies (see [`ExclusionReason`]); every time rule is
    /// measured from the window start, never from the wall clock:
    ///
    /// - `observation`: the class is listed and `start − established < days`;
    /// - `cooldown`: the entity's last visit in the history (by any
    ///   department, of any kind) has `start − date < cooldown_days`;
    /// - `annual_cap`: the entity has at least `annual_cap` distinct visit
    ///   dates in the history (any department, any kind; a merged visit, one
    ///   entity on one date, counts once) in the calendar year of the window
    ///   start.
    pub fn build(inputs: &Inputs) -> Frame {
        let plan = &inputs.plan;
        let population = &inputs.population;
        let entities = population.entities();
        let rank = population.id_ranks();
        let history = HistoryIndex::new(inputs);
        let start = plan.window.start;

        // Intern each entity's stratum once, in one pass: a provisional id in
        // order of first appearance, then renumbered so that ids follow the
        // order of the values (UTF-8 bytes, column by column), as DR1 step 6
        // orders strata.
        let mut tuples: BTreeMap<Vec<&str>, u32> = BTreeMap::new();
        let provisional: Vec<u32> = entities
            .iter()
            .map(|e| {
                // OK because the loader checked every stratum column exists.
                let values: Vec<&str> = plan.strata.iter().map(|c| e.column(c).unwrap_or("")).collect();
                // OK because there are at most as many strata as entities, which fit in u32.
                let next = tuples.len() as u32;
                *tuples.entry(values).or_insert(next)
            })
            .collect();
        let mut renumber = vec![0u32; tuples.len()];
        for (rank, &first_seen) in tuples.values().enumerate() {
            renumber[first_seen as usize] = rank as u32;
        }
        let stratum_of: Vec<u32> = provisional.into_iter().map(|p| renumber[p as usize]).collect();
        let values: Vec<Vec<String>> = tuples
            .keys()
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .collect();

        let mut departments = Vec::with_capacity(plan.departments.len());
        let mut exclusions = Vec::new();
        for (di, dep) in plan.departments.iter().enumerate() {
            // Per class: stratum id → (base, members).
            let mut strata: [BTreeMap<u32, (u64, Vec<u32>)>; 4] = Default::default();
            let mut classes: [ClassFrame; 4] = Default::default();
            let mut excluded_here = Vec::new();
            for (i, e) in entities.iter().enumerate() {
                let in_scope = dep
                    .scope
                    .iter()
                    .all(|(col, allowed)| e.column(col).is_some_and(|v| allowed.iter().any(|a| a == v)));
                if !in_scope {
                    continue;
                }
                // OK because the loader rejects unclassified entities when the plan names no class for them.
                let Some(class) = e.class.or(plan.unclassified_class) else {
                    continue;
                };
                let reason = exclusion(inputs, &history, start, di, i, class);
                let c = class.index();
                if let Some(reason) = reason {
                    *classes[c].excluded.entry(reason).or_insert(0) += 1;
                    excluded_here.push(Exclusion {
                        department: di,
                        entity: i,
                        class,
                        reason,
                    });
                    if reason == ExclusionReason::NotActive {
                        continue;
                    }
                }
                classes[c].base += 1;
                let stratum = strata[c].entry(stratum_of[i]).or_default();
                stratum.0 += 1;
                if reason.is_none() {
                    // OK because the population has at most u32::MAX entities.
                    stratum.1.push(i as u32);
                }
            }
            for (class, groups) in classes.iter_mut().zip(strata) {
                class.strata = groups
                    .into_iter()
                    .map(|(id, (base, mut members))| {
                        members.sort_unstable_by_key(|&m| rank[m as usize]);
                        StratumFrame {
                            values: values[id as usize].clone(),
                            base,
                            members,
                        }
                    })
                    .collect();
            }
            excluded_here.sort_unstable_by_key(|x| rank[x.entity]);
            exclusions.append(&mut excluded_here);
            departments.push(DepartmentFrame { classes });
        }
        Frame {
            departments,
            exclusions,
        }
    }

    /// The canonical digest of the frame, independent of input row order:
    ///
    /// `H(enc("DR1/frame") ‖ for each department in plan order: enc(d) ‖ for
    /// each class A–D: enc(c) ‖ for each stratum in order: enc(label) ‖
    /// enc(base as decimal) ‖ enc(eligible count as decimal) ‖ enc(id) of
    /// each eligible entity in id order;
    /// then for each exclusion (department order, then id order):
    /// enc(d) ‖ enc(id) ‖ enc(reason))`, where a stratum's label is its
    /// values joined by `|`.
    pub fn digest(&self, inputs: &Inputs) -> Digest {
        let entities = inputs.population.entities();
        let mut h = Hasher::new();
        h.enc(b"DR1/frame");
        for (dep, frame) in inputs.plan.departments.iter().zip(&self.departments) {
            h.enc(dep.id.as_bytes());
            for (class, cf) in RiskClass::ALL.iter().zip(&frame.classes) {
                h.enc(class.as_str().as_bytes());
                for s in &cf.strata {
                    h.enc(s.values.join("|").as_bytes());
                    h.enc(s.base.to_string().as_bytes());
                    h.enc(s.members.len().to_string().as_bytes());
                    for &m in &s.members {
                        h.enc(entities[m as usize].id.as_bytes());
                    }
                }
            }
        }
        for x in &self.exclusions {
            h.enc(inputs.plan.departments[x.department].id.as_bytes());
            h.enc(entities[x.entity].id.as_bytes());
            h.enc(x.reason.as_str().as_bytes());
        }
        h.finish()
    }
}
