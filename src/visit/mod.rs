//! Visits (DR3 steps 8 to 11): every department's selections and directed
//! checks, over one or more task draws, merged into one visit per entity
//! and common window (进一次门、查多项事), then dated and staffed.
//!
//! - [`Visit`], [`VisitPart`] and [`Basis`]: what a visit is, defined here
//!   so that the selection (`draw`) holds visits without depending on how
//!   they are made.
//! - `joint`: the calls of every task gathered, merged and numbered
//!   ([`JointDraw`], and [`Draw::run`](crate::Draw::run), which adds the
//!   visits to a selection).
//! - `merge`: the fewest visits that cover an entity's task windows.
//! - `dates`: working days spread by systematic rounding (step 9).
//! - `teams`: inspectors per visit part, the crate's own flow code (step 10).
//! - `offsite`: the selections of off-site classes as reviews, each with
//!   one reviewer, never visits ([`OffSiteCheck`], step 11).

use std::collections::BTreeSet;

use crate::key::Digest;

mod dates;
mod joint;
mod load_index;
mod merge;
mod offsite;
mod teams;

pub use joint::JointDraw;
#[cfg(feature = "fairness")]
pub(crate) use joint::schedule;
pub(crate) use joint::visits_saved;
pub use merge::merge_windows;
pub use offsite::OffSiteCheck;

/// Why a department visits an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// Selected by the draw.
    Random,
    /// Named by a directed check.
    Directed,
}

impl Basis {
    /// The name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Random => "random",
            Basis::Directed => "directed",
        }
    }
}

/// One department's part of a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VisitPart {
    /// The department.
    pub department: String,
    /// The tasks (positions in the draw's task list) whose calls this part
    /// serves; one unless several tasks of the department were merged.
    pub tasks: Vec<usize>,
    /// Random, directed, or both.
    pub basis: BTreeSet<Basis>,
    /// The items it checks, in plan order, then directed items in file order.
    pub items: Vec<String>,
    /// The department's inspectors on the team, by id (empty without an inspector library).
    pub inspectors: Vec<String>,
}

/// One visit: an entity and every department that goes there (进一次门、查多项事).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Visit {
    /// The visit id, `V` and a 6-digit number in key order.
    pub id: String,
    /// The entity's position in the [`Population`](crate::inputs::Population) (see [`Population::entity`](crate::inputs::Population::entity)).
    pub entity: usize,
    /// The entity's DR3 key; visits are numbered in key order.
    pub key: Digest,
    /// The window the date must fall in: the common window of the tasks merged into the visit.
    pub window: crate::inputs::plan::Window,
    /// The departments, in plan order.
    pub parts: Vec<VisitPart>,
    /// The visit date, a working day of the window.
    pub date: Option<chrono::NaiveDate>,
    /// The team leader (主检), chosen by key among the team.
    pub leader: Option<String>,
}
