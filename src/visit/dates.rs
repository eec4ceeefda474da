//! Visit dates (DR3 step 9): every visit gets a working day of the task
//! window; visits spread evenly over the window, and visits of one region
//! fall on neighbouring days so they can share a team-day.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Visit;
use crate::draw::allocate_held;
use crate::error::{Error, Location, Result};
use crate::inputs::Inputs;
use crate::key::{Digest, Hasher, Salt};

/// Gives every visit a date, window by window (visits merged from several
/// tasks have the common window of their tasks; in a single task every
/// visit has the task window).
///
/// For each distinct window, in order:
///
/// 1. `W` = the working days of the window, in order.
/// 2. Regions are ordered by `H(T ‖ enc("DR1/dates") ‖ enc(region))`
///    (ties by region bytes); the visits of a region follow each other in
///    visit-key order.
/// 3. Day `k` of `W` receives the next `c_k` visits of that sequence, where
///    `c = allocate(|V|, [1; |W|], v)` and `v` is the first 8 bytes of
///    `H(T ‖ enc("DR1/dates"))`: every day gets `floor` or `ceil` of `|V| / |W|`.
pub(crate) fn assign_dates(inputs: &Inputs, salt: &Salt, visits: &mut [Visit]) -> Result<()> {
    let population = &inputs.population;
    let calendar = &inputs.calendar;
    let region_key = |region: &str| {
        Hasher::new()
            .raw(salt.digest().as_bytes())
            .enc(b"DR1/dates")
            .enc(region.as_bytes())
            .finish()
    };
    let v = Hasher::new()
        .raw(salt.digest().as_bytes())
        .enc(b"DR1/dates")
        .finish()
        .first_u64();
    // Each region's place in the order of (region key, region bytes),
    // computed once for every region of the library.
    let regions = population.regions();
    let mut ordered: Vec<(Digest, &str, usize)> = regions
        .iter()
        .enumerate()
        .map(|(code, region)| (region_key(region), region.as_str(), code))
        .collect();
    ordered.sort_unstable();
    let mut rank = vec![0usize; regions.len()];
    for (r, &(_, _, code)) in ordered.iter().enumerate() {
        rank[code] = r;
    }
    let mut by_window: BTreeMap<(NaiveDate, NaiveDate), Vec<usize>> = BTreeMap::new();
    for (i, visit) in visits.iter().enumerate() {
        by_window
            .entry((visit.window.start, visit.window.end))
            .or_default()
            .push(i);
    }
    for ((start, end), order) in by_window {
        let days = calendar.working_days(start, end);
        if days.is_empty() {
            return Err(Error::policy(
                Location::file(inputs.files[0].path.clone()).with_field("window"),
                format!("the window {start} to {end} has no working day for the visits"),
            ));
        }
        // Visits are in key order; sorted by region rank (the order of
        // (region key, region bytes)) and then by their place, they keep
        // that order within regions. Each visit's rank is looked up once.
        let mut ranked: Vec<(usize, usize)> = order
            .into_iter()
            .map(|i| (rank[population.region_code(visits[i].entity)], i))
            .collect();
        ranked.sort_unstable();
        let order: Vec<usize> = ranked.into_iter().map(|(_, i)| i).collect();
        let counts = allocate_held(order.len() as u64, &vec![1; days.len()], v);
        let mut next = order.into_iter();
        for (day, count) in days.iter().zip(counts) {
            for _ in 0..count {
                // OK because the counts sum to the number of visits.
                if let Some(i) = next.next() {
                    visits[i].date = Some(*day);
                }
            }
        }
    }
    Ok(())
}
