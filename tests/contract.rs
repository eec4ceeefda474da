//! The JSON contract: the schema files are the ones the types generate,
//! real answers validate against them, and errors carry their positions.

mod common;

use std::path::PathBuf;

use double_random::contract;
use serde_json::{Value, json};

const SEED: &str = "2027-03-01 lottery 0417 2953";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    root().join("fixtures").join(name).display().to_string()
}

fn schema(name: &str) -> Value {
    let path = root().join("schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Answers `command`, checks the answer against its response schema and
/// returns it.
fn ask(command: &str, request: Value) -> Value {
    let answer = contract::respond(command, request.to_string().as_bytes());
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_valid(&format!("{command}-response.schema.json"), &answer);
    answer
}

fn assert_valid(schema_file: &str, value: &Value) {
    let validator = jsonschema::validator_for(&schema(schema_file)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:#?}\n{value:#}");
}

#[test]
fn the_schema_files_are_the_generated_ones() {
    let dir = root().join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    let mut names = Vec::new();
    for (name, schema) in contract::schemas() {
        names.push(name.to_string());
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schemas/ is out of date for {stale:?}: run `UPDATE_SCHEMAS=1 cargo test --test contract` and commit it"
    );
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    present.sort();
    names.sort();
    assert_eq!(present, names, "schemas/ holds a schema no type generates");
}

#[test]
fn the_schemas_refuse_what_the_contract_never_sends() {
    let validator = jsonschema::validator_for(&schema("verify-response.schema.json")).unwrap();
    let good = json!({"ok": true, "result": {"kind": "verification", "contract": contract::CONTRACT,
        "record": "out/record.json", "verified": true, "differences": [], "notes": []}});
    assert!(validator.is_valid(&good));
    let mut no_verdict = good.clone();
    no_verdict["result"].as_object_mut().unwrap().remove("verified");
    assert!(!validator.is_valid(&no_verdict));
    assert!(!validator.is_valid(&json!({"ok": "yes"})));
    let error = jsonschema::validator_for(&schema("draw-response.schema.json")).unwrap();
    assert!(!error.is_valid(&json!({"ok": false, "error": {"code": "syntax", "line": "three"}})));
}

#[test]
fn a_draw_answers_with_its_record_and_tables_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let request = json!({"plans": [fixture("plan.json")], "seed": SEED, "out": out, "tables": true, "frame": "memory"});
    assert_valid("draw-request.schema.json", &request);
    let answer = ask("draw", request);
    assert_eq!(answer["ok"], true, "{answer:#}");
    let result = &answer["result"];
    assert_eq!(result["contract"], contract::CONTRACT);
    // The record is record.json, the tables the CSV files, exactly.
    let record: Value = serde_json::from_slice(&std::fs::read(out.join("record.json")).unwrap()).unwrap();
    assert_eq!(result["record"], record);
    assert_eq!(result["log"], dir.path().join("draw-log.jsonl").display().to_string());
    assert_eq!(result["logged"][0]["seq"], 1);
    let tables = result["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 7);
    for table in tables {
        let file = table["file"].as_str().unwrap();
        let mut reader = csv::Reader::from_path(out.join(file)).unwrap();
        let columns: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(table["columns"], json!(columns), "{file}");
        assert_eq!(table["rows"], json!(rows), "{file}");
    }
    let golden = std::fs::read(root().join("fixtures/golden/selection.csv")).unwrap();
    assert_eq!(std::fs::read(out.join("selection.csv")).unwrap(), golden);
    assert!(result["summary"].as_str().unwrap().contains("department"));

    // Verified, then a tampered file named in the differences.
    let verify = ask("verify", json!({"record": out.join("record.json")}));
    assert_eq!(verify["result"]["verified"], true, "{verify:#}");
    let visits = out.join("visits.csv");
    let text = std::fs::read_to_string(&visits).unwrap();
    std::fs::write(&visits, text.replacen("2027-", "2028-", 1)).unwrap();
    let verify = ask("verify", json!({"record": out.join("record.json")}));
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["result"]["verified"], false);
    let differences = verify["result"]["differences"].as_array().unwrap();
    assert!(
        differences.iter().any(|d| d.as_str().unwrap().contains("visits.csv")),
        "{differences:?}"
    );
}

#[test]
fn a_commitment_answers_as_commit_writes_it() {
    let request = json!({"plan": fixture("plan.json")});
    assert_valid("commit-request.schema.json", &request);
    let answer = ask("commit", request);
    let written: Value =
        serde_json::from_slice(&std::fs::read(root().join("fixtures/commitment.json")).unwrap()).unwrap();
    assert_eq!(answer["result"]["commitment"]["frame_sha256"], written["frame_sha256"]);
    assert_eq!(
        answer["result"]["commitment"]["inputs"].as_array().unwrap().len(),
        written["inputs"].as_array().unwrap().len()
    );
    assert_valid("commitment.schema.json", &answer["result"]["commitment"]);
    assert_eq!(answer["result"]["out"], Value::Null);
}

#[test]
fn bad_input_is_an_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let entities = dir.path().join("entities.csv");
    let text = std::fs::read_to_string(&entities).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = header.iter().position(|c| *c == "risk_class").unwrap();
    let mut fields: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    fields[column] = "E".into();
    lines[2] = fields.join(",");
    std::fs::write(&entities, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");
    let answer = ask(
        "draw",
        json!({"plans": [dir.path().join("plan.json")], "seed": SEED, "out": out}),
    );
    assert_eq!(answer["ok"], false);
    let error = &answer["error"];
    assert_eq!(error["code"], "invalid_field");
    assert_eq!(error["file"], "entities.csv");
    assert_eq!(error["line"], 3);
    assert_eq!(error["field"], "risk_class");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("entities.csv, line 3, field risk_class: ")
    );
    assert!(!out.exists(), "no partial output");
}

#[test]
fn a_bad_request_names_the_request_and_the_field() {
    let answer = ask("draw", json!({"plans": [], "seed": SEED, "out": "x", "sede": 1}));
    assert_eq!(answer["error"]["code"], "syntax");
    assert_eq!(answer["error"]["file"], "request");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("sede"),
        "{answer:#}"
    );

    let answer: Value = serde_json::from_str(&contract::respond("dance", b"{}")).unwrap();
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"]["code"], "unknown_reference");
    assert_eq!(answer["error"]["message"], "command: unknown command \"dance\"");

    let answer: Value = serde_json::from_str(&contract::respond("verify", b"not json")).unwrap();
    assert_eq!(answer["error"]["code"], "syntax");
    assert_eq!(answer["error"]["file"], "request");
}

#[test]
fn synth_fairness_and_audits_answer_in_their_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let answer = ask("synth", json!({"entities": 300, "seed": "contract", "out": out}));
    assert_eq!(answer["result"]["entities"], 300);
    assert!(out.join("plan.json").exists());

    let svg = dir.path().join("fairness.svg");
    let answer = ask(
        "fairness",
        json!({"plan": fixture("plan.json"), "runs": 20, "seed": "f", "svg": svg}),
    );
    assert_eq!(answer["ok"], true, "{answer:#}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));

    let answer = ask(
        "fairness_year",
        json!({"program": fixture("program.json"), "runs": 3, "seed": "y"}),
    );
    assert_eq!(answer["ok"], true, "{answer:#}");

    let answer = ask(
        "audit_observed",
        json!({"observed": fixture("observed/systematic-draws.csv"), "frame": fixture("observed/frame.csv"),
               "claims": fixture("observed/claims.csv")}),
    );
    assert_eq!(answer["ok"], true, "{answer:#}");
}

#[test]
fn the_command_line_prints_the_same_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_double-random"))
            .args(args)
            .output()
            .unwrap()
    };
    let plan = fixture("plan.json");
    let draw = [
        "draw",
        "--plan",
        &plan,
        "--seed",
        SEED,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    let o = run(&draw);
    assert!(o.status.success());
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid("draw-response.schema.json", &answer);
    assert_eq!(
        answer["result"]["record"]["visits"],
        json!(serde_json::from_slice::<Value>(&std::fs::read(out.join("record.json")).unwrap()).unwrap()["visits"])
    );

    let record = out.join("record.json");
    let o = run(&["verify", record.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(answer["result"]["verified"], true);

    let o = run(&draw);
    assert_eq!(o.status.code(), Some(2));
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid("draw-response.schema.json", &answer);
    assert_eq!(answer["error"]["code"], "output_exists");
    assert_eq!(answer["error"]["path"], out.display().to_string());

    let o = run(&["commit", "--plan", &plan, "--json"]);
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid("commit-response.schema.json", &answer);
}
