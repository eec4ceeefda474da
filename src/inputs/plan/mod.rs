//! The plan: one task round of a joint task, with each department's
//! scope, items and class policy. Parsed from JSON, validated once.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Location, Result};
use crate::inputs::json::{Step, line_of, render};
use crate::model::{Mode, Ratio, RiskClass, VisitKind};

mod file;

use file::PlanFile;
pub(crate) use file::limits;

/// A validated plan: a task round, its window, and the policy of every
/// participating department.
///
/// A `Plan` that exists is internally consistent (ratios in [0, 1] and
/// non-decreasing from A to D unless the plan says otherwise, every class
/// configured, a known lead department, every number within the range its
/// field documents, input paths relative to the plan). Checks against the
/// other input files happen in [`Inputs::load`](crate::Inputs::load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The plan id (年度抽查工作计划).
    pub(crate) plan_id: String,
    /// The task id (抽查任务); part of the draw salt.
    pub(crate) task_id: String,
    /// The round id (批次); part of the draw salt.
    pub(crate) round_id: String,
    /// The task window; every time-dependent rule is evaluated against it.
    pub(crate) window: Window,
    /// The lead department (牵头部门).
    pub(crate) lead_department: String,
    /// The input files, as paths relative to the plan.
    pub(crate) inputs: InputPaths,
    /// The columns whose values split a frame into strata (default `region`).
    pub(crate) strata: Vec<String>,
    /// The class given to unclassified entities, if any.
    pub(crate) unclassified_class: Option<RiskClass>,
    /// Entities visited (by any department) fewer than this many days before the window start are excluded (0 to 3650).
    pub(crate) cooldown_days: u32,
    /// Entities with this many visit dates (any department, any kind) in the window's calendar year are excluded (1 to 366).
    pub(crate) annual_cap: Option<u32>,
    /// The cooldown and annual cap of each class, A to D: the plan-wide
    /// ones unless `class_limits` sets others.
    pub(crate) class_limits: [ClassLimits; 4],
    /// Which past visits the cooldown counts (default: every kind).
    pub(crate) cooldown_counts: CountedKinds,
    /// Which past visits the annual cap counts (default: random ones).
    pub(crate) annual_cap_counts: CountedKinds,
    /// The observation period (观察期), if any.
    pub(crate) observation: Option<Observation>,
    /// Whether ratios must not decrease from A to D.
    pub(crate) ratio_order: RatioOrder,
    /// The rules for inspector teams.
    pub(crate) teams: TeamRules,
    /// The encoding of each input file that is not UTF-8, by role.
    pub(crate) encodings: BTreeMap<&'static str, Encoding>,
    /// The participating departments, lead included, in plan order.
    pub(crate) departments: Vec<DepartmentPolicy>,
}

/// The text encoding of an input file (the plan's `encodings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark: the default.
    #[default]
    Utf8,
    /// GB18030, which covers GBK and GB2312: what Excel and WPS write for
    /// "CSV" on Chinese Windows.
    Gb18030,
}

impl Encoding {
    /// The encoding a plan names: `utf-8` (`utf8`), or `gb18030`, `gbk`
    /// or `gb2312` (all read as GB18030), in any case.
    pub fn from_label(label: &str) -> Option<Encoding> {
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "gb18030" | "gbk" | "gb2312" | "cp936" => Some(Encoding::Gb18030),
            _ => None,
        }
    }

    /// The name a plan uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gb18030 => "gb18030",
        }
    }
}

impl Plan {
    /// The encoding of the input file in `role` (`entities`, `items`, …).
    pub fn encoding(&self, role: &str) -> Encoding {
        self.encodings.get(role).copied().unwrap_or_default()
    }

    /// The plan id (年度抽查工作计划).
    pub fn id(&self) -> &str {
        &self.plan_id
    }

    /// The task id (抽查任务); part of the draw salt.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The round id (批次); part of the draw salt.
    pub fn round_id(&self) -> &str {
        &self.round_id
    }

    /// The task window; every time-dependent rule is evaluated against it.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The lead department (牵头部门).
    pub fn lead_department(&self) -> &str {
        &self.lead_department
    }

    /// The input files, as paths relative to the plan.
    pub fn inputs(&self) -> &InputPaths {
        &self.inputs
    }

    /// The columns whose values split a frame into strata (default `region`).
    pub fn strata(&self) -> &[String] {
        &self.strata
    }

    /// The class given to unclassified entities, if any.
    pub fn unclassified_class(&self) -> Option<RiskClass> {
        self.unclassified_class
    }

    /// Entities visited (by any department) fewer than this many days before the window start are excluded (0 to 3650).
    pub fn cooldown_days(&self) -> u32 {
        self.cooldown_days
    }

    /// Entities with this many visit dates (any department, any kind) in the window's calendar year are excluded (1 to 366).
    pub fn annual_cap(&self) -> Option<u32> {
        self.annual_cap
    }

    /// The cooldown and the annual cap of entities of one class (the
    /// plan-wide [`cooldown_days`](Plan::cooldown_days) and
    /// [`annual_cap`](Plan::annual_cap) unless `class_limits` sets others).
    pub fn class_limits(&self, class: RiskClass) -> ClassLimits {
        self.class_limits[class.index()]
    }

    /// Which past visits the cooldown counts (`cooldown_counts`; default:
    /// random and directed).
    pub fn cooldown_counts(&self) -> CountedKinds {
        self.cooldown_counts
    }

    /// Which past visits the annual cap counts (`annual_cap_counts`;
    /// default: random only, since case-driven checks are exempt from it).
    pub fn annual_cap_counts(&self) -> CountedKinds {
        self.annual_cap_counts
    }

    /// The observation period (观察期), if any.
    pub fn observation(&self) -> Option<&Observation> {
        self.observation.as_ref()
    }

    /// Whether ratios must not decrease from A to D.
    pub fn ratio_order(&self) -> RatioOrder {
        self.ratio_order
    }

    /// The rules for inspector teams.
    pub fn teams(&self) -> &TeamRules {
        &self.teams
    }

    /// The participating departments, lead included, in plan order.
    pub fn departments(&self) -> &[DepartmentPolicy] {
        &self.departments
    }
}

/// The task window, both ends included: at most 366 days, in the years
/// 1900 to 2999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first day.
    pub(crate) start: NaiveDate,
    /// The last day.
    pub(crate) end: NaiveDate,
}

impl Window {
    /// The window from `start` to `end`, both included; `None` unless
    /// `start <= end`, the window is at most 366 days, and both ends fall
    /// in the years 1900 to 2999 (the rules a plan's window follows).
    pub fn new(start: NaiveDate, end: NaiveDate) -> Option<Window> {
        let years = limits::WINDOW_YEARS;
        (start <= end
            && (end - start).num_days() < limits::WINDOW_DAYS
            && years.contains(&start.year())
            && years.contains(&end.year()))
        .then_some(Window { start, end })
    }

    /// The first day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last day.
    pub fn end(&self) -> NaiveDate {
        self.end
    }
}

/// The input files of a plan, as paths relative to the plan file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InputPaths {
    /// The entity library (检查对象名录库).
    pub entities: String,
    /// The check-item list (随机抽查事项清单).
    pub items: String,
    /// Past visits, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Directed checks, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directed: Option<String>,
    /// The working-day calendar (holidays and make-up workdays), if any;
    /// without one, Monday to Friday are working days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// The inspector library (执法检查人员名录库), if any; without one, visits get dates but no teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspectors: Option<String>,
    /// Recusal pairs (回避), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<String>,
}

impl InputPaths {
    /// Every input file, with its role, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("entities", Some(self.entities.as_str())),
            ("items", Some(self.items.as_str())),
            ("history", self.history.as_deref()),
            ("directed", self.directed.as_deref()),
            ("calendar", self.calendar.as_deref()),
            ("inspectors", self.inspectors.as_deref()),
            ("conflicts", self.conflicts.as_deref()),
        ]
        .into_iter()
        .filter_map(|(role, path)| path.map(|p| (role, p)))
    }
}

/// The observation period (观察期): entities of the named classes
/// established fewer than `days` days before the window start are left out
/// of proactive draws.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observation {
    /// The length of the period in days (0 to 3650).
    pub days: u32,
    /// The classes it applies to.
    pub classes: Vec<RiskClass>,
}

/// Whether the plan requires ratios that do not decrease from A to D.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RatioOrder {
    /// Ratios must not decrease from A to D (the national rule, 国市监信发〔2022〕6号).
    #[default]
    NonDecreasing,
    /// The plan explicitly allows any order.
    Any,
}

/// The rules teams must follow, beyond the hard ones (certificates,
/// availability, recusal, caps).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TeamRules {
    /// Inspectors each department sends to a joint visit (default 1; 1 to 10).
    pub per_department: u32,
    /// Inspectors a department sends to a visit it makes alone (default 2,
    /// 行政处罚法 Art. 42: at least two; at most 10).
    pub single_department: u32,
    /// Whether the inspectors of an entity's previous visit by the same
    /// department are excluded.
    pub rotation: Rotation,
    /// Whether inspectors may visit entities in their own station's area.
    pub cross_station: CrossStation,
    /// Publication deadline: working days after the visit date (default 20; 1 to 250).
    pub publication_days: u32,
}

impl Default for TeamRules {
    fn default() -> TeamRules {
        TeamRules {
            per_department: 1,
            single_department: 2,
            rotation: Rotation::ExcludePrevious,
            cross_station: CrossStation::Allow,
            publication_days: 20,
        }
    }
}

/// Whether the previous visit's inspectors are excluded (rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Rotation {
    /// The inspectors of the entity's previous visit by the same department are excluded.
    #[default]
    ExcludePrevious,
    /// No rotation rule.
    Off,
}

/// The cross-station rule (所所交叉).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CrossStation {
    /// Inspectors may visit entities of their own station's area.
    #[default]
    Allow,
    /// No inspector visits an entity whose region is the inspector's station.
    ExcludeHome,
}

/// One department's part of the task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DepartmentPolicy {
    /// The department id; part of the allocation hash.
    pub id: String,
    /// The department's name.
    pub name: String,
    /// The scope filter: an entity is in scope when, for every column named,
    /// its value is one of the listed values. Empty: every entity.
    pub scope: BTreeMap<String, Vec<String>>,
    /// The check items this department brings to each visit.
    pub items: Vec<String>,
    /// The policy for each class, indexed A to D.
    pub classes: [ClassPolicy; 4],
}

/// The cooldown and the annual cap that apply to entities of one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassLimits {
    /// Entities visited fewer than this many days before the window start are excluded (0 to 3650).
    pub cooldown_days: u32,
    /// Entities with this many counted visit dates in the window's calendar year are excluded (1 to 366).
    pub annual_cap: Option<u32>,
}

/// Which kinds of past visits a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedKinds {
    pub(crate) random: bool,
    pub(crate) directed: bool,
}

impl CountedKinds {
    /// Random and directed visits alike.
    pub const ALL: CountedKinds = CountedKinds {
        random: true,
        directed: true,
    };
    /// Random visits only.
    pub const RANDOM: CountedKinds = CountedKinds {
        random: true,
        directed: false,
    };

    /// Whether a past visit of this kind counts.
    pub fn counts(self, kind: VisitKind) -> bool {
        match kind {
            VisitKind::Random => self.random,
            VisitKind::Directed => self.directed,
        }
    }
}

impl ClassPolicy {
    /// The class's quota on a base population of `base` (DR3 step 5):
    /// `ceil(ratio × base)`, and 0 for a trigger-only class, which is never
    /// drawn.
    pub fn quota(&self, base: u64) -> u64 {
        match self.mode {
            Mode::TriggerOnly => 0,
            _ => self.ratio.quota(base),
        }
    }
}

impl DepartmentPolicy {
    /// The policy of one class.
    pub fn class(&self, class: RiskClass) -> &ClassPolicy {
        &self.classes[class.index()]
    }
}

/// How a department treats one class: ratio, mode and rounds per year.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassPolicy {
    /// The share of the base population drawn in this round.
    pub ratio: Ratio,
    /// On-site, off-site or trigger-only.
    pub mode: Mode,
    /// Rounds per year (频次, in the first sense of DOMAIN.md §4; 1 to 12).
    pub rounds_per_year: u32,
}

// ---------------------------------------------------------------------------
// The file shape.

impl Plan {
    /// Parses and validates a plan from JSON text; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Syntax`](crate::ErrorKind::Syntax) for malformed JSON or
    /// a value of the wrong type (a JSON number where a ratio string is
    /// expected, an unknown field), [`ErrorKind::InvalidField`](crate::ErrorKind::InvalidField)
    /// for a bad id or window, [`ErrorKind::DuplicateId`](crate::ErrorKind::DuplicateId)
    /// for a department listed twice, [`ErrorKind::UnknownReference`](crate::ErrorKind::UnknownReference)
    /// for an unknown lead department or class, and
    /// [`ErrorKind::Policy`](crate::ErrorKind::Policy) for ratios that
    /// decrease from A to D. Every error names the file, line and field.
    ///
    /// # Example
    ///
    /// ```
    /// use double_random::{Plan, RiskClass};
    /// let json = r#"{
    ///   "plan_id": "P1", "task_id": "T1", "round_id": "1",
    ///   "window": {"start": "2024-04-01", "end": "2024-06-30"},
    ///   "lead_department": "SAMR",
    ///   "inputs": {"entities": "entities.csv", "items": "items.csv"},
    ///   "departments": [{"id": "SAMR", "items": ["A01"], "classes": {
    ///     "A": {"ratio": "0.01"}, "B": {"ratio": "0.02"},
    ///     "C": {"ratio": "0.10"}, "D": {"ratio": "0.30"}}}]
    /// }"#;
    /// let plan = Plan::from_json("plan.json", json)?;
    /// assert_eq!(plan.departments()[0].class(RiskClass::D).ratio.as_str(), "0.30");
    /// assert_eq!(plan.strata(), ["region"]);
    ///
    /// let bad = json.replace(r#""0.30""#, "0.3");
    /// let err = Plan::from_json("plan.json", &bad).unwrap_err();
    /// assert!(err.to_string().starts_with("plan.json, line 8, field departments[0].classes.D.ratio: the JSON number 0.3"));
    /// # Ok::<(), double_random::Error>(())
    /// ```
    pub fn from_json(file: &str, text: &str) -> Result<Plan> {
        let raw: PlanFile = crate::inputs::json::parse(file, text.as_bytes())?;
        let loc = |path: &[Step<'_>]| {
            let at = match line_of(text, path) {
                Some(line) => Location::line(file, line),
                None => Location::file(file),
            };
            at.with_field(render(path))
        };
        raw.validate(&loc)
    }
}

impl Plan {
    /// The department with this id.
    pub fn department(&self, id: &str) -> Option<&DepartmentPolicy> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// Warnings that do not stop a draw: a cooldown longer than the
    /// interval between a class's rounds, which makes later quotas
    /// unreachable for entities drawn in an earlier round.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in &self.departments {
            for class in RiskClass::ALL {
                let p = d.class(class);
                if p.mode == Mode::TriggerOnly || p.ratio.is_zero() {
                    continue;
                }
                let interval = 365 / p.rounds_per_year.max(1);
                let cooldown_days = self.class_limits(class).cooldown_days;
                if p.rounds_per_year > 1 && cooldown_days > interval {
                    out.push(format!(
                        "department {}, class {class}: the cooldown of {} days is longer than the {interval} days between its {} rounds a year, so entities drawn in one round cannot be drawn in the next",
                        d.id, cooldown_days, p.rounds_per_year
                    ));
                }
            }
        }
        out
    }
}
