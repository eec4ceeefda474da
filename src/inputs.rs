//! Loading every input of a draw: the plan and the CSV files it names,
//! checked against each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::calendar::Calendar;
use crate::error::{Error, Location, Result, quote};
use crate::inspector::{Conflict, Inspector, load_conflicts, load_inspectors};
use crate::io::{CsvFile, check_unique, one_of, read_file};
use crate::json::{Step, line_of, render};
use crate::key::Digest;
use crate::model::{
    CheckItem, DirectedCheck, DirectedReason, Entity, ItemKind, Mode, PastVisit, Ratio, RiskClass, Status, VisitKind,
};
use crate::plan::Plan;

/// The columns every entity file has; any other column is kept in [`Entity::extra`].
pub const ENTITY_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "risk_class",
    "region",
    "industry",
    "status",
    "established",
];

/// The entity library: every entity, in input order, with a sorted id index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    entities: Vec<Entity>,
    /// Indices into `entities`, sorted by id bytes.
    by_id: Vec<u32>,
    /// For each entity, its position in `by_id` (its rank in id order).
    id_rank: Vec<u32>,
    /// (hash of the id, position), sorted: the lookup index of `index_of`.
    /// Lookups only; nothing iterates it in hash order to decide anything.
    by_hash: Vec<(u64, u32)>,
    columns: Vec<String>,
}

impl Population {
    /// Reads an entity file from CSV bytes; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`Syntax`](crate::ErrorKind::Syntax) error for an empty or
    /// malformed file, [`MissingColumn`](crate::ErrorKind::MissingColumn),
    /// [`DuplicateColumn`](crate::ErrorKind::DuplicateColumn),
    /// [`InvalidField`](crate::ErrorKind::InvalidField) for a bad class,
    /// status or date, and [`DuplicateId`](crate::ErrorKind::DuplicateId).
    ///
    /// # Example
    ///
    /// ```
    /// use double_random::{Population, RiskClass};
    /// let csv = "id,name,risk_class,region,industry,status,established\n\
    ///            E1,Shop,B,North,retail,active,2020-01-02\n\
    ///            E2,Stall,,South,retail,active,\n";
    /// let pop = Population::from_csv("entities.csv", csv.as_bytes())?;
    /// assert_eq!(pop.len(), 2);
    /// assert_eq!(pop.get("E1").unwrap().class, Some(RiskClass::B));
    ///
    /// let err = Population::from_csv("entities.csv", b"id,name,risk_class,region,industry,status,established\nE1,Shop,E,N,r,active,\n").unwrap_err();
    /// assert_eq!(err.to_string(), "entities.csv, line 2, field risk_class: \"E\" is not a risk class (A, B, C, D, or empty for unclassified)");
    /// # Ok::<(), double_random::Error>(())
    /// ```
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Population> {
        let mut csv = CsvFile::open(file, bytes)?;
        let mut idx = [0usize; 7];
        for (slot, name) in idx.iter_mut().zip(ENTITY_COLUMNS) {
            *slot = csv.require(name)?;
        }
        let [c_id, c_name, c_class, c_region, c_industry, c_status, c_est] = idx;
        let columns = csv.headers().to_vec();
        let extra_cols: Vec<usize> = (0..columns.len()).filter(|i| !idx.contains(i)).collect();
        let mut entities = Vec::new();
        while let Some(row) = csv.next_row()? {
            let id = row.id(c_id)?;
            let class = row.parse(c_class, "a risk class (A, B, C, D, or empty for unclassified)", |v| {
                if v.is_empty() {
                    Some(None)
                } else {
                    RiskClass::parse(v).map(Some)
                }
            })?;
            let status = row.parse(
                c_status,
                &format!(
                    "a status ({})",
                    one_of(&["active", "suspended", "deregistered", "revoked"])
                ),
                Status::parse,
            )?;
            let established = if row.get(c_est).is_empty() {
                None
            } else {
                Some(row.date(c_est)?)
            };
            let extra = extra_cols
                .iter()
                .map(|&i| (columns[i].clone(), row.get(i).to_string()))
                .collect();
            entities.push(Entity {
                id,
                name: row.get(c_name).to_string(),
                class,
                region: row.get(c_region).to_string(),
                industry: row.get(c_industry).to_string(),
                status,
                established,
                extra,
                line: row.line,
            });
        }
        if entities.is_empty() {
            return Err(Error::syntax(
                Location::file(file),
                "the file has no entities (only a header)",
            ));
        }
        if entities.len() > u32::MAX as usize {
            return Err(Error::syntax(Location::file(file), "more than 4,294,967,295 entities"));
        }
        // OK because the length was checked to fit in u32 just above.
        // Sort by the first 16 bytes held inline (ids hold no NUL, so zero
        // padding keeps byte order), and the whole id only on a tie: far fewer
        // reads of the ids themselves.
        let mut keyed: Vec<(u128, u32)> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (id_prefix(e.id.as_bytes()), i as u32))
            .collect();
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                entities[a.1 as usize]
                    .id
                    .as_bytes()
                    .cmp(entities[b.1 as usize].id.as_bytes())
            })
        });
        let by_id: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
        for pair in by_id.windows(2) {
            let (first, second) = (&entities[pair[0] as usize], &entities[pair[1] as usize]);
            if first.id == second.id {
                let (first, second) = if first.line < second.line {
                    (first, second)
                } else {
                    (second, first)
                };
                return Err(crate::ErrorKind::DuplicateId {
                    at: Location::line(file, second.line).with_field("id"),
                    id: second.id.clone(),
                    first_line: first.line,
                }
                .into());
            }
        }
        let mut id_rank = vec![0u32; entities.len()];
        for (rank, &i) in by_id.iter().enumerate() {
            // OK because the length was checked to fit in u32.
            id_rank[i as usize] = rank as u32;
        }
        let mut by_hash: Vec<(u64, u32)> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (id_hash(e.id.as_bytes()), i as u32))
            .collect();
        by_hash.sort_unstable();
        Ok(Population {
            entities,
            by_id,
            by_hash,
            id_rank,
            columns,
        })
    }

    /// The number of entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether there is no entity (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The entities, in input order.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// The columns of the input file, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The position of an entity in [`entities`](Population::entities).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let h = id_hash(id.as_bytes());
        let start = self.by_hash.partition_point(|&(x, _)| x < h);
        self.by_hash[start..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, i)| i as usize)
            .find(|&i| self.entities[i].id == id)
    }

    /// The entity with this id.
    pub fn get(&self, id: &str) -> Option<&Entity> {
        self.index_of(id).map(|i| &self.entities[i])
    }

    /// Positions in [`entities`](Population::entities), in id byte order.
    pub fn ids_sorted(&self) -> &[u32] {
        &self.by_id
    }

    /// For each entity (in input order), its rank in id byte order.
    pub fn id_ranks(&self) -> &[u32] {
        &self.id_rank
    }

    /// Whether the file has this column.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }
}

/// The first 16 bytes of an id as a big-endian integer, zero-padded.
fn id_prefix(id: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = id.len().min(16);
    b[..n].copy_from_slice(&id[..n]);
    u128::from_be_bytes(b)
}

/// FNV-1a, 64 bits: a lookup hash only (it never orders anything that is output).
fn id_hash(id: &[u8]) -> u64 {
    id.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

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

fn load_history(file: &str, bytes: &[u8], population: &Population) -> Result<Vec<PastVisit>> {
    let mut csv = CsvFile::open(file, bytes)?;
    let c_entity = csv.require("entity_id")?;
    let c_dep = csv.require("department")?;
    let c_date = csv.require("date")?;
    let c_kind = csv.require("kind")?;
    let c_insp = csv.require("inspector_ids")?;
    let mut out = Vec::new();
    while let Some(row) = csv.next_row()? {
        let entity_id = row.id(c_entity)?;
        if population.index_of(&entity_id).is_none() {
            return Err(Error::unknown(row.at(c_entity), "entity", entity_id));
        }
        out.push(PastVisit {
            entity_id,
            department: row.id(c_dep)?,
            date: row.date(c_date)?,
            kind: row.parse(c_kind, "a visit kind (\"random\" or \"directed\")", |v| match v {
                "random" => Some(VisitKind::Random),
                "directed" => Some(VisitKind::Directed),
                _ => None,
            })?,
            inspector_ids: row.list(c_insp),
            line: row.line,
        });
    }
    Ok(out)
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
        let reason = row.parse(
            c_reason,
            &format!(
                "a reason ({})",
                one_of(&["complaint", "big_data", "referral", "legal", "commitment"])
            ),
            DirectedReason::parse,
        )?;
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
    pub history: Vec<PastVisit>,
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
        let plan_bytes = read_file(plan_path, &plan_name)?;
        Inputs::from_files(&plan_name, &plan_bytes, |rel| read_file(&dir.join(rel), rel))
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
        let plan_text = std::str::from_utf8(plan_bytes)
            .map_err(|_| Error::syntax(Location::file(plan_name), "the file is not valid UTF-8"))?;
        let plan = Plan::from_json(plan_name, plan_text)?;
        let mut files = vec![InputFile {
            role: "plan",
            path: plan_name.to_string(),
            digest: Digest::of_bytes(plan_bytes),
        }];
        let mut load = |role: &'static str, path: &str| -> Result<Vec<u8>> {
            let bytes = read(path)?;
            files.push(InputFile {
                role,
                path: path.to_string(),
                digest: Digest::of_bytes(&bytes),
            });
            Ok(bytes)
        };
        let population = Population::from_csv(&plan.inputs.entities, &load("entities", &plan.inputs.entities)?)?;
        let items = load_items(&plan.inputs.items, &load("items", &plan.inputs.items)?)?;
        let history = match &plan.inputs.history {
            Some(p) => load_history(p, &load("history", p)?, &population)?,
            None => Vec::new(),
        };
        let directed = match &plan.inputs.directed {
            Some(p) => load_directed(p, &load("directed", p)?, &population, &plan, &items)?,
            None => Vec::new(),
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
        && let Some(e) = population.entities().iter().find(|e| e.class.is_none())
    {
        return Err(Error::policy(
            Location::line(&plan.inputs.entities, e.line).with_field("risk_class"),
            format!(
                "entity {} is unclassified and the plan names no unclassified_class",
                quote(&e.id)
            ),
        ));
    }
    Ok(())
}
