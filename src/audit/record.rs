//! The audit record (`record.json`): everything needed to replay and
//! verify a draw.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::draw::ClassDraw;
use crate::error::Result;
use crate::key::{Digest, SPEC_ID};

use super::commitment::{Commitment, FileDigest, input_digests};
use super::outputs::{DrawView, Rendered, TaskInputs, fraction};
use super::{CRATE_VERSION, to_json};

/// The audit record of a draw (`record.json`): everything needed to replay
/// and verify it. It holds no wall-clock time and no host detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// The draw specification, `DR3`.
    pub spec: String,
    /// The version of this crate that made the draw.
    pub crate_version: String,
    /// The seed text and its digest `S`.
    pub seed: RecordSeed,
    /// The salt of the visits (keys, dates, teams): the task's `T`, or the
    /// joint salt of several tasks; 64 hex digits.
    pub salt: String,
    /// Each task drawn, in (task id, round id) order.
    pub tasks: Vec<RecordTask>,
    /// The number of visits.
    pub visits: u64,
    /// The department visits the merged visits replace (one per task, department and entity).
    pub department_visits: u64,
    /// The off-site checks (reviews, not visits).
    #[serde(default)]
    pub offsite_checks: u64,
    /// Every other output file with its digest.
    pub outputs: Vec<FileDigest>,
}

/// One task in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordTask {
    /// The plan: its path relative to the record's directory, and its ids.
    pub plan: RecordPlan,
    /// The task's draw salt `T`, 64 hex digits.
    pub salt: String,
    /// Every input file with its digest, plan first.
    pub inputs: Vec<FileDigest>,
    /// The canonical frame digest.
    pub frame_sha256: String,
    /// The commitment the inputs were checked against, if any.
    pub commitment: Option<Commitment>,
    /// Per department, the per-class counts.
    pub departments: Vec<RecordDepartment>,
    /// The number of directed checks.
    pub directed_checks: u64,
}

/// The plan as a record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordPlan {
    /// The plan file, relative to the record's directory.
    pub path: String,
    /// The plan id.
    pub plan_id: String,
    /// The task id.
    pub task_id: String,
    /// The round id.
    pub round_id: String,
    /// The window start, YYYY-MM-DD.
    pub window_start: String,
    /// The window end, YYYY-MM-DD.
    pub window_end: String,
    /// The lead department.
    pub lead_department: String,
}

/// The seed as a record holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordSeed {
    /// The seed text, exactly as given.
    pub text: String,
    /// `S`, 64 hex digits.
    pub digest: String,
}

/// One department in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordDepartment {
    /// The department id.
    pub id: String,
    /// The classes A to D.
    pub classes: Vec<RecordClass>,
}

/// One department and class in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordClass {
    /// The class letter.
    pub class: String,
    /// The ratio as written in the plan.
    pub ratio: String,
    /// The mode.
    pub mode: String,
    /// `|B|`.
    pub base: u64,
    /// `|E|`.
    pub eligible: u64,
    /// `ceil(r × |B|)`.
    pub quota: u64,
    /// The quota capped at `|E|`.
    pub drawn: u64,
    /// `quota − drawn`.
    pub shortfall: u64,
    /// The allocation offset `v`, 16 hex digits.
    pub offset: String,
    /// Exclusions by reason.
    pub excluded: BTreeMap<String, u64>,
    /// The strata.
    pub strata: Vec<RecordStratum>,
}

/// One stratum in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordStratum {
    /// The stratum label (values joined by `|`).
    pub stratum: String,
    /// Base entities in the stratum.
    pub base: u64,
    /// `|E_h|`.
    pub eligible: u64,
    /// `q_h` as an exact fraction.
    pub quota_share: String,
    /// `n_h`.
    pub allocated: u64,
    /// The number selected.
    pub selected: u64,
    /// The key of the last entity taken, if any.
    pub threshold: Option<String>,
}

fn record_class(c: &ClassDraw) -> RecordClass {
    RecordClass {
        class: c.class.as_str().to_string(),
        ratio: c.ratio.as_str().to_string(),
        mode: c.mode.as_str().to_string(),
        base: c.base,
        eligible: c.eligible,
        quota: c.quota,
        drawn: c.drawn,
        shortfall: c.shortfall(),
        offset: format!("{:016x}", c.offset),
        excluded: c.excluded.iter().map(|(r, n)| (r.as_str().to_string(), *n)).collect(),
        strata: c
            .strata
            .iter()
            .map(|s| RecordStratum {
                stratum: s.label(),
                base: s.base,
                eligible: s.eligible,
                quota_share: fraction(s.share_numerator, c.eligible),
                allocated: s.allocated,
                selected: s.selected.len() as u64,
                threshold: s.threshold().map(|t| t.to_hex()),
            })
            .collect(),
    }
}

impl AuditRecord {
    pub(super) fn new(
        tasks: &[TaskInputs<'_>],
        joint: &DrawView<'_>,
        frame_digests: &[Digest],
        outputs: &[Rendered],
    ) -> AuditRecord {
        // OK because a draw has at least one task, and all share the seed.
        let seed = &joint.draws[0].seed;
        let (department_visits, visits) = crate::visit::visits_saved(joint.visits);
        AuditRecord {
            spec: SPEC_ID.to_string(),
            crate_version: CRATE_VERSION.to_string(),
            seed: RecordSeed {
                text: seed.as_str().to_string(),
                digest: seed.digest().to_hex(),
            },
            salt: joint.salt.digest().to_hex(),
            tasks: tasks
                .iter()
                .zip(&joint.draws)
                .enumerate()
                .map(|(t, (task, draw))| {
                    let plan = &task.inputs.plan;
                    RecordTask {
                        plan: RecordPlan {
                            path: task.plan_path.to_string(),
                            plan_id: plan.plan_id.clone(),
                            task_id: plan.task_id.clone(),
                            round_id: plan.round_id.clone(),
                            window_start: plan.window.start.to_string(),
                            window_end: plan.window.end.to_string(),
                            lead_department: plan.lead_department.clone(),
                        },
                        salt: draw.salt.digest().to_hex(),
                        inputs: input_digests(task.inputs),
                        frame_sha256: frame_digests[t].to_hex(),
                        commitment: task.commitment.cloned(),
                        departments: draw
                            .departments
                            .iter()
                            .map(|d| RecordDepartment {
                                id: d.department.clone(),
                                classes: d.classes.iter().map(record_class).collect(),
                            })
                            .collect(),
                        directed_checks: task.inputs.directed.len() as u64,
                    }
                })
                .collect(),
            visits: visits as u64,
            department_visits: department_visits as u64,
            offsite_checks: joint.offsite.len() as u64,
            outputs: outputs
                .iter()
                .map(|r| FileDigest {
                    role: r.name.trim_end_matches(".csv").to_string(),
                    path: r.name.clone(),
                    sha256: r.digest.to_hex(),
                })
                .collect(),
        }
    }

    /// Parses a record; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Syntax`](crate::ErrorKind::Syntax) for anything that is not a record.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<AuditRecord> {
        crate::inputs::json::parse(file, bytes)
    }

    /// The record as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}
