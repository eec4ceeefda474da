//! The selection: keys, quotas, allocation over strata and the smallest
//! keys per stratum (DR3 steps 3 to 7). The visits a draw holds are made in
//! `visit`, which also defines [`Draw::run`], the whole draw.

use std::collections::BTreeMap;

use crate::frame::{ExclusionReason, Frame};
use crate::inputs::Inputs;
use crate::inputs::population::Population;
use crate::key::{Digest, Salt, Seed};
use crate::model::{DirectedReason, Mode, Ratio, RiskClass, Status};
use crate::visit::Visit;

/// Whether the departments of a task share one salt (DR3) or, for
/// fairness comparisons only, each use their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Independence {
    /// DR3: one salt per task.
    Shared,
    /// One salt per department (not DR3; for measuring what coordination
    /// saves). Only the `fairness` feature draws this way.
    #[cfg_attr(not(feature = "fairness"), allow(dead_code))]
    PerDepartment,
}

/// One selected entity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selected {
    /// The entity's position in the [`Population`] (see [`Population::entity`]).
    pub entity: usize,
    /// Its DR3 key.
    pub key: Digest,
    /// Its 1-based rank by key within the stratum.
    pub rank: u64,
}

/// The draw of one stratum of one department and class.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StratumDraw {
    /// The values of the plan's stratum columns.
    pub values: Vec<String>,
    /// Base-population entities in the stratum.
    pub base: u64,
    /// `|E_h|`, the eligible entities in the stratum.
    pub eligible: u64,
    /// The numerator of the exact share `q_h = n × |E_h| / |E|`; the denominator is the class's `eligible`.
    pub share_numerator: u128,
    /// `n_h`, the allocated count.
    pub allocated: u64,
    /// The selected entities, by key.
    pub selected: Vec<Selected>,
}

impl StratumDraw {
    /// The stratum's label: its values joined by `|`.
    pub fn label(&self) -> String {
        self.values.join("|")
    }

    /// The key of the last entity taken, if any.
    pub fn threshold(&self) -> Option<Digest> {
        self.selected.last().map(|s| s.key)
    }
}

/// The draw of one department and class.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassDraw {
    /// The class.
    pub class: RiskClass,
    /// The class's ratio.
    pub ratio: Ratio,
    /// The class's mode.
    pub mode: Mode,
    /// `|B(d,c)|`, the base population.
    pub base: u64,
    /// `|E(d,c)|`, the eligible frame.
    pub eligible: u64,
    /// `ceil(r × |B|)`, before the cap; 0 for a trigger-only class, which
    /// is never drawn.
    pub quota: u64,
    /// `n(d,c)`, the quota capped at `|E|`.
    pub drawn: u64,
    /// The allocation offset `v` (DR3 step 6), to be read as `v / 2^64`.
    pub offset: u64,
    /// Exclusions from the base population, by reason (`not_active` entities are outside it and counted too).
    pub excluded: BTreeMap<ExclusionReason, u64>,
    /// The strata, ordered by their values.
    pub strata: Vec<StratumDraw>,
}

impl ClassDraw {
    /// `quota − drawn`: how many the eligible frame could not supply.
    pub fn shortfall(&self) -> u64 {
        self.quota - self.drawn
    }

    /// The number selected.
    pub fn selected(&self) -> u64 {
        self.strata.iter().map(|s| s.selected.len() as u64).sum()
    }
}

/// The draw of one department.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DepartmentDraw {
    /// The department id.
    pub department: String,
    /// The classes A to D; [`class`](DepartmentDraw::class) picks one.
    pub classes: [ClassDraw; 4],
}

impl DepartmentDraw {
    /// The draw of one class.
    pub fn class(&self, class: RiskClass) -> &ClassDraw {
        &self.classes[class.index()]
    }

    /// Every entity the department selected, class by class, stratum by stratum.
    pub(crate) fn selected(&self) -> impl Iterator<Item = &Selected> {
        self.classes
            .iter()
            .flat_map(|c| c.strata.iter().flat_map(|s| &s.selected))
    }
}

/// A complete draw: salts, per-department results, exclusions and visits.
///
/// # Example
///
/// ```
/// use double_random::{Draw, Inputs, RiskClass, Seed};
/// let plan = br#"{"plan_id": "P", "task_id": "T", "round_id": "1",
///   "window": {"start": "2024-04-01", "end": "2024-06-30"}, "lead_department": "S",
///   "inputs": {"entities": "e.csv", "items": "i.csv"},
///   "departments": [{"id": "S", "items": ["I1"], "classes": {"A": {"ratio": "0.5"},
///     "B": {"ratio": "0.5"}, "C": {"ratio": "0.5"}, "D": {"ratio": "1"}}}]}"#;
/// let inputs = Inputs::from_files("plan.json", plan, |path| Ok(match path {
///     "e.csv" => b"id,name,risk_class,region,industry,status,established\n\
///                 E1,a,B,N,x,active,\nE2,b,B,N,x,active,\nE3,c,B,S,x,active,\nE4,d,B,S,x,active,\n".to_vec(),
///     _ => b"id,department,name,kind,max_ratio\nI1,S,licence,key,\n".to_vec(),
/// }))?;
/// let draw = Draw::run(&inputs, &Seed::new("7 3 1 9")?)?;
/// let b = draw.departments[0].class(RiskClass::B);
/// assert_eq!((b.base, b.eligible, b.drawn, b.selected()), (4, 4, 2, 2));
/// assert_eq!(draw.visits.len(), 2);
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Draw {
    /// The seed.
    pub seed: Seed,
    /// The draw salt `T`.
    pub salt: Salt,
    /// Per department, in plan order.
    pub departments: Vec<DepartmentDraw>,
    /// The frame the draw was made on.
    pub frame: Frame,
    /// The visits, in key order (empty from [`Draw::select`] and in a [`JointDraw`](crate::JointDraw)).
    pub visits: Vec<Visit>,
    /// The directed checks that are not visited because their entity is
    /// not active (suspended, deregistered or revoked), in file order.
    pub unscheduled: Vec<Unscheduled>,
    /// The off-site checks (the selections of off-site classes), in key
    /// order; empty until the visits are made, as `visits`.
    pub offsite: Vec<crate::visit::OffSiteCheck>,
    /// The inputs drawn from ([`Inputs::fingerprint`]), so that the
    /// outputs are never rendered with other inputs.
    pub(crate) made_from: Digest,
}

/// A directed check that is not visited: its entity is not active.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unscheduled {
    /// The entity's position in the [`Population`].
    pub entity: usize,
    /// The entity's registration status (not `active`).
    pub status: Status,
    /// The department that asked for the check.
    pub department: String,
    /// Why the check was asked for.
    pub reason: DirectedReason,
    /// The items it would have checked.
    pub item_ids: Vec<String>,
    /// The check's 1-based line in the directed-check file.
    pub line: u64,
}

impl Unscheduled {
    /// Whether a directed check on an entity of this status is visited:
    /// only an active one is (an on-site check needs an enterprise in
    /// business); the others are listed as not visited.
    pub(crate) fn visits(status: Status) -> bool {
        status == Status::Active
    }

    /// The directed checks of `inputs` whose entity is not active, in
    /// file order: a check dropped is listed, never silent.
    pub(crate) fn of(inputs: &Inputs) -> Vec<Unscheduled> {
        let population = &inputs.population;
        inputs
            .directed
            .iter()
            .filter_map(|d| {
                let entity = population.index_of(&d.entity_id)?;
                let status = population.entity(entity).status();
                (!Unscheduled::visits(status)).then(|| Unscheduled {
                    entity,
                    status,
                    department: d.department.clone(),
                    reason: d.reason,
                    item_ids: d.item_ids.clone(),
                    line: d.line,
                })
            })
            .collect()
    }
}

/// DR3 step 6: systematic rounding of the shares `n × sizes[k] / Σ sizes`
/// with offset `v / 2^64`. Returns one count per stratum, in order; they sum
/// to `n`, and each is the floor or the ceiling of its share. `None` when
/// the sizes sum to more than `u64::MAX`, which no frame held in memory can
/// reach.
///
/// In integers: with `S_k` the running sum of sizes and `t = Σ sizes`,
/// `floor(C_k + v) = floor(n × S_k / t) + [v × t ≥ (t − (n × S_k mod t)) × 2^64]`.
///
/// # Example
///
/// ```
/// use double_random::draw::allocate;
/// assert_eq!(allocate(3, &[5, 5, 5, 5], 0), Some(vec![0, 1, 1, 1]));
/// assert_eq!(allocate(3, &[5, 5, 5, 5], u64::MAX), Some(vec![1, 1, 1, 0]));
/// assert_eq!(allocate(1, &[u64::MAX, 1], 0), None);
/// ```
pub fn allocate(n: u64, sizes: &[u64], v: u64) -> Option<Vec<u64>> {
    let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
    if total > u128::from(u64::MAX) {
        return None;
    }
    if total == 0 {
        return Some(vec![0; sizes.len()]);
    }
    let v = u128::from(v);
    // floor(n × S / total + v / 2^64), exactly.
    let floor_c = |s: u128| -> u128 {
        let p = u128::from(n) * s;
        let (a, r) = (p / total, p % total);
        // a + floor((r × 2^64 + v × total) / (total × 2^64)), and that fraction is < 2.
        // OK because total < 2^64: v × total and (total − r) × 2^64 fit in u128.
        a + u128::from(v * total >= (total - r) << 64)
    };
    let mut out = Vec::with_capacity(sizes.len());
    let mut running = 0u128;
    let mut prev = floor_c(0);
    for &s in sizes {
        running += u128::from(s);
        let cur = floor_c(running);
        // OK because counts never exceed n, a u64.
        out.push((cur - prev) as u64);
        prev = cur;
    }
    Some(out)
}

/// [`allocate`] over sizes that count entities or days held in memory,
/// which sum to far less than `u64::MAX`.
pub(crate) fn allocate_held(n: u64, sizes: &[u64], v: u64) -> Vec<u64> {
    // OK because the sizes count things held in memory: their sum fits in a u64.
    allocate(n, sizes, v).expect("sizes held in memory sum to less than 2^64")
}

/// DR3 steps 5 and 6 for one department and class: the quota, the number
/// drawn, the allocation offset and each stratum's count.
pub(crate) struct Allocation {
    pub(crate) quota: u64,
    pub(crate) drawn: u64,
    pub(crate) offset: u64,
    pub(crate) counts: Vec<u64>,
}

impl Allocation {
    pub(crate) fn of(
        salt: &Salt,
        department: &str,
        class: RiskClass,
        policy: &crate::inputs::plan::ClassPolicy,
        frame: &crate::frame::ClassFrame,
    ) -> Allocation {
        // A trigger-only class is never drawn: it has no quota to fall short of.
        let quota = policy.quota(frame.base);
        let drawn = quota.min(frame.eligible());
        let offset = salt.alloc_offset(department, class.as_str());
        let sizes: Vec<u64> = frame.strata.iter().map(|s| s.eligible).collect();
        Allocation {
            quota,
            drawn,
            offset,
            counts: allocate_held(drawn, &sizes, offset),
        }
    }
}

/// A member of a stratum with its key packed: the first 8 bytes of its
/// DR3 key (big-endian) and its position in the population.
type Packed = (u64, u32);

/// The first 8 bytes of every entity's DR3 key, in population order, on
/// every core: reading the ids in order is far cheaper than reading them
/// stratum by stratum.
pub(crate) fn key_prefixes(salt: &Salt, population: &Population) -> Vec<u64> {
    let mut prefixes = vec![0; population.len()];
    crate::par::fill_chunks(&mut prefixes, 1 << 14, |start, chunk| {
        let ids = (start..start + chunk.len()).map(|i| population.id(i));
        let mut k = 0;
        salt.key_prefixes(ids, |p| {
            chunk[k] = p;
            k += 1;
        });
    });
    prefixes
}

/// The keys of `members`, packed: from `prefixes` when given, else computed.
fn packed_keys(salt: &Salt, population: &Population, prefixes: Option<&[u64]>, members: &[u32]) -> Vec<Packed> {
    match prefixes {
        Some(k) => members.iter().map(|&i| (k[i as usize], i)).collect(),
        None => {
            let mut packed = Vec::with_capacity(members.len());
            let ids = members.iter().map(|&i| population.id(i as usize));
            salt.key_prefixes(ids, |p| packed.push((p, members[packed.len()])));
            packed
        }
    }
}

/// DR3 step 7: the `n` members with the smallest keys (ties by id bytes),
/// in key order, without sorting the whole stratum. Packed keys decide
/// unless their first 8 bytes are equal; then the whole keys, then the ids.
fn smallest(mut members: Vec<Packed>, n: usize, salt: &Salt, population: &Population) -> Vec<Packed> {
    let cmp = |a: &Packed, b: &Packed| {
        a.0.cmp(&b.0).then_with(|| {
            let (ia, ib) = (population.id(a.1 as usize), population.id(b.1 as usize));
            salt.entity_key(ia)
                .cmp(&salt.entity_key(ib))
                .then_with(|| ia.as_bytes().cmp(ib.as_bytes()))
        })
    };
    if n == 0 {
        return Vec::new();
    }
    if n < members.len() {
        members.select_nth_unstable_by(n - 1, cmp);
        members.truncate(n);
    }
    members.sort_unstable_by(cmp);
    members
}

impl Draw {
    /// DR3 steps 1 to 8 alone: the selection of every department, without
    /// visits (`visits` is empty). The plan checks that need the frame (item
    /// floors) are made by [`Draw::run`], not here.
    pub fn select(inputs: &Inputs, seed: &Seed) -> Draw {
        Draw::select_in(inputs, Frame::build(inputs), seed, Independence::Shared)
    }

    /// [`Draw::select`] on a frame built already; [`Independence::PerDepartment`],
    /// for fairness comparisons only, gives each department its own salt
    /// `H(enc("DR1/independent") ‖ T ‖ enc(d))` instead of the shared `T`.
    pub(crate) fn select_in(inputs: &Inputs, frame: Frame, seed: &Seed, independent: Independence) -> Draw {
        let plan = &inputs.plan;
        let salt = Salt::derive(seed, &plan.task_id, &plan.round_id);
        let population = &inputs.population;
        let shared = match independent {
            Independence::Shared => Some(key_prefixes(&salt, population)),
            Independence::PerDepartment => None,
        };

        let mut departments = Vec::with_capacity(plan.departments.len());

        for (di, dep) in plan.departments.iter().enumerate() {
            let key_salt = match independent {
                Independence::Shared => salt,
                Independence::PerDepartment => Salt::from_digest(
                    crate::key::Hasher::new()
                        .enc(b"DR1/independent")
                        .raw(salt.digest().as_bytes())
                        .enc(dep.id.as_bytes())
                        .finish(),
                ),
            };
            let classes = RiskClass::ALL.map(|class| {
                let c = class.index();
                let policy = dep.class(class);
                let cf = &frame.departments[di].classes[c];
                let eligible = cf.eligible();
                let Allocation {
                    quota,
                    drawn,
                    offset,
                    counts,
                } = Allocation::of(&salt, &dep.id, class, policy, cf);
                // Each stratum on its own, on every core, in order.
                let out = crate::par::map_range(cf.strata.len(), |k| {
                    let (sf, n_h) = (&cf.strata[k], counts[k]);
                    let size = sf.eligible;
                    let members = if n_h == 0 {
                        Vec::new()
                    } else {
                        packed_keys(&key_salt, population, shared.as_deref(), &sf.members)
                    };
                    // OK because n_h <= |E_h| <= u32::MAX.
                    let picked = smallest(members, n_h as usize, &key_salt, population);
                    let selected: Vec<Selected> = picked
                        .iter()
                        .enumerate()
                        .zip(1..)
                        .map(|((k, &(_, i)), rank)| {
                            // Picked in key order, spread over the library.
                            population.prefetch_ahead(&picked, k, |&(_, ahead)| ahead as usize);
                            Selected {
                                entity: i as usize,
                                key: key_salt.entity_key(population.id(i as usize)),
                                rank,
                            }
                        })
                        .collect();
                    StratumDraw {
                        values: sf.values.clone(),
                        base: sf.base,
                        eligible: size,
                        share_numerator: u128::from(drawn) * u128::from(size),
                        allocated: n_h,
                        selected,
                    }
                });
                ClassDraw {
                    class,
                    ratio: policy.ratio.clone(),
                    mode: policy.mode,
                    base: cf.base,
                    eligible,
                    quota,
                    drawn,
                    offset,
                    excluded: cf.excluded.clone(),
                    strata: out,
                }
            });
            departments.push(DepartmentDraw {
                department: dep.id.clone(),
                classes,
            });
        }

        Draw {
            seed: seed.clone(),
            salt,
            departments,
            frame,
            visits: Vec::new(),
            unscheduled: Unscheduled::of(inputs),
            offsite: Vec::new(),
            made_from: inputs.fingerprint(),
        }
    }

    /// Every stratum drawn, as (department, class, stratum), in output order.
    pub(crate) fn strata(&self) -> impl Iterator<Item = (&str, &ClassDraw, &StratumDraw)> {
        self.departments.iter().flat_map(|d| {
            d.classes
                .iter()
                .flat_map(move |c| c.strata.iter().map(move |s| (d.department.as_str(), c, s)))
        })
    }

    /// Every selection, as (department, class, stratum, selected), in output order.
    pub fn selections(&self) -> impl Iterator<Item = (&str, &ClassDraw, &StratumDraw, &Selected)> {
        self.strata()
            .flat_map(|(d, c, s)| s.selected.iter().map(move |sel| (d, c, s, sel)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_sums_and_rounds() {
        let sizes = [7, 0, 13, 1, 29];
        for n in 0..=50 {
            for v in [0, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX] {
                let out = allocate(n, &sizes, v).unwrap();
                assert_eq!(out.iter().sum::<u64>(), n, "n={n} v={v}");
                for (&c, &s) in out.iter().zip(&sizes) {
                    let q_num = u128::from(n) * u128::from(s);
                    let floor = (q_num / 50) as u64;
                    let ceil = q_num.div_ceil(50) as u64;
                    assert!(c == floor || c == ceil, "n={n} v={v} s={s} c={c}");
                }
            }
        }
    }
}
