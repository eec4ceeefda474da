//! Bad inputs: each gives one exact error message naming the file, line and
//! field. The wording is pinned here so it only changes on purpose.

mod common;

use std::collections::BTreeMap;

use common::{HEADER, files, plan};

const GOOD: &str = "E00000,Shop 0,B,North,retail,active,2015-01-01\nE00001,Shop 1,C,South,travel,active,2016-02-03\n";

fn ratios() -> [&'static str; 4] {
    ["0.01", "0.02", "0.10", "0.30"]
}

/// Loads with the default plan and files, after `edit` changes them.
fn error(edit: impl FnOnce(&mut String, &mut BTreeMap<&'static str, String>)) -> String {
    let mut p = plan(ratios(), "");
    let mut f = files(GOOD);
    edit(&mut p, &mut f);
    match common::load(&p, &f) {
        Ok(_) => "loaded without error".to_string(),
        Err(e) => e.to_string(),
    }
}

fn entities(body: &str) -> impl FnOnce(&mut String, &mut BTreeMap<&'static str, String>) + '_ {
    move |_, f| {
        f.insert("entities.csv", body.to_string());
    }
}

fn in_file(name: &'static str, body: String) -> impl FnOnce(&mut String, &mut BTreeMap<&'static str, String>) {
    move |_, f| {
        f.insert(name, body);
    }
}

fn in_plan(from: &'static str, to: &'static str) -> impl FnOnce(&mut String, &mut BTreeMap<&'static str, String>) {
    move |p, _| {
        assert!(p.contains(from), "the plan has no {from}");
        *p = p.replacen(from, to, 1);
    }
}

macro_rules! bad_input {
    ($name:ident, $edit:expr, $expected:expr) => {
        #[test]
        fn $name() {
            assert_eq!(error($edit), $expected);
        }
    };
}

bad_input!(
    entities_missing_column,
    entities("id,name,risk_class,region,industry,established\nE1,a,B,N,r,2015-01-01\n"),
    "entities.csv, line 1: missing column status"
);
bad_input!(
    entities_duplicate_column,
    entities("id,name,risk_class,region,industry,status,established,region\nE1,a,B,N,r,active,,N\n"),
    "entities.csv, line 1, field region: column appears twice"
);
bad_input!(
    entities_unknown_class,
    entities(&format!("{HEADER}\nE1,a,B,N,r,active,\nE2,b,E,N,r,active,\n")),
    "entities.csv, line 3, field risk_class: \"E\" is not a risk class (A, B, C, D, or empty for unclassified)"
);
bad_input!(
    entities_unknown_status,
    entities(&format!("{HEADER}\nE1,a,B,N,r,closed,\n")),
    "entities.csv, line 2, field status: \"closed\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\")"
);
bad_input!(
    entities_impossible_date,
    entities(&format!("{HEADER}\nE1,a,B,N,r,active,2023-02-30\n")),
    "entities.csv, line 2, field established: \"2023-02-30\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    entities_malformed_date,
    entities(&format!("{HEADER}\nE1,a,B,N,r,active,2023/02/03\n")),
    "entities.csv, line 2, field established: \"2023/02/03\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    entities_duplicate_id,
    entities(&format!(
        "{HEADER}\nE1,a,B,N,r,active,\nE2,b,B,N,r,active,\nE1,c,B,N,r,active,\n"
    )),
    "entities.csv, line 4, field id: duplicate id \"E1\" (first on line 2)"
);
bad_input!(
    entities_duplicate_id_after_bom_crlf_and_a_quoted_newline,
    entities(&format!(
        "\u{feff}{HEADER}\r\nE1,a,B,N,r,active,\r\nE2,\"b\r\nc\",B,N,r,active,\r\nE1,c,B,N,r,active,\r\n"
    )),
    "entities.csv, line 5, field id: duplicate id \"E1\" (first on line 2)"
);
bad_input!(
    entities_id_repeated_three_times_reports_its_second_occurrence,
    entities(&format!(
        "{HEADER}\nE9,a,B,N,r,active,\nE2,b,B,N,r,active,\nE2,b,B,N,r,active,\nE9,c,B,N,r,active,\nE2,c,B,N,r,active,\n"
    )),
    "entities.csv, line 4, field id: duplicate id \"E2\" (first on line 3)"
);
bad_input!(
    entities_empty_file,
    entities(""),
    "entities.csv: the file is empty (expected a header row)"
);
bad_input!(
    entities_header_only,
    entities(&format!("{HEADER}\n")),
    "entities.csv: the file has no entities (only a header)"
);
bad_input!(
    entities_wrong_field_count,
    entities(&format!("{HEADER}\nE1,a,B,N,r,active,\nE2,b,B,N,r,active\n")),
    "entities.csv, line 3: the row has 6 fields, the header has 7"
);
bad_input!(
    entities_control_character_in_id,
    entities(&format!("{HEADER}\nE\u{7}1,a,B,N,r,active,\n")),
    "entities.csv, line 2, field id: \"E\\u{7}1\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    entities_empty_id,
    entities(&format!("{HEADER}\n,a,B,N,r,active,\n")),
    "entities.csv, line 2, field id: \"\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    entities_huge_field,
    entities(&format!("{HEADER}\nE1,{},B,N,r,active,\n", "x".repeat(5_000_000))),
    "entities.csv, line 2, field name: a value of 5000000 bytes (at most 4096 are accepted)"
);
bad_input!(
    entities_quoted_newline_keeps_line_numbers,
    entities(&format!(
        "{HEADER}\nE1,\"two\nlines\",B,N,r,active,\nE2,b,B,N,r,activ,\n"
    )),
    "entities.csv, line 4, field status: \"activ\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\")"
);

#[test]
fn entities_not_utf8() {
    let mut f = files(GOOD);
    let mut bytes = format!("{HEADER}\nE1,").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe shop,B,N,r,active,\n");
    f.insert("entities.csv", String::new());
    let p = plan(ratios(), "");
    let err = double_random::Inputs::from_files("plan.json", p.as_bytes(), |path| {
        Ok(if path == "entities.csv" {
            bytes.clone()
        } else {
            f[path].clone().into_bytes()
        })
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "entities.csv, line 2, field name: the value is not valid UTF-8"
    );
}

bad_input!(
    unclassified_without_plan_class,
    |p: &mut String, f: &mut BTreeMap<&'static str, String>| {
        *p = p.replace(r#""unclassified_class": "B","#, "");
        f.insert(
            "entities.csv",
            format!("{HEADER}\nE1,a,B,N,r,active,\nE2,b,,N,r,active,\n"),
        );
    },
    "entities.csv, line 3, field risk_class: entity \"E2\" is unclassified and the plan names no unclassified_class"
);

// The plan.

bad_input!(
    plan_ratio_as_json_number,
    in_plan(r#""ratio": "0.01""#, r#""ratio": 0.01"#),
    "plan.json, line 10, field departments[0].classes.A.ratio: the JSON number 0.01 is not a ratio: write ratios as decimal strings, like \"0.05\""
);
bad_input!(
    plan_ratio_above_one,
    in_plan(r#""ratio": "0.30""#, r#""ratio": "1.5""#),
    "plan.json, line 10, field departments[0].classes.D.ratio: \"1.5\" is not a ratio between 0 and 1"
);
bad_input!(
    plan_ratio_not_decimal,
    in_plan(r#""ratio": "0.10""#, r#""ratio": "10%""#),
    "plan.json, line 10, field departments[0].classes.C.ratio: \"10%\" is not a decimal ratio between 0 and 1 written as a string, like \"0.05\""
);
bad_input!(
    plan_ratios_decrease,
    in_plan(r#""ratio": "0.10""#, r#""ratio": "0.015""#),
    "plan.json, line 10, field departments[0].classes.C.ratio: the ratio of class C (0.015) is below that of class B (0.02); ratios must not decrease from A to D unless the plan sets \"ratio_order\": \"any\""
);
bad_input!(
    plan_window_end_before_start,
    in_plan(r#""end": "2027-05-31""#, r#""end": "2027-02-28""#),
    "plan.json, line 5, field window.end: \"2027-02-28\" is not a date on or after the window start 2027-03-01"
);
bad_input!(
    plan_unknown_lead,
    in_plan(r#""lead_department": "S""#, r#""lead_department": "X""#),
    "plan.json, line 6, field lead_department: unknown department \"X\""
);
bad_input!(
    plan_unknown_item,
    in_plan(r#""items": ["S1", "S2"]"#, r#""items": ["S1", "S9"]"#),
    "plan.json, line 10, field departments[0].items[1]: unknown item \"S9\""
);
bad_input!(
    plan_item_of_another_department,
    in_plan(r#""items": ["W1"]"#, r#""items": ["S1"]"#),
    "plan.json, line 11, field departments[1].items[0]: item \"S1\" belongs to department \"S\", not \"W\""
);
bad_input!(
    plan_general_item_cap_below_ratio,
    in_file(
        "items.csv",
        common::ITEMS.replace("S1,S,licence use,general,1,", "S1,S,licence use,general,0.2,")
    ),
    "plan.json, line 10, field departments[0].items[0]: general item \"S1\" has max_ratio 0.2, below the class D ratio 0.30 of department \"S\""
);
bad_input!(
    plan_unknown_stratum_column,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "strata": ["zone"],"#
    ),
    "plan.json, line 8, field strata[0]: unknown column \"zone\""
);
bad_input!(
    plan_unknown_scope_column,
    in_plan(r#""scope": {"industry""#, r#""scope": {"sector""#),
    "plan.json, line 11, field departments[1].scope.sector: unknown column \"sector\""
);
bad_input!(
    plan_unknown_field,
    in_plan(r#""round_id": "1","#, r#""round_id": "1", "ratios": {},"#),
    "plan.json, line 4, field ratios: unknown field `ratios`, expected one of `spec`, `plan_id`, `task_id`, `round_id`, `window`, `lead_department`, `inputs`, `strata`, `unclassified_class`, `cooldown_days`, `annual_cap`, `observation`, `ratio_order`, `teams`, `departments`"
);
bad_input!(
    plan_malformed_json,
    in_plan(r#""round_id": "1","#, r#""round_id": "1""#),
    "plan.json, line 5: expected `,` or `}`"
);
bad_input!(
    plan_unknown_class,
    in_plan(r#""A": {"ratio": "0.01"}"#, r#""E": {"ratio": "0.01"}"#),
    "plan.json, line 10, field departments[0].classes.E: unknown risk class \"E\""
);
bad_input!(
    plan_duplicate_department,
    in_plan(r#"{"id": "W","#, r#"{"id": "S","#),
    "plan.json, line 11, field departments[1].id: duplicate id \"S\" (first on line 10)"
);
bad_input!(
    plan_control_character_in_task_id,
    in_plan(r#""task_id": "T1""#, r#""task_id": "T\u0001""#),
    "plan.json, line 3, field task_id: \"T\\u{1}\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    plan_missing_input_file,
    in_plan(r#""items": "items.csv""#, r#""items": "missing.csv""#),
    "missing.csv: no such file"
);

// Items, history and directed checks.

bad_input!(
    items_general_without_cap,
    in_file("items.csv", common::ITEMS.replace("general,1,", "general,,")),
    "items.csv, line 2, field max_ratio: \"\" is not a ratio (a general item needs a max_ratio)"
);
bad_input!(
    items_unknown_kind,
    in_file(
        "items.csv",
        common::ITEMS.replace("S2,S,public information,key", "S2,S,public information,major")
    ),
    "items.csv, line 3, field kind: \"major\" is not an item kind (\"key\" or \"general\")"
);
bad_input!(
    items_duplicate_id,
    in_file("items.csv", format!("{}S1,S,again,key,,,,\n", common::ITEMS)),
    "items.csv, line 5, field id: duplicate id \"S1\" (first on line 2)"
);
bad_input!(
    history_unknown_entity,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE99,S,2026-01-05,random,X1\n".into()
    ),
    "history.csv, line 2, field entity_id: unknown entity \"E99\""
);
bad_input!(
    history_unknown_kind,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE00000,S,2026-01-05,routine,X1\n".into()
    ),
    "history.csv, line 2, field kind: \"routine\" is not a visit kind (\"random\" or \"directed\")"
);
bad_input!(
    directed_unknown_department,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE00000,Q,complaint,S1\n".into()
    ),
    "directed.csv, line 2, field department: unknown department \"Q\""
);
bad_input!(
    directed_unknown_reason,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE00000,S,rumour,S1\n".into()
    ),
    "directed.csv, line 2, field reason: \"rumour\" is not a reason (one of \"complaint\", \"big_data\", \"referral\", \"legal\" or \"commitment\")"
);
bad_input!(
    directed_item_of_another_department,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE00000,S,complaint,W1\n".into()
    ),
    "directed.csv, line 2, field item_ids: item \"W1\" belongs to department \"W\", not \"S\""
);

#[test]
fn seeds_must_be_printable_text() {
    use double_random::Seed;
    assert_eq!(Seed::new("").unwrap_err().to_string(), "seed: the seed is empty");
    assert_eq!(Seed::new(" \t ").unwrap_err().to_string(), "seed: the seed is empty");
    assert_eq!(
        Seed::new("12\n34").unwrap_err().to_string(),
        "seed: the seed holds the control character '\\n'"
    );
}

#[test]
fn good_inputs_load() {
    assert_eq!(error(|_, _| {}), "loaded without error");
}
