//! Off-site checks (非现场检查, DR3 step 11): the selections of classes a
//! department checks off site become written or online reviews, each with
//! one reviewer from the department's roster; no door is knocked on, so
//! they are never merged into a visit, dated or counted as visits.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::draw::Draw;
use crate::error::{ErrorKind, Result};
use crate::inputs::Inputs;
use crate::inputs::plan::CrossStation;
use crate::key::{Digest, Hasher, Salt};
use crate::model::Mode;

/// One off-site check: a department's written or online review of an
/// entity it selected in a class whose mode is `off_site`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OffSiteCheck {
    /// The check id, `R` and a 6-digit number in key order.
    pub id: String,
    /// The entity's position in the [`Population`](crate::inputs::Population).
    pub entity: usize,
    /// The entity's key under the visits' salt; checks are numbered in key order.
    pub key: Digest,
    /// The task (position in the draw's task list) that selected the entity.
    pub task: usize,
    /// The department.
    pub department: String,
    /// The items it checks, in plan order.
    pub items: Vec<String>,
    /// The day the review is due: the last day of the task window.
    pub due: NaiveDate,
    /// The reviewer's inspector id (`None` without an inspector library).
    pub reviewer: Option<String>,
}

/// Whether a class's selections are visited (on-site) or reviewed (off-site).
pub(crate) fn is_off_site(mode: Mode) -> bool {
    mode == Mode::OffSite
}

/// The off-site checks of the given task draws, numbered in key order and,
/// with an inspector library, each given a reviewer.
pub(crate) fn gather(tasks: &[(&Inputs, &Draw)], salt: &Salt) -> Result<Vec<OffSiteCheck>> {
    let Some(&(base, _)) = tasks.first() else {
        return Ok(Vec::new());
    };
    let population = &base.population;
    let mut checks: Vec<(usize, OffSiteCheck)> = Vec::new();
    for (t, &(inputs, draw)) in tasks.iter().enumerate() {
        let same_salt = draw.salt == *salt;
        for (di, (dep, d)) in inputs.plan.departments.iter().zip(&draw.departments).enumerate() {
            let off_site = d.classes.iter().filter(|c| is_off_site(c.mode));
            for s in off_site.flat_map(|c| c.strata.iter().flat_map(|s| &s.selected)) {
                let key = if same_salt {
                    s.key
                } else {
                    salt.entity_key(population.id(s.entity))
                };
                let check = OffSiteCheck {
                    id: String::new(),
                    entity: s.entity,
                    key,
                    task: t,
                    department: dep.id.clone(),
                    items: dep.items.clone(),
                    due: inputs.plan.window.end,
                    reviewer: None,
                };
                checks.push((di, check));
            }
        }
    }
    // Key order; an entity's checks by task, then department (plan order).
    checks.sort_unstable_by(|(da, a), (db, b)| {
        (a.key, population.id(a.entity).as_bytes(), a.task, *da).cmp(&(
            b.key,
            population.id(b.entity).as_bytes(),
            b.task,
            *db,
        ))
    });
    let mut checks: Vec<OffSiteCheck> = checks.into_iter().map(|(_, c)| c).collect();
    for (n, c) in checks.iter_mut().enumerate() {
        c.id = format!("R{:06}", n + 1);
    }
    if !base.inspectors.is_empty() {
        assign_reviewers(base, salt, &mut checks)?;
    }
    Ok(checks)
}

/// Gives every check, in id order, one reviewer: of the department's
/// inspectors whose certificate is valid on the due date, who are not
/// recused from the entity, who hold every qualification tag of the
/// check's items and (under the cross-station rule) whose station is not
/// the entity's region, the one with the fewest reviews so far; ties by
/// the smallest `H(T ‖ enc("DR1/review") ‖ enc(department) ‖
/// enc(inspector_id))`, so that equal loads take turns in an order the
/// seed fixes. Reviews are not visits: they use neither `max_visits` nor
/// `max_per_day`, and a check no inspector may review is an error naming
/// it.
///
/// The inspectors that pass the checks shared by every check of one task
/// and department (certificate, qualifications) are kept ordered by
/// (reviews, key), so each check walks only past those recused or at home:
/// at a province's scale a check costs a few steps, not the roster.
fn assign_reviewers(inputs: &Inputs, salt: &Salt, checks: &mut [OffSiteCheck]) -> Result<()> {
    let inspectors = &inputs.inspectors;
    let population = &inputs.population;
    let rules = &inputs.plan.teams;
    let key = |i: usize| {
        Hasher::new()
            .raw(salt.digest().as_bytes())
            .enc(b"DR1/review")
            .enc(inspectors[i].department.as_bytes())
            .enc(inspectors[i].id.as_bytes())
            .finish()
    };
    let keys: Vec<Digest> = (0..inspectors.len()).map(key).collect();
    let mut recused: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &inputs.conflicts {
        recused
            .entry(c.entity_id.as_str())
            .or_default()
            .push(c.inspector_id.as_str());
    }
    // One candidate set per (department, due date, items): the inspectors
    // that may review any check of it, by (reviews so far, key, position).
    type Group = BTreeSet<(u32, Digest, usize)>;
    let mut group_of: BTreeMap<(&str, chrono::NaiveDate, &[String]), usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut member_of: Vec<Vec<usize>> = vec![Vec::new(); inspectors.len()];
    let mut check_group: Vec<usize> = Vec::with_capacity(checks.len());
    for check in checks.iter() {
        let id = (check.department.as_str(), check.due, check.items.as_slice());
        if let Some(&g) = group_of.get(&id) {
            check_group.push(g);
            continue;
        }
        let tags: Vec<&str> = check
            .items
            .iter()
            .filter_map(|item| inputs.item(item).and_then(|it| it.qualification.as_deref()))
            .collect();
        let group: Group = (0..inspectors.len())
            .filter(|&i| {
                let ins = &inspectors[i];
                ins.department == check.department
                    && ins.certificate_valid_until >= check.due
                    && tags.iter().all(|t| ins.qualifications.contains(*t))
            })
            .map(|i| (0, keys[i], i))
            .collect();
        let g = groups.len();
        for &(_, _, i) in &group {
            member_of[i].push(g);
        }
        groups.push(group);
        group_of.insert(id, g);
        check_group.push(g);
    }
    let mut load = vec![0u32; inspectors.len()];
    let mut failures = Vec::new();
    for (check, &g) in checks.iter_mut().zip(&check_group) {
        let entity = population.entity(check.entity);
        let recused = recused.get(entity.id()).map_or(&[][..], Vec::as_slice);
        let chosen = groups[g].iter().map(|&(_, _, i)| i).find(|&i| {
            let ins = &inspectors[i];
            let at_home = rules.cross_station == CrossStation::ExcludeHome && ins.station == entity.region();
            !at_home && !recused.contains(&ins.id.as_str())
        });
        match chosen {
            Some(i) => {
                for &g in &member_of[i] {
                    groups[g].remove(&(load[i], keys[i], i));
                    groups[g].insert((load[i] + 1, keys[i], i));
                }
                load[i] += 1;
                check.reviewer = Some(inspectors[i].id.clone());
            }
            None => failures.push(format!(
                "off-site check {} of {} by {}: no inspector of the department may review it \
                 (a certificate valid on {}, every qualification of its items{}, and no recusal)",
                check.id,
                entity.id(),
                check.department,
                check.due,
                if rules.cross_station == CrossStation::ExcludeHome {
                    ", another station than the entity's region"
                } else {
                    ""
                }
            )),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ErrorKind::Unreviewable { checks: failures }.into())
    }
}
