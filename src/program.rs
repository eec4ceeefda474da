//! The annual program (年度抽查计划): a year's rounds and, per department
//! and class, the frequency in one of the senses of DOMAIN.md §4, turned
//! into the task plan of every round, ready for `commit` and `draw`.
//!
//! A program names a template plan (any task plan: its inputs, strata,
//! departments, items, modes and team rules) and overrides, per round, the
//! ids, the window and each class's ratio:
//!
//! ```json
//! {
//!   "program_id": "14093020271000",
//!   "year": 2027,
//!   "plan": "plan.json",
//!   "rounds": [
//!     {"round_id": "2027-1", "task_id": "140930202703011001", "window": {"start": "2027-03-01", "end": "2027-05-31"}},
//!     {"round_id": "2027-2", "task_id": "140930202709011002", "window": {"start": "2027-09-01", "end": "2027-11-10"}}
//!   ],
//!   "frequencies": {
//!     "SCJG": {
//!       "A": {"ratio": "0.01", "rounds": ["2027-1"]},
//!       "B": {"annual_ratio": "0.05"},
//!       "D": {"ratio": "0.30", "annual_cap": 2}
//!     }
//!   }
//! }
//! ```
//!
//! - `ratio`: drawn at that ratio in each of its `rounds` (default: every
//!   round): "3%；2次/年" (sense 1, rounds per year).
//! - `annual_ratio`: the year's ratio is the **sum** over its rounds (之和,
//!   sense 2). The year's count `N = ceil(R × |B|)` on the base at program
//!   time is split over the rounds by systematic rounding (round `j` of `k`
//!   gets `floor(N·j/k) − floor(N·(j−1)/k)`), and each round's ratio is the
//!   shortest decimal whose quota on that base is exactly its share; so
//!   the rounds' quotas add up to `N` while the base stays the same.
//! - `annual_cap`: visits per entity per year (sense 3), the class's own
//!   cap in every round (the plan's `class_limits`).
//!
//! A round may name its own `directed` file (relative to the program);
//! otherwise the first round takes the template's directed checks and the
//! others have none, since a case-driven check is made once.
//!
//! Every class of every department must be given, except trigger-only
//! ones; a class is drawn at ratio 0 in the rounds its frequency leaves
//! out. Rounds lie in the program's year, in order, without overlapping.
//! Round 1 uses the template's history; round `j > 1` names
//! `history-<round_id>.csv` beside its plan, which `double-random history`
//! writes from round `j − 1`'s record with `--base` (the history round
//! `j − 1` used), so cooldowns, caps and rotation carry across the year.
//!
//! The check refuses a program whose own limits make a frequency
//! unreachable, counting quotas on the base at program time: a class that
//! draws more over the year than its annual cap (counting random visits)
//! allows, or rounds whose starts lie within the class's cooldown (counting
//! random visits) of each other while they draw more than the base holds,
//! since nobody drawn in one can be drawn in another. When the next round
//! only starts within the cooldown of a round's *end* and the two draw
//! more than the base, it warns: the round falls short unless enough visits
//! of the first come early. Each round's plan must also pass every check of
//! a task plan (item floors and ceilings included, which apply to each
//! round).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::frame::Frame;
use crate::inputs::Inputs;
use crate::inputs::json::{Step, line_of, render};
use crate::inputs::plan::Window;
use crate::model::{Mode, Ratio, RiskClass};
use crate::place::relative_to;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramFile {
    program_id: String,
    year: i32,
    plan: String,
    rounds: Vec<RoundFile>,
    #[serde(deserialize_with = "crate::inputs::json::unique_map")]
    frequencies: BTreeMap<String, ClassesFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundFile {
    round_id: String,
    task_id: String,
    window: WindowFile,
    #[serde(default)]
    directed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    start: String,
    end: String,
}

#[derive(Deserialize)]
struct ClassesFile(#[serde(deserialize_with = "crate::inputs::json::unique_map")] BTreeMap<String, FrequencyFile>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrequencyFile {
    #[serde(default)]
    ratio: Option<String>,
    #[serde(default)]
    annual_ratio: Option<String>,
    #[serde(default)]
    rounds: Option<Vec<String>>,
    #[serde(default)]
    annual_cap: Option<u32>,
}

/// One round of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Round {
    /// The round id (批次).
    pub round_id: String,
    /// The task id of its plan.
    pub task_id: String,
    /// Its window.
    pub window: Window,
    /// The directed-check file of the round (relative to the program), if
    /// the program names one; without one the first round takes the
    /// template's and the others have none, since a case-driven check is
    /// made once.
    pub directed: Option<String>,
}

/// How often a department checks a class (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frequency {
    /// Drawn at this ratio in each of its rounds (sense 1).
    PerRound(Ratio),
    /// The sum of its rounds' ratios over the year (sense 2).
    Annual(Ratio),
}

/// One department and class of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassFrequency {
    /// The department.
    pub department: String,
    /// The class.
    pub class: RiskClass,
    /// The frequency; `None` for a trigger-only class the program leaves out.
    pub frequency: Option<Frequency>,
    /// The rounds it is drawn in (positions in [`Program::rounds`]).
    pub rounds: Vec<usize>,
    /// Visits per entity per year (sense 3), if the program sets one.
    pub annual_cap: Option<u32>,
}

/// An annual program, read and checked against its template plan.
#[derive(Debug)]
pub struct Program {
    path: PathBuf,
    /// The program's text, to name lines in errors found after parsing.
    text: String,
    program_id: String,
    year: i32,
    template_path: PathBuf,
    template: serde_json::Value,
    rounds: Vec<Round>,
    frequencies: Vec<ClassFrequency>,
}

/// The expected count of one round, department and class (or of the whole
/// year, with `round_id` `"year"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expected {
    /// The round, or `"year"` for the year's total.
    pub round_id: String,
    /// The department.
    pub department: String,
    /// The class.
    pub class: RiskClass,
    /// The class's mode.
    pub mode: Mode,
    /// `|B(d,c)|` at program time.
    pub base: u64,
    /// The round's ratio (for the year: the declared annual ratio, the sum of the rounds' ratios).
    pub ratio: String,
    /// `ceil(ratio × base)` (for the year: the sum over the rounds).
    pub expected: u64,
}

/// What a program makes: one plan per round and the expected counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schedule {
    /// `(file name, plan JSON)` per round, in round order.
    pub plans: Vec<(String, String)>,
    /// Per round, department and class, then the year's totals.
    pub expected: Vec<Expected>,
    /// Frequencies the cooldown may make unreachable (the refusals are errors).
    pub warnings: Vec<String>,
}

impl Program {
    /// Reads a program file and its template plan.
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error when a file cannot be read, a
    /// [`Syntax`](crate::ErrorKind::Syntax) error for malformed JSON or a
    /// bad value, and a [`Policy`](crate::ErrorKind::Policy) error for a
    /// program that breaks a rule above; every error names the file, line
    /// and field.
    pub fn load(path: impl AsRef<Path>) -> Result<Program> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = crate::inputs::io::read_file(path, &name)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::syntax(Location::file(&name), "the file is not valid UTF-8"))?;
        let file: ProgramFile = crate::inputs::json::parse(&name, &bytes)?;
        let at = |steps: &[Step<'_>]| {
            let loc = match line_of(text, steps) {
                Some(line) => Location::line(&name, line),
                None => Location::file(&name),
            };
            loc.with_field(render(steps))
        };
        if !(1900..=2999).contains(&file.year) {
            return Err(Error::policy(at(&[Step::Key("year")]), "a year from 1900 to 2999"));
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let template_path = dir.join(&file.plan);
        let template_name = template_path.display().to_string();
        let template_bytes = crate::inputs::io::read_file(&template_path, &template_name)?;
        // The template must be a valid plan itself.
        let template_text = std::str::from_utf8(&template_bytes)
            .map_err(|_| Error::syntax(Location::file(&template_name), "the file is not valid UTF-8"))?;
        let plan = crate::inputs::Plan::from_json(&template_name, template_text)?;
        let template: serde_json::Value = crate::inputs::json::parse(&template_name, &template_bytes)?;

        if file.rounds.is_empty() {
            return Err(Error::policy(
                at(&[Step::Key("rounds")]),
                "a program has at least one round",
            ));
        }
        let mut rounds: Vec<Round> = Vec::with_capacity(file.rounds.len());
        for (k, r) in file.rounds.iter().enumerate() {
            let field = |f: &'static str| at(&[Step::Key("rounds"), Step::Index(k), Step::Key(f)]);
            if r.round_id.is_empty()
                || !r
                    .round_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            {
                return Err(Error::policy(
                    field("round_id"),
                    "a round id of letters, digits, '-', '_' and '.' (it names the round's plan file)",
                ));
            }
            let date = |text: &str, f: &'static str| {
                crate::inputs::io::parse_date(text).ok_or_else(|| {
                    Error::policy(
                        at(&[Step::Key("rounds"), Step::Index(k), Step::Key("window"), Step::Key(f)]),
                        format!("expected a date like 2027-03-01, found {}", crate::error::quote(text)),
                    )
                })
            };
            let (start, end) = (date(&r.window.start, "start")?, date(&r.window.end, "end")?);
            let window = Window::new(start, end).ok_or_else(|| {
                Error::policy(
                    field("window"),
                    "a window whose start is not after its end, at most 366 days long",
                )
            })?;
            use chrono::Datelike;
            if start.year() != file.year || end.year() != file.year {
                return Err(Error::policy(
                    field("window"),
                    format!("the round's window must lie in the program's year {}", file.year),
                ));
            }
            if let Some(prev) = rounds.last()
                && start <= prev.window.end
            {
                return Err(Error::policy(
                    field("window"),
                    format!(
                        "round {} must start after round {} ends ({}): each round's visits feed the next",
                        r.round_id, prev.round_id, prev.window.end
                    ),
                ));
            }
            if rounds
                .iter()
                .any(|x| x.round_id == r.round_id || x.task_id == r.task_id)
            {
                return Err(Error::policy(
                    field("round_id"),
                    "each round has its own round id and task id",
                ));
            }
            rounds.push(Round {
                round_id: r.round_id.clone(),
                task_id: r.task_id.clone(),
                window,
                directed: r.directed.clone(),
            });
        }

        // Frequencies: every department and class of the template, once.
        for dep in file.frequencies.keys() {
            if !plan.departments().iter().any(|d| &d.id == dep) {
                return Err(Error::policy(
                    at(&[Step::Key("frequencies"), Step::Key(dep)]),
                    format!(
                        "department {} is not in the plan {}",
                        crate::error::quote(dep),
                        file.plan
                    ),
                ));
            }
        }
        let mut frequencies = Vec::new();
        for dep in plan.departments() {
            let given = file.frequencies.get(&dep.id);
            if let Some(classes) = given {
                for c in classes.0.keys() {
                    if RiskClass::parse(c).is_none() {
                        return Err(Error::policy(
                            at(&[Step::Key("frequencies"), Step::Key(&dep.id), Step::Key(c)]),
                            "a class A, B, C or D",
                        ));
                    }
                }
            }
            for class in RiskClass::ALL {
                let steps = [Step::Key("frequencies"), Step::Key(&dep.id), Step::Key(class.as_str())];
                let f = given.and_then(|c| c.0.get(class.as_str()));
                let mode = dep.class(class).mode;
                let Some(f) = f else {
                    if mode == Mode::TriggerOnly {
                        frequencies.push(ClassFrequency {
                            department: dep.id.clone(),
                            class,
                            frequency: None,
                            rounds: Vec::new(),
                            annual_cap: None,
                        });
                        continue;
                    }
                    return Err(Error::policy(
                        at(&steps[..2]).with_field(render(&steps)),
                        format!(
                            "the program gives no frequency for department {} class {} (a ratio or an annual_ratio)",
                            dep.id,
                            class.as_str()
                        ),
                    ));
                };
                let ratio = |key: &'static str, text: &str| {
                    text.parse::<Ratio>()
                        .map_err(|e| Error::policy(at(&under(&steps, key)), e.to_string()))
                };
                let frequency = match (&f.ratio, &f.annual_ratio) {
                    (Some(r), None) => Frequency::PerRound(ratio("ratio", r)?),
                    (None, Some(r)) => Frequency::Annual(ratio("annual_ratio", r)?),
                    _ => {
                        return Err(Error::policy(
                            at(&steps),
                            "give either a ratio (each round) or an annual_ratio (the sum over the rounds)",
                        ));
                    }
                };
                let rounds_of: Vec<usize> = match &f.rounds {
                    None => (0..rounds.len()).collect(),
                    Some(ids) => {
                        let mut out = Vec::new();
                        let s = under(&steps, "rounds");
                        for id in ids {
                            let Some(k) = rounds.iter().position(|r| &r.round_id == id) else {
                                return Err(Error::policy(
                                    at(&s),
                                    format!("round {} is not in the program", crate::error::quote(id)),
                                ));
                            };
                            if out.contains(&k) {
                                return Err(Error::policy(at(&s), format!("round {id} is listed twice")));
                            }
                            out.push(k);
                        }
                        out.sort_unstable();
                        if out.is_empty() {
                            return Err(Error::policy(at(&s), "at least one round"));
                        }
                        out
                    }
                };
                if f.annual_cap == Some(0) || f.annual_cap.is_some_and(|c| c > 366) {
                    return Err(Error::policy(
                        at(&under(&steps, "annual_cap")),
                        "an annual cap from 1 to 366 visits",
                    ));
                }
                frequencies.push(ClassFrequency {
                    department: dep.id.clone(),
                    class,
                    frequency: Some(frequency),
                    rounds: rounds_of,
                    annual_cap: f.annual_cap,
                });
            }
        }
        Ok(Program {
            path: path.to_path_buf(),
            text: text.to_string(),
            program_id: file.program_id,
            year: file.year,
            template_path,
            template,
            rounds,
            frequencies,
        })
    }

    /// The location of the value at `steps`, with its line when the text has it.
    fn at(&self, steps: &[Step<'_>]) -> Location {
        let name = self.path.display().to_string();
        let loc = match line_of(&self.text, steps) {
            Some(line) => Location::line(&name, line),
            None => Location::file(&name),
        };
        loc.with_field(render(steps))
    }

    /// The program id, which every round's plan takes as its `plan_id`.
    pub fn id(&self) -> &str {
        &self.program_id
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The rounds, in order.
    pub fn rounds(&self) -> &[Round] {
        &self.rounds
    }

    /// The frequencies, by department (plan order) and class.
    pub fn frequencies(&self) -> &[ClassFrequency] {
        &self.frequencies
    }

    /// The folder of the template plan (its input paths are relative to it).
    pub(crate) fn template_dir(&self) -> PathBuf {
        self.template_path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// The history file the template plan names (round 1's), if any.
    pub fn template_history(&self) -> Option<PathBuf> {
        self.template["inputs"]["history"]
            .as_str()
            .map(|h| self.template_dir().join(h))
    }

    /// The name of round `k`'s plan file.
    pub fn plan_file(&self, k: usize) -> String {
        format!("round-{}.json", self.rounds[k].round_id)
    }

    /// The name of the history file round `k > 0` reads.
    pub fn history_file(&self, k: usize) -> String {
        format!("history-{}.csv", self.rounds[k].round_id)
    }

    /// Makes every round's plan, with input paths relative to `out` (the
    /// folder the plans will be written to), and the expected counts; each
    /// plan is checked as `commit` and `draw` would check it.
    ///
    /// # Errors
    ///
    /// A [`Policy`](crate::ErrorKind::Policy) error naming the program's
    /// field when a frequency is unreachable, and any error of the round
    /// plans' checks, named by the round.
    pub fn schedule(&self, out: &Path) -> Result<Schedule> {
        let template_dir = self.template_dir();
        // The base of every department and class, from the template's inputs.
        let inputs = Inputs::load(&self.template_path)?;
        let frame = Frame::build(&inputs);
        let base = |dep: usize, class: RiskClass| frame.departments[dep].class(class).base;
        let dep_index = |id: &str| inputs.plan().departments().iter().position(|d| d.id == id);

        // Each round's ratio per department and class.
        let n = self.rounds.len();
        let mut ratios: BTreeMap<(String, RiskClass), Vec<Option<Ratio>>> = BTreeMap::new();
        for f in &self.frequencies {
            let mut per_round = vec![None; n];
            let d = dep_index(&f.department).unwrap_or(0);
            match &f.frequency {
                None => {}
                Some(Frequency::PerRound(r)) => {
                    for &k in &f.rounds {
                        per_round[k] = Some(r.clone());
                    }
                }
                Some(Frequency::Annual(r)) => {
                    let b = base(d, f.class);
                    let total = r.quota(b);
                    let k = f.rounds.len() as u64;
                    for (j, &round) in f.rounds.iter().enumerate() {
                        let j = j as u64;
                        let share = total * (j + 1) / k - total * j / k;
                        per_round[round] = Some(shortest_ratio(share, b, r, k));
                    }
                }
            }
            ratios.insert((f.department.clone(), f.class), per_round);
        }
        let warnings = self.check_reachable(&inputs, &frame, &ratios)?;

        let mut plans = Vec::with_capacity(n);
        let mut expected = Vec::new();
        for (k, round) in self.rounds.iter().enumerate() {
            let mut plan = self.template.clone();
            plan["plan_id"] = self.program_id.clone().into();
            plan["task_id"] = round.task_id.clone().into();
            plan["round_id"] = round.round_id.clone().into();
            plan["window"] =
                serde_json::json!({"start": round.window.start.to_string(), "end": round.window.end.to_string()});
            for f in &self.frequencies {
                let Some(d) = plan["departments"]
                    .as_array_mut()
                    .and_then(|ds| ds.iter_mut().find(|d| d["id"] == f.department.as_str()))
                else {
                    continue;
                };
                let class = &mut d["classes"][f.class.as_str()];
                if let Some(r) = &ratios[&(f.department.clone(), f.class)][k] {
                    class["ratio"] = r.as_str().into();
                } else if f.frequency.is_some() {
                    class["ratio"] = "0".into();
                }
                if f.frequency.is_some() && class.get("rounds_per_year").is_some() {
                    class["rounds_per_year"] = (f.rounds.len().max(1) as u64).into();
                }
            }
            // Per-entity caps of the classes that set one.
            for f in self.frequencies.iter().filter(|f| f.annual_cap.is_some()) {
                if !plan.get("class_limits").is_some_and(serde_json::Value::is_object) {
                    plan["class_limits"] = serde_json::json!({});
                }
                plan["class_limits"][f.class.as_str()]["annual_cap"] = f.annual_cap.into();
            }
            // A round's own directed checks; the template's belong to the first.
            let program_dir = self.path.parent().map(Path::to_path_buf).unwrap_or_default();
            let directed: Option<PathBuf> = match &round.directed {
                Some(d) => Some(program_dir.join(d)),
                None if k == 0 => self.template["inputs"]["directed"]
                    .as_str()
                    .map(|d| template_dir.join(d)),
                None => None,
            };
            if let Some(inputs) = plan.get_mut("inputs").and_then(serde_json::Value::as_object_mut) {
                match &directed {
                    Some(d) => {
                        inputs.insert("directed".into(), relative_to(d, &template_dir)?.into());
                    }
                    None => {
                        inputs.shift_remove("directed");
                    }
                }
            }
            // The plan as checked, with paths relative to the template (round 1's
            // history), then as written, with paths relative to `out`.
            let checked_text = to_text(&plan);
            let file_name = self.plan_file(k);
            let round_error = |e: Error| {
                Error::policy(
                    self.at(&[Step::Key("rounds"), Step::Index(k)]),
                    format!("the plan of round {} is refused: {e}", round.round_id),
                )
            };
            let round_inputs =
                Inputs::load_beside(&file_name, checked_text.as_bytes(), &template_dir).map_err(round_error)?;
            let round_frame = Frame::build(&round_inputs);
            round_frame.check_floors(&round_inputs).map_err(round_error)?;
            if let Some(inputs) = plan.get_mut("inputs").and_then(serde_json::Value::as_object_mut) {
                for (role, value) in inputs.iter_mut() {
                    if let Some(p) = value.as_str() {
                        let path = if role == "history" && k > 0 {
                            out.join(self.history_file(k))
                        } else {
                            template_dir.join(p)
                        };
                        *value = relative_to(&path, out)?.into();
                    }
                }
                if k > 0 && !inputs.contains_key("history") {
                    inputs.insert(
                        "history".into(),
                        relative_to(&out.join(self.history_file(k)), out)?.into(),
                    );
                }
            }
            plans.push((file_name, to_text(&plan)));
            for (d, dep) in round_inputs.plan().departments().iter().enumerate() {
                for class in RiskClass::ALL {
                    let policy = dep.class(class);
                    let b = round_frame.departments[d].class(class).base;
                    expected.push(Expected {
                        round_id: round.round_id.clone(),
                        department: dep.id.clone(),
                        class,
                        mode: policy.mode,
                        base: b,
                        ratio: policy.ratio.as_str().to_string(),
                        expected: policy.quota(b),
                    });
                }
            }
        }
        // The year: the declared ratio and the sum of the rounds' counts.
        for f in &self.frequencies {
            let rows: Vec<&Expected> = expected
                .iter()
                .filter(|e| e.department == f.department && e.class == f.class)
                .collect();
            let Some(first) = rows.first() else { continue };
            let declared = match &f.frequency {
                None => "-".to_string(),
                Some(Frequency::Annual(r)) => r.as_str().to_string(),
                Some(Frequency::PerRound(r)) => sum_text(r, f.rounds.len() as u64),
            };
            expected.push(Expected {
                round_id: "year".into(),
                department: f.department.clone(),
                class: f.class,
                mode: first.mode,
                base: first.base,
                ratio: declared,
                expected: rows.iter().map(|e| e.expected).sum(),
            });
        }
        Ok(Schedule {
            plans,
            expected,
            warnings,
        })
    }

    /// Refuses frequencies the program's own cooldowns and caps make
    /// unreachable, counting on the base at program time (see the module
    /// docs); returns warnings for those they may make unreachable.
    fn check_reachable(
        &self,
        inputs: &Inputs,
        frame: &Frame,
        ratios: &BTreeMap<(String, RiskClass), Vec<Option<Ratio>>>,
    ) -> Result<Vec<String>> {
        let plan = inputs.plan();
        let random = crate::model::VisitKind::Random;
        let mut warnings = Vec::new();
        for f in &self.frequencies {
            let at = || {
                self.at(&[
                    Step::Key("frequencies"),
                    Step::Key(&f.department),
                    Step::Key(f.class.as_str()),
                ])
            };
            let what = format!("{} class {}", f.department, f.class.as_str());
            let Some(d) = plan.departments().iter().position(|d| d.id == f.department) else {
                continue;
            };
            let base = frame.departments[d].class(f.class).base;
            let per_round = &ratios[&(f.department.clone(), f.class)];
            let quota = |k: usize| per_round[k].as_ref().map_or(0, |r| r.quota(base));
            let limits = plan.class_limits(f.class);
            let cap = f.annual_cap.or(limits.annual_cap);
            if let Some(cap) = cap.filter(|_| plan.annual_cap_counts().counts(random)) {
                let year: u64 = (0..self.rounds.len()).map(quota).sum();
                if year > u64::from(cap) * base {
                    return Err(Error::policy(
                        at(),
                        format!(
                            "unreachable: {what} draws {year} over the year from a base of {base}, more than its annual cap of {cap} visit(s) per entity allows"
                        ),
                    ));
                }
            }
            let cooldown = i64::from(limits.cooldown_days);
            if cooldown == 0 || !plan.cooldown_counts().counts(random) {
                continue;
            }
            let drawn: Vec<usize> = (0..self.rounds.len()).filter(|&k| quota(k) > 0).collect();
            for (a, &j) in drawn.iter().enumerate() {
                let (start, end) = (self.rounds[j].window.start, self.rounds[j].window.end);
                // Rounds starting within the cooldown of this one's start:
                // nobody drawn in one of them can be drawn in another.
                let close: Vec<usize> = drawn[a..]
                    .iter()
                    .copied()
                    .take_while(|&k| (self.rounds[k].window.start - start).num_days() < cooldown)
                    .collect();
                let ids = |rounds: &[usize]| {
                    rounds
                        .iter()
                        .map(|&k| self.rounds[k].round_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let total: u64 = close.iter().map(|&k| quota(k)).sum();
                if close.len() > 1 && total > base {
                    return Err(Error::policy(
                        at(),
                        format!(
                            "unreachable: rounds {} start within the {cooldown}-day cooldown of each other, so nobody can be drawn in two of them, yet {what} draws {total} in them from a base of {base}",
                            ids(&close)
                        ),
                    ));
                }
                // The next round starts within the cooldown of this one's end:
                // those visited late in this round are still cooling down.
                if let Some(&next) = drawn.get(a + 1)
                    && (self.rounds[next].window.start - end).num_days() < cooldown
                    && quota(j) + quota(next) > base
                {
                    warnings.push(format!(
                        "{what}: round {} starts {} days after round {} ends, within the {cooldown}-day cooldown, and draws {} there from a base of {base} after {} in round {}: it falls short unless enough of round {}'s visits come early",
                        self.rounds[next].round_id,
                        (self.rounds[next].window.start - end).num_days(),
                        self.rounds[j].round_id,
                        quota(next),
                        quota(j),
                        self.rounds[j].round_id,
                        self.rounds[j].round_id,
                    ));
                }
            }
        }
        Ok(warnings)
    }
}

impl Schedule {
    /// The year's expected counts per department and class as a table for
    /// a terminal, in `lang`.
    pub fn table_in(&self, lang: crate::messages::Lang) -> String {
        use crate::messages::{Msg, header_cells, mode_word, table_row};
        let widths = [12, 5, 12, 9, 9, 9];
        let mut out = String::new();
        table_row(&mut out, &header_cells(Msg::ProgramHeader, lang), &widths, 2);
        for e in self.expected.iter().filter(|e| e.round_id == "year") {
            let (base, expected) = (e.base.to_string(), e.expected.to_string());
            let cells = [
                e.department.as_str(),
                e.class.as_str(),
                mode_word(e.mode, lang),
                &base,
                &e.ratio,
                &expected,
            ];
            table_row(&mut out, &cells, &widths, 2);
        }
        out
    }

    /// The expected counts as CSV: `round_id, department, class, mode,
    /// base, ratio, expected`, the rounds first, then the year's totals.
    pub fn expected_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let mut write = |fields: [&str; 7]| {
            // OK because writing to memory cannot fail.
            let _ = w.write_record(fields);
        };
        write(["round_id", "department", "class", "mode", "base", "ratio", "expected"]);
        for e in &self.expected {
            write([
                e.round_id.as_str(),
                e.department.as_str(),
                e.class.as_str(),
                e.mode.as_str(),
                e.base.to_string().as_str(),
                e.ratio.as_str(),
                e.expected.to_string().as_str(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Writes every round's plan and `expected.csv` into a new folder
    /// `dir`, atomically: into a temporary folder beside it, renamed into
    /// place (missing folders above it are created).
    ///
    /// # Errors
    ///
    /// [`OutputRefused`](crate::ErrorKind::OutputRefused) when `dir` exists
    /// (a program's plans are never replaced: rounds may have been
    /// committed from them), and an [`Io`](crate::ErrorKind::Io) error when
    /// a file cannot be written.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let expected = self.expected_csv();
        let files = self
            .plans
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_bytes()))
            .chain(std::iter::once(("expected.csv", expected.as_bytes())));
        crate::place::write_new_folder(
            dir,
            files,
            "a program's plans are never replaced (a round may have been committed from them)",
        )
    }
}

/// The path `steps` followed by the key `key`.
fn under<'a>(steps: &[Step<'a>], key: &'a str) -> Vec<Step<'a>> {
    let mut s = steps.to_vec();
    s.push(Step::Key(key));
    s
}

/// The shortest decimal ratio (at most 12 places) whose quota on `base` is
/// exactly `share`: the largest of its places that is at most
/// `share / base`, taken at the first number of places where its quota is
/// `share`. With an empty base, the annual ratio split evenly, truncated.
fn shortest_ratio(share: u64, base: u64, annual: &Ratio, rounds: u64) -> Ratio {
    let text = if base == 0 {
        let scale = 10u128.pow(12);
        let v = u128::from(annual.numerator()) * scale / (u128::from(annual.denominator()) * u128::from(rounds));
        decimal(v, 12)
    } else {
        let (share, base) = (u128::from(share), u128::from(base));
        (0..=12u32)
            .find_map(|places| {
                let scale = 10u128.pow(places);
                let v = share * scale / base;
                // ceil(v / scale × base) == share  ⇔  v × base > (share − 1) × scale
                (share == 0 || v * base > (share - 1) * scale).then(|| decimal(v, places))
            })
            .unwrap_or_else(|| decimal(share * 10u128.pow(12) / base, 12))
    };
    // OK because the text is a decimal in [0, 1] with at most 12 places.
    text.parse().unwrap_or_else(|_| annual.clone())
}

/// `v / 10^places` as a decimal text.
fn decimal(v: u128, places: u32) -> String {
    if places == 0 {
        return v.to_string();
    }
    let scale = 10u128.pow(places);
    format!("{}.{:0width$}", v / scale, v % scale, width = places as usize)
}

/// `r × k` as a decimal text (a per-round ratio over `k` rounds).
fn sum_text(r: &Ratio, k: u64) -> String {
    let places = r.as_str().split_once('.').map_or(0, |(_, f)| f.len() as u32);
    let v = u128::from(r.numerator()) * 10u128.pow(places) / u128::from(r.denominator()) * u128::from(k);
    decimal(v, places)
}

/// Pretty JSON with a final newline.
fn to_text(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_ratio_gives_exactly_the_share() {
        let annual: Ratio = "0.05".parse().unwrap();
        for base in [1u64, 7, 61, 1925, 3403, 1_000_003] {
            let total = annual.quota(base);
            for k in 1..=4u64 {
                let mut sum = 0;
                for j in 0..k {
                    let share = total * (j + 1) / k - total * j / k;
                    let r = shortest_ratio(share, base, &annual, k);
                    assert_eq!(
                        r.quota(base),
                        share,
                        "base {base}, {k} rounds, round {j}: {}",
                        r.as_str()
                    );
                    sum += r.quota(base);
                }
                assert_eq!(sum, total);
            }
        }
        assert_eq!(shortest_ratio(48, 1925, &annual, 2).as_str(), "0.0249");
        assert_eq!(shortest_ratio(0, 10, &annual, 2).as_str(), "0");
        assert_eq!(shortest_ratio(0, 0, &annual, 2).as_str(), "0.025000000000");
    }

    #[test]
    fn sums_of_round_ratios_are_exact_decimals() {
        assert_eq!(sum_text(&"0.30".parse().unwrap(), 2), "0.60");
        assert_eq!(sum_text(&"0.015".parse().unwrap(), 3), "0.045");
        assert_eq!(sum_text(&"1".parse().unwrap(), 2), "2");
    }
}
