//! Merging visits across tasks: one entity's calls from several task draws
//! of the same period become the fewest visits whose dates fall inside all
//! of their windows.

use crate::inputs::plan::Window;

/// Groups windows into the fewest groups that share a common day: the
/// minimum number of points stabbing every window, found greedily by window
/// end (optimal for intervals). Returns each group's common window (the
/// latest start to the earliest end) and the indices of its windows, in
/// order of their common window's end.
///
/// # Example
///
/// ```
/// use double_random::inputs::Window;
/// use double_random::visit::merge_windows;
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let w = |a: &str, b: &str| Window::new(d(a), d(b)).unwrap();
/// // A quarter-long task, a March task and a May task: two visits suffice.
/// let groups = merge_windows(&[w("2027-03-01", "2027-05-31"), w("2027-03-01", "2027-03-31"), w("2027-05-01", "2027-05-31")]);
/// assert_eq!(groups.len(), 2);
/// assert_eq!(groups[0], (w("2027-03-01", "2027-03-31"), vec![0, 1]));
/// assert_eq!(groups[1], (w("2027-05-01", "2027-05-31"), vec![2]));
/// ```
pub fn merge_windows(windows: &[Window]) -> Vec<(Window, Vec<usize>)> {
    let mut groups = Vec::new();
    merge_windows_with(windows, |common, members| groups.push((common, members.collect())));
    groups
}

/// [`merge_windows`], handing each group (its common window and its
/// windows' indices, ascending) to `group` instead of collecting them.
/// Windows that are all the same, as every entity's are in a single task,
/// are one group at once, without sorting or allocating.
pub(crate) fn merge_windows_with(windows: &[Window], mut group: impl FnMut(Window, &mut dyn Iterator<Item = usize>)) {
    match windows.first() {
        None => return,
        Some(&w) if windows.iter().all(|x| *x == w) => return group(w, &mut (0..windows.len())),
        Some(_) => {}
    }
    let mut order: Vec<usize> = (0..windows.len()).collect();
    // By end, then start, then position: a total order, so the grouping is unique.
    order.sort_by_key(|&i| (windows[i].end, windows[i].start, i));
    let mut groups: Vec<(Window, Vec<usize>)> = Vec::new();
    for i in order {
        let w = windows[i];
        match groups.last_mut() {
            // The group's point is its first window's end; every later window ends no earlier.
            Some((common, members)) if w.start <= common.end => {
                common.start = common.start.max(w.start);
                members.push(i);
            }
            _ => groups.push((w, vec![i])),
        }
    }
    for (common, mut members) in groups {
        members.sort_unstable();
        group(common, &mut members.into_iter());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Days, NaiveDate};
    use proptest::prelude::*;

    fn window(start: u64, len: u64) -> Window {
        let base = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        Window {
            start: base + Days::new(start),
            end: base + Days::new(start + len),
        }
    }

    /// The most windows that are pairwise disjoint: a lower bound on the
    /// number of points stabbing them all (by exhaustive search).
    fn most_disjoint(windows: &[Window]) -> usize {
        let n = windows.len();
        (0u32..1 << n)
            .filter(|mask| {
                let chosen: Vec<&Window> = (0..n).filter(|b| mask & (1 << b) != 0).map(|b| &windows[b]).collect();
                chosen
                    .iter()
                    .enumerate()
                    .all(|(a, x)| chosen[a + 1..].iter().all(|y| x.end < y.start || y.end < x.start))
            })
            .map(|mask| mask.count_ones() as usize)
            .max()
            .unwrap_or(0)
    }

    proptest! {
        #[test]
        fn merging_reaches_the_stabbing_lower_bound(spans in prop::collection::vec((0u64..90, 0u64..40), 0..10)) {
            check(&spans)?;
        }

        /// Windows that are often all the same (as in a single task).
        #[test]
        fn equal_windows_are_one_group(spans in prop::collection::vec(prop::sample::select(vec![(3u64, 9u64), (3, 9), (3, 9), (5, 1)]), 0..8)) {
            check(&spans)?;
        }
    }

    /// Every window is in exactly one group (its indices ascending), whose
    /// common window lies inside it and is not empty; and there are as few
    /// groups as pairwise disjoint windows.
    fn check(spans: &[(u64, u64)]) -> Result<(), TestCaseError> {
        let windows: Vec<Window> = spans.iter().map(|&(s, l)| window(s, l)).collect();
        let groups = merge_windows(&windows);
        let mut seen = vec![0; windows.len()];
        for (common, members) in &groups {
            prop_assert!(common.start <= common.end);
            prop_assert!(members.is_sorted());
            for &i in members {
                seen[i] += 1;
                prop_assert!(windows[i].start <= common.start && common.end <= windows[i].end);
            }
        }
        prop_assert!(seen.iter().all(|&n| n == 1));
        prop_assert_eq!(groups.len(), most_disjoint(&windows));
        Ok(())
    }
}
