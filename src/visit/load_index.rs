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
    /// Each roster position's place in `members`, or `u32::MAX` for a non-member.
    place: Vec<u32>,
    /// The members at each load, as positions in `members`; empty levels are dropped.
    levels: BTreeMap<u32, Fenwick>,
}

impl Group {
    /// A group of `members` (positions in a roster of `roster` inspectors,
    /// ascending), none of them in the index yet.
    pub(crate) fn new(members: Vec<u32>, roster: usize) -> Group {
        let mut place = vec![u32::MAX; roster];
        for (k, &ri) in members.iter().enumerate() {
            // OK because a roster holds far fewer than u32::MAX inspectors.
            place[ri as usize] = k as u32;
        }
        Group {
            members,
            place,
            levels: BTreeMap::new(),
        }
    }

    /// Member `ri`'s place in `members`.
    fn place(&self, ri: u32) -> Option<usize> {
        self.place
            .get(ri as usize)
            .filter(|&&k| k != u32::MAX)
            .map(|&k| k as usize)
    }

    /// The loads at which the index holds members, least first, with how many.
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

    /// Puts member `ri` into the index at `load` (it must not be in it).
    /// Does nothing when `ri` is not a member of the group.
    pub(crate) fn insert(&mut self, ri: u32, load: u32) {
        let Some(i) = self.place(ri) else {
            return;
        };
        let n = self.members.len();
        self.levels
            .entry(load)
            .or_insert_with(|| Fenwick::new(n))
            .change(i, true);
    }

    /// Takes member `ri`, at `load`, out of the index (it must be in it).
    /// Does nothing when `ri` is not a member of the group.
    pub(crate) fn remove(&mut self, ri: u32, load: u32) {
        let Some(i) = self.place(ri) else {
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
        /// After any sequence of insertions, raises and removals, each level
        /// lists exactly the members a plain array of loads says, in id order.
        #[test]
        fn levels_match_a_plain_count(
            members in proptest::collection::btree_set(0u32..200, 0..60),
            steps in proptest::collection::vec((0usize..60, 0u8..3), 0..300),
        ) {
            let members: Vec<u32> = members.into_iter().collect();
            let mut group = Group::new(members.clone(), 200);
            // Each member's load, and whether it is in the index.
            let mut state: Vec<(u32, bool)> = vec![(0, false); members.len()];
            for (pick, what) in steps {
                if members.is_empty() {
                    break;
                }
                let m = pick % members.len();
                let (load, present) = state[m];
                match (what, present) {
                    (0, false) => group.insert(members[m], load),
                    (1, true) => group.remove(members[m], load),
                    (2, true) => {
                        group.remove(members[m], load);
                        group.insert(members[m], load + 1);
                        state[m].0 += 1;
                        continue;
                    }
                    _ => continue,
                }
                state[m].1 = !present;
            }
            let mut expected: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for (m, &(load, present)) in state.iter().enumerate() {
                if present {
                    expected.entry(load).or_default().push(members[m]);
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
    fn someone_outside_the_group_changes_nothing() {
        let mut group = Group::new(vec![2, 5, 9], 10);
        for ri in [2, 5, 9] {
            group.insert(ri, 0);
        }
        group.insert(4, 0);
        group.remove(7, 0);
        assert_eq!(group.loads().collect::<Vec<_>>(), [(0, 3)]);
        assert_eq!(group.member(0, 1), 5);
    }
}
