//! Reproducible, verifiable "double random, one public" (双随机、一公开)
//! inspection draws.
//!
//! Supervision bureaus pick market entities at random for inspection, with
//! ratios that follow each entity's credit-risk class (A low … D high), merge
//! several departments' check items into one visit per entity
//! (进一次门、查多项事), and publish the results. This crate makes every draw a
//! pure function of its inputs and a public seed text, following the DR3
//! specification: SHA-256 and integers only, so anyone can replay a draw
//! with this crate or with a short script in any language.
//!
//! ```
//! use double_random::{Draw, Inputs, RiskClass, Seed};
//!
//! let plan = br#"{"plan_id": "P1", "task_id": "T1", "round_id": "1",
//!   "window": {"start": "2027-03-01", "end": "2027-05-31"}, "lead_department": "SCJG",
//!   "inputs": {"entities": "entities.csv", "items": "items.csv"},
//!   "departments": [{"id": "SCJG", "items": ["SCJG-01"], "classes": {
//!     "A": {"ratio": "0.25"}, "B": {"ratio": "0.5"}, "C": {"ratio": "0.5"}, "D": {"ratio": "1"}}}]}"#;
//! let entities = "id,name,risk_class,region,industry,status,established\n\
//!     E1,Shop 1,A,North,retail,active,2019-05-01\n\
//!     E2,Shop 2,A,North,retail,active,2020-06-01\n\
//!     E3,Shop 3,A,South,retail,active,2021-07-01\n\
//!     E4,Shop 4,A,South,retail,deregistered,2018-01-01\n\
//!     E5,Shop 5,D,South,retail,active,2017-01-01\n";
//! let items = "id,department,name,kind,max_ratio\nSCJG-01,SCJG,licence use,key,\n";
//! let inputs = Inputs::from_files("plan.json", plan, |path| Ok(match path {
//!     "entities.csv" => entities.as_bytes().to_vec(),
//!     _ => items.as_bytes().to_vec(),
//! }))?;
//!
//! let draw = Draw::run(&inputs, &Seed::new("0417 2953 8861")?)?;
//! let a = draw.departments[0].class(RiskClass::A);
//! // E4 is deregistered: the base population of class A is E1–E3 and
//! // the quota is ceil(0.25 × 3) = 1, given to North or South by systematic rounding.
//! assert_eq!((a.base, a.eligible, a.drawn, a.selected()), (3, 3, 1, 1));
//! // Class D is drawn at 100 %.
//! assert_eq!(draw.departments[0].class(RiskClass::D).selected(), 1);
//! // One visit per selected entity, numbered in key order.
//! assert_eq!(draw.visits.len(), 2);
//! // The same inputs and seed give the same draw, always.
//! assert_eq!(draw, Draw::run(&inputs, &Seed::new("0417 2953 8861")?)?);
//! # Ok::<(), double_random::Error>(())
//! ```
//!
//! # Overview
//!
//! Most programs need only the types at the root:
//!
//! - [`Drawer`] runs a draw from plan files into an output folder, checked
//!   against its commitments and recorded in the draw log, and returns
//!   what it [`Drawn`]; [`Verifier`] replays a written draw and returns a
//!   [`Verification`] listing each difference. Both report their steps to
//!   one [`OnProgress`] callback.
//! - [`Inputs`] loads a [`Plan`] (JSON) and the files it names, checked
//!   against each other; [`Draw::run`] draws one task in memory, and
//!   [`JointDraw::run`] several tasks together with their visits merged.
//!   Results are read by risk class with [`RiskClass`]
//!   (`draw.departments[0].class(RiskClass::D)`).
//! - Every error is an [`Error`] whose [`ErrorKind`] names the file, the
//!   1-based line and the field ([`Location`]).
//!
//! The rest lives in a module per step of a draw:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`inputs`] | the plan's parts, the entity library ([`inputs::Population`]), the calendar, inspectors |
//! | [`model`] | the shared vocabulary: [`model::Ratio`], statuses, check items, past visits, directed checks |
//! | [`frame`] | base populations, eligible frames, strata and every exclusion with its reason |
//! | [`key`] | DR3's hashing: [`key::Salt`], entity keys, [`key::Digest`] |
//! | [`draw`] | quotas, allocation over strata ([`draw::allocate`]), the selected entities |
//! | [`visit`] | merged visits, their dates and inspector teams |
//! | [`audit`] | the commitment, the output files, the audit record and the draw log |
//! | [`place`] | writing an output file safely (never over an input, never half-written) |
//! | [`synth`] | a realistic synthetic dataset of any size |
//! | [`contract`] | the JSON contract every embedding speaks: requests, results, errors |
//! | `fairness` | fairness over many seeds, and audits of other systems' draws (feature `fairness`) |
//!
//! `ARCHITECTURE.md` in the repository maps the modules to these steps and
//! follows a draw and a verification through them.
//!
//! # The DR3 draw
//!
//! DR3 is DR1 with the annual cap counting random visits only (unless the
//! plan says otherwise), no quota for a trigger-only class, off-site
//! classes reviewed rather than visited (DR2), and each team seat drawn
//! uniformly from the least-loaded inspectors who may take it (DR3, step
//! 10); its other hash labels keep their DR1 names. `H` is SHA-256, `enc(s)` the 4-byte
//! big-endian length of `s` then its UTF-8 bytes, and a digest is read as a
//! big-endian integer.
//!
//! 1. `S = H(enc("DR1/seed") ‖ enc(seed_text))` ([`Seed::digest`]).
//! 2. `T = H(enc("DR1/draw") ‖ S ‖ enc(task_id) ‖ enc(round_id))` ([`key::Salt::derive`]),
//!    one per task round, shared by all its departments so their samples nest.
//! 3. `K(e) = H(T ‖ enc(entity_id))` ([`key::Salt::entity_key`]).
//! 4. Base population and eligible frame per department and class ([`frame::Frame::build`]).
//! 5. Quota `n = ceil(r × |B|)` in integers ([`model::Ratio::quota`]; 0 for a
//!    trigger-only class), capped at `|E|`.
//! 6. Systematic rounding of `q_h = n × |E_h| / |E|` over strata ordered by
//!    their values, with offset `v` = the first 8 bytes of
//!    `H(T ‖ enc("DR1/alloc") ‖ enc(d) ‖ enc(c))` ([`draw::allocate`], [`key::Salt::alloc_offset`]).
//! 7. In each stratum, the `n_h` entities with the smallest keys (ties by id bytes).
//! 8. Directed checks are visited regardless of the draw and never count toward a quota;
//!    one on an entity that is not active is listed, not visited ([`draw::Unscheduled`]).
//!
//! # Reproducibility
//!
//! The same inputs, seed and crate version give byte-identical outputs, on
//! every platform, thread count and input row order. No float, `HashMap`
//! iteration order, wall clock or `rand` distribution takes part in a
//! selection. The value-stability tests pin keys, allocations and
//! selections to hard-coded values; a change to any of them is a new spec
//! id (DR4), announced in the changelog, never a silent change.
//!
//! # Crate features
//!
//! - `cli` (default): the `double-random` command-line tool (clap).
//! - `parallel` (default): compute keys on all cores with rayon; the output
//!   is identical for any thread count.
//! - `fairness` (default): the analyst's tooling, `simulate` (fairness
//!   over many seeds) and `audit_observed` (another system's draws), with
//!   the statistics of statrs. The draw, its outputs and `verify` do not
//!   need it.
//! - `svg` (default): SVG pictures of fairness reports (plotters).
//! - `xlsx` (default): read input tables from Excel workbooks (calamine).
//! - `serve` (default): `double-random serve`, the browser screens ([`serve`]).
//! - `schema` (default): the JSON Schemas of the [`contract`]
//!   (`contract::schemas`, schemars).
//!
//! Library users who want none of them write
//! `double-random = { version = "0.1", default-features = false }`, and
//! get the draw with sha2, csv, serde, chrono and little else.
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod audit;
mod compare;
pub mod contract;
pub mod draw;
mod error;
#[cfg(feature = "fairness")]
pub mod fairness;
pub mod frame;
pub mod inputs;
pub mod key;
pub mod messages;
pub mod model;
mod par;
pub mod place;
pub mod program;
mod progress;
pub mod results;
#[cfg(feature = "serve")]
pub mod serve;
mod stream;
pub mod synth;
pub mod visit;

pub use crate::audit::{Drawer, Drawn, Verification, Verifier};
pub use crate::draw::Draw;
pub use crate::error::{Error, ErrorKind, Location, Result};
pub use crate::inputs::{Inputs, Plan};
pub use crate::key::Seed;
pub use crate::model::RiskClass;
pub use crate::progress::{OnProgress, Progress};
pub use crate::stream::FrameMode;
pub use crate::visit::JointDraw;

// The integration tests' helpers, for the unit tests that measure the assigner.
#[cfg(test)]
extern crate self as double_random;
#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod test_common;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
