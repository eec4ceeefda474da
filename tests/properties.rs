//! Property tests: the invariants of DR3 on random small populations.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use double_random::audit::Outputs;
use double_random::frame::ExclusionReason;
use double_random::model::Status;
use double_random::{Draw, Inputs, Seed};
use proptest::prelude::*;

const RATIOS: [&str; 8] = ["0", "0.05", "0.1", "0.25", "0.333", "0.5", "0.75", "1"];

#[derive(Debug, Clone)]
struct Case {
    rows: Vec<String>,
    history: Vec<String>,
    directed: Vec<String>,
    ratios: [&'static str; 4],
    seed: String,
    extra: &'static str,
}

fn case() -> impl Strategy<Value = Case> {
    let entity = (
        prop::sample::select(vec!["A", "B", "C", "D", ""]),
        prop::sample::select(vec!["North", "South", "East", "中", "West"]),
        prop::sample::select(vec!["travel", "retail", "retail"]),
        prop::sample::select(vec![
            "active",
            "active",
            "active",
            "active",
            "suspended",
            "deregistered",
            "revoked",
        ]),
    );
    (
        prop::collection::vec(entity, 1..80),
        prop::collection::vec((0usize..80, 0usize..2, 0u32..400, any::<bool>()), 0..20),
        prop::collection::vec((0usize..80, any::<bool>()), 0..6),
        prop::array::uniform4(0usize..RATIOS.len()),
        "[a-z0-9]([a-z0-9 ]{0,10}[a-z0-9])?",
        prop::sample::select(vec![
            "",
            r#" "cooldown_days": 90,"#,
            r#" "annual_cap": 1,"#,
            r#" "strata": ["region", "industry"],"#,
            r#" "strata": [],"#,
        ]),
    )
        .prop_map(|(ents, hist, dir, mut r, seed, extra)| {
            r.sort_unstable();
            let n = ents.len();
            let rows = ents
                .iter()
                .enumerate()
                .map(|(i, (c, reg, ind, st))| common::entity_row(i, c, reg, ind, st))
                .collect();
            let history = hist
                .into_iter()
                .map(|(e, d, days, random)| {
                    let date =
                        chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap() - chrono::Days::new(u64::from(days));
                    let kind = if random { "random" } else { "directed" };
                    format!("E{:05},{},{date},{kind},X1;X2\n", e % n, ["S", "W"][d])
                })
                .collect();
            let directed = dir
                .into_iter()
                .map(|(e, s)| {
                    if s {
                        format!("E{:05},S,complaint,S2\n", e % n)
                    } else {
                        format!("E{:05},W,referral,W1\n", e % n)
                    }
                })
                .collect();
            Case {
                rows,
                history,
                directed,
                ratios: [RATIOS[r[0]], RATIOS[r[1]], RATIOS[r[2]], RATIOS[r[3]]],
                seed,
                extra,
            }
        })
}

fn load(case: &Case, rows: &[String]) -> Inputs {
    let mut files = common::files(&rows.concat());
    files.insert(
        "history.csv",
        format!(
            "entity_id,department,date,kind,inspector_ids\n{}",
            case.history.concat()
        ),
    );
    files.insert(
        "directed.csv",
        format!("entity_id,department,reason,item_ids\n{}", case.directed.concat()),
    );
    common::load(&common::plan(case.ratios, case.extra), &files).unwrap()
}

fn outputs_without_record(inputs: &Inputs, draw: &Draw) -> Vec<(String, Vec<u8>)> {
    let mut files = Outputs::render(inputs, draw, "plan.json", None).unwrap().files;
    files.retain(|(name, _)| name != "record.json");
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn quotas_allocations_and_selections_hold(case in case()) {
        let inputs = load(&case, &case.rows);
        let draw = Draw::run(&inputs, &Seed::new(case.seed.clone()).unwrap()).unwrap();
        let pop = &inputs.population();
        for (di, d) in draw.departments.iter().enumerate() {
            let excluded: BTreeSet<usize> = draw
                .frame
                .exclusions
                .iter()
                .filter(|x| x.department == di)
                .map(|x| x.entity)
                .collect();
            let mut seen = BTreeSet::new();
            for (c, cf) in d.classes.iter().zip(&draw.frame.departments[di].classes) {
                // The quota is ceil(r × |B|), in exact integers, capped at |E|.
                let expected = (u128::from(c.ratio.numerator()) * u128::from(c.base))
                    .div_ceil(u128::from(c.ratio.denominator())) as u64;
                prop_assert_eq!(c.quota, expected);
                prop_assert_eq!(c.drawn, c.quota.min(c.eligible));
                prop_assert_eq!(c.selected(), c.drawn);
                prop_assert_eq!(c.strata.iter().map(|s| s.allocated).sum::<u64>(), c.drawn);
                for (s, sf) in c.strata.iter().zip(&cf.strata) {
                    // Each stratum gets exactly its allocation, floor or ceil of q_h.
                    prop_assert_eq!(s.selected.len() as u64, s.allocated);
                    let floor = (s.share_numerator / u128::from(c.eligible.max(1))) as u64;
                    prop_assert!(s.allocated == floor || s.allocated == floor + 1);
                    let members: BTreeSet<usize> = sf.members.iter().map(|&m| m as usize).collect();
                    for sel in &s.selected {
                        // Selected ⊆ eligible, never excluded, never twice per department.
                        prop_assert!(members.contains(&sel.entity));
                        prop_assert!(!excluded.contains(&sel.entity));
                        prop_assert!(pop.entity(sel.entity).status().is_registered());
                        prop_assert!(seen.insert(sel.entity));
                    }
                    // The selected are the smallest keys of the stratum.
                    if let Some(t) = s.threshold() {
                        let below = sf.members.iter().filter(|&&m| draw.salt.entity_key(pop.id(m as usize)) <= t).count();
                        prop_assert_eq!(below as u64, s.allocated);
                    }
                }
            }
        }
        // Every selection and every directed check of an active entity has a
        // visit, and nothing else does; the directed checks of the others are
        // listed as not visited, in file order.
        let mut visited: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for (dep, _, _, sel) in draw.selections() {
            visited.entry(sel.entity).or_default().insert(dep.to_string());
        }
        let mut unscheduled = Vec::new();
        for d in inputs.directed() {
            let e = inputs.population().index_of(&d.entity_id).unwrap();
            if inputs.population().entity(e).status() == Status::Active {
                visited.entry(e).or_default().insert(d.department.clone());
            } else {
                unscheduled.push((e, d.department.clone(), d.line));
            }
        }
        let listed: Vec<(usize, String, u64)> =
            draw.unscheduled.iter().map(|u| (u.entity, u.department.clone(), u.line)).collect();
        prop_assert_eq!(listed, unscheduled);
        prop_assert_eq!(draw.visits.len(), visited.len());
        for v in &draw.visits {
            let deps: BTreeSet<String> = v.parts.iter().map(|p| p.department.clone()).collect();
            prop_assert_eq!(Some(&deps), visited.get(&v.entity));
        }
        // Not-active entities are excluded from every department that scopes them.
        for x in &draw.frame.exclusions {
            prop_assert_eq!(
                x.reason == ExclusionReason::NotActive,
                !pop.entity(x.entity).status().is_registered()
            );
        }
    }

    #[test]
    fn row_order_does_not_matter(case in case(), rotate in 0usize..80, reverse in any::<bool>()) {
        let seed = Seed::new(case.seed.clone()).unwrap();
        let a = load(&case, &case.rows);
        let mut rows = case.rows.clone();
        let k = rotate % rows.len();
        rows.rotate_left(k);
        if reverse {
            rows.reverse();
        }
        let b = load(&case, &rows);
        let (da, db) = (Draw::run(&a, &seed).unwrap(), Draw::run(&b, &seed).unwrap());
        prop_assert_eq!(outputs_without_record(&a, &da), outputs_without_record(&b, &db));
        prop_assert_eq!(da.frame.digest(&a), db.frame.digest(&b));
    }

    #[test]
    fn departments_with_the_same_scope_nest(case in case()) {
        // One salt for the whole task: where S's and W's eligible strata
        // hold the same entities, one department's sample contains the other's.
        let inputs = load(&case, &case.rows);
        let draw = Draw::run(&inputs, &Seed::new(case.seed.clone()).unwrap()).unwrap();
        let (s, w) = (&draw.departments[0], &draw.departments[1]);
        let (fs, fw) = (&draw.frame.departments[0], &draw.frame.departments[1]);
        for c in 0..4 {
            for (sw, mw) in w.classes[c].strata.iter().zip(&fw.classes[c].strata) {
                let Some(k) = s.classes[c].strata.iter().position(|x| x.values == sw.values) else { continue };
                let ss = &s.classes[c].strata[k];
                if fs.classes[c].strata[k].members == mw.members {
                    // Same eligible stratum: the smaller sample is a prefix of the larger one.
                    let chosen_s: BTreeSet<usize> = ss.selected.iter().map(|x| x.entity).collect();
                    let chosen_w: BTreeSet<usize> = sw.selected.iter().map(|x| x.entity).collect();
                    prop_assert!(chosen_s.is_subset(&chosen_w) || chosen_w.is_subset(&chosen_s));
                }
            }
        }
    }
}

#[cfg(feature = "parallel")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn thread_count_does_not_matter(case in case(), threads in 2usize..6) {
        let inputs = load(&case, &case.rows);
        let seed = Seed::new(case.seed.clone()).unwrap();
        let run = |n: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(|| Draw::run(&inputs, &seed).unwrap())
        };
        prop_assert_eq!(run(1), run(threads));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `index_of` and `positions` find exactly the held ids, whatever their
    /// lengths (shorter or longer than the 16 bytes compared at once after
    /// the shared prefix), prefixes of each other, or repeated in a query.
    #[test]
    fn lookups_find_exactly_the_held_ids(
        prefix in "[0-9]{0,10}",
        tails in proptest::collection::btree_set("[A-C]{0,20}", 1..40),
        extra in proptest::collection::vec("[0-9]{0,10}[A-D]{0,21}", 0..40),
    ) {
        let held: Vec<String> = tails.iter().map(|t| format!("{prefix}{t}")).filter(|id| !id.is_empty()).collect();
        prop_assume!(!held.is_empty());
        let mut csv = String::from("id,name,risk_class,region,industry,status,established\n");
        // Rows in reverse id order: the library sorts them.
        for id in held.iter().rev() {
            csv.push_str(&format!("{id},n,B,R,x,active,\n"));
        }
        let population = double_random::inputs::Population::from_csv("e.csv", csv.as_bytes()).unwrap();
        let mut queries: Vec<String> = held.iter().chain(held.iter().take(3)).cloned().collect();
        queries.extend(extra.iter().filter(|&q| !q.is_empty()).cloned());
        queries.extend(held.iter().map(|h| format!("{h}A")));
        let bulk = population.positions(&queries);
        for (q, found) in queries.iter().zip(&bulk) {
            let expected = held.iter().position(|h| h == q).map(|_| {
                // Positions are in id (byte) order.
                held.iter().filter(|h| h.as_bytes() < q.as_bytes()).count()
            });
            prop_assert_eq!(*found, expected, "positions of {}", q);
            prop_assert_eq!(population.index_of(q), expected, "index_of {}", q);
            if let Some(i) = expected {
                prop_assert_eq!(population.id(i), q.as_str());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The library holds every row once, in id byte order, each id with its
    /// own row's fields and name: ids the sort holds whole (up to 18 bytes,
    /// of one length or of many, non-ASCII too, many differing only in
    /// their 16th to 19th byte) and, when `short` is off, longer ones too.
    #[test]
    fn the_library_holds_every_row_in_id_order(
        ids in proptest::collection::btree_set(
            "9[0-9A-Z]{17}|911409300000000[0-9A-C]{1,4}|[0-9A-C]{1,18}|[0-9]{17,21}|[一-龥]{1,7}|[a-zé]{1,19}",
            1..60,
        ),
        short in any::<bool>(),
        turn in any::<usize>(),
    ) {
        let ids: Vec<&String> = ids.iter().filter(|id| !short || id.len() <= 18).collect();
        prop_assume!(!ids.is_empty());
        let fields = |id: &str| {
            let n = id.len();
            (format!("R{}", n % 7), ["A", "B", "C", "D", ""][n % 5], format!("2001-01-{:02}", n % 28 + 1))
        };
        let mut rows = ids.clone();
        rows.reverse();
        let turn = turn % rows.len();
        rows.rotate_left(turn);
        let mut csv = String::from("id,name,risk_class,region,industry,status,established\n");
        for id in &rows {
            let (region, class, established) = fields(id);
            csv.push_str(&format!("{id},name of {id},{class},{region},x{id},active,{established}\n"));
        }
        let population = double_random::inputs::Population::from_csv("e.csv", csv.as_bytes()).unwrap();
        prop_assert_eq!(population.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            let e = population.entity(i);
            let (region, class, established) = fields(id);
            prop_assert_eq!(e.id(), id.as_str());
            prop_assert_eq!(e.region(), region.as_str());
            prop_assert_eq!(e.industry(), format!("x{id}"));
            prop_assert_eq!(e.class().map_or("", |c| c.as_str()), class);
            prop_assert_eq!(e.established().map(|d| d.to_string()), Some(established));
        }
        let names = population.names(&(0..ids.len()).collect::<Vec<usize>>()).unwrap();
        prop_assert_eq!(names, ids.iter().map(|id| format!("name of {id}")).collect::<Vec<String>>());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// DR3 step 3, `K(e) = H(T ‖ enc(id))`, is SHA-256 of exactly those
    /// bytes for ids of every length: the one-block path (ids up to 19
    /// bytes) and the general one agree with the sha2 crate's hasher.
    #[test]
    fn entity_keys_are_sha256_of_the_salt_and_the_encoded_id(
        seed in "[a-z0-9]{1,12}",
        id in "[0-9A-Z]{1,24}|\\PC{1,12}",
    ) {
        use sha2::Digest as _;
        let salt = double_random::key::Salt::derive(&Seed::new(seed).unwrap(), "T", "1");
        let salt_digest = salt.digest();
        let mut message = salt_digest.as_bytes().to_vec();
        message.extend_from_slice(&(id.len() as u32).to_be_bytes());
        message.extend_from_slice(id.as_bytes());
        let expected: [u8; 32] = sha2::Sha256::digest(&message).into();
        let key = salt.entity_key(&id);
        prop_assert_eq!(key.as_bytes(), &expected[..], "{} ({} bytes)", id, id.len());
    }
}
