//! The plan: one task round of a joint task, with each department's
//! scope, items and class policy. Parsed from JSON, validated once.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::inputs::io::parse_date;
use crate::inputs::json::{Step, line_of, render};
use crate::model::{Mode, RATIO_EXPECTED, Ratio, RiskClass};

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
    /// The observation period (观察期), if any.
    pub(crate) observation: Option<Observation>,
    /// Whether ratios must not decrease from A to D.
    pub(crate) ratio_order: RatioOrder,
    /// The rules for inspector teams.
    pub(crate) teams: TeamRules,
    /// The participating departments, lead included, in plan order.
    pub(crate) departments: Vec<DepartmentPolicy>,
}

impl Plan {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    spec: Option<String>,
    plan_id: String,
    task_id: String,
    round_id: String,
    window: WindowFile,
    lead_department: String,
    inputs: InputPaths,
    #[serde(default)]
    strata: Option<Vec<String>>,
    #[serde(default)]
    unclassified_class: Option<ClassName>,
    #[serde(default)]
    cooldown_days: u32,
    #[serde(default)]
    annual_cap: Option<u32>,
    #[serde(default)]
    observation: Option<ObservationFile>,
    #[serde(default)]
    ratio_order: Option<RatioOrderName>,
    #[serde(default)]
    teams: Option<TeamsFile>,
    departments: Vec<DepartmentFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamsFile {
    #[serde(default)]
    per_department: Option<u32>,
    #[serde(default)]
    single_department: Option<u32>,
    #[serde(default)]
    rotation: Option<RotationName>,
    #[serde(default)]
    cross_station: Option<CrossStationName>,
    #[serde(default)]
    publication_days: Option<u32>,
}

struct RotationName(Rotation);
struct CrossStationName(CrossStation);

impl<'de> Deserialize<'de> for RotationName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RotationName, D::Error> {
        from_text(d, "a rotation rule (exclude_previous or off)", |s| match s {
            "exclude_previous" => Some(Rotation::ExcludePrevious),
            "off" => Some(Rotation::Off),
            _ => None,
        })
        .map(RotationName)
    }
}

impl<'de> Deserialize<'de> for CrossStationName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CrossStationName, D::Error> {
        from_text(d, "a cross-station rule (allow or exclude_home)", |s| match s {
            "allow" => Some(CrossStation::Allow),
            "exclude_home" => Some(CrossStation::ExcludeHome),
            _ => None,
        })
        .map(CrossStationName)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    start: DateText,
    end: DateText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationFile {
    days: u32,
    classes: Vec<ClassName>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentFile {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::inputs::json::unique_map")]
    scope: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    items: Vec<String>,
    #[serde(deserialize_with = "crate::inputs::json::unique_map")]
    classes: BTreeMap<String, ClassFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassFile {
    ratio: Ratio,
    #[serde(default)]
    mode: ModeName,
    #[serde(default = "one")]
    rounds_per_year: u32,
}

fn one() -> u32 {
    1
}

struct DateText(NaiveDate);
struct ClassName(RiskClass);
#[derive(Default)]
struct ModeName(Mode);
struct RatioOrderName(RatioOrder);

/// Deserializes a string through `parse`, or fails with `expected`.
fn from_text<'de, D, T>(d: D, expected: &'static str, parse: fn(&str) -> Option<T>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T> {
        expected: &'static str,
        parse: fn(&str) -> Option<T>,
    }
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expected)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.parse)(v).ok_or_else(|| E::custom(format!("{} is not {}", crate::error::quote(v), self.expected)))
        }
    }
    d.deserialize_any(V { expected, parse })
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ratio, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ratio;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(RATIO_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ratio, E> {
                v.parse::<Ratio>()
                    .map_err(|e| E::custom(format!("{} is not {e}", crate::error::quote(v))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ratio, E> {
                Err(E::custom(format!(
                    "the JSON number {v} is not a ratio: write ratios as decimal strings, like \"0.05\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ratio, E> {
                Err(E::custom(format!(
                    "the JSON number {v} is not a ratio: write ratios as decimal strings, like \"0.05\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ratio, E> {
                Err(E::custom(format!(
                    "the JSON number {v} is not a ratio: write ratios as decimal strings, like \"0.05\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DateText, D::Error> {
        from_text(d, "a date (YYYY-MM-DD)", parse_date).map(DateText)
    }
}

impl<'de> Deserialize<'de> for ClassName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClassName, D::Error> {
        from_text(d, "a risk class (A, B, C or D)", RiskClass::parse).map(ClassName)
    }
}

impl<'de> Deserialize<'de> for ModeName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ModeName, D::Error> {
        from_text(d, "a mode (on_site, off_site or trigger_only)", Mode::parse).map(ModeName)
    }
}

impl<'de> Deserialize<'de> for RatioOrderName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RatioOrderName, D::Error> {
        from_text(d, "a ratio order (non_decreasing or any)", |s| match s {
            "non_decreasing" => Some(RatioOrder::NonDecreasing),
            "any" => Some(RatioOrder::Any),
            _ => None,
        })
        .map(RatioOrderName)
    }
}

// ---------------------------------------------------------------------------

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

/// The accepted range of every number in a plan, and of its window; a
/// value outside is refused with the field named, since a number far out
/// of range is a typo (or an attack) that would otherwise make a draw spin
/// or misbehave.
pub(crate) mod limits {
    use std::ops::RangeInclusive;

    /// `cooldown_days`: up to ten years.
    pub const COOLDOWN_DAYS: RangeInclusive<u32> = 0..=3650;
    /// `annual_cap`: visit dates per entity and year.
    pub const ANNUAL_CAP: RangeInclusive<u32> = 1..=366;
    /// `observation.days`: up to ten years.
    pub const OBSERVATION_DAYS: RangeInclusive<u32> = 0..=3650;
    /// `rounds_per_year` of a class: up to one a month.
    pub const ROUNDS_PER_YEAR: RangeInclusive<u32> = 1..=12;
    /// `teams.per_department`: inspectors a department sends to a joint visit.
    pub const PER_DEPARTMENT: RangeInclusive<u32> = 1..=10;
    /// `teams.single_department`: inspectors of a visit one department makes
    /// alone (行政处罚法 Art. 42: at least two).
    pub const SINGLE_DEPARTMENT: RangeInclusive<u32> = 2..=10;
    /// `teams.publication_days`: working days, up to about a year's.
    pub const PUBLICATION_DAYS: RangeInclusive<u32> = 1..=250;
    /// The years of `window.start` and `window.end`.
    pub const WINDOW_YEARS: RangeInclusive<i32> = 1900..=2999;
    /// Days in a window, both ends counted: at most a year.
    pub const WINDOW_DAYS: i64 = 366;
}

/// `value` if it lies in `range`, else an error at the field `at` names.
fn in_range(
    value: u32,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
    at: impl FnOnce() -> Location,
) -> Result<u32> {
    if range.contains(&value) {
        return Ok(value);
    }
    Err(Error::invalid(
        at(),
        format!("{what} from {} to {}", range.start(), range.end()),
        value.to_string(),
    ))
}

fn check_id(value: &str, at: impl FnOnce() -> Location) -> Result<()> {
    if value.trim().is_empty() || value.trim() != value || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            at(),
            "an id (not empty, no surrounding spaces or control characters)",
            value,
        ));
    }
    Ok(())
}

/// Whether a path from a plan is relative (and not empty): an absolute
/// path would put a host's directory layout into the record, and make the
/// draw impossible to replay anywhere else.
fn is_relative_path(path: &str) -> bool {
    let p = std::path::Path::new(path);
    !path.is_empty() && p.is_relative() && !path.starts_with(['/', '\\']) && p.components().next().is_some()
}

impl PlanFile {
    fn validate(self, loc: &dyn Fn(&[Step<'_>]) -> Location) -> Result<Plan> {
        if let Some(spec) = &self.spec
            && spec != crate::key::SPEC_ID
        {
            return Err(Error::invalid(
                loc(&[Step::Key("spec")]),
                "\"DR1\", the spec this crate implements",
                spec,
            ));
        }
        check_id(&self.plan_id, || loc(&[Step::Key("plan_id")]))?;
        check_id(&self.task_id, || loc(&[Step::Key("task_id")]))?;
        check_id(&self.round_id, || loc(&[Step::Key("round_id")]))?;
        let window = Window {
            start: self.window.start.0,
            end: self.window.end.0,
        };
        for (field, date) in [("start", window.start), ("end", window.end)] {
            if !limits::WINDOW_YEARS.contains(&date.year()) {
                return Err(Error::invalid(
                    loc(&[Step::Key("window"), Step::Key(field)]),
                    format!(
                        "a date in the years {} to {}",
                        limits::WINDOW_YEARS.start(),
                        limits::WINDOW_YEARS.end()
                    ),
                    date.to_string(),
                ));
            }
        }
        if window.end < window.start {
            return Err(Error::invalid(
                loc(&[Step::Key("window"), Step::Key("end")]),
                format!("a date on or after the window start {}", window.start),
                window.end.to_string(),
            ));
        }
        if (window.end - window.start).num_days() >= limits::WINDOW_DAYS {
            return Err(Error::invalid(
                loc(&[Step::Key("window"), Step::Key("end")]),
                format!(
                    "a date less than {} days after the window start {} (a window is at most a year)",
                    limits::WINDOW_DAYS,
                    window.start
                ),
                window.end.to_string(),
            ));
        }
        for (key, path) in self.inputs.iter() {
            if !is_relative_path(path) {
                return Err(Error::invalid(
                    loc(&[Step::Key("inputs"), Step::Key(key)]),
                    "a path relative to the plan (a record names no absolute path)",
                    path,
                ));
            }
        }
        let cooldown_days = in_range(self.cooldown_days, limits::COOLDOWN_DAYS, "a number of days", || {
            loc(&[Step::Key("cooldown_days")])
        })?;
        let annual_cap = match self.annual_cap {
            Some(cap) => Some(in_range(cap, limits::ANNUAL_CAP, "a number of visits", || {
                loc(&[Step::Key("annual_cap")])
            })?),
            None => None,
        };
        if let Some(o) = &self.observation {
            in_range(o.days, limits::OBSERVATION_DAYS, "a number of days", || {
                loc(&[Step::Key("observation"), Step::Key("days")])
            })?;
        }
        if self.departments.is_empty() {
            return Err(Error::policy(
                loc(&[Step::Key("departments")]),
                "the plan has no department",
            ));
        }
        let strata = self.strata.unwrap_or_else(|| vec!["region".to_string()]);
        let mut seen_strata = BTreeMap::new();
        for (i, column) in strata.iter().enumerate() {
            if seen_strata.insert(column.as_str(), i).is_some() {
                return Err(Error::policy(
                    loc(&[Step::Key("strata"), Step::Index(i)]),
                    format!("the stratum column {} is listed twice", crate::error::quote(column)),
                ));
            }
        }
        let ratio_order = self.ratio_order.map_or(RatioOrder::NonDecreasing, |o| o.0);
        let mut departments = Vec::with_capacity(self.departments.len());
        let mut seen = BTreeMap::new();
        for (i, d) in self.departments.into_iter().enumerate() {
            let at_dep = |rest: &[Step<'_>]| {
                let mut path = vec![Step::Key("departments"), Step::Index(i)];
                path.extend_from_slice(rest);
                loc(&path)
            };
            check_id(&d.id, || at_dep(&[Step::Key("id")]))?;
            if let Some(first) = seen.insert(d.id.clone(), i) {
                return Err(crate::ErrorKind::DuplicateId {
                    at: at_dep(&[Step::Key("id")]),
                    id: d.id,
                    first_line: line_of_dep(loc, first),
                }
                .into());
            }
            let mut classes: [Option<ClassPolicy>; 4] = Default::default();
            for (name, c) in d.classes {
                let Some(class) = RiskClass::parse(&name) else {
                    return Err(Error::unknown(
                        at_dep(&[Step::Key("classes"), Step::Key(&name)]),
                        "risk class",
                        name,
                    ));
                };
                in_range(
                    c.rounds_per_year,
                    limits::ROUNDS_PER_YEAR,
                    "a number of rounds per year",
                    || at_dep(&[Step::Key("classes"), Step::Key(&name), Step::Key("rounds_per_year")]),
                )?;
                classes[class.index()] = Some(ClassPolicy {
                    ratio: c.ratio,
                    mode: c.mode.0,
                    rounds_per_year: c.rounds_per_year,
                });
            }
            let mut full = Vec::with_capacity(4);
            for class in RiskClass::ALL {
                match classes[class.index()].take() {
                    Some(p) => full.push(p),
                    None => {
                        return Err(Error::policy(
                            at_dep(&[Step::Key("classes")]),
                            format!("class {class} has no policy (every class A to D needs a ratio)"),
                        ));
                    }
                }
            }
            if ratio_order == RatioOrder::NonDecreasing {
                for pair in RiskClass::ALL.windows(2) {
                    let (lo, hi) = (&full[pair[0].index()], &full[pair[1].index()]);
                    if hi.ratio.cmp_value(&lo.ratio).is_lt() {
                        return Err(Error::policy(
                            at_dep(&[Step::Key("classes"), Step::Key(pair[1].as_str()), Step::Key("ratio")]),
                            format!(
                                "the ratio of class {} ({}) is below that of class {} ({}); ratios must not decrease from A to D unless the plan sets \"ratio_order\": \"any\"",
                                pair[1], hi.ratio, pair[0], lo.ratio
                            ),
                        ));
                    }
                }
            }
            let classes: [ClassPolicy; 4] = match full.try_into() {
                Ok(c) => c,
                // OK because exactly four policies were pushed above.
                Err(_) => unreachable!("four class policies"),
            };
            departments.push(DepartmentPolicy {
                name: d.name.unwrap_or_else(|| d.id.clone()),
                id: d.id,
                scope: d.scope,
                items: d.items,
                classes,
            });
        }
        if !seen.contains_key(&self.lead_department) {
            return Err(Error::unknown(
                loc(&[Step::Key("lead_department")]),
                "department",
                self.lead_department,
            ));
        }
        let mut teams = TeamRules::default();
        if let Some(t) = self.teams {
            let at = |field: &'static str| loc(&[Step::Key("teams"), Step::Key(field)]);
            if let Some(n) = t.per_department {
                teams.per_department = in_range(n, limits::PER_DEPARTMENT, "a count", || at("per_department"))?;
            }
            if let Some(n) = t.single_department {
                if n < *limits::SINGLE_DEPARTMENT.start() {
                    return Err(Error::policy(
                        at("single_department"),
                        "a visit needs at least two inspectors (行政处罚法 Art. 42), so single_department must be at least 2",
                    ));
                }
                teams.single_department =
                    in_range(n, limits::SINGLE_DEPARTMENT, "a count", || at("single_department"))?;
            }
            teams.rotation = t.rotation.map_or(teams.rotation, |r| r.0);
            teams.cross_station = t.cross_station.map_or(teams.cross_station, |c| c.0);
            if let Some(n) = t.publication_days {
                teams.publication_days = in_range(n, limits::PUBLICATION_DAYS, "a number of working days", || {
                    at("publication_days")
                })?;
            }
        }
        let observation = self.observation.map(|o| Observation {
            days: o.days,
            classes: o.classes.into_iter().map(|c| c.0).collect(),
        });
        Ok(Plan {
            plan_id: self.plan_id,
            task_id: self.task_id,
            round_id: self.round_id,
            window,
            lead_department: self.lead_department,
            inputs: self.inputs,
            strata,
            unclassified_class: self.unclassified_class.map(|c| c.0),
            cooldown_days,
            annual_cap,
            observation,
            ratio_order,
            teams,
            departments,
        })
    }
}

fn line_of_dep(loc: &dyn Fn(&[Step<'_>]) -> Location, index: usize) -> u64 {
    loc(&[Step::Key("departments"), Step::Index(index), Step::Key("id")])
        .line
        .unwrap_or(0)
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
                if p.rounds_per_year > 1 && self.cooldown_days > interval {
                    out.push(format!(
                        "department {}, class {class}: the cooldown of {} days is longer than the {interval} days between its {} rounds a year, so entities drawn in one round cannot be drawn in the next",
                        d.id, self.cooldown_days, p.rounds_per_year
                    ));
                }
            }
        }
        out
    }
}
