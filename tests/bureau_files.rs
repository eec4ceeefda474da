//! Files as a bureau's staff make them: Chinese headers and values, the
//! GB18030 (GBK) encoding of Chinese Windows, and Excel workbooks. Each
//! must draw exactly what the canonical fixture draws.

mod common;

use std::path::Path;

use double_random::{Drawer, Seed};

const SEED: &str = "2027-03-01 lottery 0417 2953";

/// The outputs that depend on the draw alone: all but the record and the
/// public list, which also name the input files' digests.
fn drawn() -> impl Iterator<Item = &'static str> {
    double_random::audit::OUTPUT_FILES
        .into_iter()
        .filter(|f| !matches!(*f, "record.json" | "public.csv"))
}

fn draw(plan: &Path, out: &Path) {
    Drawer::new(Seed::new(SEED).unwrap(), out)
        .plan(plan)
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Draws the canonical fixtures and the copy in `dir` and asserts that
/// they drew the same.
fn assert_draws_like_the_fixtures(dir: &Path) {
    let work = tempfile::tempdir().unwrap();
    let canonical = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(canonical.path(), &[]);
    draw(&canonical.path().join("plan.json"), &work.path().join("canonical"));
    draw(&dir.join("plan.json"), &work.path().join("bureau"));
    for name in drawn() {
        let a = std::fs::read(work.path().join("canonical").join(name)).unwrap();
        let b = std::fs::read(work.path().join("bureau").join(name)).unwrap();
        assert!(a == b, "{name} differs");
    }
    // And the replay of the bureau's draw verifies.
    let v = double_random::Verifier::new(work.path().join("bureau/record.json"))
        .run()
        .unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    // So does the independent Python verifier, which reads the same files.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_draw.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.join("plan.json"))
        .arg(SEED)
        .arg(work.path().join("bureau"))
        .output()
        .expect("python3 runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "verified\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The CSV file at `path` as rows of fields, the header first.
fn rows_of(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The fixture's CSV table `name` as rows of fields.
fn table(name: &str) -> Vec<Vec<String>> {
    rows_of(&common::fixture_path(name))
}

fn write_table(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)
        .unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.flush().unwrap();
}

/// The entity file with Chinese headers and the values a register
/// export writes: classes as `A类`, `B级` or by name, states as 存续,
/// 在业, 歇业, 注销, 吊销.
fn chinese_entities() -> Vec<Vec<String>> {
    let mut rows = table("entities.csv");
    let header = rows[0].clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (class, status) = (col("risk_class"), col("status"));
    rows[0] = header
        .iter()
        .map(|h| {
            match h.as_str() {
                "id" => "统一社会信用代码",
                "name" => "企业名称",
                "risk_class" => "信用风险分类",
                "region" => "所属区域",
                "industry" => "行业",
                "status" => "登记状态",
                "established" => "成立日期",
                other => other,
            }
            .to_string()
        })
        .collect();
    for (i, row) in rows.iter_mut().enumerate().skip(1) {
        row[class] = match (row[class].as_str(), i % 3) {
            ("", _) => String::new(),
            (c, 0) => format!("{c}类"),
            (c, 1) => format!("{c}级"),
            ("A", _) => "信用风险低".into(),
            ("B", _) => "信用风险一般".into(),
            ("C", _) => "信用风险较高".into(),
            (_, _) => "信用风险高".into(),
        };
        row[status] = match (row[status].as_str(), i % 2) {
            ("active", 0) => "存续",
            ("active", _) => "在业",
            ("suspended", _) => "歇业",
            ("deregistered", _) => "注销",
            (_, _) => "吊销",
        }
        .into();
    }
    rows
}

#[test]
fn chinese_headers_and_values_draw_like_the_canonical_files() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    write_table(&dir.path().join("entities.csv"), &chinese_entities());
    let mut history = table("history.csv");
    history[0] = ["统一社会信用代码", "检查部门", "检查日期", "检查类型", "检查人员编号"]
        .map(String::from)
        .to_vec();
    for row in history.iter_mut().skip(1) {
        row[3] = match row[3].as_str() {
            "random" => "随机".into(),
            _ => "定向".into(),
        };
    }
    write_table(&dir.path().join("history.csv"), &history);
    assert_draws_like_the_fixtures(dir.path());
}

#[test]
fn an_unknown_chinese_value_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let mut rows = chinese_entities();
    let status = rows[0].iter().position(|h| h == "登记状态").unwrap();
    rows[4][status] = "迁出".into();
    write_table(&dir.path().join("entities.csv"), &rows);
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "entities.csv, line 5, field status: \"迁出\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
    );
}

/// Rewrites the fixture copy in `dir` in GB18030, optionally with
/// GB18030's byte-order mark.
fn to_gb18030(dir: &Path, names: &[&str], bom: bool) {
    for name in names {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        let mut out = if bom { b"\x84\x31\x95\x33".to_vec() } else { Vec::new() };
        out.extend_from_slice(&bytes);
        assert!(
            text.is_ascii() || out != text.as_bytes(),
            "{name} reads differently in GB18030"
        );
        std::fs::write(&path, out).unwrap();
    }
}

/// Adds `"encodings"` to the plan in `dir`.
fn declare(dir: &Path, encodings: serde_json::Value) {
    let path = dir.join("plan.json");
    let mut plan: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    plan["encodings"] = encodings;
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
}

#[test]
fn gb18030_files_declared_in_the_plan_draw_like_utf8() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    to_gb18030(dir.path(), &common::FIXTURE_INPUTS[1..], false);
    // Each file's role is its name without `.csv` in the fixture's plan.
    let roles = common::FIXTURE_INPUTS[1..].iter().map(|f| f.trim_end_matches(".csv"));
    declare(
        dir.path(),
        serde_json::Value::Object(roles.map(|r| (r.to_string(), "gbk".into())).collect()),
    );
    assert_draws_like_the_fixtures(dir.path());
    // The commitment hashes the files as given, not their UTF-8 reading.
    let inputs = double_random::Inputs::load(dir.path().join("plan.json")).unwrap();
    let given = std::fs::read(dir.path().join("entities.csv")).unwrap();
    let entities = inputs.files().iter().find(|f| f.role == "entities").unwrap();
    assert_eq!(entities.digest, double_random::key::Digest::of_bytes(&given));
}

#[test]
fn gb18030_files_with_a_byte_order_mark_need_no_declaration() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    to_gb18030(dir.path(), &["entities.csv", "inspectors.csv"], true);
    assert_draws_like_the_fixtures(dir.path());
}

#[test]
fn an_undeclared_gbk_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    to_gb18030(dir.path(), &["entities.csv"], false);
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "entities.csv, line 2, field name: the value is not valid UTF-8; it reads as GB18030 (GBK), the encoding \
         Excel and WPS use for CSV on Chinese Windows: \"河曲县顺达润田农资有限公司\". Declare it in the plan \
         (\"encodings\": {\"entities\": \"gb18030\"}, naming this file's role) or save the file as \"CSV UTF-8\""
    );
}

#[test]
fn an_undeclared_gbk_file_with_chinese_headers_gets_the_hint_at_its_header() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    write_table(&dir.path().join("entities.csv"), &chinese_entities());
    to_gb18030(dir.path(), &["entities.csv"], false);
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with(
            "entities.csv, line 1: column 1 of the header is not valid UTF-8; it reads as GB18030 (GBK), \
             the encoding Excel and WPS use for CSV on Chinese Windows: \"统一社会信用代码\". Declare it"
        ),
        "{message}"
    );
    let zh = e.localized(double_random::messages::Lang::Zh);
    assert!(
        zh.starts_with("entities.csv，第 1 行：表头第 1 列不是有效的 UTF-8 编码；按 GB18030"),
        "{zh}"
    );
}

#[test]
fn the_gbk_hint_names_the_role_of_the_file_it_is_about() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    to_gb18030(dir.path(), &["inspectors.csv"], false);
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with("inspectors.csv, line 2, field name: the value is not valid UTF-8; it reads as GB18030"),
        "{message}"
    );
    assert!(
        message.contains("(\"encodings\": {\"inspectors\": \"gb18030\"}, naming this file's role)"),
        "{message}"
    );
    let zh = e.localized(double_random::messages::Lang::Zh);
    assert!(
        zh.contains("（\"encodings\": {\"inspectors\": \"gb18030\"}，键为该文件的角色）"),
        "{zh}"
    );
}

#[test]
fn a_history_saved_by_excel_is_carried_on_in_utf8_or_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let base = dir.path().join("history.csv");
    let rows = "entity_id,department,date,kind,inspector_ids\nE1,SCJG,2027-05-20,random,张三;李四\n";
    let plain = double_random::audit::history_after(&base, rows).unwrap();
    assert!(plain.ends_with("\nE1,SCJG,2027-05-20,random,张三;李四\n"), "{plain}");
    // Marked by GB18030's byte-order mark: read for certain, written in UTF-8.
    to_gb18030(dir.path(), &["history.csv"], true);
    assert_eq!(double_random::audit::history_after(&base, rows).unwrap(), plain);
    // Unmarked and not UTF-8: refused, with what to do.
    let text = std::fs::read_to_string(common::fixture_path("history.csv")).unwrap();
    std::fs::write(&base, text).unwrap();
    let mut bytes = std::fs::read(&base).unwrap();
    bytes.extend_from_slice(&encoding_rs::GB18030.encode("E2,SCJG,2026-01-05,random,王五\n").0);
    std::fs::write(&base, bytes).unwrap();
    let e = double_random::audit::history_after(&base, rows).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file is not valid UTF-8; it reads as GB18030 (GBK): save it as \"CSV UTF-8\"",
            base.display()
        )
    );
    assert_eq!(
        e.localized(double_random::messages::Lang::Zh),
        format!(
            "{}：文件不是有效的 UTF-8 编码；可按 GB18030（GBK）读取：请另存为“CSV UTF-8”",
            base.display()
        )
    );
}

#[test]
fn a_bad_encoding_declaration_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    declare(dir.path(), serde_json::json!({"entities": "big5"}));
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    assert!(e.to_string().starts_with("plan.json, line "), "{e}");
    assert!(
        e.to_string().ends_with(
            "field encodings.entities: \"big5\" is not an encoding (utf-8 or gb18030; gbk reads as gb18030)"
        ),
        "{e}"
    );
    declare(dir.path(), serde_json::json!({"results": "gbk"}));
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    assert!(
        e.to_string().contains("\"results\" is not an input file of the plan"),
        "{e}"
    );
}

/// Writes `rows` as the one sheet `sheet` of a workbook: the column
/// `established` as Excel dates, the rest as text.
#[cfg(feature = "xlsx")]
fn write_workbook(path: &Path, sheet: &str, rows: &[Vec<String>]) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let established = rows[0].iter().position(|h| h == "成立日期" || h == "established");
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c16) = (r as u32, c as u16);
            if r > 0 && Some(c) == established && !value.is_empty() {
                let date = ExcelDateTime::parse_from_str(value).unwrap();
                ws.write_datetime_with_format(r, c16, &date, &date_format).unwrap();
            } else if !value.is_empty() {
                ws.write_string(r, c16, value).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// Points the plan in `dir` at `entities.xlsx` instead of `entities.csv`.
#[cfg(feature = "xlsx")]
fn use_workbook(dir: &Path) {
    let path = dir.join("plan.json");
    let mut plan: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    plan["inputs"]["entities"] = "entities.xlsx".into();
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    std::fs::remove_file(dir.join("entities.csv")).unwrap();
}

#[cfg(feature = "xlsx")]
#[test]
fn an_excel_workbook_draws_like_the_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    write_workbook(&dir.path().join("entities.xlsx"), "企业名录", &chinese_entities());
    use_workbook(dir.path());
    assert_draws_like_the_fixtures(dir.path());
}

#[cfg(feature = "xlsx")]
#[test]
fn a_bad_cell_is_named_by_sheet_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let mut rows = chinese_entities();
    let class = rows[0].iter().position(|h| h == "信用风险分类").unwrap();
    rows[4][class] = "E类".into();
    write_workbook(&dir.path().join("entities.xlsx"), "企业名录", &rows);
    use_workbook(dir.path());
    let e = double_random::Inputs::load(dir.path().join("plan.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "entities.xlsx, sheet 企业名录, row 5, column C (risk_class): \"E类\" is not a risk class (A, B, C, D, also \
         A类 or A级 …, or empty for unclassified)"
    );
    let at = e.location().unwrap();
    assert_eq!(
        (at.sheet.as_deref(), at.line, at.column.as_deref(), at.field.as_deref()),
        (Some("企业名录"), Some(5), Some("C"), Some("risk_class"))
    );
}

/// Draws the fixtures with `outputs.xlsx` into `out`, the entity named
/// on line 2 renamed `name`.
#[cfg(feature = "xlsx")]
fn draw_with_workbook(dir: &Path, out: &Path, name: &str) {
    common::copy_fixture_inputs(dir, &[]);
    let mut rows = table("entities.csv");
    rows[1][1] = name.to_string();
    write_table(&dir.join("entities.csv"), &rows);
    Drawer::new(Seed::new(SEED).unwrap(), out)
        .plan(dir.join("plan.json"))
        .xlsx(true)
        .run()
        .unwrap();
}

#[cfg(feature = "xlsx")]
#[test]
fn outputs_xlsx_holds_the_csv_files_as_text_and_verify_checks_it() {
    use calamine::{Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    draw_with_workbook(dir.path(), &out, "=HYPERLINK(\"http://example.com\",\"点我\")");
    let mut book: Xlsx<_> = calamine::open_workbook(out.join("outputs.xlsx")).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "selection",
            "strata",
            "exclusions",
            "visits",
            "offsite",
            "unscheduled",
            "public"
        ]
    );
    for sheet in book.sheet_names() {
        let cells = book.worksheet_range(&sheet).unwrap();
        let csv: Vec<Vec<String>> = rows_of(&out.join(format!("{sheet}.csv")));
        let read: Vec<Vec<String>> = cells
            .rows()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        Data::String(s) => s.clone(),
                        Data::Empty => String::new(),
                        other => panic!("{sheet}: a cell that is not text: {other:?}"),
                    })
                    .collect()
            })
            .collect();
        assert!(read == csv, "{sheet} differs from {sheet}.csv");
        // No cell is a formula, whatever the inputs held.
        let formulas = book.worksheet_formula(&sheet).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "{sheet} holds a formula"
        );
    }
    let public = std::fs::read_to_string(out.join("public.csv")).unwrap();
    assert!(public.contains("'=HYPERLINK"), "the name is neutralised in public.csv");
    let v = double_random::Verifier::new(out.join("record.json")).run().unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
}

#[cfg(feature = "xlsx")]
#[test]
fn a_changed_or_missing_sheet_of_outputs_xlsx_is_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    draw_with_workbook(dir.path(), &out, "河曲县顺达润田农资有限公司");
    // A workbook like the draw's, with one visit's date changed and no public sheet.
    let mut book = rust_xlsxwriter::Workbook::new();
    for sheet in ["selection", "strata", "exclusions", "visits", "offsite", "unscheduled"] {
        let rows: Vec<Vec<String>> = rows_of(&out.join(format!("{sheet}.csv")));
        let ws = book.add_worksheet();
        ws.set_name(sheet).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let value = if sheet == "visits" && r == 1 && row[0].starts_with('V') && value.starts_with("2027-") {
                    value.replacen("2027-", "2028-", 1)
                } else {
                    value.clone()
                };
                if !value.is_empty() {
                    ws.write_string(r as u32, c as u16, &value).unwrap();
                }
            }
        }
    }
    book.save(out.join("outputs.xlsx")).unwrap();
    let v = double_random::Verifier::new(out.join("record.json")).run().unwrap();
    assert_eq!(v.differences.len(), 2, "{:?}", v.differences);
    assert!(
        v.differences[0].starts_with("outputs.xlsx, sheet visits, row 2, column "),
        "{:?}",
        v.differences
    );
    assert!(v.differences[0].ends_with(" (visits.csv)"), "{:?}", v.differences);
    assert_eq!(v.differences[1], "outputs.xlsx: the sheet public is missing");
}
