//! The team pass's index of inspectors by load: for each group of roster
//! members that may take a kind of seat (everyone, or the holders of one
//! qualification tag), the members at each load, in roster id order, with
//! the k-th of them found in logarithmic time.
//!
//! DR3 step 10 draws a seat's inspector uniformly from the members of the
//! least load; this index is what makes that draw cost `O(log roster)`
//! instead of a scan of the roster.

use std::collections::BTreeMap;

/// A Fenwick tree of 0/1 counts over the positions `0..n`.
#[derive(Debug, Clone)]
struct Fenwick {
    tree: Vec<u32>,
    /// How many positions are set.
    total: u32,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick {
            tree: vec![0; n + 1],
            total: 0,
        }
    }

    /// Sets or clears position `i` (which must be clear or set, respectively).
    fn change(&mut self, i: usize, set: bool) {
        let mut k = i + 1;
        while k < self.tree.len() {
            if set {
                self.tree[k] += 1;
            } else {
                self.tree[k] -= 1;
            }
            k += k & k.wrapping_neg();
        }
        if set {
            self.total += 1;
        } else {
            self.total -= 1;
        }
    }

    /// The position of the `k`-th set position (from 0); `k < total`.
    fn select(&self, k: u32) -> usize {
        let n = self.tree.len() - 1;
        let mut at = 0;
        let mut rest = k;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = at + step;
            if next <= n && self.tree[next] <= rest {
                at = next;
                rest -= self.tree[next];
            }
            step >>= 1;
        }
        at
    }
}

/// The members of one group (roster positions in id order) by load.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// The members' roster positions, ascending.
    members: Vec<u32>,
    /// The members at each load, as positions in `members`; empty levels are dropped.
    levels: BTreeMap<u32, Fenwick>,
}

impl Group {
    /// A group whose members all start at load 0.
    pub(crate) fn new(members: Vec<u32>) -> Group {
        let mut level = Fenwick::new(members.len());
        for i in 0..members.len() {
            level.change(i, true);
        }
        let mut levels = BTreeMap::new();
        if !members.is_empty() {
            levels.insert(0, level);
        }
        Group { members, levels }
    }

    /// The loads at which the group has members, least first, with how many.
    pub(crate) fn loads(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.levels.iter().map(|(&load, level)| (load, level.total))
    }

    /// The `k`-th member (from 0, in id order) at `load`.
    pub(crate) fn member(&self, load: u32, k: u32) -> u32 {
        self.members[self.levels[&load].select(k)]
    }

    /// The members at `load`, in id order.
    pub(crate) fn at_load(&self, load: u32) -> impl Iterator<Item = u32> + '_ {
        let level = self.levels.get(&load);
        let total = level.map_or(0, |l| l.total);
        (0..total).map(move |k| self.members[level.map_or(0, |l| l.select(k))])
    }

    /// Member `ri` goes from load `from` to `from + 1`, or leaves the index
    /// (`stays` false: it reached its cap). Does nothing when `ri` is not a member.
    pub(crate) fn raise(&mut self, ri: u32, from: u32, stays: bool) {
        let Ok(i) = self.members.binary_search(&ri) else {
            return;
        };
        let n = self.members.len();
        if let Some(level) = self.levels.get_mut(&from) {
            level.change(i, false);
            if level.total == 0 {
                self.levels.remove(&from);
            }
        }
        if stays {
            self.levels
                .entry(from + 1)
                .or_insert_with(|| Fenwick::new(n))
                .change(i, true);
        }
    }

    /// Member `ri` leaves the index at load `load` (its cap is 0 or reached).
    pub(crate) fn remove(&mut self, ri: u32, load: u32) {
        let Ok(i) = self.members.binary_search(&ri) else {
            return;
        };
        if let Some(level) = self.levels.get_mut(&load) {
            level.change(i, false);
            if level.total == 0 {
                self.levels.remove(&load);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// After any sequence of raises and removals, each level lists
        /// exactly the members a plain array of loads says, in id order.
        #[test]
        fn levels_match_a_plain_count(
            members in proptest::collection::btree_set(0u32..200, 0..60),
            steps in proptest::collection::vec((0usize..60, any::<bool>()), 0..300),
        ) {
            let members: Vec<u32> = members.into_iter().collect();
            let mut group = Group::new(members.clone());
            let mut load: Vec<Option<u32>> = vec![Some(0); members.len()];
            for (pick, stays) in steps {
                if members.is_empty() {
                    break;
                }
                let m = pick % members.len();
                let Some(l) = load[m] else { continue };
                group.raise(members[m], l, stays);
                load[m] = stays.then_some(l + 1);
            }
            let mut expected: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for (m, l) in load.iter().enumerate() {
                if let Some(l) = l {
                    expected.entry(*l).or_default().push(members[m]);
                }
            }
            let got: BTreeMap<u32, Vec<u32>> = group
                .loads()
                .map(|(l, n)| (l, (0..n).map(|k| group.member(l, k)).collect()))
                .collect();
            prop_assert_eq!(&got, &expected);
            for (l, list) in &expected {
                prop_assert_eq!(&group.at_load(*l).collect::<Vec<_>>(), list);
            }
        }
    }

    #[test]
    fn a_raise_of_someone_outside_the_group_changes_nothing() {
        let mut group = Group::new(vec![2, 5, 9]);
        group.raise(4, 0, true);
        group.remove(7, 0);
        assert_eq!(group.loads().collect::<Vec<_>>(), [(0, 3)]);
        assert_eq!(group.member(0, 1), 5);
    }
}
