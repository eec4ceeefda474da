//! Input formats: a BOM, CRLF line ends, columns in any order and extra
//! columns give the same draw as the plain file.

mod common;

use double_random::audit::Outputs;
use double_random::{Draw, Seed};

const ROWS: &str = "E1,Shop 1,A,North,retail,active,2015-01-01
E2,Shop 2,B,North,travel,active,2016-01-01
E3,Shop 3,B,South,retail,suspended,2017-01-01
E4,Shop 4,C,South,travel,active,
E5,Shop 5,,East,retail,active,2018-05-05
E6,Shop 6,D,East,retail,revoked,2010-01-01
";

fn outputs(entities: String) -> Vec<(String, Vec<u8>)> {
    let mut files = common::files("");
    files.insert("entities.csv", entities);
    let inputs = common::load(&common::plan(["0.5", "0.5", "0.5", "1"], ""), &files).unwrap();
    let draw = Draw::run(&inputs, &Seed::new("formats").unwrap()).unwrap();
    let mut out = Outputs::render(&inputs, &draw, "plan.json", None).unwrap().files;
    out.retain(|(name, _)| name != "record.json");
    out
}

#[test]
fn bom_crlf_column_order_and_extra_columns_do_not_change_the_draw() {
    let plain = outputs(format!("{}\n{ROWS}", common::HEADER));
    let crlf = format!("\u{feff}{}\r\n{}", common::HEADER, ROWS.replace('\n', "\r\n"));
    assert_eq!(outputs(crlf), plain);
    // Reordered columns plus an extra one.
    let mut reordered = String::from("status,id,extra,established,risk_class,industry,region,name\n");
    for line in ROWS.lines() {
        let f: Vec<&str> = line.split(',').collect();
        reordered.push_str(&format!(
            "{},{},x,{},{},{},{},{}\n",
            f[5], f[0], f[6], f[2], f[4], f[3], f[1]
        ));
    }
    assert_eq!(outputs(reordered), plain);
    // A quoted field with a comma is one field.
    let quoted = format!("{}\n{}", common::HEADER, ROWS.replace("Shop 1", "\"Shop, 1\""));
    assert_eq!(outputs(quoted)[0], plain[0]);
}

/// A bare carriage return ends a line as the CSV reader reads it, anywhere
/// in the file: the draw is the same, and the visited entities' names read
/// back from the file are theirs (a bare CR used to fail the draw with "the
/// file changed while the draw ran" while `commit` accepted the file).
#[test]
fn bare_carriage_returns_end_lines_too() {
    let plain = outputs(format!("{}\n{ROWS}", common::HEADER));
    let bare_cr = format!("{}\r{}", common::HEADER, ROWS.replace('\n', "\r"));
    assert_eq!(outputs(bare_cr), plain);
    // Some line ends bare, the others not, and a quoted name holding one.
    let mixed = format!(
        "{}\n{}",
        common::HEADER,
        ROWS.replacen('\n', "\r", 2).replace("Shop 5", "\"Shop\r5\"")
    );
    let mixed = outputs(mixed);
    assert_eq!(mixed[0], plain[0], "selection.csv");
    let visits = |files: &[(String, Vec<u8>)]| {
        let (_, bytes) = files.iter().find(|(n, _)| n == "visits.csv").unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    assert_eq!(visits(&mixed), visits(&plain).replace("Shop 5", "\"Shop\r5\""));
    assert!(visits(&plain).contains(",Shop 1,") && visits(&plain).contains(",Shop 5,"));
}
