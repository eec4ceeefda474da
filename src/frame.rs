//! The frame (DR3 step 4): per department and class, the base population,
//! the eligible frame split into strata, and every exclusion with its
//! reason. The frame does not depend on the seed, so it can be committed
//! to before the seed exists.
//!
//! One file for one step: the exclusion rules, the strata and the frame
//! digest are read together when checking DR3 step 4, and the last 150
//! lines are its unit tests.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::inputs::Inputs;
use crate::inputs::population::{Codes, Narrowed, Population};
use crate::key::{Digest, StreamHasher};
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
    /// Visited (by any department, a visit of a kind the cooldown counts) within the cooldown.
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
#[non_exhaustive]
pub struct Exclusion {
    /// The department's position in the plan.
    pub department: usize,
    /// The entity's position in the [`Population`] (see [`Population::entity`]).
    pub entity: usize,
    /// The entity's class after the plan's unclassified rule.
    pub class: RiskClass,
    /// Why.
    pub reason: ExclusionReason,
}

/// One stratum of a class frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StratumFrame {
    /// The values of the plan's stratum columns.
    pub values: Vec<String>,
    /// Base-population entities in the stratum.
    pub base: u64,
    /// `|E_h|`, the eligible entities in the stratum.
    pub eligible: u64,
    /// Eligible entities, as positions in the population, in id order:
    /// all of them, except in a frame streamed from a file too large to
    /// hold, where only those the draw selects are held.
    pub members: Vec<u32>,
}

/// The frame of one department and class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
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
        self.strata.iter().map(|s| s.eligible).sum()
    }
}

/// The frame of one department: one [`ClassFrame`] per class, A to D.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DepartmentFrame {
    /// The classes, A to D; [`class`](DepartmentFrame::class) picks one.
    pub classes: [ClassFrame; 4],
}

impl DepartmentFrame {
    /// The frame of one class.
    pub fn class(&self, class: RiskClass) -> &ClassFrame {
        &self.classes[class.index()]
    }
}

/// The frames of every department of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame {
    /// Per department, in plan order.
    pub departments: Vec<DepartmentFrame>,
    /// Every exclusion, by department (plan order), then entity id; empty
    /// in a frame streamed from a file too large to hold, whose
    /// exclusions wait on disk for `exclusions.csv`.
    pub exclusions: Vec<Exclusion>,
    /// A streamed frame's digest and exclusions.
    pub(crate) streamed: Option<std::sync::Arc<crate::stream::Spilled>>,
}

/// What the history says about the entities it names, in position order:
/// one entry per entity with a past visit, walked beside each run of the
/// frame's pass (no array over the whole population).
pub(crate) struct HistoryIndex {
    /// (position, date of the last visit the cooldown counts (by any
    /// department), distinct dates of the visits the annual cap counts (by
    /// any department) in the window's calendar year).
    entities: Vec<(u32, Option<NaiveDate>, u32)>,
}

/// One entity's past visits, as the frame reads them: the date of the last
/// visit the cooldown counts and the distinct dates of the visits the
/// annual cap counts in `year`, from `(date, cooled, capped)` sorted by date.
pub(crate) fn past_visits(
    visits: impl Iterator<Item = (NaiveDate, bool, bool)>,
    year: i32,
) -> (Option<NaiveDate>, u32) {
    // Sorted by date: a repeated date follows its first.
    let mut dates = 0;
    let mut counted = None;
    let mut last = None;
    for (date, cooled, capped) in visits {
        if cooled {
            last = Some(date);
        }
        if capped && date.year() == year && counted != Some(date) {
            dates += 1;
            counted = Some(date);
        }
    }
    (last, dates)
}

impl HistoryIndex {
    /// From `(position, last, dates)` of each entity with past visits, by position.
    pub(crate) fn from_entries(entities: Vec<(u32, Option<NaiveDate>, u32)>) -> HistoryIndex {
        HistoryIndex { entities }
    }

    fn new(inputs: &Inputs) -> HistoryIndex {
        let plan = &inputs.plan;
        let year = plan.window.start.year();
        // OK because populations hold at most u32::MAX entities.
        let mut visits: Vec<(u32, NaiveDate, bool, bool)> = inputs
            .history
            .iter()
            .map(|v| {
                let kind = v.kind();
                (
                    v.entity() as u32,
                    v.date(),
                    plan.cooldown_counts.counts(kind),
                    plan.annual_cap_counts.counts(kind),
                )
            })
            .filter(|&(_, _, cooled, capped)| cooled || capped)
            .collect();
        crate::par::sort_unstable_by(&mut visits, Ord::cmp);
        let entities = visits
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| {
                let (last, dates) = past_visits(run.iter().map(|&(_, d, c, a)| (d, c, a)), year);
                (run[0].0, last, dates)
            })
            .collect();
        HistoryIndex { entities }
    }

    /// The entries from entity `start` on, to be read for entities in
    /// ascending order ([`HistoryFrom::at`]).
    fn from(&self, start: usize) -> HistoryFrom<'_> {
        let at = self.entities.partition_point(|e| (e.0 as usize) < start);
        HistoryFrom(&self.entities[at..])
    }
}

/// The history's entries not yet passed, for a pass over entities in
/// ascending order.
struct HistoryFrom<'a>(&'a [(u32, Option<NaiveDate>, u32)]);

impl HistoryFrom<'_> {
    /// Entity `i`'s last counted visit and counted visit dates this year,
    /// if the history names it; `i` must not be below the last one asked for.
    fn at(&mut self, i: usize) -> Option<(Option<NaiveDate>, u32)> {
        let passed = self.0.iter().take_while(|e| (e.0 as usize) < i).count();
        self.0 = &self.0[passed..];
        match self.0.first() {
            Some(&(e, last, dates)) if e as usize == i => Some((last, dates)),
            _ => None,
        }
    }
}

/// The rules of one department, resolved once.
struct Rules<'a> {
    modes: [Mode; 4],
    /// Per scope column: the entity codes and, per code, whether it is in scope.
    scope: Vec<(Cow<'a, Codes>, Vec<bool>)>,
}

/// The reasons of DR3 step 4 that depend on the entity alone, resolved once
/// per entity and then combined with each department's class mode in
/// [`exclusion`].
struct EntityRules {
    /// Established on or after this date: inside the observation period (for its classes).
    observed_from: Option<(NaiveDate, [bool; 4])>,
    /// Per class: last visited on or after this date: inside the cooldown.
    cooled_from: [Option<NaiveDate>; 4],
    /// Per class: the annual cap.
    annual_cap: [Option<u32>; 4],
}

/// The first date `d` with `start - d` under `days` days, if any.
fn inside_from(start: NaiveDate, days: u32) -> Option<NaiveDate> {
    match start.checked_sub_days(chrono::Days::new(u64::from(days))) {
        // Before the first date there is: every date is inside.
        None => Some(NaiveDate::MIN),
        Some(d) => d.succ_opt(),
    }
}

impl EntityRules {
    fn new(plan: &crate::inputs::plan::Plan) -> EntityRules {
        let start = plan.window.start;
        EntityRules {
            observed_from: plan.observation.as_ref().and_then(|o| {
                let classes = RiskClass::ALL.map(|c| o.classes.contains(&c));
                inside_from(start, o.days).map(|d| (d, classes))
            }),
            cooled_from: RiskClass::ALL.map(|c| {
                let days = plan.class_limits(c).cooldown_days;
                (days > 0).then(|| inside_from(start, days)).flatten()
            }),
            annual_cap: RiskClass::ALL.map(|c| plan.class_limits(c).annual_cap),
        }
    }

    /// Observation, cooldown or the annual cap, the first that applies.
    /// `past` is the entity's last visit the cooldown counts and the visit
    /// dates this year the cap counts, from the history, if it names the
    /// entity.
    fn reason(
        &self,
        population: &Population,
        past: Option<(Option<NaiveDate>, u32)>,
        i: usize,
        class: RiskClass,
    ) -> Option<ExclusionReason> {
        if let Some((from, classes)) = self.observed_from
            && classes[class.index()]
            && population.entity(i).established().is_some_and(|d| d >= from)
        {
            Some(ExclusionReason::Observation)
        } else if let Some(from) = self.cooled_from[class.index()]
            && past.is_some_and(|(last, _)| last.is_some_and(|last| last >= from))
        {
            Some(ExclusionReason::Cooldown)
        } else if self.annual_cap[class.index()].is_some_and(|cap| past.map_or(0, |(_, dates)| dates) >= cap) {
            Some(ExclusionReason::AnnualCap)
        } else {
            None
        }
    }
}

/// The first exclusion reason that applies to an entity in one
/// department: its status, then the class's mode, then `later`, the
/// reason of [`EntityRules::reason`].
fn exclusion(mode: Mode, status: Status, later: Option<ExclusionReason>) -> Option<ExclusionReason> {
    if !status.is_registered() {
        Some(ExclusionReason::NotActive)
    } else if mode == Mode::TriggerOnly {
        Some(ExclusionReason::TriggerOnly)
    } else if status == Status::Suspended && mode == Mode::OnSite {
        Some(ExclusionReason::Suspended)
    } else {
        later
    }
}

/// A column's values and each entity's code, for any column of the file.
fn column_codes<'a>(population: &'a Population, column: &str) -> (Cow<'a, [String]>, Cow<'a, Codes>) {
    if let Some((values, codes)) = population.codes(column) {
        return (Cow::Borrowed(values), Cow::Borrowed(codes));
    }
    // A column held as typed values (class, status, date) or the id: code it here.
    let mut index: BTreeMap<String, u32> = BTreeMap::new();
    let mut values = Vec::new();
    let codes = population
        .iter()
        .map(|e| {
            let v = e.column(column).unwrap_or_default().into_owned();
            *index.entry(v).or_insert_with_key(|v| {
                values.push(v.clone());
                // OK because there are at most as many values as entities.
                (values.len() - 1) as u32
            })
        })
        .collect();
    (Cow::Owned(values), Cow::Owned(Narrowed::Wide(codes)))
}

/// Each entity's stratum, numbered in the order of the strata's values
/// (UTF-8 bytes, column by column, as DR3 step 6 orders strata), and the
/// values of each stratum.
fn strata_of(population: &Population, columns: &[String]) -> (Vec<u32>, Vec<Vec<String>>) {
    let coded: Vec<_> = columns.iter().map(|c| column_codes(population, c)).collect();
    // Combine the columns' codes into one provisional code per entity: the
    // first column's codes themselves (a code per value), then one per
    // distinct pair of (codes so far, next column's code).
    let (mut tuples, mut provisional): (Vec<Vec<u32>>, Vec<u32>) = match coded.first() {
        Some((values, codes)) => (
            (0..values.len() as u32).map(|c| vec![c]).collect(),
            crate::par::map_range(population.len(), |i| codes.get(i)),
        ),
        None => (vec![Vec::new()], vec![0; population.len()]),
    };
    for (_, codes) in coded.iter().skip(1) {
        let mut next: hashbrown::HashMap<(u32, u32), u32, foldhash::fast::FixedState> = Default::default();
        let mut next_tuples = Vec::new();
        for (i, p) in provisional.iter_mut().enumerate() {
            let c = codes.get(i);
            *p = *next.entry((*p, c)).or_insert_with(|| {
                let mut t = tuples[*p as usize].clone();
                t.push(c);
                next_tuples.push(t);
                // OK because there are at most as many tuples as entities.
                (next_tuples.len() - 1) as u32
            });
        }
        tuples = next_tuples;
    }
    let values: Vec<Vec<&str>> = tuples
        .iter()
        .map(|t| {
            t.iter()
                .zip(&coded)
                .map(|(&c, (v, _))| v[c as usize].as_str())
                .collect()
        })
        .collect();
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_by(|&a, &b| values[a as usize].cmp(&values[b as usize]));
    let mut renumber = vec![0u32; values.len()];
    for (rank, &p) in order.iter().enumerate() {
        // OK because there are at most as many strata as entities.
        renumber[p as usize] = rank as u32;
    }
    for p in &mut provisional {
        *p = renumber[*p as usize];
    }
    let sorted = order
        .iter()
        .map(|&p| values[p as usize].iter().map(|s| s.to_string()).collect())
        .collect();
    (provisional, sorted)
}

/// `enc(id)` of each member, concatenated, prepared on every core in
/// blocks (the members are spread over the population, so reading their
/// ids waits on memory; two cores wait half as long).
fn encoded_ids(population: &Population, members: &[u32]) -> Vec<u8> {
    let encode = |block: &[u32]| {
        let mut out = Vec::with_capacity(block.len() * 24);
        for (k, &m) in block.iter().enumerate() {
            population.prefetch_ahead(block, k, |&ahead| ahead as usize);
            let id = population.id(m as usize).as_bytes();
            // OK because ids are at most MAX_FIELD_BYTES long.
            out.extend_from_slice(&(id.len() as u32).to_be_bytes());
            out.extend_from_slice(id);
        }
        out
    };
    crate::par::map_chunks(members, 1 << 14, encode).concat()
}

/// Group positions by slot (class × strata + stratum): a table when the
/// slots are few, a hash map when there are very many strata.
enum Slots {
    Dense(Vec<u32>),
    Sparse(hashbrown::HashMap<u32, u32, foldhash::fast::FixedState>),
}

impl Slots {
    /// Slots up to this many are held in a table (per run and department).
    const DENSE: u32 = 1 << 16;

    fn new(slots: u32) -> Slots {
        if slots <= Slots::DENSE {
            Slots::Dense(vec![u32::MAX; slots as usize])
        } else {
            Slots::Sparse(Default::default())
        }
    }

    /// The group of `slot`, made with `make` the first time.
    fn get_or_insert(&mut self, slot: u32, make: impl FnOnce() -> u32) -> u32 {
        match self {
            Slots::Dense(table) => {
                let g = &mut table[slot as usize];
                if *g == u32::MAX {
                    *g = make();
                }
                *g
            }
            Slots::Sparse(map) => *map.entry(slot).or_insert_with(make),
        }
    }
}

/// One department's frame over a run of entities in id order.
struct Partial {
    slots: Slots,
    /// (slot, base, eligible members), in order of first appearance.
    groups: Vec<(u32, u64, u32)>,
    /// The eligible members of the run as (group, position), in id order;
    /// emptied by [`Partial::finish`].
    eligible: Vec<(u32, u32)>,
    /// The eligible members by group (in group order), each group in id
    /// order; group `g` is `members[starts[g]..starts[g + 1]]`.
    members: Vec<u32>,
    starts: Vec<u32>,
    excluded: Vec<Exclusion>,
    /// Per class, exclusions by reason (in declaration order).
    counts: [[u64; 6]; 4],
}

impl Partial {
    fn new(slots: u32) -> Partial {
        Partial {
            slots: Slots::new(slots),
            groups: Vec::new(),
            eligible: Vec::new(),
            members: Vec::new(),
            starts: Vec::new(),
            excluded: Vec::new(),
            counts: [[0; 6]; 4],
        }
    }

    /// Lays the run's eligible members out by group: one array and no
    /// list per group, so that joining the runs copies ranges.
    fn finish(&mut self) {
        let mut next = Vec::with_capacity(self.groups.len() + 1);
        let mut at = 0u32;
        for &(_, _, eligible) in &self.groups {
            next.push(at);
            at += eligible;
        }
        next.push(at);
        self.starts = next.clone();
        self.members = vec![0; at as usize];
        // In id order within each group, as the pass met them.
        for &(g, i) in &self.eligible {
            let slot = &mut next[g as usize];
            self.members[*slot as usize] = i;
            *slot += 1;
        }
        self.eligible = Vec::new();
    }

    /// The eligible members of group `g`.
    fn group(&self, g: usize) -> &[u32] {
        &self.members[self.starts[g] as usize..self.starts[g + 1] as usize]
    }
}

/// Every exclusion reason, in declaration order (the order of
/// `Partial::counts`, and the number a streamed frame's runs write).
pub(crate) const REASONS: [ExclusionReason; 6] = [
    ExclusionReason::NotActive,
    ExclusionReason::TriggerOnly,
    ExclusionReason::Suspended,
    ExclusionReason::Observation,
    ExclusionReason::Cooldown,
    ExclusionReason::AnnualCap,
];

#[allow(clippy::too_many_arguments)]
fn pass(
    plan: &crate::inputs::plan::Plan,
    population: &Population,
    entity_rules: &EntityRules,
    rules: &[Rules<'_>],
    history: &HistoryIndex,
    stratum_of: &[u32],
    strata: u32,
    ids: std::ops::Range<usize>,
) -> Vec<Partial> {
    let classes = population.classes();
    // OK because class × strata + stratum < 4 × strata, and strata are at most the entities.
    let mut out: Vec<Partial> = rules.iter().map(|_| Partial::new(4 * strata)).collect();
    let mut past_visits = history.from(ids.start);
    for i in ids {
        let past = past_visits.at(i);
        // OK because the loader rejects unclassified entities when the plan names no class for them.
        let Some(class) = classes[i].or(plan.unclassified_class) else {
            continue;
        };
        let status = population.entity(i).status();
        let later = entity_rules.reason(population, past, i, class);
        for (di, (r, part)) in rules.iter().zip(&mut out).enumerate() {
            if !r.scope.iter().all(|(codes, ok)| ok[codes.get(i) as usize]) {
                continue;
            }
            let reason = exclusion(r.modes[class.index()], status, later);
            if let Some(reason) = reason {
                part.counts[class.index()][reason as usize] += 1;
                part.excluded.push(Exclusion {
                    department: di,
                    entity: i,
                    class,
                    reason,
                });
                if reason == ExclusionReason::NotActive {
                    continue;
                }
            }
            let slot = class.index() as u32 * strata + stratum_of[i];
            let groups = &mut part.groups;
            let g = part.slots.get_or_insert(slot, || {
                groups.push((slot, 0, 0));
                // OK because there are fewer groups than entities.
                (groups.len() - 1) as u32
            });
            let group = &mut part.groups[g as usize];
            group.1 += 1;
            if reason.is_none() {
                group.2 += 1;
                // OK because the population has at most u32::MAX entities.
                part.eligible.push((g, i as u32));
            }
        }
    }
    for part in &mut out {
        part.finish();
    }
    out
}

impl Frame {
    /// Checks the floor of every item (`CheckItem::floor`): the class
    /// quotas of the item's department must add up to at least that share
    /// of its base population.
    ///
    /// # Errors
    ///
    /// A [`Policy`](crate::ErrorKind::Policy) error naming the item's line
    /// in the item file, for the first item whose floor the plan breaks.
    pub(crate) fn check_floors(&self, inputs: &Inputs) -> crate::Result<()> {
        let plan = &inputs.plan;
        for (d, df) in plan.departments.iter().zip(&self.departments) {
            let base: u64 = df.classes.iter().map(|c| c.base).sum();
            let drawn: u64 = RiskClass::ALL.iter().map(|&c| d.class(c).quota(df.class(c).base)).sum();
            for item in d.items.iter().filter_map(|id| inputs.item(id)) {
                let Some(floor) = item.floor() else { continue };
                let need = floor.quota(base);
                if drawn < need {
                    let field = if item.min_ratio.is_some() { "min_ratio" } else { "kind" };
                    return Err(crate::Error::policy(
                        crate::Location::line(&plan.inputs.items, item.line).with_field(field),
                        format!(
                            "item {} must be drawn for at least {floor} of department {}'s base population ({need} of {base} entities), and the plan's class ratios draw {drawn}",
                            crate::error::quote(&item.id),
                            crate::error::quote(&d.id)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Builds the frames of every department (DR3 step 4).
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
    ///   department, of a kind `cooldown_counts` names: every kind by
    ///   default) has `start − date < cooldown_days`;
    /// - `annual_cap`: the entity has at least `annual_cap` distinct visit
    ///   dates in the history (any department, of a kind
    ///   `annual_cap_counts` names: random only by default; a merged visit,
    ///   one entity on one date, counts once) in the calendar year of the
    ///   window start.
    pub fn build(inputs: &Inputs) -> Frame {
        Frame::build_in_runs(inputs, 1 << 18)
    }

    /// [`Frame::build`], passing over the entities in runs of `run` (on
    /// every core) and joining the runs' frames.
    fn build_in_runs(inputs: &Inputs, run: usize) -> Frame {
        Frame::build_of(&inputs.plan, &inputs.population, || HistoryIndex::new(inputs), run)
    }

    /// The frame of `population` under `plan`, with the history's
    /// entries made by `history` (beside the rest): the frame of a whole
    /// library, or of one chunk of a file too large to hold.
    pub(crate) fn build_of(
        plan: &crate::inputs::plan::Plan,
        population: &Population,
        history: impl FnOnce() -> HistoryIndex + Send,
        run: usize,
    ) -> Frame {
        // Three independent preparations, side by side.
        let rules = || -> Vec<Rules<'_>> {
            plan.departments
                .iter()
                .map(|dep| Rules {
                    modes: RiskClass::ALL.map(|c| dep.class(c).mode),
                    scope: dep
                        .scope
                        .iter()
                        .map(|(column, allowed)| {
                            let (values, codes) = column_codes(population, column);
                            let ok = values.iter().map(|v| allowed.iter().any(|a| a == v)).collect();
                            (codes, ok)
                        })
                        .collect(),
                })
                .collect()
        };
        let (history, ((stratum_of, values), rules)) = crate::par::join(history, || {
            crate::par::join(|| strata_of(population, &plan.strata), rules)
        });
        // OK because there are at most as many strata as entities.
        let strata = values.len() as u32;

        // One pass over the entities (held in id order), in runs on every
        // core, joined in order: members and exclusions come out in id order.
        let entity_rules = EntityRules::new(plan);
        let n = population.len();
        let pass_from = |start: usize| {
            pass(
                plan,
                population,
                &entity_rules,
                &rules,
                &history,
                &stratum_of,
                strata,
                start..(start + run).min(n),
            )
        };
        let mut partials: Vec<Vec<Partial>> = crate::par::map_range(n.div_ceil(run), |k| pass_from(k * run));

        let mut departments: Vec<DepartmentFrame> = Vec::with_capacity(plan.departments.len());
        let mut exclusions = Vec::with_capacity(partials.iter().flatten().map(|p| p.excluded.len()).sum());
        for di in 0..plan.departments.len() {
            let mut classes: [ClassFrame; 4] = Default::default();
            // The department's runs are moved out, joined, and dropped
            // before the next department's are joined.
            let parts: Vec<Partial> = partials
                .iter_mut()
                .map(|partial| std::mem::replace(&mut partial[di], Partial::new(0)))
                .collect();
            for part in &parts {
                for (c, counts) in part.counts.iter().enumerate() {
                    for (&reason, &n) in REASONS.iter().zip(counts) {
                        if n > 0 {
                            *classes[c].excluded.entry(reason).or_insert(0) += n;
                        }
                    }
                }
                exclusions.extend_from_slice(&part.excluded);
            }
            // Every run's groups by slot, then run: a stratum's members
            // are its runs' ranges, in run (and so id) order.
            let mut index: Vec<(u32, u32, u32)> = Vec::with_capacity(parts.iter().map(|p| p.groups.len()).sum());
            for (r, part) in parts.iter().enumerate() {
                // OK because there are fewer runs and groups than entities.
                index.extend((0..part.groups.len()).map(|g| (part.groups[g].0, r as u32, g as u32)));
            }
            index.sort_unstable();
            for same in index.chunk_by(|a, b| a.0 == b.0) {
                let slot = same[0].0;
                let group = |&(_, r, g): &(u32, u32, u32)| (&parts[r as usize], g as usize);
                let len: usize = same
                    .iter()
                    .map(|x| {
                        let (part, g) = group(x);
                        part.group(g).len()
                    })
                    .sum();
                let mut members = Vec::with_capacity(len);
                let mut base = 0;
                for x in same {
                    let (part, g) = group(x);
                    base += part.groups[g].1;
                    members.extend_from_slice(part.group(g));
                }
                let class = &mut classes[(slot / strata) as usize];
                class.base += base;
                class.strata.push(StratumFrame {
                    values: values[(slot % strata) as usize].clone(),
                    base,
                    eligible: members.len() as u64,
                    members,
                });
            }
            departments.push(DepartmentFrame { classes });
        }
        Frame {
            departments,
            exclusions,
            streamed: None,
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
        if let Some(s) = &self.streamed {
            return s.digest;
        }
        let population = &inputs.population;
        let mut h = StreamHasher::new();
        h.enc(b"DR1/frame");
        for (dep, frame) in inputs.plan.departments.iter().zip(&self.departments) {
            h.enc(dep.id.as_bytes());
            for (class, cf) in RiskClass::ALL.iter().zip(&frame.classes) {
                h.enc(class.as_str().as_bytes());
                for s in &cf.strata {
                    h.enc(s.values.join("|").as_bytes());
                    h.enc(s.base.to_string().as_bytes());
                    h.enc(s.eligible.to_string().as_bytes());
                    for window in s.members.chunks(1 << 20) {
                        h.raw(&encoded_ids(population, window));
                    }
                }
            }
        }
        for (k, x) in self.exclusions.iter().enumerate() {
            population.prefetch_ahead(&self.exclusions, k, |x| x.entity);
            h.enc(inputs.plan.departments[x.department].id.as_bytes());
            h.enc(population.id(x.entity).as_bytes());
            h.enc(x.reason.as_str().as_bytes());
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame digest as documented, one member after another.
    fn naive_digest(frame: &Frame, inputs: &Inputs) -> Digest {
        let population = &inputs.population;
        let mut h = StreamHasher::new();
        h.enc(b"DR1/frame");
        for (dep, f) in inputs.plan.departments.iter().zip(&frame.departments) {
            h.enc(dep.id.as_bytes());
            for (class, cf) in RiskClass::ALL.iter().zip(&f.classes) {
                h.enc(class.as_str().as_bytes());
                for s in &cf.strata {
                    h.enc(s.values.join("|").as_bytes());
                    h.enc(s.base.to_string().as_bytes());
                    h.enc(s.members.len().to_string().as_bytes());
                    for &m in &s.members {
                        h.enc(population.id(m as usize).as_bytes());
                    }
                }
            }
        }
        for x in &frame.exclusions {
            h.enc(inputs.plan.departments[x.department].id.as_bytes());
            h.enc(population.id(x.entity).as_bytes());
            h.enc(x.reason.as_str().as_bytes());
        }
        h.finish()
    }

    /// The digest (ids encoded in blocks on every core) is the documented one.
    #[test]
    fn the_frame_digest_is_the_documented_digest() {
        let inputs = Inputs::load(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plan.json")).unwrap();
        let frame = Frame::build(&inputs);
        assert!(frame.departments[0].classes[1].strata.len() > 1);
        assert!(!frame.exclusions.is_empty());
        assert_eq!(frame.digest(&inputs), naive_digest(&frame, &inputs));
    }

    /// The history index gives each entity its last visit and its distinct
    /// visit dates in the window's year (2027), as read off the history
    /// row by row: the fixtures with a history of visits on two dates of
    /// the year, twice on one date, and in the year before.
    #[test]
    fn the_history_index_is_the_history_entity_by_entity() {
        use std::collections::BTreeSet;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/");
        let ids: Vec<String> = std::fs::read_to_string(format!("{dir}entities.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .take(3)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        let history = format!(
            "entity_id,department,date,kind,inspector_ids\n\
             {a},SCJG,2027-01-05,random,SCJG-001\n{a},NYJ,2027-01-05,random,NYJ-001\n\
             {b},SCJG,2026-05-01,random,SCJG-001\n{a},SCJG,2026-12-30,random,SCJG-002\n\
             {c},SCJG,2027-02-20,directed,SCJG-003\n{a},SCJG,2027-02-01,random,SCJG-001\n",
            a = ids[0],
            b = ids[1],
            c = ids[2],
        );
        let plan = std::fs::read(format!("{dir}plan.json")).unwrap();
        let inputs = Inputs::from_files("plan.json", &plan, |path| {
            if path == "history.csv" {
                Ok(history.clone().into_bytes())
            } else {
                Ok(std::fs::read(format!("{dir}{path}")).unwrap())
            }
        })
        .unwrap();
        let (plan, year) = (&inputs.plan, inputs.plan.window.start.year());
        // The rules as written: the last visit of a kind the cooldown counts,
        // and this year's dates of visits of a kind the cap counts.
        let mut naive: BTreeMap<usize, (Option<NaiveDate>, BTreeSet<NaiveDate>)> = BTreeMap::new();
        for v in inputs.history.iter() {
            let e = naive.entry(v.entity()).or_insert((None, BTreeSet::new()));
            if plan.cooldown_counts.counts(v.kind()) {
                e.0 = e.0.max(Some(v.date()));
            }
            if plan.annual_cap_counts.counts(v.kind()) && v.date().year() == year {
                e.1.insert(v.date());
            }
        }
        let index = HistoryIndex::new(&inputs);
        let mut past = index.from(0);
        for i in 0..inputs.population.len() {
            let expected = naive.get(&i).map(|(last, dates)| (*last, dates.len() as u32));
            assert_eq!(past.at(i), expected, "entity {i}");
        }
        let a = inputs.population.index_of(&ids[0]).unwrap();
        assert_eq!(
            index.from(a).at(a),
            Some((Some(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()), 2))
        );
        // A directed visit starts a cooldown but does not count toward the cap.
        let c = inputs.population.index_of(&ids[2]).unwrap();
        assert_eq!(
            index.from(c).at(c),
            Some((Some(NaiveDate::from_ymd_opt(2027, 2, 20).unwrap()), 0))
        );
    }

    /// A column of more than 65,536 values has four-byte codes, a column of
    /// fewer two-byte ones; the strata and the scope read both as held.
    #[test]
    fn strata_over_columns_of_narrow_and_wide_codes() {
        let rows = 70_000;
        let mut text = String::from("id,name,risk_class,region,industry,status,established\n");
        for i in 0..rows {
            // 7,919 is prime and does not divide 70,000: every region differs.
            let region = (i * 7919) % rows;
            text.push_str(&format!("E{i:07},Shop,B,R{region},I{},active,2015-01-01\n", i % 3));
        }
        let population = Population::from_csv("entities.csv", text.as_bytes()).unwrap();
        for (column, wide) in [("region", true), ("industry", false)] {
            let (values, codes) = column_codes(&population, column);
            assert_eq!(matches!(*codes, Narrowed::Wide(_)), wide, "{column}");
            for (i, e) in population.iter().enumerate() {
                assert_eq!(e.column(column).unwrap(), values[codes.get(i) as usize]);
            }
        }
        let (stratum_of, strata) = strata_of(&population, &["region".to_string(), "industry".to_string()]);
        let tuples: std::collections::BTreeSet<Vec<String>> = population
            .iter()
            .map(|e| vec![e.region().to_string(), e.industry().to_string()])
            .collect();
        assert_eq!(strata, tuples.into_iter().collect::<Vec<_>>());
        for (i, e) in population.iter().enumerate() {
            assert_eq!(strata[stratum_of[i] as usize], [e.region(), e.industry()]);
        }
    }

    /// Runs of any length, joined, give the frame of one run: the strata
    /// gather their members from every run, in id order.
    #[test]
    fn frames_built_in_runs_join_to_the_frame_of_one_run() {
        let inputs = Inputs::load(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plan.json")).unwrap();
        let n = inputs.population.len();
        let whole = Frame::build_in_runs(&inputs, n);
        // More than one stratum, some with members from several runs.
        assert!(whole.departments[0].classes[1].strata.len() > 1);
        assert!(
            whole.departments[0].classes[1]
                .strata
                .iter()
                .any(|s| s.members.len() > 3)
        );
        for stratum in whole
            .departments
            .iter()
            .flat_map(|d| &d.classes)
            .flat_map(|c| &c.strata)
        {
            assert!(stratum.members.is_sorted_by(|a, b| a < b), "{:?}", stratum.values);
        }
        for run in [1, 2, 3, 7, n - 1] {
            assert_eq!(Frame::build_in_runs(&inputs, run), whole, "runs of {run}");
        }
    }
}
