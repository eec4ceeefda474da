//! Notices a platform sends before the visits: one notice per drawn
//! enterprise (一次告知) and the pre-warning list (事前失信警示提醒).

use std::collections::BTreeMap;
use std::path::Path;

use super::DrawnParts;
use super::publish::{csv_bytes, draw_inputs};
use crate::error::{Error, Result};
use crate::inputs::io::{CsvFile, read_file};
use crate::model::{RiskClass, Status};

/// The notice files, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notices {
    /// `(file name, bytes)`: `notices.csv`, then `prewarning.csv`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Notices written (one per entity and visit or off-site check).
    pub notices: usize,
    /// Entities on the pre-warning list.
    pub warned: usize,
}

impl Notices {
    /// The notices of the draw whose `record.json` is at `record`:
    ///
    /// - `notices.csv` (一次告知): one row per entity and visit (or off-site
    ///   check): `entity_id, entity_name, visit_id, method` (现场 / 非现场),
    ///   `date` (the visit date, or the date an off-site check is due),
    ///   `authorities` (every department of the visit, by name), `items`
    ///   (by name), `legal_basis`, and `text`, the notice itself in
    ///   Chinese: who comes when, for which items, and what to have ready.
    /// - `prewarning.csv` (事前失信警示提醒): every registered entity of the
    ///   library in class C or D, and every entity of `reclassify` (a
    ///   publication's `reclassify.csv`) whose class rises:
    ///   `entity_id, entity_name, class, reason`.
    ///
    /// # Errors
    ///
    /// Every error of [`DrawnParts::read`] and of loading the draw's inputs,
    /// and a positioned error for a `reclassify` file that is not one.
    pub fn make(record: &Path, reclassify: Option<&Path>) -> Result<Notices> {
        let drawn = DrawnParts::read(record)?;
        let inputs = draw_inputs(record, &drawn)?;
        let base = &inputs[0];
        let window_end: BTreeMap<&str, chrono::NaiveDate> = inputs
            .iter()
            .map(|i| (i.plan().task_id(), i.plan().window().end()))
            .collect();
        let authority = |dep: &str| {
            base.plan().department(dep).map_or(dep.to_string(), |d| {
                if d.name.is_empty() {
                    d.id.clone()
                } else {
                    d.name.clone()
                }
            })
        };
        // The parts of each visit (or check), in id order, visits first.
        let mut visits: BTreeMap<(bool, &str), Vec<&super::DrawnPart>> = BTreeMap::new();
        for p in drawn.parts.values() {
            visits
                .entry((p.date.is_none(), p.visit_id.as_str()))
                .or_default()
                .push(p);
        }
        let mut rows = Vec::new();
        for ((offsite, visit_id), parts) in &visits {
            let first = parts[0];
            let date = match first.date {
                Some(d) => d,
                None => first
                    .tasks
                    .iter()
                    .filter_map(|(t, _)| window_end.get(t.as_str()).copied())
                    .max()
                    .unwrap_or_default(),
            };
            let authorities: Vec<String> = parts.iter().map(|p| authority(&p.department)).collect();
            let mut items: Vec<&crate::model::CheckItem> = Vec::new();
            for id in parts.iter().flat_map(|p| p.items()) {
                if let Some(item) = base.item(id)
                    && !items.iter().any(|i| i.id == item.id)
                {
                    items.push(item);
                }
            }
            let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
            let mut basis: Vec<&str> = Vec::new();
            for b in items.iter().flat_map(|i| i.legal_basis.split(';')) {
                if !b.is_empty() && !basis.contains(&b) {
                    basis.push(b);
                }
            }
            let text = if *offsite {
                format!(
                    "{}：根据“双随机、一公开”抽查安排，{}将于{}前对贵单位进行非现场检查（{}），请按通知提交与检查事项有关的书面材料，并确保登记的联系方式畅通。",
                    first.entity_name,
                    authorities.join("、"),
                    date.format("%Y年%m月%d日"),
                    names.join("；")
                )
            } else {
                format!(
                    "{}：根据“双随机、一公开”抽查安排，{}将于{}{}，检查事项：{}。请备好营业执照、相关许可证件、经营台账及与检查事项有关的资料，并安排熟悉情况的人员在场。",
                    first.entity_name,
                    authorities.join("、"),
                    date.format("%Y年%m月%d日"),
                    if authorities.len() > 1 {
                        "联合上门检查一次（进一次门、查多项事）"
                    } else {
                        "上门检查"
                    },
                    names.join("；")
                )
            };
            rows.push(vec![
                first.entity_id.clone(),
                first.entity_name.clone(),
                visit_id.to_string(),
                if *offsite { "非现场" } else { "现场" }.to_string(),
                date.to_string(),
                authorities.join(";"),
                names.join(";"),
                basis.join(";"),
                text,
            ]);
        }
        let notices = csv_bytes(
            &[
                "entity_id",
                "entity_name",
                "visit_id",
                "method",
                "date",
                "authorities",
                "items",
                "legal_basis",
                "text",
            ],
            &rows,
        );
        let notices_count = rows.len();

        // The pre-warning list: classes C and D, and classes that rose.
        let mut warned: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let population = base.population();
        for e in 0..population.len() {
            let entity = population.entity(e);
            if !matches!(entity.status(), Status::Active | Status::Suspended) {
                continue;
            }
            if let Some(class @ (RiskClass::C | RiskClass::D)) = entity.class() {
                warned.insert(
                    entity.id().to_string(),
                    vec![
                        entity.id().to_string(),
                        String::new(),
                        class.as_str().to_string(),
                        format!("class {}", class.as_str()),
                    ],
                );
            }
        }
        if let Some(path) = reclassify {
            let name = path.display().to_string();
            let bytes = read_file(path, &name)?;
            let mut csv = CsvFile::open(&name, &bytes)?;
            let c_id = csv.require("entity_id")?;
            let c_class = csv.require("class")?;
            let c_proposed = csv.require("proposed_class")?;
            while let Some(row) = csv.next_row()? {
                let id = row.id(c_id)?;
                let Some(e) = population.index_of(&id) else {
                    return Err(Error::unknown(row.at(c_id), "entity", id));
                };
                let proposed = row.parse(c_proposed, "a class A, B, C or D", RiskClass::parse)?;
                let current = row.get(c_class);
                let reason = format!(
                    "class rose from {} to {}",
                    if current.is_empty() { "unclassified" } else { current },
                    proposed.as_str()
                );
                let entity = population.entity(e);
                let slot = warned.entry(id.clone()).or_insert_with(|| {
                    vec![
                        id.clone(),
                        String::new(),
                        entity.class().map_or("", RiskClass::as_str).to_string(),
                        String::new(),
                    ]
                });
                slot[3] = if slot[3].is_empty() {
                    reason
                } else {
                    format!("{}; {reason}", slot[3])
                };
            }
        }
        // The names of the warned entities, read back from the entity file.
        let positions: Vec<usize> = warned.keys().filter_map(|id| population.index_of(id)).collect();
        let names = population.name_list(&positions)?;
        let rows: Vec<Vec<String>> = warned
            .into_values()
            .enumerate()
            .map(|(k, mut row)| {
                row[1] = names.get(k).to_string();
                row
            })
            .collect();
        let warned_count = rows.len();
        let prewarning = csv_bytes(&["entity_id", "entity_name", "class", "reason"], &rows);
        Ok(Notices {
            files: vec![
                ("notices.csv".to_string(), notices),
                ("prewarning.csv".to_string(), prewarning),
            ],
            notices: notices_count,
            warned: warned_count,
        })
    }

    /// Writes the files into the new folder `dir`, atomically.
    ///
    /// # Errors
    ///
    /// [`OutputRefused`](crate::ErrorKind::OutputRefused) when `dir` exists,
    /// and an [`Io`](crate::ErrorKind::Io) error when a file cannot be written.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        crate::place::write_new_folder(
            dir,
            self.files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
            "notices already written are never replaced",
        )
    }
}
