//! Entity files larger than one part (4 MiB) are read in parts on several
//! threads: parts must end on record boundaries even inside quoted fields
//! that hold newlines and escaped quotes, and the result, the names read
//! back and the line numbers of errors must not depend on the thread count.
//! The history file is read in parts too (one per core), with the same
//! guarantees.

use double_random::inputs::Population;

const HEADER: &str = "id,name,risk_class,region,industry,status,established";

/// About 9 MB: every seventh name is quoted over two lines with escaped quotes.
fn big_file(rows: usize, duplicate_last: bool) -> (String, Vec<String>) {
    let mut text = format!("{HEADER}\n");
    let mut names = Vec::with_capacity(rows);
    for i in 0..rows {
        let name = if i % 7 == 0 {
            format!("Shop \"{i}\"\nsecond line, with a comma")
        } else {
            format!("Shop {i} 商店")
        };
        let field = if i % 7 == 0 {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            name.clone()
        };
        let id = if duplicate_last && i + 1 == rows {
            "E0000003".to_string()
        } else {
            format!("E{i:07}")
        };
        text.push_str(&format!("{id},{field},B,R{},retail,active,2015-01-01\n", i % 97));
        names.push(name);
    }
    (text, names)
}

fn one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn parts_end_on_record_boundaries_and_threads_do_not_matter() {
    let rows = 150_000;
    let (text, names) = big_file(rows, false);
    assert!(text.len() > 2 * 4 * 1024 * 1024, "the file spans several parts");
    let many = Population::from_csv("entities.csv", text.as_bytes()).unwrap();
    let one = one_thread(|| Population::from_csv("entities.csv", text.as_bytes()).unwrap());
    assert_eq!(many, one);
    assert_eq!(many.len(), rows);
    // Names read back, for entities on both sides of every part boundary.
    let sample: Vec<usize> = (0..rows).step_by(997).chain(rows - 3..rows).collect();
    let positions: Vec<usize> = sample
        .iter()
        .map(|&i| many.index_of(&format!("E{i:07}")).unwrap())
        .collect();
    let got = many.names(&positions).unwrap();
    for (&i, name) in sample.iter().zip(&got) {
        assert_eq!(name, &names[i], "entity {i}");
    }
    assert_eq!(many.entity(positions[1]).region(), "R27"); // 997 % 97
    // Every name, in reverse order: read back in blocks of 16,384 records
    // on every core and joined.
    let every: Vec<usize> = (0..rows)
        .rev()
        .map(|i| many.index_of(&format!("E{i:07}")).unwrap())
        .collect();
    let got = many.names(&every).unwrap();
    assert!(got.iter().eq(names.iter().rev()));
}

#[test]
fn a_duplicate_far_into_a_large_file_names_both_lines() {
    let rows = 150_000;
    let (text, _) = big_file(rows, true);
    // Entity 3's record starts on line 6 (entity 0 spans lines 2 and 3); the
    // last record starts after every record's lines.
    let quoted_before_last = (rows - 1).div_ceil(7);
    let last_line = 2 + (rows - 1) + quoted_before_last;
    let expected = format!("entities.csv, line {last_line}, field id: duplicate id \"E0000003\" (first on line 6)");
    let err = Population::from_csv("entities.csv", text.as_bytes())
        .unwrap_err()
        .to_string();
    assert_eq!(err, expected);
    let err = one_thread(|| {
        Population::from_csv("entities.csv", text.as_bytes())
            .unwrap_err()
            .to_string()
    });
    assert_eq!(err, expected);
}

/// The sorted library is checked for repeats in blocks of 65,536 ids on
/// every core: a repeat whose two copies meet where two blocks meet is
/// found too.
#[test]
fn a_duplicate_across_a_block_boundary_is_found() {
    let rows = 70_000;
    let mut text = format!("{HEADER}\n");
    for i in 0..rows {
        // The last id repeats the 65,536th: sorted, the copies are ids 65,535 and 65,536.
        let id = if i + 1 == rows { 65_535 } else { i };
        text.push_str(&format!("E{id:07},Shop {i},B,R1,retail,active,2015-01-01\n"));
    }
    let err = Population::from_csv("entities.csv", text.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "entities.csv, line {}, field id: duplicate id \"E0065535\" (first on line 65537)",
            rows + 1
        )
    );
}

#[test]
fn a_bad_field_far_into_a_large_file_names_its_line() {
    let (mut text, _) = big_file(150_000, false);
    text.push_str("E9999999,Shop,Z,R1,retail,active,\n");
    let lines = text.matches('\n').count();
    let expected = format!(
        "entities.csv, line {lines}, field risk_class: \"Z\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)"
    );
    assert_eq!(
        Population::from_csv("entities.csv", text.as_bytes())
            .unwrap_err()
            .to_string(),
        expected
    );
    assert_eq!(
        one_thread(|| Population::from_csv("entities.csv", text.as_bytes())
            .unwrap_err()
            .to_string()),
        expected
    );
}

#[test]
fn a_large_file_on_disk_reads_as_from_bytes() {
    let rows = 150_000;
    let (text, names) = big_file(rows, false);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("entities.csv"), &text).unwrap();
    std::fs::write(
        dir.path().join("items.csv"),
        "id,department,name,kind,max_ratio\nS1,S,licence,key,\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("plan.json"),
        r#"{"plan_id": "P", "task_id": "T", "round_id": "1",
  "window": {"start": "2027-03-01", "end": "2027-05-31"}, "lead_department": "S",
  "inputs": {"entities": "entities.csv", "items": "items.csv"}, "strata": ["region"],
  "departments": [{"id": "S", "items": ["S1"], "classes": {"A": {"ratio": "0.01"},
    "B": {"ratio": "0.01"}, "C": {"ratio": "0.1"}, "D": {"ratio": "0.3"}}}]}"#,
    )
    .unwrap();
    let inputs = double_random::Inputs::load(dir.path().join("plan.json")).unwrap();
    let from_bytes = Population::from_csv("entities.csv", text.as_bytes()).unwrap();
    assert_eq!(inputs.population().len(), rows);
    for i in (0..rows).step_by(4999) {
        let id = format!("E{i:07}");
        let (a, b) = (inputs.population().get(&id).unwrap(), from_bytes.get(&id).unwrap());
        assert_eq!((a.index(), a.region(), a.class()), (b.index(), b.region(), b.class()));
        assert_eq!(inputs.population().names(&[a.index()]).unwrap(), [names[i].clone()]);
    }
    // Many names at once are read back in blocks on every core, in the order asked.
    let ids: Vec<String> = (0..rows).rev().step_by(3).map(|i| format!("E{i:07}")).collect();
    let wanted: Vec<usize> = ids.iter().map(|id| inputs.population().index_of(id).unwrap()).collect();
    let expected: Vec<String> = (0..rows).rev().step_by(3).map(|i| names[i].clone()).collect();
    assert!(wanted.len() > 3 << 14, "several blocks");
    assert_eq!(inputs.population().names(&wanted).unwrap(), expected);
    assert_eq!(one_thread(|| inputs.population().names(&wanted).unwrap()), expected);
    assert_eq!(from_bytes.names(&wanted).unwrap(), expected);
    let digest = double_random::key::Digest::of_bytes(text.as_bytes());
    assert_eq!(
        inputs.files()[1].digest,
        digest,
        "the file's digest is taken while it is read"
    );
}

/// Inputs with a history of `rows` visits (about 60 bytes each; every fifth
/// inspector list quoted over two lines), with `edit` applied to the rows.
fn with_history(
    rows: usize,
    edit: impl Fn(usize, String) -> String,
) -> Result<double_random::Inputs, double_random::Error> {
    let entities: String = std::iter::once(HEADER.to_string())
        .chain((0..1000).map(|i| format!("E{i:07},Shop {i},B,R{},retail,active,2015-01-01", i % 7)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut history = String::from("entity_id,department,date,kind,inspector_ids\n");
    for i in 0..rows {
        let inspectors = if i % 5 == 0 {
            format!("\"S-{}; \nS-{}\"", i % 13, i % 17)
        } else {
            format!("S-{};S-{}", i % 13, i % 17)
        };
        let row = format!("E{:07},S,2026-0{}-1{},random,{inspectors}", i % 1000, 1 + i % 9, i % 10);
        history.push_str(&edit(i, row));
        history.push('\n');
    }
    assert!(history.len() > 2 << 20, "the history is read in parts");
    let plan = br#"{"plan_id": "P", "task_id": "T", "round_id": "1",
      "window": {"start": "2027-04-01", "end": "2027-06-30"}, "lead_department": "S",
      "inputs": {"entities": "e.csv", "items": "i.csv", "history": "h.csv"},
      "departments": [{"id": "S", "items": ["I1"], "classes": {"A": {"ratio": "0.5"},
        "B": {"ratio": "0.5"}, "C": {"ratio": "0.5"}, "D": {"ratio": "1"}}}]}"#;
    double_random::Inputs::from_files("plan.json", plan, |path| {
        Ok(match path {
            "e.csv" => format!("{entities}\n").into_bytes(),
            "i.csv" => {
                b"id,department,name,kind,max_ratio,legal_basis,method,qualification\nI1,S,licence,key,,,,\n".to_vec()
            }
            _ => history.clone().into_bytes(),
        })
    })
}

#[test]
fn a_history_read_in_parts_is_the_history_read_whole() {
    let rows = 80_000;
    let many = with_history(rows, |_, row| row).unwrap();
    let one = one_thread(|| with_history(rows, |_, row| row).unwrap());
    assert_eq!(many.history().len(), rows);
    let visits = |i: &double_random::Inputs| -> Vec<String> {
        i.history()
            .iter()
            .map(|v| {
                format!(
                    "{} {} {} {:?} {}",
                    v.entity(),
                    v.department(),
                    v.date(),
                    v.inspectors().collect::<Vec<_>>(),
                    v.line()
                )
            })
            .collect()
    };
    assert_eq!(visits(&many), visits(&one));
    // Row 40,000 is on line 2 + 40,000 + 8,000 (every fifth row before it spans two lines),
    // in the second part.
    let v = many.history().iter().nth(40_000).unwrap();
    assert_eq!(v.line(), 2 + 40_000 + 8_000);
    assert_eq!(v.inspectors().collect::<Vec<_>>(), ["S-12", "S-16"]);
}

/// A history without quotes (every part plain, read without the CSV
/// state machine) reads as the same history with quoted fields (every
/// part read by the CSV reader), lines included; and its errors name the
/// same lines.
#[test]
fn plain_history_parts_read_as_the_csv_reader_reads_them() {
    let rows = 80_000;
    let plain = |_: usize, row: String| row.replace('"', "").replace("; \n", ";");
    let quoted = |_: usize, row: String| row.replace("; \n", "; ");
    let (fast, slow) = (with_history(rows, plain).unwrap(), with_history(rows, quoted).unwrap());
    let visits = |i: &double_random::Inputs| -> Vec<String> {
        i.history()
            .iter()
            .map(|v| {
                format!(
                    "{} {} {} {:?} {:?} {}",
                    v.entity(),
                    v.department(),
                    v.date(),
                    v.kind(),
                    v.inspectors().collect::<Vec<_>>(),
                    v.line()
                )
            })
            .collect()
    };
    assert_eq!(fast.history().len(), rows);
    assert_eq!(visits(&fast), visits(&slow));
    let v = fast.history().iter().nth(40_000).unwrap();
    assert_eq!(
        (v.line(), v.inspectors().collect::<Vec<_>>()),
        (2 + 40_000, vec!["S-12", "S-16"])
    );
    // A bad value far into a plain part: the CSV reader names it.
    for (edit, message) in [
        (
            (|row: String| row.replace(",2026-04-11", ",2026-04-31")) as fn(String) -> String,
            "h.csv, line 65003, field date: \"2026-04-31\" is not a date (YYYY-MM-DD)",
        ),
        (
            |row: String| row.replace(",random,", ",randomly,"),
            "h.csv, line 65003, field kind: \"randomly\" is not a visit kind (\"random\" or \"directed\")",
        ),
        (
            |row: String| row + ",x",
            "h.csv, line 65003: the row has 6 fields, the header has 5",
        ),
    ] {
        let err = with_history(rows, |i, row| {
            let row = plain(i, row);
            if i == 65_001 { edit(row) } else { row }
        })
        .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn history_errors_far_into_a_large_file_come_in_file_order() {
    let rows = 80_000;
    // A bad date late in the file (row 65,001, in the second part): its line.
    let bad_date = |i: usize, row: String| {
        if i == 65_001 {
            row.replace(",2026-04-11", ",2026-04-31")
        } else {
            row
        }
    };
    let err = with_history(rows, bad_date).unwrap_err();
    assert_eq!(
        err.to_string(),
        "h.csv, line 78004, field date: \"2026-04-31\" is not a date (YYYY-MM-DD)"
    );
    // An unknown entity in the first part comes before a bad date in the second.
    let both = |i: usize, row: String| match i {
        10_001 => row.replacen("E0000001", "E9999999", 1),
        65_001 => row.replace(",2026-04-11", ",2026-04-31"),
        _ => row,
    };
    let err = with_history(rows, both).unwrap_err();
    assert_eq!(
        err.to_string(),
        "h.csv, line 12004, field entity_id: unknown entity \"E9999999\""
    );
}

/// The quote-free fast path (most parts of most files) and the CSV reader
/// (any part with a quote or a carriage return) read the same records alike.
#[test]
fn plain_parts_read_as_the_csv_reader_reads_them() {
    let rows = 200_000;
    let row = |i: usize, name: &str| {
        let class = ["A", "B", "C", "D", ""][i % 5];
        let status = ["active", "suspended", "deregistered", "revoked"][i % 4];
        let date = if i.is_multiple_of(3) {
            String::new()
        } else {
            format!("20{:02}-0{}-1{}", i % 25, 1 + i % 9, i % 10)
        };
        format!("E{i:07},{name},{class},R{},ind{},{status},{date}", i % 101, i % 7)
    };
    let mut plain = format!("{HEADER}\n");
    let mut quoted = format!("{HEADER}\r\n");
    for i in 0..rows {
        plain.push_str(&row(i, &format!("Shop {i} 商店")));
        plain.push('\n');
        quoted.push_str(&row(i, &format!("\"Shop {i} 商店\"")));
        quoted.push_str("\r\n");
    }
    assert!(plain.len() > 2 * 4 * 1024 * 1024, "several parts");
    let fast = Population::from_csv("entities.csv", plain.as_bytes()).unwrap();
    let slow = Population::from_csv("entities.csv", quoted.as_bytes()).unwrap();
    assert_eq!(fast, slow);
    let sample: Vec<usize> = (0..rows).step_by(7919).collect();
    assert_eq!(fast.names(&sample).unwrap(), slow.names(&sample).unwrap());
    for &i in &sample {
        let (a, b) = (fast.entity(i), slow.entity(i));
        assert_eq!(
            (a.id(), a.class(), a.status(), a.established()),
            (b.id(), b.class(), b.status(), b.established())
        );
        assert_eq!((a.region(), a.industry()), (b.region(), b.industry()));
    }
    // The last record needs no newline.
    let unterminated = Population::from_csv("entities.csv", plain.trim_end_matches('\n').as_bytes()).unwrap();
    assert_eq!(unterminated, fast);
    assert_eq!(unterminated.id(rows - 1), format!("E{:07}", rows - 1));
    // A record with a field too many far into a plain part.
    let at = plain.len() / 2 + plain[plain.len() / 2..].find(",revoked,").unwrap();
    let wide = format!("{},x{}", &plain[..at], &plain[at..]);
    let line = plain[..at].matches('\n').count() + 1;
    let err = Population::from_csv("entities.csv", wide.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("entities.csv, line {line}: the row has 8 fields, the header has 7")
    );
    // A bad value far into a plain part is reported by the CSV reader's rules.
    let bad = plain.replacen(",ind3,revoked,", ",ind3,closed,", 1);
    let at = plain.find(",ind3,revoked,").unwrap();
    let line = plain[..at].matches('\n').count() + 1;
    let err = Population::from_csv("entities.csv", bad.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "entities.csv, line {line}, field status: \"closed\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)"
        )
    );
}
