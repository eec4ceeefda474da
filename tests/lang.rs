//! The command line in English and Chinese: the same positions and
//! numbers, the words from the catalogue, the language from `--lang` or
//! the locale.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const SEED: &str = "2027-03-01 lottery 0417 2953";

fn run(args: &[&str], lang_env: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_double-random"));
    c.args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    if let Some(l) = lang_env {
        c.env("LANG", l);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A copy of the fixtures with `edit` applied to `file`.
fn broken(file: &str, edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
    dir
}

fn draw_args(dir: &Path) -> Vec<String> {
    vec![
        "draw".into(),
        "--plan".into(),
        dir.join("plan.json").display().to_string(),
        "--seed".into(),
        SEED.into(),
        "--out".into(),
        dir.join("out").display().to_string(),
    ]
}

#[test]
fn bad_inputs_name_the_same_place_in_both_languages() {
    let cases: Vec<(tempfile::TempDir, &str, &str)> = vec![
        (
            broken("entities.csv", |t| t.replacen(",B,", ",E,", 1)),
            "error: entities.csv, line 2, field risk_class: \"E\" is not a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)",
            "错误：entities.csv，第 2 行，字段 risk_class：\"E\" 不是信用风险分类（A、B、C、D，也可写作 A类、A级 …，未分类留空）",
        ),
        (
            broken("entities.csv", |t| t.replacen("id,name", "code,name", 1)),
            "error: entities.csv, line 1: missing column id",
            "错误：entities.csv，第 1 行：缺少列 id",
        ),
        (
            broken("entities.csv", |t| t.replacen(",微型\n", "\n", 1)),
            "error: entities.csv, line 2: the row has 7 fields, the header has 8",
            "错误：entities.csv，第 2 行：该行有 7 个字段，而表头有 8 个",
        ),
        (
            broken("entities.csv", |t| t.replacen(",active,", ",closed,", 1)),
            "error: entities.csv, line 2, field status: \"closed\" is not a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)",
            "错误：entities.csv，第 2 行，字段 status：\"closed\" 不是登记状态（active、suspended、deregistered、revoked，或 存续、在业、歇业、注销、吊销、撤销）",
        ),
        (
            broken("plan.json", |t| {
                t.replacen(r#""ratio": "0.02""#, r#""ratio": "1.5""#, 1)
            }),
            "error: plan.json, line 37, field departments[0].classes.A.ratio: \"1.5\" is not a ratio between 0 and 1",
            "错误：plan.json，第 37 行，字段 departments[0].classes.A.ratio：\"1.5\" 不是介于 0 和 1 之间的比例",
        ),
        (
            broken("history.csv", |t| {
                t + "91140930XXXXXXXXXX,SCJG,2026-01-05,random,SCJG-001\n"
            }),
            "",
            "",
        ),
    ];
    for (dir, en, zh) in &cases {
        let args = draw_args(dir.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = run(&[&args[..], &["--lang", "en"]].concat(), None);
        let z = run(&[&args[..], &["--lang", "zh"]].concat(), None);
        assert_eq!((e.status.code(), z.status.code()), (Some(2), Some(2)));
        let (e, z) = (stderr(&e), stderr(&z));
        if !en.is_empty() {
            assert_eq!(e.trim_end(), *en);
            assert_eq!(z.trim_end(), *zh);
        }
        // The same numbers (file, line, ids) in both.
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        assert_eq!(digits(&e), digits(&z), "{e}\n{z}");
        assert!(z.starts_with("错误："), "{z}");
        assert!(!dir.path().join("out").exists());
    }
}

#[test]
fn an_excel_gbk_file_and_a_missing_file_are_explained_in_chinese() {
    let dir = broken("entities.csv", |t| t);
    let path = dir.path().join("entities.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, encoding_rs::GB18030.encode(&text).0).unwrap();
    let args = draw_args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let z = run(&[&args[..], &["--lang", "zh"]].concat(), None);
    assert_eq!(z.status.code(), Some(2));
    assert_eq!(
        stderr(&z).trim_end(),
        "错误：entities.csv，第 2 行，字段 name：该值不是有效的 UTF-8 编码；\
         按 GB18030（GBK，中文 Windows 上 Excel 和 WPS 保存 CSV 的编码）读作 \"河曲县顺达润田农资有限公司\"。\
         请在计划中声明该文件的编码（\"encodings\": {\"entities\": \"gb18030\"}，键为该文件的角色），\
         或将文件另存为“CSV UTF-8”"
    );

    std::fs::write(&path, text).unwrap();
    std::fs::remove_file(dir.path().join("items.csv")).unwrap();
    let z = run(&[&args[..], &["--lang", "zh"]].concat(), Some("en_US.UTF-8"));
    assert_eq!(z.status.code(), Some(2));
    let z = stderr(&z);
    assert!(z.starts_with("错误：items.csv：找不到该文件或文件夹（"), "{z}");
}

#[test]
fn the_locale_chooses_the_language_and_lang_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let args = draw_args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let zh = run(&args, Some("zh_CN.UTF-8"));
    assert!(zh.status.success(), "{}", stderr(&zh));
    let zh = stdout(&zh);
    assert!(zh.starts_with("DR3 抽取：计划 "), "{zh}");
    assert!(zh.contains("部门"), "{zh}");
    assert!(zh.contains("已写入 "), "{zh}");

    // The same table in English, from the record already written: the numbers match.
    let record = dir.path().join("out/record.json");
    let record = record.to_str().unwrap();
    assert_eq!(stdout(&run(&["verify", record], Some("zh_CN.UTF-8"))), "验证通过\n");
    assert_eq!(
        stdout(&run(&["verify", record, "--lang", "en"], Some("zh_CN.UTF-8"))),
        "verified\n"
    );
    assert_eq!(stdout(&run(&["verify", record], Some("en_US.UTF-8"))), "verified\n");
    assert_eq!(stdout(&run(&["verify", record], None)), "verified\n");

    let again = dir.path().join("again");
    let mut en_args = args.clone();
    let again = again.display().to_string();
    en_args[6] = &again;
    let en = stdout(&run(
        &[&en_args[..], &["--log", &format!("{again}.jsonl")]].concat(),
        Some("C"),
    ));
    let numbers = |s: &str| -> Vec<String> {
        s.lines()
            .skip(2)
            .take_while(|l| !l.starts_with("visits") && !l.starts_with("检查户次"))
            .flat_map(|l| {
                l.split_whitespace()
                    .filter(|w| w.parse::<f64>().is_ok())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert!(en.starts_with("DR3 draw: plan "), "{en}");
    assert_eq!(numbers(&en), numbers(&zh));
}

#[test]
fn the_cycle_after_the_draw_speaks_chinese_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let record = common::fixture_path("golden/record.json");
    let record = record.to_str().unwrap();
    let zh_lines = |args: &[&str]| -> Vec<String> {
        let o = run(&[args, &["--lang", "zh"]].concat(), None);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).lines().map(str::to_string).collect()
    };

    let notices = zh_lines(&["notices", record, "--out", &out("n")]);
    assert_eq!(notices[0], "一次告知 213 份，列入事前失信警示提醒名单 462 户");
    assert_eq!(notices[1], format!("已写入 {}：notices.csv, prewarning.csv", out("n")));

    let results = common::fixture_path("results.csv");
    let args = [
        "publish",
        record,
        "--results",
        results.to_str().unwrap(),
        "--on",
        "2027-06-15",
    ];
    let published = zh_lines(&[&args[..], &["--out", &out("p")]].concat());
    assert_eq!(
        published[0],
        "检查结果 608 条，发现问题 68 条；公示 608 行，截至 2027-06-15 逾期 546 条"
    );
    let en = run(&[&args[..], &["--out", &out("p-en")]].concat(), Some("C"));
    assert_eq!(
        stdout(&en).lines().next(),
        Some("608 results, 68 with a problem; 608 rows published, 546 overdue on 2027-06-15")
    );

    let program = common::fixture_path("program.json");
    let program = zh_lines(&["program", program.to_str().unwrap(), "--out", &out("y")]);
    assert_eq!(program[0], "年度抽查工作计划 14093020271000，2027 年：2 个批次");
    // The columns line up in a terminal: a Chinese character takes two.
    assert_eq!(
        program[1],
        "部门         类别          方式    名录数      比例  全年应抽"
    );
    assert_eq!(
        program[2],
        "SCJG         A       非现场检查      3403      0.06       206"
    );
    assert_eq!(
        program[6],
        "WLJ          A       触发式监管       110         -         0"
    );

    let history = common::fixture_path("history.csv");
    let args = [
        "history",
        record,
        "--base",
        history.to_str().unwrap(),
        "--out",
        &out("h.csv"),
    ];
    let history = zh_lines(&args);
    assert_eq!(
        history,
        [format!(
            "已写入 {}（{} 的 715 行，加本批次 149 行）",
            out("h.csv"),
            common::fixture_path("history.csv").display()
        )]
    );

    let synth = zh_lines(&["synth", "--entities", "100", "--seed", "s", "--out", &out("s")]);
    assert_eq!(
        synth,
        [format!(
            "已写入 {}：检查对象 100 户，历史检查 9 条，定向检查 1 项，plan.json",
            out("s")
        )]
    );
    let en = run(
        &["synth", "--entities", "100", "--seed", "s", "--out", &out("s-en")],
        Some("C"),
    );
    assert_eq!(
        stdout(&en),
        format!(
            "wrote {}: 100 entities, 9 past visits, 1 directed checks, plan.json\n",
            out("s-en")
        )
    );

    // The draw's summary below its table.
    let draw = tempfile::tempdir().unwrap();
    let plan = common::fixture_path("plan.json");
    let args = ["draw", "--plan", plan.to_str().unwrap(), "--seed", SEED];
    let o = draw.path().join("out").display().to_string();
    let summary = zh_lines(&[&args[..], &["--out", &o]].concat());
    let below: Vec<&str> = summary
        .iter()
        .map(String::as_str)
        .skip_while(|l| !l.starts_with("检查户次"))
        .skip(1)
        .take(3)
        .collect();
    assert_eq!(
        below,
        [
            "非现场检查：69 项（offsite.csv），不上门，每项指派审核人员",
            "各部门执法检查人员工作量（每人检查户次）：最少 / 中位数 / 最多",
            below[2],
        ]
    );
    assert!(
        below[2].starts_with("  SCJG         ") && below[2].ends_with("（共 30 人）"),
        "{}",
        below[2]
    );
}

#[test]
fn a_tampered_file_is_reported_in_chinese_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let args = draw_args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(run(&args, None).status.success());
    let visits = dir.path().join("out/visits.csv");
    let text = std::fs::read_to_string(&visits).unwrap();
    std::fs::write(&visits, text.replacen(",2027-", ",2028-", 1)).unwrap();
    let record = dir.path().join("out/record.json");
    let o = run(&["verify", record.to_str().unwrap()], Some("zh_CN.UTF-8"));
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("visits.csv，第 2 行，第 "), "{out}");
    assert!(
        lines[0].contains("个字符起：应为 …\"") && lines[0].contains("\"，实为 …\""),
        "{out}"
    );
    assert_eq!(lines[1], "验证未通过：1 处不一致");
}

#[test]
fn inputs_that_differ_from_the_commitment_are_named_in_chinese() {
    let dir = broken("entities.csv", |t| t.replacen(",B,", ",C,", 1));
    let commitment = common::fixture_path("commitment.json");
    let args = draw_args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let extra = ["--commitment", commitment.to_str().unwrap(), "--lang", "zh"];
    let o = run(&[&args[..], &extra].concat(), None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let prefix = format!(
        "错误：{}：输入文件与事先公布的承诺不一致：entities.csv：sha256 ",
        commitment.display()
    );
    assert!(e.starts_with(&prefix), "{e}");
    assert!(e.contains(" 与承诺中的 ") && e.contains("；抽样框摘要 "), "{e}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_fairness_pictures_speak_the_readers_language() {
    let dir = tempfile::tempdir().unwrap();
    let plan = common::fixture_path("plan.json");
    let plan = plan.to_str().unwrap();
    let svg = |lang: &str| {
        let path = dir.path().join(format!("{lang}.svg"));
        let args = ["fairness", "--plan", plan, "--runs", "20", "--seed", "f", "--svg"];
        let o = run(&[&args[..], &[path.to_str().unwrap(), "--lang", lang]].concat(), None);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(path).unwrap()
    };
    let (en, zh) = (svg("en"), svg("zh"));
    for words in ["standard normal", "share of runs selected", "class A", "visits per run"] {
        assert!(en.contains(words) && !zh.contains(words), "{words}");
    }
    for words in ["标准正态分布", "被抽中的比例", "A 类", "每次抽取的检查户次"] {
        assert!(zh.contains(words) && !en.contains(words), "{words}");
    }
}
