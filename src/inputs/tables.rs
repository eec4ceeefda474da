//! The check-item list, past visits and directed checks: the small CSV
//! inputs of a draw, read with the shared CSV engine in [`io`](super::io).

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result, quote};
use crate::inputs::io::{CsvFile, check_unique, one_of};
use crate::inputs::plan::Plan;
use crate::inputs::population::Population;
use crate::model::{CheckItem, DirectedCheck, DirectedReason, History, ItemKind, Ratio, VisitKind};

/// Reads a check-item list.
pub(crate) fn load_items(file: &str, bytes: &[u8]) -> Result<Vec<CheckItem>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_id = csv.require("id")?;
    let c_dep = csv.require("department")?;
    let c_name = csv.require("name")?;
    let c_kind = csv.require("kind")?;
    let c_max = csv.require("max_ratio")?;
    let c_basis = csv.optional("legal_basis");
    let c_method = csv.optional("method");
    let c_qual = csv.optional("qualification");
    let c_min = csv.optional("min_ratio");
    let mut seen = BTreeMap::new();
    let mut items = Vec::new();
    while let Some(row) = csv.next_row()? {
        let id = row.id(c_id)?;
        check_unique(&mut seen, &id, row.at(c_id))?;
        let kind = row.parse(
            c_kind,
            "an item kind (\"key\", \"general\" or \"public_information\")",
            |v| match v {
                "key" | "重点检查事项" | "重点" => Some(ItemKind::Key),
                "general" | "一般检查事项" | "一般" => Some(ItemKind::General),
                "public_information" | "企业公示信息" | "公示信息" => Some(ItemKind::PublicInformation),
                _ => None,
            },
        )?;
        let max_ratio = match row.get(c_max) {
            "" if kind == ItemKind::General => {
                return Err(Error::invalid(
                    row.at(c_max),
                    "a ratio (a general item needs a max_ratio)",
                    "",
                ));
            }
            "" => None,
            v => Some(
                v.parse::<Ratio>()
                    .map_err(|e| Error::invalid(row.at(c_max), e.to_string(), v))?,
            ),
        };
        let min_ratio = match c_min.filter(|&c| !row.get(c).is_empty()) {
            None => None,
            Some(c) => {
                let (v, at) = (row.get(c), row.at(c));
                let floor = v
                    .parse::<Ratio>()
                    .map_err(|e| Error::invalid(at.clone(), e.to_string(), v))?;
                if let Some(max) = &max_ratio
                    && floor.cmp_value(max).is_gt()
                {
                    return Err(Error::invalid(
                        at,
                        format!("a ratio no higher than the max_ratio {max}"),
                        v,
                    ));
                }
                Some(floor)
            }
        };
        let opt = |c: Option<usize>| c.map(|i| row.get(i).to_string()).unwrap_or_default();
        items.push(CheckItem {
            department: row.id(c_dep)?,
            name: row.get(c_name).to_string(),
            kind,
            max_ratio,
            min_ratio,
            legal_basis: opt(c_basis),
            method: opt(c_method),
            qualification: Some(opt(c_qual)).filter(|q| !q.is_empty()),
            line: row.line,
            id,
        });
    }
    Ok(items)
}

/// The rows of one part of a history file, read before their entities are
/// looked up.
#[derive(Default)]
struct HistoryRows {
    /// The entity ids in one arena, each ending where the next starts.
    arena: String,
    ends: Vec<usize>,
    lines: Vec<u64>,
    visits: History,
}

impl HistoryRows {
    /// Notes a row's entity id (looked up once the entity file is loaded) and line.
    fn entity(&mut self, id: &str, line: u64) {
        self.arena.push_str(id);
        self.ends.push(self.arena.len());
        self.lines.push(line);
    }
}

/// The columns of a history file.
struct HistoryColumns {
    entity: usize,
    department: usize,
    date: usize,
    kind: usize,
    inspectors: usize,
}

/// Reads the rows of one part of a history file (starting on a record
/// boundary, `lines` lines and `offset` bytes in) until the end or the first
/// error; a row that fails after its entity was read has its id in `arena`
/// but no visit.
fn read_history_part(
    file: &str,
    headers: &[String],
    c: &HistoryColumns,
    bytes: &[u8],
    lines: u64,
    offset: u64,
) -> (HistoryRows, Result<()>) {
    if let Some(rows) = read_history_plain(headers.len(), c, bytes, lines) {
        return (rows, Ok(()));
    }
    let mut csv = CsvFile::part(file, headers, bytes, lines, offset);
    let mut rows = HistoryRows::default();
    let mut read = || -> Result<()> {
        while let Some(row) = csv.next_row()? {
            // The entity is read (and later looked up) before the rest of the row.
            rows.entity(row.id_str(c.entity)?, row.line);
            let department = row.id_str(c.department)?;
            let date = row.date(c.date)?;
            let kind = row.parse(c.kind, "a visit kind (\"random\" or \"directed\")", VisitKind::parse)?;
            rows.visits
                .push(
                    0,
                    department,
                    date,
                    kind,
                    crate::inputs::io::list_parts(row.get(c.inspectors)),
                    row.line,
                )
                .ok_or_else(|| history_too_large(file, row.line))?;
        }
        Ok(())
    };
    let read = read();
    (rows, read)
}

/// [`read_history_part`] for a plain part (see [`crate::inputs::io::plain_rows`])
/// whose every value is valid; `None` for any other, which the CSV reader
/// then reads, giving the same rows or the exact error.
fn read_history_plain(width: usize, c: &HistoryColumns, bytes: &[u8], lines: u64) -> Option<HistoryRows> {
    let mut rows = HistoryRows::default();
    // A plain part has one record per line.
    let mut line = lines;
    crate::inputs::io::plain_rows(bytes, width, |fields, _| {
        line += 1;
        let (entity, department) = (fields[c.entity], fields[c.department]);
        if !crate::inputs::io::is_id(entity) || !crate::inputs::io::is_id(department) {
            return None;
        }
        let date = crate::inputs::io::parse_date(fields[c.date])?;
        let kind = VisitKind::parse(fields[c.kind])?;
        rows.entity(entity, line);
        rows.visits.push(
            0,
            department,
            date,
            kind,
            crate::inputs::io::list_parts(fields[c.inspectors]),
            line,
        )
    })?;
    Some(rows)
}

/// A history file read (every row up to the first error), its entities
/// not yet looked up.
pub(crate) struct HistoryRead {
    visits: History,
    parts: Vec<(HistoryRows, Result<()>)>,
}

/// Reads a history file's rows; needs no entity library, so it can run
/// while the entity file loads.
pub(super) fn read_history(file: &str, bytes: &[u8]) -> Result<HistoryRead> {
    let csv = CsvFile::open(file, bytes)?;
    let c = HistoryColumns {
        entity: csv.require("entity_id")?,
        department: csv.require("department")?,
        date: csv.require("date")?,
        kind: csv.require("kind")?,
        inspectors: csv.require("inspector_ids")?,
    };
    let headers = csv.headers().to_vec();
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let body_start = (bom + csv.header_end() as usize).min(bytes.len());
    drop(csv);
    // The rows are read in parts on every core (cut at record boundaries),
    // then joined in file order up to the first part that failed; their
    // entities are looked up afterwards, all at once. The first error in
    // file order is still the one reported.
    let mut cuts = vec![body_start];
    let parts = crate::par::threads();
    if bytes.len() - body_start >= 1 << 20 {
        for k in 1..parts {
            let guess = body_start + (bytes.len() - body_start) * k / parts;
            let from = *cuts.last().unwrap_or(&body_start);
            if let Some(end) = crate::inputs::io::record_boundary(&bytes[from..guess.max(from)]) {
                cuts.push(from + end);
            }
        }
    }
    cuts.push(bytes.len());
    cuts.dedup();
    // Each part with the lines before it, counted once.
    let mut line_base = memchr::memchr_iter(b'\n', &bytes[..body_start]).count() as u64;
    let mut ranges: Vec<(usize, usize, u64)> = Vec::new();
    for w in cuts.windows(2) {
        ranges.push((w[0], w[1], line_base));
        line_base += memchr::memchr_iter(b'\n', &bytes[w[0]..w[1]]).count() as u64;
    }
    let mut read = crate::par::map(&ranges, |&(from, to, lines)| {
        read_history_part(file, &headers, &c, &bytes[from..to], lines, from as u64)
    });
    // The parts up to the first that failed.
    if let Some(k) = read.iter().position(|(_, r)| r.is_err()) {
        read.truncate(k + 1);
    }
    let mut out = History::default();
    for (rows, _) in &mut read {
        let last_line = rows.lines.last().copied().unwrap_or(0);
        out.append(std::mem::take(&mut rows.visits))
            .ok_or_else(|| history_too_large(file, last_line))?;
    }
    Ok(HistoryRead {
        visits: out,
        parts: read,
    })
}

fn history_too_large(file: &str, line: u64) -> Error {
    Error::syntax(Location::line(file, line), "the history is too large")
}

impl HistoryRead {
    /// Each row's entity id, in file order: the rows read in full (the
    /// visits, in order), then a row that failed after its id was read.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        row_ids(&self.parts)
    }

    /// The visits read in full, their entities not yet set.
    pub(crate) fn visits(&self) -> &History {
        &self.visits
    }

    /// Looks up the rows' entities; the first error in file order (an
    /// unknown entity, or the error the reading stopped at) is reported.
    pub(super) fn resolve(self, file: &str, population: &Population) -> Result<History> {
        self.resolve_held(file, population, None)
    }

    /// [`resolve`](HistoryRead::resolve) against a population that holds
    /// only some of the file's entities: `known[i]` tells whether the
    /// entity of row `i` (in the order of [`ids`](HistoryRead::ids)) is in
    /// the file, and the rows of those not held are left out.
    pub(super) fn resolve_held(self, file: &str, population: &Population, known: Option<&[bool]>) -> Result<History> {
        let HistoryRead {
            visits: mut out,
            parts: mut read,
        } = self;
        let ids: Vec<&str> = row_ids(&read).collect();
        let lines: Vec<u64> = read.iter().flat_map(|(rows, _)| rows.lines.iter().copied()).collect();
        let entities = population.positions(&ids);
        let mut held = vec![true; out.len()];
        // A row that failed after its entity was read is in `ids` but not in `out`.
        for (i, ((entity, id), &line)) in entities.into_iter().zip(&ids).zip(&lines).enumerate() {
            match entity {
                None if known.is_some_and(|k| k.get(i) == Some(&true)) => {
                    if let Some(h) = held.get_mut(i) {
                        *h = false;
                    }
                }
                None => {
                    let at = Location::line(file, line).with_field("entity_id");
                    return Err(Error::unknown(at, "entity", id.to_string()));
                }
                Some(e) if i < out.len() => out.set_entity(i, e).ok_or_else(|| history_too_large(file, line))?,
                Some(_) => {}
            }
        }
        match read.pop() {
            Some((_, Err(e))) => Err(e),
            _ if known.is_some() => Ok(out.retain(&held)),
            _ => Ok(out),
        }
    }
}

/// The entity id of each row of the parts, in file order.
fn row_ids(parts: &[(HistoryRows, Result<()>)]) -> impl Iterator<Item = &str> {
    parts.iter().flat_map(|(rows, _)| {
        std::iter::once(0)
            .chain(rows.ends.iter().copied())
            .zip(&rows.ends)
            .map(|(start, &end)| &rows.arena[start..end])
    })
}

pub(super) fn load_directed(
    file: &str,
    bytes: &[u8],
    population: &Population,
    plan: &Plan,
    items: &[CheckItem],
) -> Result<Vec<DirectedCheck>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_entity = csv.require("entity_id")?;
    let c_dep = csv.require("department")?;
    let c_reason = csv.require("reason")?;
    let c_items = csv.require("item_ids")?;
    let reason_expected = format!(
        "a reason ({})",
        one_of(&["complaint", "big_data", "referral", "legal", "commitment"])
    );
    let mut out = Vec::new();
    while let Some(row) = csv.next_row()? {
        let entity_id = row.id(c_entity)?;
        if population.index_of(&entity_id).is_none() {
            return Err(Error::unknown(row.at(c_entity), "entity", entity_id));
        }
        let department = row.id(c_dep)?;
        if plan.department(&department).is_none() {
            return Err(Error::unknown(row.at(c_dep), "department", department));
        }
        let reason = row.parse(c_reason, &reason_expected, DirectedReason::parse)?;
        let item_ids = row.list(c_items);
        if item_ids.is_empty() {
            return Err(Error::invalid(row.at(c_items), "a `;`-separated list of item ids", ""));
        }
        for id in &item_ids {
            match items.iter().find(|i| &i.id == id) {
                None => return Err(Error::unknown(row.at(c_items), "item", id.clone())),
                Some(item) if item.department != department => {
                    return Err(Error::policy(
                        row.at(c_items),
                        format!(
                            "item {} belongs to department {}, not {}",
                            quote(id),
                            quote(&item.department),
                            quote(&department)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        out.push(DirectedCheck {
            entity_id,
            department,
            reason,
            item_ids,
            line: row.line,
        });
    }
    Ok(out)
}
