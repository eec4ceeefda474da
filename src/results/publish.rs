//! The publication (一公开) of a round's results, rebuilt from the draw and
//! the results file, and its record, which `verify` replays.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{DrawnParts, ResultRow, load_results};
use crate::audit::{CRATE_VERSION, FileDigest, Verification};
use crate::error::{Error, Location, Result};
use crate::inputs::Inputs;
use crate::inputs::io::read_file;
use crate::key::{Digest, SPEC_ID};
use crate::model::RiskClass;

/// The files of a publication folder, `publication.json` last.
pub const PUBLICATION_FILES: [&str; 5] = [
    "public.csv",
    "reclassify.csv",
    "penalties.csv",
    "history-rows.csv",
    "publication.json",
];

/// The record of a publication (`publication.json`): the draw and the
/// results it was made from, the publication date, and every file's
/// digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationRecord {
    /// Always `"publication"`.
    pub kind: String,
    /// The draw specification, `DR3`.
    pub spec: String,
    /// The version of this crate that made it.
    pub crate_version: String,
    /// The draw's `record.json`, relative to the publication folder.
    pub draw: FileDigest,
    /// The results file, relative to the publication folder.
    pub results: FileDigest,
    /// The day of publication: rows whose deadline is before it are overdue.
    pub published_on: String,
    /// The results given, and how many found a problem.
    pub results_count: u64,
    /// How many of them found a problem.
    pub problems: u64,
    /// Every other file with its digest.
    pub outputs: Vec<FileDigest>,
}

/// A publication: its files, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Publication {
    /// `(file name, bytes)`, `publication.json` last.
    pub files: Vec<(String, Vec<u8>)>,
    /// The record.
    pub record: PublicationRecord,
    /// The results, checked against the draw.
    pub results: Vec<ResultRow>,
    /// The draw's parts.
    pub drawn: DrawnParts,
    /// The draw's inputs, task by task in the record's order.
    pub inputs: Vec<Inputs>,
}

/// The inputs of every task of a draw, as its record names them, each
/// file checked against the record's digest.
pub(crate) fn draw_inputs(record_path: &Path, drawn: &DrawnParts) -> Result<Vec<Inputs>> {
    let dir = record_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out = Vec::new();
    for task in &drawn.record.tasks {
        let plan_path = dir.join(&task.plan.path);
        let inputs = Inputs::load(&plan_path)?;
        for f in &task.inputs {
            let held = inputs
                .files()
                .iter()
                .find(|l| l.role == f.role && (f.role == "plan" || l.path == f.path));
            if held.map(|l| l.digest.to_hex()) != Some(f.sha256.clone()) {
                return Err(Error::policy(
                    Location::file(
                        plan_path
                            .parent()
                            .unwrap_or(Path::new(""))
                            .join(&f.path)
                            .display()
                            .to_string(),
                    ),
                    format!(
                        "the file differs from the one the draw read ({} names sha256 {}); results are published from the draw's own inputs",
                        record_path.display(),
                        f.sha256
                    ),
                ));
            }
        }
        out.push(inputs);
    }
    Ok(out)
}

impl Publication {
    /// Makes the publication of the draw whose `record.json` is at
    /// `record`, from the results file at `results`, published on
    /// `published_on`; `out` is the folder it will be written to (the
    /// record names the draw and the results relative to it).
    ///
    /// - `public.csv`: one row per task, department, visit (or off-site
    ///   check) and item: plan and task, `定向` or `不定向`, `现场` or
    ///   `非现场`, the authority's name, the entity, the item's name, the
    ///   result code and label, the completion (result) date, the deadline
    ///   (`publication_days` working days after the result date on the
    ///   draw's calendar) and `overdue` when the publication date is after
    ///   it. No inspector data.
    /// - `reclassify.csv`: the entities whose results should raise their
    ///   credit-risk class: a serious result (`6`, `8`, `C`) to D, any
    ///   other problem not corrected on order up one class.
    /// - `penalties.csv`: the credit clocks of every result that led to a
    ///   penalty ([`credit_clock`]).
    /// - `history-rows.csv`: the round's visits as history rows
    ///   ([`history_rows`](crate::audit::history_rows)), for the next
    ///   round's history.
    ///
    /// # Errors
    ///
    /// Every error of [`DrawnParts::read`], of loading the draw's inputs
    /// (which must be the files the draw read), and of [`load_results`].
    pub fn make(record: &Path, results: &Path, published_on: NaiveDate, out: &Path) -> Result<Publication> {
        let drawn = DrawnParts::read(record)?;
        let inputs = draw_inputs(record, &drawn)?;
        let results_name = results.display().to_string();
        let results_bytes = read_file(results, &results_name)?;
        let window_start: BTreeMap<&str, NaiveDate> = inputs
            .iter()
            .map(|i| (i.plan().task_id(), i.plan().window().start()))
            .collect();
        let rows = load_results(&results_name, &results_bytes, &drawn, |part| {
            part.tasks
                .iter()
                .filter_map(|(t, _)| window_start.get(t.as_str()).copied())
                .min()
                .unwrap_or(NaiveDate::MIN)
        })?;
        let by_key: BTreeMap<(&str, &str, &str), &ResultRow> = rows
            .iter()
            .map(|r| ((r.visit_id.as_str(), r.department.as_str(), r.item_id.as_str()), r))
            .collect();
        let public = public_csv(&inputs, &drawn, &by_key, published_on)?;
        let reclassify = reclassify_csv(&inputs, &drawn, &rows);
        let penalties = penalties_csv(&inputs[0], &drawn, &rows);
        let visits_name = record.with_file_name("visits.csv").display().to_string();
        let history = crate::audit::rows_of_visits(&visits_name, &drawn.visits_csv)?;
        let mut files = vec![
            ("public.csv".to_string(), public),
            ("reclassify.csv".to_string(), reclassify),
            ("penalties.csv".to_string(), penalties),
            ("history-rows.csv".to_string(), history.into_bytes()),
        ];
        let record = PublicationRecord {
            kind: "publication".into(),
            spec: SPEC_ID.into(),
            crate_version: CRATE_VERSION.into(),
            draw: FileDigest {
                role: "draw".into(),
                path: crate::place::relative_to(record, out)?,
                sha256: drawn.record_sha256.to_hex(),
            },
            results: FileDigest {
                role: "results".into(),
                path: crate::place::relative_to(results, out)?,
                sha256: Digest::of_bytes(&results_bytes).to_hex(),
            },
            published_on: published_on.to_string(),
            results_count: rows.len() as u64,
            problems: rows
                .iter()
                .filter(|r| r.result.outcome == super::Outcome::Problem)
                .count() as u64,
            outputs: files
                .iter()
                .map(|(name, bytes)| FileDigest {
                    role: name.trim_end_matches(".csv").into(),
                    path: name.clone(),
                    sha256: Digest::of_bytes(bytes).to_hex(),
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&record).unwrap_or_default();
        json.push('\n');
        files.push(("publication.json".into(), json.into_bytes()));
        Ok(Publication {
            files,
            record,
            results: rows,
            drawn,
            inputs,
        })
    }

    /// Writes the files into the new folder `dir`, atomically (a temporary
    /// folder beside it, renamed into place).
    ///
    /// # Errors
    ///
    /// [`OutputRefused`](crate::ErrorKind::OutputRefused) when `dir`
    /// exists (a publication is never replaced: make a new one, whose
    /// record names the same draw), and an [`Io`](crate::ErrorKind::Io)
    /// error when a file cannot be written.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        crate::place::write_new_folder(
            dir,
            self.files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
            "a publication is never replaced (make a new one, whose record names the same draw)",
        )
    }
}

/// The publication date given on the command line (`--on`), as a date.
///
/// # Errors
///
/// An [`InvalidField`](crate::ErrorKind::InvalidField) error naming `--on`.
pub fn publication_date(text: &str) -> Result<NaiveDate> {
    crate::inputs::io::parse_date(text)
        .ok_or_else(|| Error::invalid(Location::file("--on"), "a date (YYYY-MM-DD)", text))
}

/// Writes CSV rows to memory, every value spreadsheet-safe.
pub(super) fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // OK because writing to memory cannot fail.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(row.iter().map(|v| crate::audit::spreadsheet_safe(v).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

fn public_csv(
    inputs: &[Inputs],
    drawn: &DrawnParts,
    results: &BTreeMap<(&str, &str, &str), &ResultRow>,
    published_on: NaiveDate,
) -> Result<Vec<u8>> {
    let mut rows = Vec::new();
    for task in inputs {
        let plan = task.plan();
        for dep in plan.departments() {
            let authority = if dep.name.is_empty() { &dep.id } else { &dep.name };
            // Visits first, then off-site checks, each in id order.
            let mut parts: Vec<_> = drawn
                .parts
                .values()
                .filter(|p| p.department == dep.id)
                .filter_map(|p| {
                    p.tasks
                        .iter()
                        .find(|(t, _)| t == plan.task_id())
                        .map(|(_, items)| (p, items))
                })
                .collect();
            parts.sort_by_key(|(p, _)| (p.date.is_none(), p.visit_id.clone()));
            for (part, items) in parts {
                for item in items {
                    let Some(r) = results.get(&(part.visit_id.as_str(), dep.id.as_str(), item.as_str())) else {
                        continue; // OK because load_results requires every item's result.
                    };
                    let deadline = task
                        .calendar()
                        .add_working_days(r.date, plan.teams().publication_days)?;
                    let name = task.item(item).map_or("", |i| i.name.as_str());
                    rows.push(vec![
                        plan.id().to_string(),
                        plan.task_id().to_string(),
                        if part.random { "不定向" } else { "定向" }.to_string(),
                        if part.date.is_some() { "现场" } else { "非现场" }.to_string(),
                        authority.clone(),
                        part.visit_id.clone(),
                        part.entity_id.clone(),
                        part.entity_name.clone(),
                        item.clone(),
                        name.to_string(),
                        r.result.code.to_string(),
                        r.result.label.to_string(),
                        r.date.to_string(),
                        deadline.to_string(),
                        if published_on > deadline { "yes" } else { "" }.to_string(),
                    ]);
                }
            }
        }
    }
    Ok(csv_bytes(
        &[
            "plan_id",
            "task_id",
            "check_type",
            "method",
            "authority",
            "visit_id",
            "entity_id",
            "entity_name",
            "item_id",
            "item_name",
            "result",
            "result_label",
            "completion_date",
            "deadline",
            "overdue",
        ],
        &rows,
    ))
}

/// When a penalty's publicity ends and when the entity may first apply for
/// credit repair (DOMAIN.md §12; 总局令第45号 and 信用修复管理办法), counted
/// from the day the penalty was decided, from dates in the inputs only:
///
/// - a warning (警告) is never published, so there is nothing to end or repair;
/// - 通报批评 or a low fine: publicity ends after 3 months, and needs no repair;
/// - any other penalty: publicity lasts 3 years; repair may be applied for
///   after 6 months, or after 1 year in the food, drug and special-equipment
///   sectors (`special_sector`).
///
/// Returns `(published, publicity_end, earliest_repair)`.
pub fn credit_clock(
    penalty: super::Penalty,
    decided: NaiveDate,
    special_sector: bool,
) -> (bool, Option<NaiveDate>, Option<NaiveDate>) {
    use super::Penalty as P;
    use chrono::Months;
    match penalty {
        P::Warning => (false, None, None),
        P::Criticism | P::LowFine => (true, decided.checked_add_months(Months::new(3)), None),
        _ => {
            let wait = if special_sector { 12 } else { 6 };
            (
                true,
                decided.checked_add_months(Months::new(36)),
                decided.checked_add_months(Months::new(wait)),
            )
        }
    }
}

/// Whether an item belongs to the food, drug or special-equipment sector,
/// where credit repair waits a year: its name says 食品, 药品 or 特种设备.
fn special_sector(item: Option<&crate::model::CheckItem>) -> bool {
    item.is_some_and(|i| ["食品", "药品", "特种设备"].iter().any(|k| i.name.contains(k)))
}

fn penalties_csv(inputs: &Inputs, drawn: &DrawnParts, results: &[ResultRow]) -> Vec<u8> {
    let mut rows = Vec::new();
    for r in results {
        let Some((penalty, decided)) = r.penalty else {
            continue;
        };
        let Some(part) = drawn.parts.get(&(r.visit_id.clone(), r.department.clone())) else {
            continue;
        };
        let (published, end, repair) = credit_clock(penalty, decided, special_sector(inputs.item(&r.item_id)));
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        rows.push(vec![
            part.entity_id.clone(),
            part.entity_name.clone(),
            r.visit_id.clone(),
            r.department.clone(),
            r.item_id.clone(),
            r.result.code.to_string(),
            penalty.as_str().to_string(),
            decided.to_string(),
            if published { "yes" } else { "no" }.to_string(),
            date(end),
            date(repair),
        ]);
    }
    csv_bytes(
        &[
            "entity_id",
            "entity_name",
            "visit_id",
            "department",
            "item_id",
            "result",
            "penalty",
            "decided",
            "published",
            "publicity_end",
            "earliest_repair",
        ],
        &rows,
    )
}

/// The class an entity's results call for, if above `current`.
fn proposed(current: RiskClass, results: &[&ResultRow]) -> Option<RiskClass> {
    let target = if results.iter().any(|r| r.result.serious) {
        RiskClass::D
    } else if results.iter().any(|r| r.result.raises_class()) {
        RiskClass::ALL[(current.index() + 1).min(3)]
    } else {
        return None;
    };
    (target > current).then_some(target)
}

fn reclassify_csv(inputs: &[Inputs], drawn: &DrawnParts, results: &[ResultRow]) -> Vec<u8> {
    let base = &inputs[0];
    let unclassified = base.plan().unclassified_class();
    let mut by_entity: BTreeMap<&str, Vec<&ResultRow>> = BTreeMap::new();
    for r in results {
        if let Some(part) = drawn.parts.get(&(r.visit_id.clone(), r.department.clone())) {
            by_entity.entry(part.entity_id.as_str()).or_default().push(r);
        }
    }
    let mut rows = Vec::new();
    for (entity_id, results) in by_entity {
        let Some(e) = base.population().index_of(entity_id) else {
            continue;
        };
        let entity = base.population().entity(e);
        let current = entity.class();
        let Some(treated) = current.or(unclassified) else {
            continue;
        };
        let Some(target) = proposed(treated, &results) else {
            continue;
        };
        let name = drawn
            .parts
            .values()
            .find(|p| p.entity_id == entity_id)
            .map_or("", |p| p.entity_name.as_str());
        let why: Vec<String> = results
            .iter()
            .filter(|r| r.result.raises_class())
            .map(|r| format!("{} {} {} {}", r.visit_id, r.department, r.item_id, r.result.code))
            .collect();
        rows.push(vec![
            entity_id.to_string(),
            name.to_string(),
            current.map_or("", RiskClass::as_str).to_string(),
            target.as_str().to_string(),
            why.join(";"),
        ]);
    }
    csv_bytes(
        &["entity_id", "entity_name", "class", "proposed_class", "results"],
        &rows,
    )
}

/// Whether a file is a publication record (its JSON says `"kind":
/// "publication"`) rather than a draw's record; `false` when it cannot be
/// read or parsed.
pub fn is_publication(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v["kind"] == "publication")
}

/// Verifies a publication: the draw and the results it names must be the
/// files it was made from, and every file is made again and compared.
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) or [`Syntax`](crate::ErrorKind::Syntax)
/// error when `publication.json` cannot be read; every other problem is a
/// difference.
pub fn verify_publication(path: &Path) -> Result<Verification> {
    let name = path.display().to_string();
    let bytes = read_file(path, &name)?;
    let record: PublicationRecord = crate::inputs::json::parse(&name, &bytes)?;
    let dir: PathBuf = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut v = Verification::default();
    if record.kind != "publication" {
        return Err(Error::syntax(
            Location::file(&name).with_field("kind"),
            "not a publication record",
        ));
    }
    for f in [&record.draw, &record.results] {
        let p = dir.join(&f.path);
        match crate::inputs::io::open_regular(&p).and_then(Digest::of_reader) {
            Ok(d) if d.to_hex() == f.sha256 => {}
            Ok(d) => v.differences.push(format!(
                "{}: sha256 {} differs from the publication's {}",
                f.path,
                d.to_hex(),
                f.sha256
            )),
            Err(e) => v.differences.push(format!("{}: cannot be read ({e})", f.path)),
        }
    }
    if !v.differences.is_empty() {
        return Ok(v);
    }
    let Some(on) = crate::inputs::io::parse_date(&record.published_on) else {
        v.differences.push(format!("{name}: published_on is not a date"));
        return Ok(v);
    };
    let again = match Publication::make(&dir.join(&record.draw.path), &dir.join(&record.results.path), on, &dir) {
        Ok(p) => p,
        Err(e) => {
            v.differences
                .push(format!("{name}: the publication cannot be made again: {e}"));
            return Ok(v);
        }
    };
    for (file, made) in &again.files {
        match std::fs::read(dir.join(file)) {
            Ok(found) if &found == made => {}
            Ok(_) => v
                .differences
                .push(format!("{file}: differs from the publication made again")),
            Err(e) => v.differences.push(format!("{file}: cannot be read ({e})")),
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Penalty;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn credit_clocks_follow_the_rules() {
        assert_eq!(
            credit_clock(Penalty::Warning, day("2027-05-10"), false),
            (false, None, None)
        );
        assert_eq!(
            credit_clock(Penalty::LowFine, day("2027-05-10"), false),
            (true, Some(day("2027-08-10")), None)
        );
        assert_eq!(
            credit_clock(Penalty::Fine, day("2027-05-10"), false),
            (true, Some(day("2030-05-10")), Some(day("2027-11-10")))
        );
        // Food, drugs and special equipment wait a year; month ends stay in the month.
        assert_eq!(
            credit_clock(Penalty::LicenceRevoked, day("2027-08-31"), true),
            (true, Some(day("2030-08-31")), Some(day("2028-08-31")))
        );
        assert_eq!(
            credit_clock(Penalty::Criticism, day("2027-11-30"), false).1,
            Some(day("2028-02-29"))
        );
    }
}
