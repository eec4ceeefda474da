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
    "entities.csv, line 3, field risk_class: \"E\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)"
);
bad_input!(
    entities_unknown_status,
    entities(&format!("{HEADER}\nE1,a,B,N,r,closed,\n")),
    "entities.csv, line 2, field status: \"closed\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
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
    entities_duplicate_long_id_among_ids_sharing_their_first_18_bytes,
    entities(&format!(
        "{HEADER}\n91140930000000000XA,a,B,N,r,active,\n91140930000000000XB,b,B,N,r,active,\n91140930000000000X,b,B,N,r,active,\n91140930000000000XB,c,B,N,r,active,\n91140930000000000XA,c,B,N,r,active,\n"
    )),
    "entities.csv, line 5, field id: duplicate id \"91140930000000000XB\" (first on line 3)"
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
    entities(&format!("{HEADER}\nE1,{},B,N,r,active,\n", "x".repeat(5_000))),
    "entities.csv, line 2, field name: a value of 5000 bytes (at most 4096 are accepted)"
);
// A row past the longest accepted stops the reading there: memory stays
// bounded however long the row (or the file without line ends) is.
bad_input!(
    entities_endless_row,
    entities(&format!("{HEADER}\nE1,{},B,N,r,active,\n", "x".repeat(5_000_000))),
    "entities.csv, line 2: no line end within 1048576 bytes, the most a row may take (a line end is missing, or a quote left open)"
);
bad_input!(
    entities_quoted_newline_keeps_line_numbers,
    entities(&format!(
        "{HEADER}\nE1,\"two\nlines\",B,N,r,active,\nE2,b,B,N,r,activ,\n"
    )),
    "entities.csv, line 4, field status: \"activ\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
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
    "plan.json, line 4, field ratios: unknown field `ratios`, expected one of `spec`, `plan_id`, `task_id`, `round_id`, `window`, `lead_department`, `inputs`, `strata`, `unclassified_class`, `cooldown_days`, `annual_cap`, `class_limits`, `cooldown_counts`, `annual_cap_counts`, `observation`, `ratio_order`, `teams`, `encodings`, `departments`"
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
    "items.csv, line 3, field kind: \"major\" is not an item kind (\"key\", \"general\" or \"public_information\")"
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
// The history is read beside the entity file; errors still come in file
// order: entities, items, then history.
const BAD_HISTORY: &str = "entity_id,department,date,kind\nE00000,S,2026-01-05,random\n";
bad_input!(
    entities_error_comes_before_a_history_error,
    |_: &mut String, f: &mut BTreeMap<&'static str, String>| {
        f.insert("entities.csv", format!("{HEADER}\nE1,a,B,N,r,closed,\n"));
        f.insert("history.csv", BAD_HISTORY.into());
    },
    "entities.csv, line 2, field status: \"closed\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
);
bad_input!(
    items_error_comes_before_a_history_error,
    |_: &mut String, f: &mut BTreeMap<&'static str, String>| {
        f.insert("items.csv", format!("{}S1,S,again,key,,,,\n", common::ITEMS));
        f.insert("history.csv", BAD_HISTORY.into());
    },
    "items.csv, line 5, field id: duplicate id \"S1\" (first on line 2)"
);
bad_input!(
    items_error_comes_before_a_missing_history_file,
    |p: &mut String, f: &mut BTreeMap<&'static str, String>| {
        f.insert("items.csv", format!("{}S1,S,again,key,,,,\n", common::ITEMS));
        *p = p.replacen(r#""history": "history.csv""#, r#""history": "missing.csv""#, 1);
    },
    "items.csv, line 5, field id: duplicate id \"S1\" (first on line 2)"
);
bad_input!(
    missing_history_file_after_good_items,
    in_plan(r#""history": "history.csv""#, r#""history": "missing.csv""#),
    "missing.csv: no such file"
);
bad_input!(
    history_without_a_column,
    in_file("history.csv", BAD_HISTORY.into()),
    "history.csv, line 1: missing column inspector_ids"
);
bad_input!(
    history_error_comes_before_an_unknown_entity_further_on,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE00000,S,2026-01-05,routine,X1\nE99,S,2026-01-05,random,X1\n"
            .into()
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
// The directed checks are read while the history's entities are looked
// up; the history's errors still come first, then the directed file's.
bad_input!(
    history_unknown_entity_comes_before_a_directed_error,
    |_: &mut String, f: &mut BTreeMap<&'static str, String>| {
        f.insert(
            "history.csv",
            "entity_id,department,date,kind,inspector_ids\nE99,S,2026-01-05,random,X1\n".into(),
        );
        f.insert(
            "directed.csv",
            "entity_id,department,reason,item_ids\nE00000,Q,complaint,S1\n".into(),
        );
    },
    "history.csv, line 2, field entity_id: unknown entity \"E99\""
);
bad_input!(
    history_unknown_entity_comes_before_a_missing_directed_file,
    |p: &mut String, f: &mut BTreeMap<&'static str, String>| {
        f.insert(
            "history.csv",
            "entity_id,department,date,kind,inspector_ids\nE99,S,2026-01-05,random,X1\n".into(),
        );
        *p = p.replacen(r#""directed": "directed.csv""#, r#""directed": "missing.csv""#, 1);
    },
    "history.csv, line 2, field entity_id: unknown entity \"E99\""
);
bad_input!(
    missing_directed_file_after_a_good_history,
    in_plan(r#""directed": "directed.csv""#, r#""directed": "missing.csv""#),
    "missing.csv: no such file"
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
    // What a published seed could hold without anyone seeing it is refused:
    // a zero-width space, a bidirectional override, a byte order mark, and
    // white space at either end.
    assert_eq!(
        Seed::new("0417\u{200B}2953").unwrap_err().to_string(),
        "seed: the seed holds the invisible character U+200B, which a published seed would not show"
    );
    assert_eq!(
        Seed::new("\u{202E}3592 7140").unwrap_err().to_string(),
        "seed: the seed holds the invisible character U+202E, which a published seed would not show"
    );
    assert_eq!(
        Seed::new("\u{FEFF}0417").unwrap_err().to_string(),
        "seed: the seed holds the invisible character U+FEFF, which a published seed would not show"
    );
    for seed in ["0417 2953 ", " 0417 2953", "0417 2953\u{3000}"] {
        assert_eq!(
            Seed::new(seed).unwrap_err().to_string(),
            "seed: the seed starts or ends with white space, which a published seed would not show",
            "{seed:?}"
        );
    }
    // Inner spaces, full-width digits and Chinese text are what they show.
    for seed in [
        "2027-03-01 lottery 0417 2953",
        "２０２７年 第一期 0417",
        "双色球 2027001",
    ] {
        assert_eq!(Seed::new(seed).unwrap().as_str(), seed);
    }
}

#[test]
fn good_inputs_load() {
    assert_eq!(error(|_, _| {}), "loaded without error");
}

// ---------------------------------------------------------------------------
// The inspector library, recusal pairs and the calendar.

const INSPECTORS: &str =
    "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable";

/// The default plan with a calendar, an inspector library and recusal pairs.
fn with_teams(
    inspectors: Option<&'static str>,
    conflicts: Option<&'static str>,
    calendar: Option<&'static str>,
) -> impl FnOnce(&mut String, &mut BTreeMap<&'static str, String>) {
    move |p, f| {
        *p = p.replace(
            r#""directed": "directed.csv"}"#,
            r#""directed": "directed.csv", "calendar": "calendar.csv", "inspectors": "inspectors.csv", "conflicts": "conflicts.csv"}"#,
        );
        let default_inspectors = format!(
            "{INSPECTORS}\nS1,a,S,North,2029-12-31,,12,3,\nS2,b,S,South,2029-12-31,,12,3,\nS3,e,S,East,2029-12-31,,12,3,\nW1,c,W,North,2029-12-31,,12,3,\nW2,d,W,South,2029-12-31,,12,3,\n"
        );
        f.insert(
            "inspectors.csv",
            inspectors.map_or(default_inspectors, |b| format!("{INSPECTORS}\n{b}")),
        );
        f.insert(
            "conflicts.csv",
            conflicts
                .unwrap_or("inspector_id,entity_id,reason\nS1,E00000,relative\n")
                .to_string(),
        );
        f.insert(
            "calendar.csv",
            calendar
                .unwrap_or("date,kind,name\n2027-04-05,holiday,Qingming\n")
                .to_string(),
        );
    }
}

bad_input!(
    inspectors_missing_column,
    |p: &mut String, f: &mut BTreeMap<&'static str, String>| {
        with_teams(None, None, None)(p, f);
        f.insert(
            "inspectors.csv",
            "id,name,department,station,certificate_valid_until,qualifications,max_visits,unavailable\nS1,a,S,N,2029-12-31,,12,\n".into(),
        );
    },
    "inspectors.csv, line 1: missing column max_per_day"
);
// A library with a header and no inspector used to give visits without
// teams and exit 0, while a library missing one department is an error.
bad_input!(
    inspectors_header_only,
    with_teams(Some(""), Some("inspector_id,entity_id,reason\n"), None),
    "inspectors.csv: the file has no inspectors (only a header); to draw without teams, leave the inspectors out of the plan"
);
bad_input!(
    inspectors_duplicate_id,
    with_teams(
        Some("S1,a,S,North,2029-12-31,,12,3,\nS1,b,S,South,2029-12-31,,12,3,\n"),
        None,
        None
    ),
    "inspectors.csv, line 3, field id: duplicate id \"S1\" (first on line 2)"
);
bad_input!(
    inspectors_impossible_certificate_date,
    with_teams(Some("S1,a,S,North,2029-13-01,,12,3,\n"), None, None),
    "inspectors.csv, line 2, field certificate_valid_until: \"2029-13-01\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    inspectors_max_visits_not_a_number,
    with_teams(Some("S1,a,S,North,2029-12-31,,many,3,\n"), None, None),
    "inspectors.csv, line 2, field max_visits: \"many\" is not a whole number of visits of at least 1"
);
bad_input!(
    inspectors_negative_max_per_day,
    with_teams(Some("S1,a,S,North,2029-12-31,,12,-1,\n"), None, None),
    "inspectors.csv, line 2, field max_per_day: \"-1\" is not a whole number of visits of at least 1"
);
bad_input!(
    inspectors_impossible_unavailable_date,
    with_teams(Some("S1,a,S,North,2029-12-31,,12,3,2027-04-31\n"), None, None),
    "inspectors.csv, line 2, field unavailable: \"2027-04-31\" is not a `;`-separated list of dates (YYYY-MM-DD)"
);
bad_input!(
    inspectors_control_character_in_id,
    with_teams(Some("S\u{7}1,a,S,North,2029-12-31,,12,3,\n"), None, None),
    "inspectors.csv, line 2, field id: \"S\\u{7}1\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    conflicts_unknown_inspector,
    with_teams(None, Some("inspector_id,entity_id,reason\nZ9,E00000,relative\n"), None),
    "conflicts.csv, line 2, field inspector_id: unknown inspector \"Z9\""
);
bad_input!(
    conflicts_unknown_entity,
    with_teams(None, Some("inspector_id,entity_id,reason\nS1,E99,relative\n"), None),
    "conflicts.csv, line 2, field entity_id: unknown entity \"E99\""
);
bad_input!(
    conflicts_missing_column,
    with_teams(None, Some("inspector_id,reason\nS1,relative\n"), None),
    "conflicts.csv, line 1: missing column entity_id"
);
bad_input!(
    calendar_unknown_day_kind,
    with_teams(None, None, Some("date,kind,name\n2027-04-05,festival,x\n")),
    "calendar.csv, line 2, field kind: \"festival\" is not a day kind (\"holiday\" or \"workday\")"
);
bad_input!(
    calendar_date_twice,
    with_teams(
        None,
        None,
        Some("date,kind,name\n2027-04-05,holiday,x\n2027-04-05,workday,y\n")
    ),
    "calendar.csv, line 3, field date: duplicate id \"2027-04-05\" (first on line 2)"
);
bad_input!(
    calendar_impossible_date,
    with_teams(None, None, Some("date,kind,name\n2027-04-31,holiday,x\n")),
    "calendar.csv, line 2, field date: \"2027-04-31\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    calendar_empty_file,
    with_teams(None, None, Some("")),
    "calendar.csv: the file is empty (expected a header row)"
);

// ---------------------------------------------------------------------------
// More of the other files.

bad_input!(
    history_malformed_date,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE00000,S,2026-1-5,random,X1\n".into()
    ),
    "history.csv, line 2, field date: \"2026-1-5\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    history_missing_column,
    in_file(
        "history.csv",
        "entity_id,department,date,kind\nE00000,S,2026-01-05,random\n".into()
    ),
    "history.csv, line 1: missing column inspector_ids"
);
bad_input!(
    history_unknown_entity_after_good_rows_is_named_even_with_a_later_bad_date,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE00000,S,2026-01-05,random,X1\nE42,S,2026-01-06,random,X1\nE00001,S,bad,random,X1\n".into()
    ),
    "history.csv, line 3, field entity_id: unknown entity \"E42\""
);
bad_input!(
    directed_empty_item_list,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE00000,S,complaint,\n".into()
    ),
    "directed.csv, line 2, field item_ids: \"\" is not a `;`-separated list of item ids"
);
bad_input!(
    directed_unknown_item,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE00000,S,complaint,S9\n".into()
    ),
    "directed.csv, line 2, field item_ids: unknown item \"S9\""
);
bad_input!(
    directed_unknown_entity,
    in_file(
        "directed.csv",
        "entity_id,department,reason,item_ids\nE77,S,complaint,S1\n".into()
    ),
    "directed.csv, line 2, field entity_id: unknown entity \"E77\""
);
bad_input!(
    items_cap_not_a_ratio,
    in_file(
        "items.csv",
        "id,department,name,kind,max_ratio\nS1,S,x,general,abc\nS2,S,y,key,\nW1,W,z,key,\n".into()
    ),
    "items.csv, line 2, field max_ratio: \"abc\" is not a decimal ratio between 0 and 1 written as a string, like \"0.05\""
);
bad_input!(
    items_cap_above_one,
    in_file(
        "items.csv",
        "id,department,name,kind,max_ratio\nS1,S,x,general,1.5\nS2,S,y,key,\nW1,W,z,key,\n".into()
    ),
    "items.csv, line 2, field max_ratio: \"1.5\" is not a ratio between 0 and 1"
);
bad_input!(
    entities_id_with_surrounding_space,
    entities(&format!("{HEADER}\n E1,a,B,N,r,active,\n")),
    "entities.csv, line 2, field id: \" E1\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    entities_empty_status,
    entities(&format!("{HEADER}\nE1,a,B,N,r,,\n")),
    "entities.csv, line 2, field status: \"\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
);
bad_input!(
    entities_lower_case_class,
    entities(&format!("{HEADER}\nE1,a,b,N,r,active,\n")),
    "entities.csv, line 2, field risk_class: \"b\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)"
);
bad_input!(
    entities_only_a_byte_order_mark,
    entities("\u{feff}"),
    "entities.csv: the file is empty (expected a header row)"
);
bad_input!(
    entities_only_whitespace,
    entities("  \n\n \n"),
    "entities.csv: the file is empty (expected a header row)"
);
bad_input!(
    plan_negative_ratio,
    in_plan(r#""ratio": "0.01""#, r#""ratio": "-0.1""#),
    "plan.json, line 10, field departments[0].classes.A.ratio: \"-0.1\" is not a decimal ratio between 0 and 1 written as a string, like \"0.05\""
);
bad_input!(
    plan_impossible_window_date,
    in_plan("2027-05-31", "2027-02-30"),
    "plan.json, line 5, field window.end: \"2027-02-30\" is not a date (YYYY-MM-DD)"
);
bad_input!(
    plan_team_of_nobody,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "teams": {"per_department": 0},"#
    ),
    "plan.json, line 8, field teams.per_department: \"0\" is not a count from 1 to 10"
);
bad_input!(
    plan_empty_department_id,
    in_plan(r#""id": "W""#, r#""id": """#),
    "plan.json, line 11, field departments[1].id: \"\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    plan_negative_cooldown,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "cooldown_days": -5,"#
    ),
    "plan.json, line 8, field cooldown_days: invalid value: integer `-5`, expected u32"
);
bad_input!(
    plan_unknown_rotation,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "teams": {"rotation": "sometimes"},"#
    ),
    "plan.json, line 8, field teams.rotation: \"sometimes\" is not a rotation rule (exclude_previous or off)"
);
bad_input!(
    plan_other_spec,
    in_plan("{", r#"{"spec": "DR1","#),
    "plan.json, line 1, field spec: \"DR1\" is not \"DR3\", the spec this crate implements"
);
bad_input!(
    plan_empty_round,
    in_plan(r#""round_id": "1""#, r#""round_id": """#),
    "plan.json, line 4, field round_id: \"\" is not an id (not empty, no surrounding spaces or control characters)"
);
bad_input!(
    plan_an_array,
    |p: &mut String, _: &mut BTreeMap<&'static str, String>| *p = "\n[1, 2]".into(),
    "plan.json, line 2: expected a JSON object"
);
bad_input!(
    plan_empty_file,
    |p: &mut String, _: &mut BTreeMap<&'static str, String>| p.clear(),
    "plan.json, line 1: EOF while parsing a value"
);

/// A change to the default plan and files.
type Edit = dyn FnOnce(&mut String, &mut BTreeMap<&'static str, String>);

/// Inputs that load but cannot be staffed: the error names every visit
/// part that cannot be, and why (a minimum-cut certificate).
#[test]
fn teams_that_cannot_exist_are_named() {
    let draw_error = |edit: Box<Edit>| {
        let mut p = plan(["0.5", "0.5", "0.5", "1"], "");
        let mut f = files(GOOD);
        edit(&mut p, &mut f);
        let inputs = common::load(&p, &f).unwrap();
        match double_random::Draw::run(&inputs, &double_random::Seed::new("s").unwrap()) {
            Ok(_) => "drawn without error".to_string(),
            Err(e) => e.to_string(),
        }
    };
    assert_eq!(
        draw_error(Box::new(with_teams(None, None, None))),
        "drawn without error"
    );
    assert_eq!(
        draw_error(Box::new(with_teams(
            Some("S1,a,S,North,2029-12-31,,12,3,\nS2,b,S,South,2029-12-31,,12,3,\nS3,e,S,East,2029-12-31,,12,3,\n"),
            None,
            None
        ))),
        "no complete team assignment exists; 1 visit part(s) cannot be staffed:\n  \
         visit V000002 (E00001 on 2027-05-20), department W: needs 1 inspector(s), 0 could be assigned; the department has no inspectors"
    );
    assert_eq!(
        draw_error(Box::new(with_teams(
            Some("S1,a,S,North,2020-12-31,,12,3,\nS2,b,S,South,2020-12-31,,12,3,\nW1,c,W,North,2020-12-31,,12,3,\n"),
            Some("inspector_id,entity_id,reason\n"),
            None
        ))),
        "no complete team assignment exists; 3 visit part(s) cannot be staffed:\n  \
         visit V000001 (E00000 on 2027-04-06), department S: needs 2 inspector(s), 0 could be assigned; 0 of its 2 inspectors are eligible (2 certificate not valid that day)\n  \
         visit V000002 (E00001 on 2027-05-20), department S: needs 1 inspector(s), 0 could be assigned; 0 of its 2 inspectors are eligible (2 certificate not valid that day)\n  \
         visit V000002 (E00001 on 2027-05-20), department W: needs 1 inspector(s), 0 could be assigned; 0 of its 1 inspectors are eligible (1 certificate not valid that day)"
    );
}

/// The commitment, record and draw-log parsers name the file and line.
#[test]
fn commitments_records_and_logs_that_are_not_one() {
    use double_random::audit::{AuditRecord, Commitment, DrawLog};
    let commitment = |t: &str| {
        Commitment::from_json("commitment.json", t.as_bytes())
            .unwrap_err()
            .to_string()
    };
    let record = |t: &str| {
        AuditRecord::from_json("record.json", t.as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(commitment("{"), "commitment.json, line 1: EOF while parsing an object");
    assert_eq!(
        commitment("{\"spec\": \"DR3\"}"),
        "commitment.json, line 1: missing field `plan_id`"
    );
    assert_eq!(
        commitment("{\"spec\":\"DR3\",\"files\":[]}"),
        "commitment.json, line 1, field files: unknown field `files`, expected one of `spec`, `plan_id`, `task_id`, `round_id`, `inputs`, `frame_sha256`"
    );
    assert_eq!(record("nope"), "record.json, line 1: expected a JSON object");
    assert_eq!(record("[]"), "record.json, line 1: expected a JSON object");
    assert_eq!(
        record("{\"spec\": \"DR3\"}"),
        "record.json, line 1: missing field `crate_version`"
    );
    assert_eq!(
        DrawLog::parse("draws.jsonl", b"{\"seq\": 1}\n").problems,
        ["draws.jsonl, line 1: not a log entry"]
    );
}
bad_input!(
    history_unknown_entity_and_a_bad_date_on_one_row_names_the_entity,
    in_file(
        "history.csv",
        "entity_id,department,date,kind,inspector_ids\nE00000,S,2026-01-05,random,X1\nE42,S,bad,random,X1\n".into()
    ),
    "history.csv, line 3, field entity_id: unknown entity \"E42\""
);

/// Loaded from disk, the history file is read on another core while the
/// entity file loads; a missing history file is still reported after the
/// item file's errors, and on its own when the items are good.
#[test]
fn a_missing_history_file_on_disk_comes_after_the_items() {
    let on_disk = |items: String| {
        let dir = tempfile::tempdir().unwrap();
        let mut f = files(GOOD);
        f.insert("items.csv", items);
        for (name, body) in &f {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        let p = plan(ratios(), "").replacen(r#""history": "history.csv""#, r#""history": "missing.csv""#, 1);
        std::fs::write(dir.path().join("plan.json"), p).unwrap();
        double_random::Inputs::load(dir.path().join("plan.json"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        on_disk(format!("{}S1,S,again,key,,,,\n", common::ITEMS)),
        "items.csv, line 5, field id: duplicate id \"S1\" (first on line 2)"
    );
    // The operating system's words for a missing file.
    let missing = std::fs::read("/nonexistent/missing.csv").unwrap_err();
    assert_eq!(on_disk(common::ITEMS.to_string()), format!("missing.csv: {missing}"));
}

// ---------------------------------------------------------------------------
// Nothing is accepted silently: text after the plan, a key given twice (a
// reader sees the first, serde would keep the last), an absolute input path
// (the record would name the host's directories), and numbers out of their
// documented range (docs/REFERENCE.md, "Input files").

bad_input!(
    plan_text_after_the_object,
    in_plan("\n  ]\n}", "\n  ]\n}\nthe end"),
    "plan.json, line 14: text after the end of the JSON object (a file holds one object)"
);
bad_input!(
    plan_second_object_after_the_first,
    in_plan("\n  ]\n}", "\n  ]\n}\n{\"plan_id\": \"P2\"}"),
    "plan.json, line 14: text after the end of the JSON object (a file holds one object)"
);
bad_input!(
    plan_class_given_twice,
    in_plan(
        r#""D": {"ratio": "0.30"}"#,
        r#""D": {"ratio": "0.30"}, "D": {"ratio": "0.01"}"#
    ),
    "plan.json, line 10, field departments[0].classes: the key \"D\" appears twice"
);
bad_input!(
    plan_scope_column_given_twice,
    in_plan(
        r#""scope": {"industry": ["travel"]}"#,
        r#""scope": {"industry": ["travel"], "industry": ["retail"]}"#
    ),
    "plan.json, line 11, field departments[1].scope: the key \"industry\" appears twice"
);
bad_input!(
    plan_absolute_input_path,
    in_plan(r#""items": "items.csv""#, r#""items": "/etc/items.csv""#),
    "plan.json, line 7, field inputs.items: \"/etc/items.csv\" is not a path relative to the plan (a record names no absolute path)"
);
bad_input!(
    plan_empty_input_path,
    in_plan(r#""history": "history.csv""#, r#""history": """#),
    "plan.json, line 7, field inputs.history: \"\" is not a path relative to the plan (a record names no absolute path)"
);
bad_input!(
    plan_publication_days_out_of_range,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "teams": {"publication_days": 4294967295},"#
    ),
    "plan.json, line 8, field teams.publication_days: \"4294967295\" is not a number of working days from 1 to 250"
);
bad_input!(
    plan_no_publication_days,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "teams": {"publication_days": 0},"#
    ),
    "plan.json, line 8, field teams.publication_days: \"0\" is not a number of working days from 1 to 250"
);
bad_input!(
    plan_team_of_a_crowd,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "teams": {"single_department": 11},"#
    ),
    "plan.json, line 8, field teams.single_department: \"11\" is not a count from 2 to 10"
);
bad_input!(
    plan_cooldown_of_a_century,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "cooldown_days": 36500,"#
    ),
    "plan.json, line 8, field cooldown_days: \"36500\" is not a number of days from 0 to 3650"
);
bad_input!(
    plan_annual_cap_of_nothing,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "annual_cap": 0,"#
    ),
    "plan.json, line 8, field annual_cap: \"0\" is not a number of visits from 1 to 366"
);
bad_input!(
    plan_observation_of_a_century,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "observation": {"days": 36500, "classes": ["A"]},"#
    ),
    "plan.json, line 8, field observation.days: \"36500\" is not a number of days from 0 to 3650"
);
bad_input!(
    plan_weekly_rounds,
    in_plan(
        r#""D": {"ratio": "0.30"}"#,
        r#""D": {"ratio": "0.30", "rounds_per_year": 52}"#
    ),
    "plan.json, line 10, field departments[0].classes.D.rounds_per_year: \"52\" is not a number of rounds per year from 1 to 12"
);
bad_input!(
    plan_window_of_two_years,
    in_plan("2027-05-31", "2029-02-28"),
    "plan.json, line 5, field window.end: \"2029-02-28\" is not a date less than 366 days after the window start 2027-03-01 (a window is at most a year)"
);
bad_input!(
    plan_window_in_the_year_9999,
    in_plan(
        r#""start": "2027-03-01", "end": "2027-05-31""#,
        r#""start": "9999-12-01", "end": "9999-12-31""#
    ),
    "plan.json, line 5, field window.start: \"9999-12-01\" is not a date in the years 1900 to 2999"
);

#[test]
fn a_plan_with_a_byte_order_mark_loads() {
    let p = format!("\u{feff}{}", plan(ratios(), ""));
    let inputs = common::load(&p, &files(GOOD)).unwrap();
    assert_eq!(inputs.plan().task_id(), "T1");
}

/// The library's entry points refuse what a caller can give them wrong,
/// with a message, never a panic.
#[test]
fn the_public_api_refuses_instead_of_panicking() {
    use double_random::audit::Outputs;
    use double_random::draw::allocate;
    use double_random::inputs::Window;
    use double_random::{Draw, Drawer, Seed};

    let work = tempfile::tempdir().unwrap();
    let seed = Seed::new("api").unwrap();
    let err = Drawer::new(seed.clone(), work.path().join("out")).run().unwrap_err();
    assert_eq!(err.to_string(), "plan: there is no task to draw");
    let err = Drawer::new(seed.clone(), work.path().join("out"))
        .plan("plan.json")
        .redraw_reason("typo")
        .run()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "draw log: a redraw reason is given, but no draw log to check it against"
    );
    assert!(!work.path().join("out").exists());
    let err = double_random::Verifier::new("out/record.json")
        .replay(false)
        .run()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "out/record.json: nothing to verify: the replay is off and no draw log is given"
    );

    // A draw rendered with inputs it was not made from.
    let a = common::load(&plan(ratios(), ""), &files(GOOD)).unwrap();
    let other = GOOD.replace("E00001", "E00009");
    let b = common::load(&plan(ratios(), ""), &files(&other)).unwrap();
    let draw = Draw::run(&a, &seed).unwrap();
    assert!(Outputs::render(&a, &draw, "plan.json", None).is_ok());
    let err = Outputs::render(&b, &draw, "plan.json", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plan.json: the draw of task T1 round 1 was not made from these inputs"
    );

    assert_eq!(allocate(1, &[u64::MAX, 1], 0), None);
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert!(Window::new(d("2027-03-01"), d("2027-05-31")).is_some());
    assert_eq!(Window::new(d("2027-05-31"), d("2027-03-01")), None);
    assert!(Window::new(d("2028-01-01"), d("2028-12-31")).is_some());
    assert_eq!(Window::new(d("2027-01-01"), d("2028-01-02")), None);
    assert_eq!(Window::new(d("1899-12-01"), d("1899-12-31")), None);
}

/// An item's floor: a public-information item needs 3 % of its
/// department's base population unless its `min_ratio` says otherwise; a
/// plan whose class quotas add up to less is refused by the commitment, the
/// draw and the fairness simulation, naming the item's line.
#[test]
fn a_plan_under_an_item_floor_is_refused() {
    use double_random::audit::Commitment;
    use double_random::{Draw, Seed};

    let rows: String = (0..100)
        .map(|i| common::entity_row(i, "A", "North", "retail", "active"))
        .collect();
    let entities = format!("{HEADER}\n{rows}");
    let draw_error = |items: String| {
        let mut f = files(&rows);
        f.insert("entities.csv", entities.clone());
        f.insert("items.csv", items);
        let inputs = common::load(&plan(ratios(), ""), &f).unwrap();
        let committed = Commitment::compute(&inputs).map(|_| ()).map_err(|e| e.to_string());
        let drawn = Draw::run(&inputs, &Seed::new("floor").unwrap())
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(committed, drawn);
        #[cfg(feature = "fairness")]
        assert_eq!(
            double_random::fairness::simulate(&inputs, "floor", 2, &|_| {})
                .map(|_| ())
                .map_err(|e| e.to_string()),
            drawn
        );
        drawn.err()
    };
    // Class A at 0.01 of 100 entities draws 1; a 3 % floor needs 3.
    let public = common::ITEMS.replace(
        "S2,S,public information,key,",
        "S2,S,public information,public_information,",
    );
    assert_eq!(
        draw_error(public.clone()).as_deref(),
        Some(
            "items.csv, line 3, field kind: item \"S2\" must be drawn for at least 0.03 of department \"S\"'s base population (3 of 100 entities), and the plan's class ratios draw 1"
        )
    );
    // A stated floor overrides the default, both ways.
    let with_min = |items: &str, s2: &str| {
        let mut lines: Vec<String> = items.lines().map(|l| format!("{l},")).collect();
        lines[0].push_str("min_ratio");
        lines[2].push_str(s2);
        lines.join("\n") + "\n"
    };
    assert_eq!(draw_error(with_min(&public, "0.01")), None);
    assert_eq!(
        draw_error(with_min(common::ITEMS, "0.02")).as_deref(),
        Some(
            "items.csv, line 3, field min_ratio: item \"S2\" must be drawn for at least 0.02 of department \"S\"'s base population (2 of 100 entities), and the plan's class ratios draw 1"
        )
    );
    // Without a floor, the same plan draws.
    assert_eq!(draw_error(common::ITEMS.to_string()), None);
}

/// `common::ITEMS` with a `min_ratio` column, `s1` and `s2` its values for
/// S1 and S2.
fn items_with_min_ratio(s1: &str, s2: &str) -> String {
    let mut lines: Vec<String> = common::ITEMS.lines().map(|l| format!("{l},")).collect();
    lines[0].push_str("min_ratio");
    lines[1].push_str(s1);
    lines[2].push_str(s2);
    lines.join("\n") + "\n"
}

bad_input!(
    items_min_ratio_not_a_ratio,
    in_file("items.csv", items_with_min_ratio("", "3%")),
    "items.csv, line 3, field min_ratio: \"3%\" is not a decimal ratio between 0 and 1 written as a string, like \"0.05\""
);
bad_input!(
    items_min_ratio_above_max_ratio,
    in_file(
        "items.csv",
        items_with_min_ratio("0.6", "").replace("general,1,", "general,0.5,")
    ),
    "items.csv, line 2, field min_ratio: \"0.6\" is not a ratio no higher than the max_ratio 0.5"
);
bad_input!(
    plan_annual_cap_counts_unknown_kind,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "annual_cap_counts": ["random", "follow_up"],"#
    ),
    "plan.json, line 8, field annual_cap_counts[1]: \"follow_up\" is not a visit kind (\"random\" or \"directed\")"
);
bad_input!(
    plan_cooldown_counts_twice,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "cooldown_counts": ["directed", "directed"],"#
    ),
    "plan.json, line 8, field cooldown_counts[1]: \"directed\" is listed twice"
);
bad_input!(
    plan_cooldown_counts_empty,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "cooldown_counts": [],"#
    ),
    "plan.json, line 8, field cooldown_counts: the list is empty; leave the field out, or name the kinds of visit that count"
);
bad_input!(
    plan_class_limits_unknown_class,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "class_limits": {"E": {"annual_cap": 2}},"#
    ),
    "plan.json, line 8, field class_limits.E: unknown risk class \"E\""
);
bad_input!(
    plan_class_limits_cap_out_of_range,
    in_plan(
        r#""unclassified_class": "B","#,
        r#""unclassified_class": "B", "class_limits": {"D": {"annual_cap": 0}},"#
    ),
    "plan.json, line 8, field class_limits.D.annual_cap: \"0\" is not a number of visits from 1 to 366"
);
