//! Inspector teams: a feasibility-preserving random assignment.
//!
//! Every department staffs its part of each visit from its own roster, so
//! the problem splits into one independent problem per department. Each is
//! a flow network:
//!
//! ```text
//! source ─► tag slot (v,t)  cap 1 ─┐              (one per qualification tag t the part needs)
//! source ─► general slot (v) cap k−|R|  ─► hub (v,σ) ─► inspector-day (i,date) cap 1 ─► inspector i cap max_per_day ─► sink cap max_visits
//! ```
//!
//! where a hub groups the eligible inspectors of a visit part by which of its
//! required tags `R` they hold (`σ`); a tag slot feeds the hubs whose `σ`
//! holds the tag, the general slot feeds every hub, and each inspector has
//! one edge of capacity 1 from its hub, so nobody fills two seats of one
//! team. Each required tag is held by a different member.
//!
//! The assignment is built in two passes, both this crate's own code so
//! that no library release can change a published team:
//!
//! 1. a greedy pass over the parts in (date, visit key) order that gives each
//!    seat to an inspector drawn uniformly from the least-loaded of those who
//!    may take it (see [`draw_seat`]), found through an index of the roster
//!    by load ([`Group`]) so that a seat costs `O(log roster)`, not a scan;
//! 2. Dinic's maximum-flow algorithm, started from the greedy flow, which
//!    completes the assignment whenever a complete one exists. When none
//!    exists, the residual graph's source side is a minimum cut: the parts
//!    on it cannot all be staffed, and the error names each of them with the
//!    constraints that bind.
//!
//! The greedy pass, the network and the minimum cut stay in one file: the
//! network is built from the greedy pass's state and the cut explains the
//! network, so they change together; the last 70 lines are unit tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::NaiveDate;

use super::Visit;
use crate::error::{ErrorKind, Result};
use crate::inputs::Inputs;
use crate::inputs::inspector::Inspector;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use super::load_index::Group;
use crate::inputs::plan::{CrossStation, Rotation};
use crate::key::below;
use crate::key::{Hasher, Salt};

/// Capacity of edges that never bind.
const INF: u32 = u32::MAX / 4;

#[derive(Debug, Clone)]
struct Edge {
    to: u32,
    cap: u32,
}

/// A flow network with paired residual edges (edge `e` and `e ^ 1`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Network {
    edges: Vec<Edge>,
    adj: Vec<Vec<u32>>,
}

impl Network {
    fn node(&mut self) -> u32 {
        self.adj.push(Vec::new());
        // OK because a network over u32::MAX nodes cannot be held in memory.
        (self.adj.len() - 1) as u32
    }

    fn edge(&mut self, from: u32, to: u32, cap: u32) -> u32 {
        let e = self.edges.len() as u32;
        self.edges.push(Edge { to, cap });
        self.edges.push(Edge { to: from, cap: 0 });
        self.adj[from as usize].push(e);
        self.adj[to as usize].push(e + 1);
        e
    }

    /// Pushes `amount` along edge `e`.
    fn push(&mut self, e: u32, amount: u32) {
        self.edges[e as usize].cap -= amount;
        self.edges[(e ^ 1) as usize].cap += amount;
    }

    fn flow(&self, e: u32) -> u32 {
        self.edges[(e ^ 1) as usize].cap
    }

    /// Dinic's algorithm from the current flow; returns the flow added.
    pub(crate) fn max_flow(&mut self, s: u32, t: u32) -> u64 {
        let n = self.adj.len();
        let mut total = 0u64;
        let mut level = vec![u32::MAX; n];
        let mut it = vec![0usize; n];
        loop {
            level.fill(u32::MAX);
            level[s as usize] = 0;
            let mut queue = std::collections::VecDeque::from([s]);
            while let Some(u) = queue.pop_front() {
                for &e in &self.adj[u as usize] {
                    let Edge { to, cap } = self.edges[e as usize];
                    if cap > 0 && level[to as usize] == u32::MAX {
                        level[to as usize] = level[u as usize] + 1;
                        queue.push_back(to);
                    }
                }
            }
            if level[t as usize] == u32::MAX {
                return total;
            }
            it.fill(0);
            loop {
                let pushed = self.augment(s, t, INF, &level, &mut it);
                if pushed == 0 {
                    break;
                }
                total += u64::from(pushed);
            }
        }
    }

    /// One blocking-flow path search (iterative DFS along level edges).
    fn augment(&mut self, s: u32, t: u32, limit: u32, level: &[u32], it: &mut [usize]) -> u32 {
        let mut path: Vec<u32> = Vec::new();
        let mut u = s;
        loop {
            if u == t {
                let amount = path
                    .iter()
                    .map(|&e| self.edges[e as usize].cap)
                    .min()
                    .unwrap_or(limit)
                    .min(limit);
                for &e in &path {
                    self.push(e, amount);
                }
                return amount;
            }
            let adj = &self.adj[u as usize];
            let mut advanced = false;
            while it[u as usize] < adj.len() {
                let e = adj[it[u as usize]];
                let Edge { to, cap } = self.edges[e as usize];
                if cap > 0 && level[to as usize] == level[u as usize] + 1 {
                    path.push(e);
                    u = to;
                    advanced = true;
                    break;
                }
                it[u as usize] += 1;
            }
            if !advanced {
                // Dead end: retreat and skip the edge that led here.
                let Some(e) = path.pop() else {
                    return 0;
                };
                u = self.edges[(e ^ 1) as usize].to;
                it[u as usize] += 1;
            }
        }
    }

    /// Nodes reachable from `s` in the residual graph.
    fn reachable(&self, s: u32) -> Vec<bool> {
        let mut seen = vec![false; self.adj.len()];
        seen[s as usize] = true;
        let mut stack = vec![s];
        while let Some(u) = stack.pop() {
            for &e in &self.adj[u as usize] {
                let Edge { to, cap } = self.edges[e as usize];
                if cap > 0 && !seen[to as usize] {
                    seen[to as usize] = true;
                    stack.push(to);
                }
            }
        }
        seen
    }
}

/// Why an inspector cannot serve a visit part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ineligible {
    Certificate,
    Unavailable,
    Recused,
    PreviousVisit,
    OwnStation,
}

impl Ineligible {
    fn as_str(self) -> &'static str {
        match self {
            Ineligible::Certificate => "certificate not valid that day",
            Ineligible::Unavailable => "unavailable that day",
            Ineligible::Recused => "recused (回避)",
            Ineligible::PreviousVisit => "inspected the entity's previous visit",
            Ineligible::OwnStation => "own station (所所交叉)",
        }
    }
}

/// One department's part of one visit, as a demand.
struct Part {
    visit: usize,
    part: usize,
    date: NaiveDate,
    seats: u32,
    tags: Arc<[String]>,
    /// Slot edges from the source with the tag bit they need: one per tag, then the general slot (bit 0).
    slot_edges: Vec<(u32, u64)>,
    /// The eligible inspectors' seat edges.
    seat_edges: Vec<Seat>,
    /// Inspectors recused from the entity.
    recused: Vec<usize>,
    /// Inspectors of the entity's previous visit by this department.
    previous: Vec<usize>,
}

/// An eligible inspector's seat on a visit part: the edge hub → inspector-day.
struct Seat {
    edge: u32,
    inspector: usize,
    /// The inspector's position in the department's roster.
    position: usize,
    day_node: u32,
    /// The edge inspector-day → inspector (its capacity left is the day's room).
    day_edge: u32,
}

/// What staffing one department gives: teams by (visit, part), and the
/// sentences of the parts it could not staff.
#[derive(Default)]
struct Outcome {
    teams: Vec<(usize, usize, Vec<usize>)>,
    failures: Vec<String>,
}

/// The result of staffing: per visit and part, the inspectors (indices into `Inputs::inspectors`).
pub(crate) type Staffing = Vec<Vec<Vec<usize>>>;

/// How [`assign_with`] proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// The greedy pass, then maximum flow only if seats are left empty (the published algorithm).
    GreedyThenFlow,
    /// Maximum flow from an empty flow (for tests and measurements only).
    #[cfg_attr(not(test), allow(dead_code))]
    FlowOnly,
}

/// Called with each department's network, its source and its sink, before maximum flow.
pub(crate) type Observer<'a> = &'a mut dyn FnMut(&Network, u32, u32);

/// Staffs every visit part, or fails naming each part that cannot be staffed.
pub(crate) fn assign(inputs: &Inputs, salt: &Salt, visits: &[Visit]) -> Result<Staffing> {
    assign_with(inputs, salt, visits, Strategy::GreedyThenFlow, None)
}

/// [`assign`] with a choice of strategy and an observer of the networks.
pub(crate) fn assign_with(
    inputs: &Inputs,
    salt: &Salt,
    visits: &[Visit],
    strategy: Strategy,
    mut observe: Option<Observer<'_>>,
) -> Result<Staffing> {
    let plan = &inputs.plan;
    let rules = &plan.teams;
    let population = &inputs.population;
    let inspectors = &inputs.inspectors;
    let mut staffing: Staffing = visits.iter().map(|v| vec![Vec::new(); v.parts.len()]).collect();

    // Recusal pairs by entity, and the previous visit's inspectors by (entity, department).
    let by_id: BTreeMap<&str, usize> = inspectors.iter().enumerate().map(|(i, x)| (x.id.as_str(), i)).collect();
    let mut recused: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for c in &inputs.conflicts {
        if let Some(&i) = by_id.get(c.inspector_id.as_str()) {
            recused.entry(c.entity_id.as_str()).or_default().push(i);
        }
    }
    // Only the visited entities' past visits matter: skip the others'
    // without looking up their ids (a province's history has millions).
    let mut visited = vec![false; population.len()];
    for v in visits {
        visited[v.entity] = true;
    }
    let mut previous: BTreeMap<(usize, &str), (NaiveDate, BTreeSet<&str>)> = BTreeMap::new();
    if rules.rotation == Rotation::ExcludePrevious {
        for h in inputs.history.iter().filter(|h| visited[h.entity()]) {
            let date = h.date();
            let slot = previous
                .entry((h.entity(), h.department()))
                .or_insert((date, BTreeSet::new()));
            if date > slot.0 {
                *slot = (date, BTreeSet::new());
            }
            if date == slot.0 {
                slot.1.extend(h.inspectors());
            }
        }
    }

    // Each department is its own problem: staff them independently (in
    // parallel where allowed) and combine in plan order.
    let staff = |dep: &crate::inputs::plan::DepartmentPolicy, mut observe: Option<Observer<'_>>| -> Result<Outcome> {
        let mut out = Outcome::default();
        // The roster in id order, so the input's row order never matters.
        let mut roster: Vec<usize> = (0..inspectors.len())
            .filter(|&i| inspectors[i].department == dep.id)
            .collect();
        roster.sort_by(|&a, &b| inspectors[a].id.as_bytes().cmp(inspectors[b].id.as_bytes()));
        // The parts of this department, in (date, visit key) order (visits are in key order).
        // This department's parts, and the qualification tags of each list
        // of items (parts share a few lists).
        let mut calls: Vec<(usize, usize)> = Vec::new();
        let mut tag_sets: BTreeMap<&[String], Arc<[String]>> = BTreeMap::new();
        for (vi, v) in visits.iter().enumerate() {
            for (pi, p) in v.parts.iter().enumerate() {
                if p.department != dep.id {
                    continue;
                }
                calls.push((vi, pi));
                tag_sets.entry(p.items.as_slice()).or_insert_with(|| {
                    let tags: BTreeSet<&str> = p
                        .items
                        .iter()
                        .filter_map(|id| inputs.item(id).and_then(|it| it.qualification.as_deref()))
                        .collect();
                    tags.into_iter().map(String::from).collect()
                });
            }
        }
        let mut parts: Vec<Part> = crate::par::map(&calls, |&(vi, pi)| {
            let v = &visits[vi];
            let p = &v.parts[pi];
            let base = if v.parts.len() == 1 {
                rules.single_department
            } else {
                rules.per_department
            };
            let tags = Arc::clone(&tag_sets[p.items.as_slice()]);
            Part {
                visit: vi,
                part: pi,
                // OK because dates are assigned before teams.
                date: v.date.unwrap_or(plan.window.start),
                seats: base.max(tags.len() as u32),
                tags,
                slot_edges: Vec::new(),
                seat_edges: Vec::new(),
                recused: recused.get(population.id(v.entity)).cloned().unwrap_or_default(),
                previous: previous
                    .get(&(v.entity, dep.id.as_str()))
                    .map(|(_, ids)| ids.iter().filter_map(|id| by_id.get(id).copied()).collect())
                    .unwrap_or_default(),
            }
        });
        if parts.is_empty() {
            return Ok(out);
        }
        parts.sort_by_key(|p| (p.date, p.visit));

        // Why inspector `i` cannot serve on `date` at all, and why not on part `p` in particular.
        let off_duty = |i: usize, date: NaiveDate| -> Option<Ineligible> {
            let ins = &inspectors[i];
            if ins.certificate_valid_until < date {
                Some(Ineligible::Certificate)
            } else if ins.unavailable.contains(&date) {
                Some(Ineligible::Unavailable)
            } else {
                None
            }
        };
        let barred = |i: usize, p: &Part| -> Option<Ineligible> {
            if p.recused.contains(&i) {
                Some(Ineligible::Recused)
            } else if p.previous.contains(&i) {
                Some(Ineligible::PreviousVisit)
            } else if rules.cross_station == CrossStation::ExcludeHome
                && inspectors[i].station == population.entity(visits[p.visit].entity).region()
            {
                Some(Ineligible::OwnStation)
            } else {
                None
            }
        };
        let eligibility = |i: usize, p: &Part| off_duty(i, p.date).or_else(|| barred(i, p));

        // Qualification tags as bits: the department's tags in order, and each inspector's mask.
        let dep_tags: Vec<String> = tag_sets
            .values()
            .flat_map(|tags| tags.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if dep_tags.len() > 64 {
            return Err(crate::Error::policy(
                crate::Location::file(inputs.plan.inputs.items.clone()).with_field("qualification"),
                format!("department {} needs more than 64 distinct qualification tags", dep.id),
            ));
        }
        let bit = |tag: &str| dep_tags.iter().position(|t| t == tag).map_or(0u64, |k| 1 << k);
        let mask: Vec<u64> = roster
            .iter()
            .map(|&i| inspectors[i].qualifications.iter().fold(0, |m, t| m | bit(t)))
            .collect();
        // The seats of a part: one per tag (needing that tag's bit), then the general seats (bit 0).
        let slots = |p: &Part| -> Vec<(u32, u64)> {
            let mut out: Vec<(u32, u64)> = p.tags.iter().map(|t| (1, bit(t))).collect();
            let general = p.seats - p.tags.len() as u32;
            if general > 0 {
                out.push((general, 0));
            }
            out
        };
        // Dates of this department's visits, indexed.
        let dates: BTreeMap<NaiveDate, usize> = parts
            .iter()
            .map(|p| p.date)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(k, d)| (d, k))
            .collect();

        // Pass 1: greedy (DR3 step 10): each seat goes to an inspector drawn
        // uniformly from the least-loaded of those who may take it, found
        // through an index of the roster by load rather than a scan.
        let mut load = vec![0u32; roster.len()];
        let mut day_load = vec![0u32; roster.len()];
        // One group per kind of seat: the general seats (bit 0), then each
        // tag. The index holds, on the part's date, the members on duty that
        // day (certificate valid, not unavailable) below both their caps.
        // OK because a roster holds far fewer than u32::MAX inspectors.
        let mut groups: Vec<(u64, Group)> = std::iter::once(0)
            .chain((0..dep_tags.len()).map(|k| 1u64 << k))
            .map(|b| {
                let members = (0..roster.len() as u32).filter(|&ri| mask[ri as usize] & b == b);
                (b, Group::new(members.collect(), roster.len()))
            })
            .collect();
        let mut indexed = vec![false; roster.len()];
        // Puts roster member `ri` into the index or takes it out, in every group it belongs to.
        let mut set = |groups: &mut [(u64, Group)], ri: usize, load: u32, on: bool| {
            if indexed[ri] == on {
                return;
            }
            indexed[ri] = on;
            for (_, group) in groups.iter_mut().filter(|(b, _)| mask[ri] & *b == *b) {
                if on {
                    group.insert(ri as u32, load);
                } else {
                    group.remove(ri as u32, load);
                }
            }
        };
        // Per part, the seats filled: (slot index, roster position).
        let mut filled: Vec<Vec<(usize, usize)>> = Vec::with_capacity(parts.len());
        let mut complete = strategy == Strategy::GreedyThenFlow;
        let greedy: &[Part] = if strategy == Strategy::GreedyThenFlow {
            &parts
        } else {
            &[]
        };
        let on_duty = |ri: usize, load: u32, date: NaiveDate| {
            let ins = &inspectors[roster[ri]];
            load < ins.max_visits && ins.max_per_day > 0 && off_duty(roster[ri], date).is_none()
        };
        // Who may come back or leave on a new day, without a look at the
        // whole roster: those off for one day (away, or at max_per_day),
        // those away that day, and those whose certificate lapsed.
        let mut away_on: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
        for (ri, &i) in roster.iter().enumerate() {
            for d in inspectors[i].unavailable.iter().filter(|d| dates.contains_key(d)) {
                away_on.entry(*d).or_default().push(ri);
            }
        }
        let mut by_expiry: Vec<usize> = (0..roster.len()).collect();
        by_expiry.sort_by_key(|&ri| inspectors[roster[ri]].certificate_valid_until);
        let mut lapsed = 0;
        let mut off_for_the_day: Vec<usize> = Vec::new();
        let mut today: Option<NaiveDate> = None;
        // The parts' streams do not depend on the loads: seed them on every
        // core, a batch at a time, then take the seats in order.
        for batch in greedy.chunks(4096) {
            let streams = crate::par::map(batch, |p| {
                team_stream(salt, population.id(visits[p.visit].entity), &dep.id)
            });
            for (p, mut rng) in batch.iter().zip(streams) {
                if today != Some(p.date) {
                    // A new day: day loads start again at 0; who is on duty changes.
                    let recheck: Vec<usize> = if today.is_none() {
                        (0..roster.len()).collect()
                    } else {
                        let mut r = std::mem::take(&mut off_for_the_day);
                        while lapsed < by_expiry.len()
                            && inspectors[roster[by_expiry[lapsed]]].certificate_valid_until < p.date
                        {
                            r.push(by_expiry[lapsed]);
                            lapsed += 1;
                        }
                        r.extend(away_on.get(&p.date).into_iter().flatten());
                        r
                    };
                    today = Some(p.date);
                    day_load.fill(0);
                    for ri in recheck {
                        let on = on_duty(ri, load[ri], p.date);
                        set(&mut groups, ri, load[ri], on);
                        if off_duty(roster[ri], p.date) == Some(Ineligible::Unavailable) {
                            off_for_the_day.push(ri);
                        }
                    }
                }
                let mut seats: Vec<(usize, usize)> = Vec::with_capacity(p.seats as usize);
                for (k, (want, tag_bit)) in slots(p).into_iter().enumerate() {
                    // OK because `groups` has a group for bit 0 and every tag bit.
                    let g = groups.iter().position(|(b, _)| *b == tag_bit).unwrap_or(0);
                    for _ in 0..want {
                        let may_sit = |ri: u32| {
                            let ri = ri as usize;
                            !seats.iter().any(|&(_, taken)| taken == ri) && barred(roster[ri], p).is_none()
                        };
                        let Some(ri) = draw_seat(&groups[g].1, &mut rng, may_sit) else {
                            complete = false;
                            break;
                        };
                        let r = ri as usize;
                        seats.push((k, r));
                        let ins = &inspectors[roster[r]];
                        set(&mut groups, r, load[r], false);
                        load[r] += 1;
                        day_load[r] += 1;
                        if load[r] < ins.max_visits {
                            if day_load[r] < ins.max_per_day {
                                set(&mut groups, r, load[r], true);
                            } else {
                                off_for_the_day.push(r);
                            }
                        }
                    }
                }
                filled.push(seats);
            }
        }
        filled.resize(parts.len(), Vec::new());
        if complete {
            for (p, seats) in parts.iter().zip(&filled) {
                let mut team: Vec<usize> = seats.iter().map(|&(_, ri)| roster[ri]).collect();
                team.sort_by(|&a, &b| inspectors[a].id.cmp(&inspectors[b].id));
                out.teams.push((p.visit, p.part, team));
            }
            return Ok(out);
        }

        // The greedy pass left seats empty: build the flow network, start
        // from the greedy flow, and complete it with maximum flow.
        let mut net = Network::default();
        let (s, t) = (net.node(), net.node());
        let inspector_node: Vec<u32> = roster.iter().map(|_| net.node()).collect();
        let mut sink_edge: Vec<u32> = Vec::with_capacity(roster.len());
        for (ri, &i) in roster.iter().enumerate() {
            sink_edge.push(net.edge(inspector_node[ri], t, inspectors[i].max_visits));
        }
        // Inspector-day nodes, by (roster position, index of the date).
        let mut day_node: Vec<Option<(u32, u32)>> = vec![None; roster.len() * dates.len()];
        for (p, seats) in parts.iter_mut().zip(&filled) {
            let day = dates[&p.date];
            let part_mask = p.tags.iter().fold(0, |m, t| m | bit(t));
            // Hubs by the set of required tags held.
            let mut hubs: BTreeMap<u64, u32> = BTreeMap::new();
            for (ri, &i) in roster.iter().enumerate() {
                if eligibility(i, p).is_some() {
                    continue;
                }
                let hub = *hubs.entry(mask[ri] & part_mask).or_insert_with(|| net.node());
                let (dn, de) = *day_node[ri * dates.len() + day].get_or_insert_with(|| {
                    let dn = net.node();
                    let de = net.edge(dn, inspector_node[ri], inspectors[i].max_per_day);
                    (dn, de)
                });
                let e = net.edge(hub, dn, 1);
                p.seat_edges.push(Seat {
                    edge: e,
                    inspector: i,
                    position: ri,
                    day_node: dn,
                    day_edge: de,
                });
            }
            let mut slot_hub: Vec<Vec<(u32, u32)>> = Vec::new();
            for (want, b) in slots(p) {
                let slot = net.node();
                let e = net.edge(s, slot, want);
                p.slot_edges.push((e, b));
                let mut feeds = Vec::new();
                for (&sig, &hub) in &hubs {
                    if sig & b == b {
                        feeds.push((hub, net.edge(slot, hub, want)));
                    }
                }
                slot_hub.push(feeds);
            }
            // The greedy flow: source → slot → hub → inspector-day → inspector → sink.
            for &(k, ri) in seats {
                let Some(seat) = p.seat_edges.iter().find(|seat| seat.position == ri) else {
                    continue; // OK because the greedy only picks eligible inspectors, which all have seats.
                };
                let hub = net.edges[(seat.edge ^ 1) as usize].to;
                let Some(&(_, feed)) = slot_hub[k].iter().find(|&&(h, _)| h == hub) else {
                    continue; // OK because a slot feeds every hub whose inspectors hold its tag.
                };
                for e in [p.slot_edges[k].0, feed, seat.edge, seat.day_edge, sink_edge[ri]] {
                    net.push(e, 1);
                }
            }
        }

        // Pass 2: complete with maximum flow.
        if let Some(observe) = observe.as_mut() {
            observe(&net, s, t);
        }
        net.max_flow(s, t);
        let reach = net.reachable(s);
        for p in &parts {
            let missing: u32 = p.slot_edges.iter().map(|&(e, _)| net.edges[e as usize].cap).sum();
            if missing > 0 {
                out.failures.push(describe(
                    inputs,
                    visits,
                    p,
                    &dep.id,
                    &roster,
                    &eligibility,
                    &net,
                    &reach,
                    &sink_edge,
                ));
                continue;
            }
            let mut team: Vec<usize> = p
                .seat_edges
                .iter()
                .filter(|seat| net.flow(seat.edge) > 0)
                .map(|seat| seat.inspector)
                .collect();
            team.sort_by(|&a, &b| inspectors[a].id.cmp(&inspectors[b].id));
            out.teams.push((p.visit, p.part, team));
        }
        Ok(out)
    };
    let outcomes: Vec<Outcome> = match observe.as_mut() {
        Some(observe) => {
            let mut all = Vec::with_capacity(plan.departments.len());
            for dep in &plan.departments {
                all.push(staff(dep, Some(&mut **observe))?);
            }
            all
        }
        None => {
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                plan.departments
                    .par_iter()
                    .map(|dep| staff(dep, None))
                    .collect::<Result<Vec<_>>>()?
            }
            #[cfg(not(feature = "parallel"))]
            {
                plan.departments
                    .iter()
                    .map(|dep| staff(dep, None))
                    .collect::<Result<Vec<_>>>()?
            }
        }
    };
    let mut failures: Vec<String> = Vec::new();
    for outcome in outcomes {
        for (visit, part, team) in outcome.teams {
            staffing[visit][part] = team;
        }
        failures.extend(outcome.failures);
    }
    if failures.is_empty() {
        Ok(staffing)
    } else {
        Err(ErrorKind::Unstaffable { visits: failures }.into())
    }
}

/// How many times DR3 step 10 draws from the members of one load before
/// it lists the ones who may take the seat.
const TRIES: u32 = 16;

/// The ChaCha20 stream of one visit part's seats: seeded with
/// `H(T ‖ enc("DR3/team") ‖ enc(entity_id) ‖ enc(department))` and read
/// through `next_u64`, mapped to ranges by Lemire's unbiased method.
fn team_stream(salt: &Salt, entity_id: &str, department: &str) -> ChaCha20Rng {
    let seed = Hasher::new()
        .raw(salt.digest().as_bytes())
        .enc(b"DR3/team")
        .enc(entity_id.as_bytes())
        .enc(department.as_bytes())
        .finish();
    ChaCha20Rng::from_seed(*seed.as_bytes())
}

/// DR3 step 10's draw of one seat from `group` (the members on duty who
/// may take this kind of seat, by load): for each load, least first, up to
/// [`TRIES`] times the `k`-th of that load's members in id order with
/// `k = below(n)`, the first who `may_sit` (no recusal, rotation or station
/// rule against them, not already on the team) taking the seat; if none
/// did, the ones who may sit at that load listed in id order and the
/// `below(m)`-th of them taken; if there are none, the next load. Either
/// way the seat goes to a uniformly chosen inspector among those of the
/// least load who may take it. `None` when nobody may.
fn draw_seat(group: &Group, rng: &mut ChaCha20Rng, may_sit: impl Fn(u32) -> bool) -> Option<u32> {
    for (load, n) in group.loads() {
        for _ in 0..TRIES {
            // OK because `below(n)` is less than n, a u32.
            let ri = group.member(load, below(rng, u64::from(n)) as u32);
            if may_sit(ri) {
                return Some(ri);
            }
        }
        let valid: Vec<u32> = group.at_load(load).filter(|&ri| may_sit(ri)).collect();
        if !valid.is_empty() {
            return Some(valid[below(rng, valid.len() as u64) as usize]);
        }
    }
    None
}

/// A sentence naming an unstaffable part and the constraints that bind.
#[allow(clippy::too_many_arguments)]
fn describe(
    inputs: &Inputs,
    visits: &[Visit],
    p: &Part,
    department: &str,
    roster: &[usize],
    eligibility: &dyn Fn(usize, &Part) -> Option<Ineligible>,
    net: &Network,
    reach: &[bool],
    sink_edge: &[u32],
) -> String {
    let inspectors: &[Inspector] = &inputs.inspectors;
    let v = &visits[p.visit];
    let entity = inputs.population.entity(v.entity);
    let mut out = format!(
        "visit {} ({} on {}), department {}: needs {} inspector(s)",
        v.id,
        entity.id(),
        p.date,
        department,
        p.seats
    );
    match &p.tags[..] {
        [] => {}
        [tag] => {
            let _ = write!(out, ", one of them holding {tag}");
        }
        tags => {
            let _ = write!(out, ", a different one holding each of {}", tags.join(", "));
        }
    }
    let staffed: u32 = p.seat_edges.iter().map(|seat| net.flow(seat.edge)).sum();
    let _ = write!(out, ", {staffed} could be assigned");
    if roster.is_empty() {
        out.push_str("; the department has no inspectors");
        return out;
    }
    let mut reasons: BTreeMap<Ineligible, u32> = BTreeMap::new();
    for &i in roster {
        if let Some(r) = eligibility(i, p) {
            *reasons.entry(r).or_insert(0) += 1;
        }
    }
    let eligible = p.seat_edges.len();
    let _ = write!(out, "; {eligible} of its {} inspectors are eligible", roster.len());
    if !reasons.is_empty() {
        let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {}", r.as_str())).collect();
        let _ = write!(out, " ({})", list.join(", "));
    }
    for tag in p.tags.iter() {
        let holders = p
            .seat_edges
            .iter()
            .filter(|seat| inspectors[seat.inspector].qualifications.contains(tag))
            .count();
        if holders == 0 {
            let _ = write!(out, "; no eligible inspector holds {tag}");
        }
    }
    // The cut: eligible inspectors on the source side whose caps are used up.
    let mut round_cap = Vec::new();
    let mut day_cap = Vec::new();
    for seat in &p.seat_edges {
        if !reach[seat.day_node as usize] {
            continue;
        }
        let id = inspectors[seat.inspector].id.as_str();
        if net.edges[seat.day_edge as usize].cap == 0 {
            day_cap.push(id);
        } else if net.edges[sink_edge[seat.position] as usize].cap == 0 {
            round_cap.push(id);
        }
    }
    let names = |ids: &[&str]| -> String {
        if ids.len() <= 8 {
            ids.join(", ")
        } else {
            format!("{} and {} more", ids[..8].join(", "), ids.len() - 8)
        }
    };
    if !round_cap.is_empty() {
        let _ = write!(out, "; at max_visits: {}", names(&round_cap));
    }
    if !day_cap.is_empty() {
        let _ = write!(out, "; at max_per_day on {}: {}", p.date, names(&day_cap));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_common as common;
    use crate::{Draw, Seed};

    /// Both strategies staff exactly the same instances, and the published
    /// one (greedy, then flow) never needs more than the flow finds.
    #[test]
    fn greedy_then_flow_and_flow_only_agree_on_feasibility() {
        let mut outcomes = [0; 2];
        for seed in 0..12 {
            // Tight instances: few inspectors for the visits.
            let (plan, files) = common::team_instance(60, 2 + seed as usize % 3, seed);
            let inputs = common::load(&plan, &files).unwrap();
            let no_teams = common::load(&plan.replace(r#", "inspectors": "inspectors.csv""#, ""), &files).unwrap();
            let draw = Draw::run(&no_teams, &Seed::new("agree").unwrap()).unwrap();
            let salt = draw.salt;
            let a = assign_with(&inputs, &salt, &draw.visits, Strategy::GreedyThenFlow, None);
            let b = assign_with(&inputs, &salt, &draw.visits, Strategy::FlowOnly, None);
            assert_eq!(a.is_ok(), b.is_ok(), "seed {seed}: {:?} / {:?}", a.err(), b.err());
            outcomes[usize::from(a.is_ok())] += 1;
        }
        assert!(outcomes[0] >= 2 && outcomes[1] >= 2, "{outcomes:?}");
    }

    /// The measurement behind the README's design note: this crate's Dinic
    /// against petgraph's `dinics` on the same networks (city scale,
    /// 20,000 visits, 600 inspectors, from an empty flow).
    /// `cargo test --release --lib -- --ignored --nocapture petgraph`
    #[test]
    #[ignore = "a measurement, not a check; run it in release mode"]
    fn compare_with_petgraph() {
        use petgraph::graph::{DiGraph, NodeIndex};
        let (plan, files) = common::team_instance(20_000, 150, 1);
        let inputs = common::load(&plan, &files).unwrap();
        let no_teams = common::load(&plan.replace(r#", "inspectors": "inspectors.csv""#, ""), &files).unwrap();
        let draw = Draw::run(&no_teams, &Seed::new("scale").unwrap()).unwrap();
        let mut networks: Vec<(Network, u32, u32)> = Vec::new();
        let mut keep = |net: &Network, s: u32, t: u32| networks.push((net.clone(), s, t));
        assign_with(&inputs, &draw.salt, &draw.visits, Strategy::FlowOnly, Some(&mut keep)).unwrap();
        let (mut ours, mut theirs) = (0.0, 0.0);
        for (net, s, t) in networks {
            let mut g = DiGraph::<(), u32>::with_capacity(net.adj.len(), net.edges.len() / 2);
            for _ in 0..net.adj.len() {
                g.add_node(());
            }
            for e in (0..net.edges.len()).step_by(2) {
                let from = net.edges[e + 1].to;
                g.add_edge(
                    NodeIndex::new(from as usize),
                    NodeIndex::new(net.edges[e].to as usize),
                    net.edges[e].cap,
                );
            }
            let mut mine = net.clone();
            let start = std::time::Instant::now();
            let a = mine.max_flow(s, t);
            ours += start.elapsed().as_secs_f64();
            let start = std::time::Instant::now();
            let (b, _) = petgraph::algo::dinics(&g, NodeIndex::new(s as usize), NodeIndex::new(t as usize));
            theirs += start.elapsed().as_secs_f64();
            assert_eq!(a, u64::from(b));
            println!("{} nodes, {} edges: flow {a}", net.adj.len(), net.edges.len() / 2);
        }
        println!(
            "this crate's Dinic: {ours:.3} s; petgraph dinics: {theirs:.3} s; ratio {:.1}",
            theirs / ours
        );
    }
}
