//! Every input of a draw: the plan and the files it names, read and
//! checked against each other.
//!
//! The submodules are the loaders, one per kind of file, and all of them
//! read CSV through one engine, `io`'s `CsvFile` (the entity library adds
//! its own parallel pass over the same engine's record boundaries):
//!
//! - `io`: opening regular files, the CSV reader, line and field limits;
//! - `json`: positions (line, field path) for JSON errors;
//! - `plan`: the plan file and its limits;
//! - `population`: the entity library, columnar and in id order;
//! - `tables`: check items, past visits, directed checks;
//! - `calendar`, `inspector`: working days, inspectors and recusal pairs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) mod calendar;
pub(crate) mod decode;
pub(crate) use decode::is_workbook;
pub(crate) mod inspector;
pub(crate) mod io;
pub(crate) mod json;
pub(crate) mod plan;
pub(crate) mod population;
#[cfg(feature = "xlsx")]
pub(crate) mod sheet;
mod tables;

pub use calendar::{Calendar, DayKind};
pub use inspector::{Conflict, Inspector};
pub use io::{COLUMN_ALIASES, MAX_FIELD_BYTES, MAX_LINE_BYTES};
pub use plan::{
    ClassLimits, ClassPolicy, CountedKinds, CrossStation, DepartmentPolicy, Encoding, InputPaths, Observation, Plan,
    RatioOrder, Rotation, TeamRules, Window,
};
pub use population::{ENTITY_COLUMNS, Entity, Population};
pub(crate) use tables::HistoryRead;
use tables::{load_directed, load_items, read_history};

use crate::error::{Error, Location, Result, quote};
use crate::inputs::inspector::{load_conflicts, load_inspectors};
use crate::inputs::io::{read_file, read_rows};
use crate::inputs::json::{Step, line_of, render};
use crate::inputs::population::Keep;
use crate::key::Digest;
use crate::model::{CheckItem, DirectedCheck, History, ItemKind, Mode, RiskClass};

/// An input file: its bytes, or a path to read it from (in parts, or
/// on another core).
enum Opened {
    Bytes(Vec<u8>),
    Path(PathBuf),
    /// A file converted to UTF-8 CSV (from GB18030), with the digest of
    /// the file as given: commitments and records hash what the bureau
    /// published, not this crate's reading of it.
    Converted {
        bytes: Vec<u8>,
        digest: Digest,
    },
}

impl Opened {
    /// The file's bytes as UTF-8, read now if need be, and the digest of
    /// the file as given; `name` names it in errors.
    fn read(self, name: &str) -> Result<(Vec<u8>, Digest)> {
        match self {
            Opened::Bytes(bytes) => {
                let digest = Digest::of_bytes(&bytes);
                Ok((bytes, digest))
            }
            Opened::Path(p) => {
                let bytes = read_rows(&p, name)?;
                let digest = Digest::of_bytes(&bytes);
                Ok((bytes, digest))
            }
            Opened::Converted { bytes, digest } => Ok((bytes, digest)),
        }
    }

    /// The file as UTF-8: converted when the plan declares another
    /// encoding or the file starts with another encoding's byte-order
    /// mark, else as it is (a path stays a path, to be read in parts).
    fn decoded(self, name: &str, declared: Encoding, books: &Workbooks) -> Result<Opened> {
        if decode::is_workbook(name) {
            return self.workbook_as_csv(name, books);
        }
        let marked = match &self {
            Opened::Bytes(bytes) | Opened::Converted { bytes, .. } => decode::marked(bytes),
            Opened::Path(p) => {
                // Only a regular file is peeked at: opening a pipe would
                // block. Anything else is refused when it is read.
                let mut head = [0u8; 4];
                let n = io::open_regular(p)
                    .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                    .unwrap_or(0);
                decode::marked(&head[..n])
            }
        };
        let encoding = match (marked, declared) {
            (Some(encoding), _) => encoding,
            (None, Encoding::Gb18030) => encoding_rs::GB18030,
            (None, _) => return Ok(self),
        };
        if let Opened::Converted { .. } = self {
            return Ok(self);
        }
        let (raw, digest) = self.read(name)?;
        let bytes = decode::to_utf8(name, &raw, encoding)?;
        Ok(Opened::Converted { bytes, digest })
    }
}

impl Opened {
    /// A workbook's first sheet as CSV, its rows remembered in `books`.
    #[cfg(feature = "xlsx")]
    fn workbook_as_csv(self, name: &str, books: &Workbooks) -> Result<Opened> {
        let (raw, digest) = self.read(name)?;
        let mut sheet = sheet::Sheet::read(name, &raw)?;
        let bytes = std::mem::take(&mut sheet.csv);
        if let Ok(mut all) = books.0.lock() {
            all.push(sheet);
        }
        Ok(Opened::Converted { bytes, digest })
    }

    /// Without the `xlsx` feature, a workbook is refused.
    #[cfg(not(feature = "xlsx"))]
    fn workbook_as_csv(self, name: &str, _: &Workbooks) -> Result<Opened> {
        Err(Error::policy(
            Location::file(name),
            "this build reads no .xlsx workbooks (the crate's `xlsx` feature): save the sheet as CSV",
        ))
    }
}

/// The workbooks among a plan's inputs, read as CSV: to place an error
/// found in their CSV text on their sheet's row and column.
#[derive(Default)]
pub(crate) struct Workbooks(
    #[cfg(feature = "xlsx")] std::sync::Mutex<Vec<sheet::Sheet>>,
    #[cfg(not(feature = "xlsx"))] (),
);

impl Workbooks {
    /// The error placed in the workbook it is about, if it is about one.
    pub(crate) fn locate(&self, e: Error) -> Error {
        #[cfg(feature = "xlsx")]
        if let Ok(all) = self.0.lock() {
            return all.iter().fold(e, |e, sheet| sheet.locate(e));
        }
        e
    }
}

/// Reads a history file's bytes and rows: its digest, and the rows or
/// the error they stopped at.
fn read_history_file(path: &String, file: Result<Opened>) -> Result<(&String, Digest, Result<HistoryRead>)> {
    file.and_then(|file| file.read(path))
        .map(|(bytes, digest)| (path, digest, read_history(path, &bytes)))
}

/// The plan at `plan_path`, read and parsed with the errors of
/// [`Inputs::load`]: its name, its folder and the plan.
pub(crate) fn read_plan(plan_path: &Path) -> Result<(String, PathBuf, Plan)> {
    let plan_name = plan_path
        .file_name()
        .map_or_else(|| plan_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let dir: PathBuf = plan_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let plan_bytes = read_file(plan_path, &plan_path.display().to_string())?;
    let plan_text = std::str::from_utf8(&plan_bytes)
        .map_err(|_| Error::syntax(Location::file(&plan_name), "the file is not valid UTF-8"))?;
    let plan = Plan::from_json(&plan_name, plan_text)?;
    Ok((plan_name, dir, plan))
}

/// The history file `path` (relative to `dir`) read as [`Inputs::load`]
/// reads it: its digest and rows, or the error to report after those of
/// the files read before it.
pub(crate) fn read_history_in(dir: &Path, path: &String, encoding: Encoding) -> Result<(Digest, Result<HistoryRead>)> {
    let books = Workbooks::default();
    read_history_file(path, Opened::Path(dir.join(path)).decoded(path, encoding, &books))
        .map(|(_, d, r)| (d, r.map_err(|e| books.locate(e))))
        .map_err(|e| books.locate(e))
}

/// An entity library streamed from a file too large to hold
/// ([`crate::stream`]): the entities a draw needs, and the history as
/// read before the stream.
pub(crate) struct Held {
    pub(crate) population: Population,
    /// The SHA-256 of the whole entity file.
    pub(crate) digest: Digest,
    /// The history file's digest and rows, when the plan names one.
    pub(crate) history: Option<Result<(Digest, Result<HistoryRead>)>>,
    /// Per history row, in the order of [`HistoryRead::ids`]: whether its
    /// entity is in the file (if not in `population`).
    pub(crate) history_known: Vec<bool>,
}

/// One input file of a draw, named by its path relative to the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    pub(crate) plan: Plan,
    /// The entity library.
    pub(crate) population: Population,
    /// The check-item list.
    pub(crate) items: Vec<CheckItem>,
    /// Past visits.
    pub(crate) history: History,
    /// Directed checks.
    pub(crate) directed: Vec<DirectedCheck>,
    /// The working-day calendar (Monday to Friday when the plan names none).
    pub(crate) calendar: Calendar,
    /// The inspector library; empty when the plan names none.
    pub(crate) inspectors: Vec<Inspector>,
    /// Recusal pairs.
    pub(crate) conflicts: Vec<Conflict>,
    /// The plan and every input file with its digest, plan first.
    pub(crate) files: Vec<InputFile>,
}

impl Inputs {
    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The entity library.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// The check-item list.
    pub fn items(&self) -> &[CheckItem] {
        &self.items
    }

    /// Past visits.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Directed checks.
    pub fn directed(&self) -> &[DirectedCheck] {
        &self.directed
    }

    /// The working-day calendar (Monday to Friday when the plan names none).
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The inspector library; empty when the plan names none.
    pub fn inspectors(&self) -> &[Inspector] {
        &self.inspectors
    }

    /// Recusal pairs.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// The plan and every input file with its digest, plan first.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

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
        Inputs::load_beside(&plan_name, &plan_bytes, &dir)
    }

    /// [`Inputs::load`] of a plan given as bytes, its input paths relative
    /// to `dir` (for a plan not yet written, such as a program's rounds).
    pub(crate) fn load_beside(plan_name: &str, plan_bytes: &[u8], dir: &Path) -> Result<Inputs> {
        Inputs::assemble(plan_name, plan_bytes, None, |role, rel| {
            if role == "entities" || role == "history" {
                Ok(Opened::Path(dir.join(rel)))
            } else {
                read_rows(&dir.join(rel), rel).map(Opened::Bytes)
            }
        })
    }

    /// These inputs with the history file's contents replaced by `bytes`
    /// (the file the plan names), checked as a loaded history is: a year's
    /// rounds simulated in turn, each fed the visits of the one before,
    /// without reading the other files again.
    #[cfg_attr(not(feature = "fairness"), allow(dead_code))]
    pub(crate) fn with_history(&self, bytes: &[u8]) -> Result<Inputs> {
        let Some(path) = self.plan.inputs.history.clone() else {
            return Err(Error::policy(
                Location::file(self.files[0].path.clone()).with_field("inputs.history"),
                "the plan names no history file",
            ));
        };
        let history = read_history(&path, bytes)?.resolve(&path, &self.population)?;
        let mut out = self.clone();
        out.history = history;
        if let Some(f) = out.files.iter_mut().find(|f| f.role == "history") {
            f.digest = Digest::of_bytes(bytes);
        }
        Ok(out)
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
        Inputs::assemble(plan_name, plan_bytes, None, |_, path| read(path).map(Opened::Bytes))
    }

    /// [`Inputs::load`] with the entity library `held` (some of the
    /// entities of a file too large to hold, streamed before) and the
    /// history read then: every other file is read and checked as
    /// `load` does, with the same errors.
    pub(crate) fn load_held(plan_path: &Path, held: Held) -> Result<Inputs> {
        let plan_name = plan_path
            .file_name()
            .map_or_else(|| plan_path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let dir: PathBuf = plan_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let plan_bytes = read_file(plan_path, &plan_path.display().to_string())?;
        Inputs::assemble(&plan_name, &plan_bytes, Some(held), |_, rel| {
            read_rows(&dir.join(rel), rel).map(Opened::Bytes)
        })
    }

    fn assemble(
        plan_name: &str,
        plan_bytes: &[u8],
        held: Option<Held>,
        open: impl FnMut(&'static str, &str) -> Result<Opened>,
    ) -> Result<Inputs> {
        let books = Workbooks::default();
        // The plan's input paths, once read, so that an error's hint can
        // name the role of the file it is about.
        let paths = std::cell::OnceCell::new();
        Inputs::assemble_in(plan_name, plan_bytes, held, open, &books, &paths).map_err(|e| {
            let e = books.locate(e);
            match paths.get() {
                Some(paths) => decode::for_role(e, paths),
                None => e,
            }
        })
    }

    fn assemble_in(
        plan_name: &str,
        plan_bytes: &[u8],
        held: Option<Held>,
        mut open: impl FnMut(&'static str, &str) -> Result<Opened>,
        books: &Workbooks,
        paths: &std::cell::OnceCell<InputPaths>,
    ) -> Result<Inputs> {
        let plan_text = std::str::from_utf8(plan_bytes)
            .map_err(|_| Error::syntax(Location::file(plan_name), "the file is not valid UTF-8"))?;
        let plan = Plan::from_json(plan_name, plan_text)?;
        let _ = paths.set(plan.inputs.clone());
        let mut files = vec![InputFile {
            role: "plan",
            path: plan_name.to_string(),
            digest: Digest::of_bytes(plan_bytes),
        }];
        // The entity file may be large: only the columns the plan uses are kept.
        let mut used: Vec<&str> = plan.strata.iter().map(String::as_str).collect();
        used.extend(plan.departments.iter().flat_map(|d| d.scope.keys().map(String::as_str)));
        let entities_path = &plan.inputs.entities;
        let (population, history, known) = match held {
            Some(held) => (
                Ok((held.population, held.digest)),
                plan.inputs
                    .history
                    .as_ref()
                    .zip(held.history)
                    .map(|(path, read)| read.map(|(d, r)| (path, d, r))),
                Some(held.history_known),
            ),
            None => {
                let entities =
                    open("entities", entities_path)?.decoded(entities_path, plan.encoding("entities"), books)?;
                // The history file is read, and its rows parsed, on the other core
                // while the entity file loads; its errors (a read error here too)
                // still come after the entity file's and the item file's, as if the
                // files were read one after the other.
                let history_file = plan.inputs.history.as_ref().map(|p| {
                    let encoding = plan.encoding("history");
                    (p, open("history", p).and_then(|o| o.decoded(p, encoding, books)))
                });
                let (population, history) = crate::par::join(
                    || match entities {
                        Opened::Path(path) => Population::open(entities_path, path, Keep::Only(&used)),
                        opened => {
                            let (bytes, digest) = opened.read(entities_path)?;
                            Population::read(entities_path, bytes, Keep::Only(&used)).map(|p| (p, digest))
                        }
                    },
                    || history_file.map(|(path, file)| read_history_file(path, file)),
                );
                (population, history, None)
            }
        };
        let mut bytes_of =
            |role: &'static str, path: &str| open(role, path)?.decoded(path, plan.encoding(role), books)?.read(path);
        let (population, digest) = population?;
        files.push(InputFile {
            role: "entities",
            path: entities_path.clone(),
            digest,
        });
        let (items_bytes, items_digest) = bytes_of("items", &plan.inputs.items)?;
        files.push(InputFile {
            role: "items",
            path: plan.inputs.items.clone(),
            digest: items_digest,
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
                Some((path, read)) => read.resolve_held(path, &population, known.as_deref()),
                None => Ok(History::default()),
            },
            || match &directed_bytes {
                Some((p, Ok((bytes, _)))) => load_directed(p, bytes, &population, &plan, &items),
                _ => Ok(Vec::new()),
            },
        );
        let history = history?;
        if let Some((p, bytes)) = directed_bytes {
            files.push(InputFile {
                role: "directed",
                path: p.clone(),
                digest: bytes?.1,
            });
        }
        let directed = directed?;
        let mut load = |role: &'static str, path: &str| -> Result<Vec<u8>> {
            let (bytes, digest) = bytes_of(role, path)?;
            files.push(InputFile {
                role,
                path: path.to_string(),
                digest,
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

    /// A digest of every input file's role and digest, in order: what a
    /// draw remembers of the inputs it was made from.
    pub(crate) fn fingerprint(&self) -> Digest {
        let mut h = crate::key::Hasher::new();
        for f in &self.files {
            h.enc(f.role.as_bytes()).raw(f.digest.as_bytes());
        }
        h.finish()
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
