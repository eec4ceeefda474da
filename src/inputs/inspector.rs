//! The inspector library (执法检查人员名录库) and recusal pairs (回避).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::inputs::io::{CsvFile, check_unique, parse_date};
use crate::inputs::population::Population;

/// An enforcement inspector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspector {
    /// The inspector id.
    pub id: String,
    /// The name (never published).
    pub name: String,
    /// The department whose roster the inspector is on.
    pub department: String,
    /// The station (region or unit); compared with entities' `region` by the cross-station rule.
    pub station: String,
    /// The last day the enforcement certificate (执法证) is valid.
    pub certificate_valid_until: NaiveDate,
    /// Qualification tags (执法资质, 业务专长).
    pub qualifications: BTreeSet<String>,
    /// The most visits in one task round.
    pub max_visits: u32,
    /// The most visits on one day.
    pub max_per_day: u32,
    /// Dates the inspector is unavailable.
    pub unavailable: BTreeSet<NaiveDate>,
    /// The 1-based line of the input.
    pub line: u64,
}

/// A recusal pair: the inspector must not visit the entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The inspector.
    pub inspector_id: String,
    /// The entity.
    pub entity_id: String,
    /// Why (a near relative, an interest …).
    pub reason: String,
    /// The 1-based line of the input.
    pub line: u64,
}

fn count(v: &str) -> Option<u32> {
    v.parse::<u32>().ok().filter(|&n| n > 0)
}

/// Reads the inspector library.
pub(crate) fn load_inspectors(file: &str, bytes: &[u8]) -> Result<Vec<Inspector>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_id = csv.require("id")?;
    let c_name = csv.require("name")?;
    let c_dep = csv.require("department")?;
    let c_station = csv.require("station")?;
    let c_cert = csv.require("certificate_valid_until")?;
    let c_qual = csv.require("qualifications")?;
    let c_max = csv.require("max_visits")?;
    let c_day = csv.require("max_per_day")?;
    let c_unavail = csv.require("unavailable")?;
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    while let Some(row) = csv.next_row()? {
        let id = row.id(c_id)?;
        check_unique(&mut seen, &id, row.at(c_id))?;
        let mut unavailable = BTreeSet::new();
        for d in row.list(c_unavail) {
            let date = parse_date(&d).ok_or_else(|| {
                Error::invalid(
                    row.at(c_unavail),
                    "a `;`-separated list of dates (YYYY-MM-DD)",
                    d.clone(),
                )
            })?;
            unavailable.insert(date);
        }
        out.push(Inspector {
            name: row.get(c_name).to_string(),
            department: row.id(c_dep)?,
            station: row.get(c_station).to_string(),
            certificate_valid_until: row.date(c_cert)?,
            qualifications: row.list(c_qual).into_iter().collect(),
            max_visits: row.parse(c_max, "a whole number of visits of at least 1", count)?,
            max_per_day: row.parse(c_day, "a whole number of visits of at least 1", count)?,
            unavailable,
            line: row.line,
            id,
        });
    }
    // An empty library would quietly give visits without teams, while a
    // library that lacks one department is an error: name it instead.
    if out.is_empty() {
        return Err(Error::syntax(
            crate::Location::file(file),
            "the file has no inspectors (only a header); to draw without teams, leave the inspectors out of the plan",
        ));
    }
    Ok(out)
}

/// Reads recusal pairs, checking both ids exist.
pub(crate) fn load_conflicts(
    file: &str,
    bytes: &[u8],
    inspectors: &[Inspector],
    population: &Population,
) -> Result<Vec<Conflict>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_insp = csv.require("inspector_id")?;
    let c_entity = csv.require("entity_id")?;
    let c_reason = csv.require("reason")?;
    let known: BTreeSet<&str> = inspectors.iter().map(|i| i.id.as_str()).collect();
    let mut out = Vec::new();
    while let Some(row) = csv.next_row()? {
        let inspector_id = row.id(c_insp)?;
        if !known.contains(inspector_id.as_str()) {
            return Err(Error::unknown(row.at(c_insp), "inspector", inspector_id));
        }
        let entity_id = row.id(c_entity)?;
        if population.index_of(&entity_id).is_none() {
            return Err(Error::unknown(row.at(c_entity), "entity", entity_id));
        }
        out.push(Conflict {
            inspector_id,
            entity_id,
            reason: row.get(c_reason).to_string(),
            line: row.line,
        });
    }
    Ok(out)
}
