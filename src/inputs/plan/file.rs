//! The plan file as written: the serde shapes of its JSON, the accepted
//! range of every number, and the validation that turns it into a
//! [`Plan`] with every error positioned.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::error::{Error, Location, Result};
use crate::inputs::io::parse_date;
use crate::inputs::json::Step;
use crate::model::{Mode, RATIO_EXPECTED, Ratio, RiskClass, VisitKind};

use super::{
    ClassLimits, ClassPolicy, CountedKinds, CrossStation, DepartmentPolicy, Encoding, InputPaths, Observation, Plan,
    RatioOrder, Rotation, TeamRules, Window,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanFile {
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
    #[serde(default, deserialize_with = "crate::inputs::json::unique_map")]
    class_limits: BTreeMap<String, ClassLimitsFile>,
    #[serde(default)]
    cooldown_counts: Option<Vec<String>>,
    #[serde(default)]
    annual_cap_counts: Option<Vec<String>>,
    #[serde(default)]
    observation: Option<ObservationFile>,
    #[serde(default)]
    ratio_order: Option<RatioOrderName>,
    #[serde(default)]
    teams: Option<TeamsFile>,
    #[serde(default, deserialize_with = "crate::inputs::json::unique_map")]
    encodings: BTreeMap<String, String>,
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
struct ClassLimitsFile {
    #[serde(default)]
    cooldown_days: Option<u32>,
    #[serde(default)]
    annual_cap: Option<u32>,
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
    pub(super) fn validate(self, loc: &dyn Fn(&[Step<'_>]) -> Location) -> Result<Plan> {
        if let Some(spec) = &self.spec
            && spec != crate::key::SPEC_ID
        {
            return Err(Error::invalid(
                loc(&[Step::Key("spec")]),
                "\"DR3\", the spec this crate implements",
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
        // Each class's limits: the plan-wide ones unless `class_limits` says otherwise.
        let mut class_limits = [ClassLimits {
            cooldown_days,
            annual_cap,
        }; 4];
        for (name, l) in &self.class_limits {
            let at = |field: &'static str| loc(&[Step::Key("class_limits"), Step::Key(name), Step::Key(field)]);
            let Some(class) = RiskClass::parse(name) else {
                return Err(Error::unknown(
                    loc(&[Step::Key("class_limits"), Step::Key(name)]),
                    "risk class",
                    name.clone(),
                ));
            };
            let own = &mut class_limits[class.index()];
            if let Some(days) = l.cooldown_days {
                own.cooldown_days = in_range(days, limits::COOLDOWN_DAYS, "a number of days", || at("cooldown_days"))?;
            }
            if let Some(cap) = l.annual_cap {
                own.annual_cap = Some(in_range(cap, limits::ANNUAL_CAP, "a number of visits", || {
                    at("annual_cap")
                })?);
            }
        }
        let counted = |field: &'static str, kinds: Option<&Vec<String>>, default: CountedKinds| {
            let Some(kinds) = kinds else { return Ok(default) };
            if kinds.is_empty() {
                return Err(Error::policy(
                    loc(&[Step::Key(field)]),
                    "the list is empty; leave the field out, or name the kinds of visit that count",
                ));
            }
            let mut out = CountedKinds {
                random: false,
                directed: false,
            };
            for (i, k) in kinds.iter().enumerate() {
                let at = || loc(&[Step::Key(field), Step::Index(i)]);
                let flag = match VisitKind::parse(k) {
                    Some(VisitKind::Random) => &mut out.random,
                    Some(VisitKind::Directed) => &mut out.directed,
                    _ => {
                        return Err(Error::invalid(
                            at(),
                            "a visit kind (\"random\" or \"directed\")",
                            k.clone(),
                        ));
                    }
                };
                if std::mem::replace(flag, true) {
                    return Err(Error::policy(
                        at(),
                        format!("{} is listed twice", crate::error::quote(k)),
                    ));
                }
            }
            Ok(out)
        };
        let cooldown_counts = counted("cooldown_counts", self.cooldown_counts.as_ref(), CountedKinds::ALL)?;
        let annual_cap_counts = counted(
            "annual_cap_counts",
            self.annual_cap_counts.as_ref(),
            CountedKinds::RANDOM,
        )?;
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
                // Among the classes drawn: a trigger-only class, or one at
                // ratio 0 (not drawn in this round of a program), has no
                // ratio to order.
                let drawn: Vec<RiskClass> = RiskClass::ALL
                    .into_iter()
                    .filter(|c| {
                        let p = &full[c.index()];
                        p.mode != Mode::TriggerOnly && !p.ratio.is_zero()
                    })
                    .collect();
                for pair in drawn.windows(2) {
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
        let mut encodings = BTreeMap::new();
        for (role, label) in self.encodings {
            let at = || loc(&[Step::Key("encodings"), Step::Key(&role)]);
            let Some((role, _)) = self.inputs.iter().find(|(r, _)| *r == role) else {
                return Err(Error::policy(
                    at(),
                    format!(
                        "\"{role}\" is not an input file of the plan ({})",
                        self.inputs.iter().map(|(r, _)| r).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            let Some(encoding) = Encoding::from_label(&label) else {
                return Err(Error::invalid(
                    at(),
                    "an encoding (utf-8 or gb18030; gbk reads as gb18030)",
                    label,
                ));
            };
            encodings.insert(role, encoding);
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
            class_limits,
            cooldown_counts,
            annual_cap_counts,
            observation,
            ratio_order,
            teams,
            encodings,
            departments,
        })
    }
}

fn line_of_dep(loc: &dyn Fn(&[Step<'_>]) -> Location, index: usize) -> u64 {
    loc(&[Step::Key("departments"), Step::Index(index), Step::Key("id")])
        .line
        .unwrap_or(0)
}
