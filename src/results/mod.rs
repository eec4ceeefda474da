//! After the visits: results, publication and feedback (谁检查、谁录入、谁公开).
//!
//! - [`RESULT_CODES`]: the national result vocabulary, codes with their
//!   Chinese labels.
//! - [`DrawnParts`]: what a draw asks results for, read back from its verified
//!   output files: every visit part (and off-site check) with its items.
//! - [`load_results`]: a results file checked against it, every error
//!   positioned.
//! - [`Publication`](publish::Publication): the publication (一公开)
//!   rebuilt from the draw and the results, with deadlines counted from the
//!   result dates, the re-classification list, and a publication record
//!   that [`verify_publication`](publish::verify_publication) replays.
//! - [`Notices`](notices::Notices): before the visits, one notice per
//!   drawn enterprise (一次告知) and the pre-warning list (事前失信警示提醒).
//! - `calibrate` (feature `fairness`): problem rates by class, department
//!   and item with exact intervals, the trend across A→D and each class's
//!   lift: whether the classes predict what inspections find.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use crate::audit::AuditRecord;
use crate::error::{Error, Location, Result, quote};
use crate::inputs::io::{CsvFile, one_of, read_file};
use crate::key::Digest;

#[cfg(feature = "fairness")]
pub mod calibrate;
pub mod notices;
pub mod publish;

/// What a result says about the item checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// No problem found (未发现问题), or no activity the check is about.
    Clean,
    /// A problem was found.
    Problem,
    /// The entity could not be checked: closed, deregistered, revoked, moved.
    NotCheckable,
}

/// One result code of the national vocabulary (DOMAIN.md §15), with its
/// label and what it says; `P` (发现问题待后续处理) is this library's code
/// for a value the interface has without a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultCode {
    /// The code, as the national record writes it.
    pub code: &'static str,
    /// The Chinese label.
    pub label: &'static str,
    /// What it says.
    pub outcome: Outcome,
    /// Whether it is serious enough to put the entity in class D (a
    /// falsified publication, an unreachable registered address, a serious
    /// refusal to cooperate); other problems not corrected raise the class
    /// by one.
    pub serious: bool,
}

const fn code(code: &'static str, label: &'static str, outcome: Outcome, serious: bool) -> ResultCode {
    ResultCode {
        code,
        label,
        outcome,
        serious,
    }
}

/// The result vocabulary, in the national record's order.
pub const RESULT_CODES: [ResultCode; 18] = [
    code("1", "未发现问题", Outcome::Clean, false),
    code("3", "违反食品药品管理相关规定", Outcome::Problem, false),
    code("4", "违反质量技术监督相关规定", Outcome::Problem, false),
    code("5", "违反其他部门相关规定", Outcome::Problem, false),
    code("6", "通过登记的住所（经营场所）无法联系", Outcome::Problem, true),
    code("7", "已关闭停业或正在清算", Outcome::NotCheckable, false),
    code("8", "不配合检查情节严重", Outcome::Problem, true),
    code("9", "注销", Outcome::NotCheckable, false),
    code("10", "被吊销", Outcome::NotCheckable, false),
    code("11", "被撤销", Outcome::NotCheckable, false),
    code("12", "迁出", Outcome::NotCheckable, false),
    code("B", "未按规定公示应当公示的信息", Outcome::Problem, false),
    code("C", "公示信息隐瞒真实情况弄虚作假", Outcome::Problem, true),
    code("D", "违反其他工商行政管理规定行为", Outcome::Problem, false),
    code("E", "发现问题经责令已改正", Outcome::Problem, false),
    code("F", "未发现开展本次抽查涉及的经营活动", Outcome::Clean, false),
    code("G", "违反公安部门相关规定", Outcome::Problem, false),
    code("P", "发现问题待后续处理", Outcome::Problem, false),
];

impl ResultCode {
    /// The code given as its code or its Chinese label.
    pub fn parse(text: &str) -> Option<ResultCode> {
        RESULT_CODES.iter().copied().find(|c| c.code == text || c.label == text)
    }

    /// Whether the result raises the entity's class: a problem that was
    /// not corrected on order (`E` was).
    pub fn raises_class(self) -> bool {
        self.outcome == Outcome::Problem && self.code != "E"
    }
}

/// A follow-up of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FollowUp {
    /// 责令改正: ordered to correct.
    OrderCorrection,
    /// 立案: a case was filed.
    CaseFiled,
}

impl FollowUp {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::OrderCorrection => "order_correction",
            FollowUp::CaseFiled => "case_filed",
        }
    }

    fn parse(text: &str) -> Option<FollowUp> {
        match text {
            "order_correction" | "责令改正" => Some(FollowUp::OrderCorrection),
            "case_filed" | "立案" => Some(FollowUp::CaseFiled),
            _ => None,
        }
    }
}

/// An administrative penalty that followed a result (DOMAIN.md §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Penalty {
    /// 警告: never published.
    Warning,
    /// 通报批评.
    Criticism,
    /// 较低数额罚款 (as the province defines a low fine).
    LowFine,
    /// 罚款 above the low-fine limit.
    Fine,
    /// 没收违法所得、没收非法财物.
    Confiscation,
    /// 责令停产停业.
    Suspension,
    /// 限制开展生产经营活动.
    Restriction,
    /// 限制从业.
    EmploymentBan,
    /// 降低资质等级.
    Downgrade,
    /// 吊销许可证件.
    PermitRevoked,
    /// 吊销营业执照.
    LicenceRevoked,
}

const PENALTIES: [(Penalty, &str, &str); 11] = [
    (Penalty::Warning, "warning", "警告"),
    (Penalty::Criticism, "criticism", "通报批评"),
    (Penalty::LowFine, "low_fine", "较低数额罚款"),
    (Penalty::Fine, "fine", "罚款"),
    (Penalty::Confiscation, "confiscation", "没收"),
    (Penalty::Suspension, "suspension", "责令停产停业"),
    (Penalty::Restriction, "restriction", "限制开展生产经营活动"),
    (Penalty::EmploymentBan, "employment_ban", "限制从业"),
    (Penalty::Downgrade, "downgrade", "降低资质等级"),
    (Penalty::PermitRevoked, "permit_revoked", "吊销许可证件"),
    (Penalty::LicenceRevoked, "licence_revoked", "吊销营业执照"),
];

impl Penalty {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        PENALTIES.iter().find(|p| p.0 == self).map_or("", |p| p.1)
    }

    fn parse(text: &str) -> Option<Penalty> {
        PENALTIES.iter().find(|p| p.1 == text || p.2 == text).map(|p| p.0)
    }
}

/// One visit part (or off-site check) of a draw: what results are due for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrawnPart {
    /// The visit id (`V…`) or off-site check id (`R…`).
    pub visit_id: String,
    /// The department.
    pub department: String,
    /// The entity.
    pub entity_id: String,
    /// Its name.
    pub entity_name: String,
    /// The visit date; `None` for an off-site check.
    pub date: Option<NaiveDate>,
    /// Whether the department drew the entity (不定向); else only directed checks brought it (定向).
    pub random: bool,
    /// Per task: the task id and the items of that task, in order.
    pub tasks: Vec<(String, Vec<String>)>,
}

impl DrawnPart {
    /// Every item of the part, each once, in order.
    pub fn items(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for item in self.tasks.iter().flat_map(|(_, items)| items) {
            if !out.contains(&item.as_str()) {
                out.push(item);
            }
        }
        out
    }
}

/// What a draw asks results for: its visit parts and off-site checks, read
/// from its `public.csv`, `visits.csv` and `offsite.csv`, each checked
/// against the record's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrawnParts {
    /// The record.
    pub record: AuditRecord,
    /// The record's SHA-256.
    pub record_sha256: Digest,
    /// The parts, keyed by (visit id, department).
    pub parts: BTreeMap<(String, String), DrawnPart>,
    /// The draw's `visits.csv`, as read and checked (for its history rows).
    pub(crate) visits_csv: Vec<u8>,
}

impl DrawnParts {
    /// Reads the draw whose `record.json` is at `record`.
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error when a file cannot be read, a
    /// [`Syntax`](crate::ErrorKind::Syntax) error when the record is not
    /// one, and a [`Policy`](crate::ErrorKind::Policy) error when an output
    /// file differs from the record (verify the draw first).
    pub fn read(record: &Path) -> Result<DrawnParts> {
        let name = record.display().to_string();
        let bytes = read_file(record, &name)?;
        let parsed = AuditRecord::from_json(&name, &bytes)?;
        let read_output = |file: &str| crate::audit::read_output(record, &parsed, file);
        let mut parts: BTreeMap<(String, String), DrawnPart> = BTreeMap::new();
        // visits.csv: each part's basis (random when the department drew the entity).
        let visits = read_output("visits.csv")?;
        let visits_name = record.with_file_name("visits.csv").display().to_string();
        let mut basis: BTreeMap<(String, String), bool> = BTreeMap::new();
        let mut csv = CsvFile::open(&visits_name, &visits)?;
        let (c_visit, c_basis) = (csv.require("visit_id")?, csv.require("basis")?);
        while let Some(row) = csv.next_row()? {
            for part in row.get(c_basis).split(';') {
                if let Some((dep, kinds)) = part.split_once(':') {
                    let random = kinds.split('+').any(|k| k == "random");
                    basis.insert((row.get(c_visit).to_string(), dep.to_string()), random);
                }
            }
        }
        // public.csv: each task's part of each visit, with that task's items.
        let public = read_output("public.csv")?;
        let public_name = record.with_file_name("public.csv").display().to_string();
        let mut csv = CsvFile::open(&public_name, &public)?;
        let c = |n: &str| csv.require(n);
        let (c_task, c_dep, c_visit, c_entity, c_name, c_items, c_date) = (
            c("task_id")?,
            c("department")?,
            c("visit_id")?,
            c("entity_id")?,
            c("entity_name")?,
            c("items")?,
            c("visit_date")?,
        );
        while let Some(row) = csv.next_row()? {
            let key = (row.get(c_visit).to_string(), row.get(c_dep).to_string());
            let part = parts.entry(key.clone()).or_insert_with(|| DrawnPart {
                visit_id: key.0.clone(),
                department: key.1.clone(),
                entity_id: row.get(c_entity).to_string(),
                entity_name: unneutralised(row.get(c_name)).to_string(),
                date: crate::inputs::io::parse_date(row.get(c_date)),
                random: basis.get(&key).copied().unwrap_or(false),
                tasks: Vec::new(),
            });
            part.tasks.push((row.get(c_task).to_string(), row.list(c_items)));
        }
        // offsite.csv: each off-site check, a part of its own.
        let offsite = read_output("offsite.csv")?;
        let offsite_name = record.with_file_name("offsite.csv").display().to_string();
        let mut csv = CsvFile::open(&offsite_name, &offsite)?;
        let c = |n: &str| csv.require(n);
        let (c_id, c_task, c_dep, c_entity, c_name, c_items) = (
            c("check_id")?,
            c("task_id")?,
            c("department")?,
            c("entity_id")?,
            c("entity_name")?,
            c("items")?,
        );
        while let Some(row) = csv.next_row()? {
            let key = (row.get(c_id).to_string(), row.get(c_dep).to_string());
            parts.insert(
                key.clone(),
                DrawnPart {
                    visit_id: key.0,
                    department: key.1,
                    entity_id: row.get(c_entity).to_string(),
                    entity_name: unneutralised(row.get(c_name)).to_string(),
                    date: None,
                    random: true,
                    tasks: vec![(row.get(c_task).to_string(), row.list(c_items))],
                },
            );
        }
        Ok(DrawnParts {
            record: parsed,
            record_sha256: Digest::of_bytes(&bytes),
            parts,
            visits_csv: visits,
        })
    }
}

/// A value as it was before the spreadsheet-safe writer put a `'` in front of it.
fn unneutralised(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}

/// One row of a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultRow {
    /// The visit (or off-site check) id.
    pub visit_id: String,
    /// The department.
    pub department: String,
    /// The item.
    pub item_id: String,
    /// The result.
    pub result: ResultCode,
    /// The day the result was recorded (the check's completion).
    pub date: NaiveDate,
    /// The follow-up, if any.
    pub follow_up: Option<FollowUp>,
    /// The penalty that followed, if any, and the day it was decided.
    pub penalty: Option<(Penalty, NaiveDate)>,
    /// The 1-based line in the results file.
    pub line: u64,
}

/// Reads a results file (`visit_id, department, item_id, result,
/// result_date`, and optionally `follow_up`, `penalty`, `penalty_date`)
/// and checks it against the draw: every result belongs to a drawn visit
/// part (or off-site check) and one of its items, none is given twice or
/// dated before the visit (an off-site check: before `earliest`, the
/// window's start), and every item of every part has one.
///
/// # Errors
///
/// A [`Syntax`](crate::ErrorKind::Syntax),
/// [`InvalidField`](crate::ErrorKind::InvalidField),
/// [`UnknownReference`](crate::ErrorKind::UnknownReference) or
/// [`Policy`](crate::ErrorKind::Policy) error naming the file, line and
/// field.
pub fn load_results(
    file: &str,
    bytes: &[u8],
    drawn: &DrawnParts,
    earliest: impl Fn(&DrawnPart) -> NaiveDate,
) -> Result<Vec<ResultRow>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_visit = csv.require("visit_id")?;
    let c_dep = csv.require("department")?;
    let c_item = csv.require("item_id")?;
    let c_result = csv.require("result")?;
    let c_date = csv.require("result_date")?;
    let c_follow = csv.optional("follow_up");
    let c_penalty = csv.optional("penalty");
    let c_penalty_date = csv.optional("penalty_date");
    let codes: Vec<&str> = RESULT_CODES.iter().map(|c| c.code).collect();
    let result_expected = format!("a result code ({}) or its Chinese label", codes.join(", "));
    let follow_expected = format!(
        "a follow-up ({}) or nothing",
        one_of(&["order_correction", "case_filed"])
    );
    let penalty_names: Vec<&str> = PENALTIES.iter().map(|p| p.1).collect();
    let penalty_expected = format!("a penalty ({}) or nothing", one_of(&penalty_names));
    let mut seen: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut out = Vec::new();
    while let Some(row) = csv.next_row()? {
        let visit_id = row.id(c_visit)?;
        let department = row.id(c_dep)?;
        let item_id = row.id(c_item)?;
        let Some(part) = drawn.parts.get(&(visit_id.clone(), department.clone())) else {
            let visited = drawn.parts.keys().any(|(v, _)| *v == visit_id);
            return Err(if visited {
                Error::policy(
                    row.at(c_dep),
                    format!(
                        "department {} takes no part in {}",
                        quote(&department),
                        quote(&visit_id)
                    ),
                )
            } else {
                Error::unknown(row.at(c_visit), "visit or off-site check of the draw", visit_id)
            });
        };
        if !part.items().contains(&item_id.as_str()) {
            return Err(Error::policy(
                row.at(c_item),
                format!(
                    "item {} is not checked by {} in {} (its items: {})",
                    quote(&item_id),
                    department,
                    visit_id,
                    part.items().join(";")
                ),
            ));
        }
        let key = (visit_id.clone(), department.clone(), item_id.clone());
        if let Some(first) = seen.insert(key, row.line) {
            return Err(Error::policy(
                Location::line(file, row.line).with_field("item_id"),
                format!("a second result for {visit_id} {department} {item_id} (the first is on line {first})"),
            ));
        }
        let result = row.parse(c_result, &result_expected, ResultCode::parse)?;
        let date = row.date(c_date)?;
        let not_before = part.date.unwrap_or_else(|| earliest(part));
        if date < not_before {
            return Err(Error::policy(
                row.at(c_date),
                match part.date {
                    Some(visit) => format!("the result date {date} is before the visit on {visit}"),
                    None => format!("the result date {date} is before the task window starts on {not_before}"),
                },
            ));
        }
        let follow_up = match c_follow {
            Some(c) if !row.get(c).is_empty() => Some(row.parse(c, &follow_expected, FollowUp::parse)?),
            _ => None,
        };
        let penalty = match c_penalty {
            Some(c) if !row.get(c).is_empty() => {
                let p = row.parse(c, &penalty_expected, Penalty::parse)?;
                let Some(cd) = c_penalty_date.filter(|&cd| !row.get(cd).is_empty()) else {
                    return Err(Error::policy(
                        Location::line(file, row.line).with_field("penalty_date"),
                        "a penalty needs the date it was decided (penalty_date)",
                    ));
                };
                let decided = row.date(cd)?;
                if decided < date {
                    return Err(Error::policy(
                        row.at(cd),
                        format!("the penalty date {decided} is before the result date {date}"),
                    ));
                }
                Some((p, decided))
            }
            _ => {
                if let Some(cd) = c_penalty_date.filter(|&cd| !row.get(cd).is_empty()) {
                    return Err(Error::policy(row.at(cd), "a penalty date without a penalty"));
                }
                None
            }
        };
        out.push(ResultRow {
            visit_id,
            department,
            item_id,
            result,
            date,
            follow_up,
            penalty,
            line: row.line,
        });
    }
    // Every item of every part has its result.
    let mut missing = Vec::new();
    for part in drawn.parts.values() {
        for item in part.items() {
            let key = (part.visit_id.clone(), part.department.clone(), item.to_string());
            if !seen.contains_key(&key) {
                missing.push(format!("{} {} {}", part.visit_id, part.department, item));
            }
        }
    }
    if let Some(first) = missing.first() {
        return Err(Error::policy(
            Location::file(file),
            format!(
                "no result for {first}{}; every item of every visit part and off-site check needs one",
                match missing.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            ),
        ));
    }
    Ok(out)
}
