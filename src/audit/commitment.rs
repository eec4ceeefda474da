//! The commitment: the digests of every input file and of the canonical
//! frame, published before the seed exists.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::key::{Digest, SPEC_ID};

use super::to_json;

/// One file and its SHA-256, as written in commitments and records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// What the file holds (`plan`, `entities`, `items`, `history`, `directed`, or an output name).
    pub role: String,
    /// The path relative to the plan (inputs) or the output directory (outputs).
    pub path: String,
    /// SHA-256 of the file's bytes, 64 hex digits.
    pub sha256: String,
}

/// A commitment to the inputs of a draw, published before the seed exists.
///
/// # Example
///
/// ```no_run
/// use double_random::Inputs;
/// use double_random::audit::Commitment;
/// let inputs = Inputs::load("fixtures/plan.json")?;
/// let commitment = Commitment::compute(&inputs)?;
/// assert!(commitment.differences(&inputs).is_empty());
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// The spec id, `DR3`.
    pub spec: String,
    /// The plan id.
    pub plan_id: String,
    /// The task id.
    pub task_id: String,
    /// The round id.
    pub round_id: String,
    /// Every input file with its digest, plan first.
    pub inputs: Vec<FileDigest>,
    /// The canonical frame digest (see [`Frame::digest`]).
    pub frame_sha256: String,
}

pub(super) fn input_digests(inputs: &Inputs) -> Vec<FileDigest> {
    inputs
        .files
        .iter()
        .map(|f| FileDigest {
            role: f.role.to_string(),
            path: f.path.clone(),
            sha256: f.digest.to_hex(),
        })
        .collect()
}

impl Commitment {
    /// Computes the commitment of loaded inputs.
    ///
    /// # Errors
    ///
    /// A [`Policy`](crate::ErrorKind::Policy) error when the plan breaks an
    /// item's floor (a plan that cannot be drawn is not committed to).
    pub fn compute(inputs: &Inputs) -> Result<Commitment> {
        let frame = Frame::build(inputs);
        frame.check_floors(inputs)?;
        Ok(Commitment::with_frame_digest(inputs, &frame.digest(inputs)))
    }

    /// Loads the plan at `plan` and computes its commitment, the frame
    /// built in memory or streamed ([`FrameMode`](crate::FrameMode); the
    /// commitment is the same).
    ///
    /// # Errors
    ///
    /// Those of [`Inputs::load`] and [`Commitment::compute`].
    pub fn load_and_compute(plan: &std::path::Path, mode: crate::FrameMode) -> Result<(Inputs, Commitment)> {
        let plans = [plan.to_path_buf()];
        if !mode.streams(&plans) {
            let inputs = Inputs::load(plan)?;
            let c = Commitment::compute(&inputs)?;
            return Ok((inputs, c));
        }
        let (inputs, frame) = crate::stream::load(&plans, None, crate::stream::CHUNK)?
            .pop()
            .ok_or_else(|| crate::Error::policy(crate::Location::file("plan"), "there is no task to commit"))?;
        frame.check_floors(&inputs)?;
        let c = Commitment::with_frame_digest(&inputs, &frame.digest(&inputs));
        Ok((inputs, c))
    }

    fn with_frame_digest(inputs: &Inputs, frame_digest: &Digest) -> Commitment {
        let plan = &inputs.plan;
        Commitment {
            spec: SPEC_ID.to_string(),
            plan_id: plan.plan_id.clone(),
            task_id: plan.task_id.clone(),
            round_id: plan.round_id.clone(),
            inputs: input_digests(inputs),
            frame_sha256: frame_digest.to_hex(),
        }
    }

    /// Parses a commitment file; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Syntax`](crate::ErrorKind::Syntax) for anything that is not a commitment.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<Commitment> {
        crate::inputs::json::parse(file, bytes)
    }

    /// The commitment as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// How the inputs differ from this commitment, one sentence each;
    /// empty when they match.
    pub fn differences(&self, inputs: &Inputs) -> Vec<String> {
        let frame_digest = Frame::build(inputs).digest(inputs);
        self.differences_from(&Commitment::with_frame_digest(inputs, &frame_digest))
    }

    /// [`Commitment::differences`] with the digest of the inputs' frame taken already.
    pub(crate) fn differences_given(&self, inputs: &Inputs, frame_digest: &Digest) -> Vec<String> {
        self.differences_from(&Commitment::with_frame_digest(inputs, frame_digest))
    }

    pub(crate) fn differences_from(&self, now: &Commitment) -> Vec<String> {
        let mut out = Vec::new();
        for (field, a, b) in [
            ("spec", &self.spec, &now.spec),
            ("plan_id", &self.plan_id, &now.plan_id),
            ("task_id", &self.task_id, &now.task_id),
            ("round_id", &self.round_id, &now.round_id),
        ] {
            if a != b {
                out.push(format!("{field} is {b}, committed {a}"));
            }
        }
        for f in &now.inputs {
            match self.inputs.iter().find(|c| c.role == f.role) {
                None => out.push(format!("{}: not in the commitment", f.path)),
                Some(c) if c.path != f.path => out.push(format!(
                    "{}: the commitment names {} for the {}",
                    f.path, c.path, f.role
                )),
                Some(c) if c.sha256 != f.sha256 => out.push(format!(
                    "{}: sha256 {} differs from the committed {}",
                    f.path, f.sha256, c.sha256
                )),
                Some(_) => {}
            }
        }
        for (k, c) in self.inputs.iter().enumerate() {
            if !now.inputs.iter().any(|f| f.role == c.role) {
                out.push(format!("{}: committed but not an input of the plan", c.path));
            } else if self.inputs[..k].iter().any(|e| e.role == c.role) {
                out.push(format!("{}: a second file committed as the {}", c.path, c.role));
            }
        }
        if self.frame_sha256 != now.frame_sha256 {
            out.push(format!(
                "the frame digest {} differs from the committed {}",
                now.frame_sha256, self.frame_sha256
            ));
        }
        out
    }
}
