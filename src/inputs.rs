//! Loading every input of a draw: the plan and the CSV files it names,
//! checked against each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::calendar::Calendar;
use crate::error::{Error, Location, Result, quote};
use crate::inspector::{Conflict, Inspector, load_conflicts, load_inspectors};
use crate::io::{CsvFile, check_unique, one_of, read_file, read_rows};
use crate::json::{Step, line_of, render};
use crate::key::Digest;
use crate::model::{CheckItem, DirectedCheck, DirectedReason, History, ItemKind, Mode, Ratio, RiskClass, VisitKind};
use crate::plan::Plan;
use crate::population::{Keep, Population};

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
    let mut seen = BTreeMap::new();
    let mut items = Vec::new();
    while let Some(row) = csv.next_row()? {
        let id = row.id(c_id)?;
        check_unique(&mut seen, &id, row.at(c_id))?;
        let kind = row.parse(c_kind, "an item kind (\"key\" or \"general\")", |v| match v {
            "key" => Some(ItemKind::Key),
            "general" => Some(ItemKind::General),
            _ => None,
        })?;
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
        let opt = |c: Option<usize>| c.map(|i| row.get(i).to_string()).unwrap_or_default();
        items.push(CheckItem {
            department: row.id(c_dep)?,
            name: row.get(c_name).to_string(),
            kind,
            max_ratio,
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
                    crate::io::list_parts(row.get(c.inspectors)),
                    row.line,
                )
                .ok_or_else(|| history_too_large(file, row.line))?;
        }
        Ok(())
    };
    let read = read();
    (rows, read)
}

/// [`read_history_part`] for a plain part (see [`crate::io::plain_rows`])
/// whose every value is valid; `None` for any other, which the CSV reader
/// then reads, giving the same rows or the exact error.
fn read_history_plain(width: usize, c: &HistoryColumns, bytes: &[u8], lines: u64) -> Option<HistoryRows> {
    let mut rows = HistoryRows::default();
    // A plain part has one record per line.
    let mut line = lines;
    crate::io::plain_rows(bytes, width, |fields, _| {
        line += 1;
        let (entity, department) = (fields[c.entity], fields[c.department]);
        if !crate::io::is_id(entity) || !crate::io::is_id(department) {
            return None;
        }
        let date = crate::io::parse_date(fields[c.date])?;
        let kind = VisitKind::parse(fields[c.kind])?;
        rows.entity(entity, line);
        rows.visits.push(
            0,
            department,
            date,
            kind,
            crate::io::list_parts(fields[c.inspectors]),
            line,
        )
    })?;
    Some(rows)
}

/// A history file read (every row up to the first error), its entities
/// not yet looked up.
struct HistoryRead {
    visits: History,
    parts: Vec<(HistoryRows, Result<()>)>,
}

/// Reads a history file's rows; needs no entity library, so it can run
/// while the entity file loads.
fn read_history(file: &str, bytes: &[u8]) -> Result<HistoryRead> {
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
            if let Some(end) = crate::io::record_boundary(&bytes[from..guess.max(from)]) {
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
    /// Looks up the rows' entities; the first error in file order (an
    /// unknown entity, or the error the reading stopped at) is reported.
    fn resolve(self, file: &str, population: &Population) -> Result<History> {
        let HistoryRead {
            visits: mut out,
            parts: mut read,
        } = self;
        let ids: Vec<&str> = read
            .iter()
            .flat_map(|(rows, _)| {
                std::iter::once(0)
                    .chain(rows.ends.iter().copied())
                    .zip(&rows.ends)
                    .map(|(start, &end)| &rows.arena[start..end])
            })
            .collect();
        let lines: Vec<u64> = read.iter().flat_map(|(rows, _)| rows.lines.iter().copied()).collect();
        let entities = population.positions(&ids);
        // A row that failed after its entity was read is in `ids` but not in `out`.
        for (i, ((entity, id), &line)) in entities.into_iter().zip(&ids).zip(&lines).enumerate() {
            match entity {
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
            _ => Ok(out),
        }
    }
}

fn load_directed(
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

/// An input file: its bytes, or a path to read it from (in parts, or
/// on another core).
enum Opened {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl Opened {
    /// The file's bytes, read now if need be; `name` names it in errors.
    fn into_bytes(self, name: &str) -> Result<Vec<u8>> {
        match self {
            Opened::Bytes(bytes) => Ok(bytes),
            Opened::Path(p) => read_rows(&p, name),
        }
    }
}

/// One input file of a draw, named by its path relative to the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// What the file holds: `plan`, `entities`, `items`, `history` or `directed`.
    pub role: &'static str,
    /// The path relative to the plan (for the plan itself, its file name).
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub digest: Digest,
}

/// Everything a draw reads: the plan and the files it names, loaded and
/// checked against each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// The plan.
    pub plan: Plan,
    /// The entity library.
    pub population: Population,
    /// The check-item list.
    pub items: Vec<CheckItem>,
    /// Past visits.
    pub history: History,
    /// Directed checks.
    pub directed: Vec<DirectedCheck>,
    /// The working-day calendar (Monday to Friday when the plan names none).
    pub calendar: Calendar,
    /// The inspector library; empty when the plan names none.
    pub inspectors: Vec<Inspector>,
    /// Recusal pairs.
    pub conflicts: Vec<Conflict>,
    /// The plan and every input file with its digest, plan first.
    pub files: Vec<InputFile>,
}

impl Inputs {
    /// Loads a plan file and every file it names (paths relative to the plan).
    ///
    /// # Errors
    ///
    /// Any error of [`Plan::from_json`], [`Population::from_csv`] and the
    /// other loaders, an [`Io`](crate::ErrorKind::Io) error for a file that
    /// cannot be read, and the cross-file checks of [`Inputs::from_files`].
    pub fn load(plan_path: impl AsRef<Path>) -> Result<Inputs> {
        let plan_path = plan_path.as_ref();
        let plan_name = plan_path
            .file_name()
            .map_or_else(|| plan_path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let dir: PathBuf = plan_path.parent().map(Path::to_path_buf).unwrap_or_default();
        // A plan that cannot be read is named by the path given.
        let plan_bytes = read_file(plan_path, &plan_path.display().to_string())?;
        Inputs::assemble(&plan_name, &plan_bytes, |role, rel| {
            if role == "entities" || role == "history" {
                Ok(Opened::Path(dir.join(rel)))
            } else {
                read_rows(&dir.join(rel), rel).map(Opened::Bytes)
            }
        })
    }

    /// Loads from a plan's bytes and a function that reads the file at a
    /// path relative to the plan (for in-memory inputs, tests and fuzzing).
    ///
    /// # Errors
    ///
    /// Everything [`Plan::from_json`] and the file loaders report, plus:
    /// an unknown stratum or scope column, an unknown item or an item of
    /// another department, a general item whose `max_ratio` is below a
    /// class ratio of its department, an unclassified entity when the plan
    /// names no class for them, and unknown entities or departments in the
    /// history and directed-check files.
    pub fn from_files(
        plan_name: &str,
        plan_bytes: &[u8],
        mut read: impl FnMut(&str) -> Result<Vec<u8>>,
    ) -> Result<Inputs> {
        Inputs::assemble(plan_name, plan_bytes, |_, path| read(path).map(Opened::Bytes))
    }

    fn assemble(
        plan_name: &str,
        plan_bytes: &[u8],
        mut open: impl FnMut(&'static str, &str) -> Result<Opened>,
    ) -> Result<Inputs> {
        let plan_text = std::str::from_utf8(plan_bytes)
            .map_err(|_| Error::syntax(Location::file(plan_name), "the file is not valid UTF-8"))?;
        let plan = Plan::from_json(plan_name, plan_text)?;
        let mut files = vec![InputFile {
            role: "plan",
            path: plan_name.to_string(),
            digest: Digest::of_bytes(plan_bytes),
        }];
        // The entity file may be large: only the columns the plan uses are kept.
        let mut used: Vec<&str> = plan.strata.iter().map(String::as_str).collect();
        used.extend(plan.departments.iter().flat_map(|d| d.scope.keys().map(String::as_str)));
        let entities_path = &plan.inputs.entities;
        let entities = open("entities", entities_path)?;
        // The history file is read, and its rows parsed, on the other core
        // while the entity file loads; its errors (a read error here too)
        // still come after the entity file's and the item file's, as if the
        // files were read one after the other.
        let history_file = plan.inputs.history.as_ref().map(|p| (p, open("history", p)));
        let mut bytes_of = |role: &'static str, path: &str| open(role, path)?.into_bytes(path);
        let (population, history) = crate::par::join(
            || match entities {
                Opened::Bytes(bytes) => {
                    let digest = Digest::of_bytes(&bytes);
                    Population::read(entities_path, bytes, Keep::Only(&used)).map(|p| (p, digest))
                }
                Opened::Path(path) => Population::open(entities_path, path, Keep::Only(&used)),
            },
            || {
                history_file.map(|(path, file)| {
                    file.and_then(|file| file.into_bytes(path))
                        .map(|bytes| (path, Digest::of_bytes(&bytes), read_history(path, &bytes)))
                })
            },
        );
        let (population, digest) = population?;
        files.push(InputFile {
            role: "entities",
            path: entities_path.clone(),
            digest,
        });
        let items_bytes = bytes_of("items", &plan.inputs.items)?;
        files.push(InputFile {
            role: "items",
            path: plan.inputs.items.clone(),
            digest: Digest::of_bytes(&items_bytes),
        });
        let items = load_items(&plan.inputs.items, &items_bytes)?;
        let history = match history {
            Some(read) => {
                let (path, digest, read) = read?;
                files.push(InputFile {
                    role: "history",
                    path: path.clone(),
                    digest,
                });
                Some((path, read?))
            }
            None => None,
        };
        // The directed checks are read while the history's entities are
        // looked up; the history's errors still come first.
        let directed_bytes = plan.inputs.directed.as_ref().map(|p| (p, bytes_of("directed", p)));
        let (history, directed) = crate::par::join(
            || match history {
                Some((path, read)) => read.resolve(path, &population),
                None => Ok(History::default()),
            },
            || match &directed_bytes {
                Some((p, Ok(bytes))) => load_directed(p, bytes, &population, &plan, &items),
                _ => Ok(Vec::new()),
            },
        );
        let history = history?;
        if let Some((p, bytes)) = directed_bytes {
            files.push(InputFile {
                role: "directed",
                path: p.clone(),
                digest: Digest::of_bytes(&bytes?),
            });
        }
        let directed = directed?;
        let mut load = |role: &'static str, path: &str| -> Result<Vec<u8>> {
            let bytes = bytes_of(role, path)?;
            files.push(InputFile {
                role,
                path: path.to_string(),
                digest: Digest::of_bytes(&bytes),
            });
            Ok(bytes)
        };
        let calendar = match &plan.inputs.calendar {
            Some(p) => Calendar::from_csv(p, &load("calendar", p)?)?,
            None => Calendar::default(),
        };
        let inspectors = match &plan.inputs.inspectors {
            Some(p) => load_inspectors(p, &load("inspectors", p)?)?,
            None => Vec::new(),
        };
        let conflicts = match &plan.inputs.conflicts {
            Some(p) => load_conflicts(p, &load("conflicts", p)?, &inspectors, &population)?,
            None => Vec::new(),
        };
        check_plan_against_files(plan_name, plan_text, &plan, &population, &items)?;
        Ok(Inputs {
            plan,
            population,
            items,
            history,
            directed,
            calendar,
            inspectors,
            conflicts,
            files,
        })
    }

    /// The paths of the plan and of every input file, given the path the
    /// plan was loaded from (input paths are relative to it): the files an
    /// output must never replace.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use double_random::Inputs;
    /// let inputs = Inputs::load("fixtures/plan.json")?;
    /// let paths = inputs.file_paths("fixtures/plan.json");
    /// assert_eq!(paths[1], std::path::Path::new("fixtures/entities.csv"));
    /// # Ok::<(), double_random::Error>(())
    /// ```
    pub fn file_paths(&self, plan_path: impl AsRef<Path>) -> Vec<PathBuf> {
        let plan_path = plan_path.as_ref();
        let dir = plan_path.parent().unwrap_or(Path::new(""));
        self.files
            .iter()
            .map(|f| {
                if f.role == "plan" {
                    plan_path.to_path_buf()
                } else {
                    dir.join(&f.path)
                }
            })
            .collect()
    }

    /// The check item with this id.
    pub fn item(&self, id: &str) -> Option<&CheckItem> {
        self.items.iter().find(|i| i.id == id)
    }
}

fn check_plan_against_files(
    plan_name: &str,
    plan_text: &str,
    plan: &Plan,
    population: &Population,
    items: &[CheckItem],
) -> Result<()> {
    let loc = |path: &[Step<'_>]| {
        let at = match line_of(plan_text, path) {
            Some(line) => Location::line(plan_name, line),
            None => Location::file(plan_name),
        };
        at.with_field(render(path))
    };
    for (i, column) in plan.strata.iter().enumerate() {
        if !population.has_column(column) {
            return Err(Error::unknown(
                loc(&[Step::Key("strata"), Step::Index(i)]),
                "column",
                column.clone(),
            ));
        }
    }
    for (di, d) in plan.departments.iter().enumerate() {
        for column in d.scope.keys() {
            if !population.has_column(column) {
                return Err(Error::unknown(
                    loc(&[
                        Step::Key("departments"),
                        Step::Index(di),
                        Step::Key("scope"),
                        Step::Key(column),
                    ]),
                    "column",
                    column.clone(),
                ));
            }
        }
        let mut seen = BTreeMap::new();
        for (ii, id) in d.items.iter().enumerate() {
            let at = || {
                loc(&[
                    Step::Key("departments"),
                    Step::Index(di),
                    Step::Key("items"),
                    Step::Index(ii),
                ])
            };
            if seen.insert(id.as_str(), ii).is_some() {
                return Err(Error::policy(at(), format!("item {} is listed twice", quote(id))));
            }
            let Some(item) = items.iter().find(|it| &it.id == id) else {
                return Err(Error::unknown(at(), "item", id.clone()));
            };
            if item.department != d.id {
                return Err(Error::policy(
                    at(),
                    format!(
                        "item {} belongs to department {}, not {}",
                        quote(id),
                        quote(&item.department),
                        quote(&d.id)
                    ),
                ));
            }
            if let (ItemKind::General, Some(max)) = (item.kind, &item.max_ratio) {
                for class in RiskClass::ALL {
                    let p = d.class(class);
                    if p.mode != Mode::TriggerOnly && max.cmp_value(&p.ratio).is_lt() {
                        return Err(Error::policy(
                            at(),
                            format!(
                                "general item {} has max_ratio {max}, below the class {class} ratio {} of department {}",
                                quote(id),
                                p.ratio,
                                quote(&d.id)
                            ),
                        ));
                    }
                }
            }
        }
    }
    if plan.unclassified_class.is_none()
        && let Some(i) = population.classes().iter().position(Option::is_none)
    {
        return Err(Error::policy(
            Location::line(&plan.inputs.entities, population.line(i)?).with_field("risk_class"),
            format!(
                "entity {} is unclassified and the plan names no unclassified_class",
                quote(population.id(i))
            ),
        ));
    }
    Ok(())
}
