//! Deterministic synthetic datasets: a county (or a province) of entities
//! with realistic unified social credit codes, a check-item list from
//! published local lists, past visits, directed checks and a joint plan.
//!
//! The generator reads a ChaCha20 stream seeded with
//! `H(enc("DR1/synth") ‖ enc(seed_text))` through `next_u64` only, so the
//! same size and seed give the same files on every platform and with every
//! version of `rand`.

use std::io::Write;
use std::path::Path;

use chrono::{Days, NaiveDate};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::error::{Error, Result};
use crate::key::{Hasher, below};

/// Picks an index by integer weights.
fn weighted(rng: &mut ChaCha20Rng, weights: &[u64]) -> usize {
    let total: u64 = weights.iter().sum();
    let mut x = below(rng, total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// The characters of a unified social credit code (GB 32100-2015).
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn uscc_value(c: u8) -> u32 {
    // OK because callers only pass characters of USCC_CHARS.
    USCC_CHARS.iter().position(|&x| x == c).unwrap_or(0) as u32
}

/// A unified social credit code with valid check characters: registration
/// authority and type (`91` company, `92` individual business, `93`
/// co-operative), a 6-digit division code, an organisation code with its
/// GB 11714 check character, and the GB 32100 check character.
pub(crate) fn uscc(kind: &str, division: &str, serial: u64) -> String {
    let mut body = Vec::with_capacity(18);
    body.extend_from_slice(kind.as_bytes());
    body.extend_from_slice(division.as_bytes());
    // A bijection of the serial onto 8 base-31 digits (31^8 codes), so codes never repeat.
    const SPACE: u64 = 852_891_037_441; // 31^8
    let mut x = (serial.wrapping_mul(2_654_435_761) + 104_729) % SPACE;
    let mut org = [0u8; 8];
    for slot in org.iter_mut().rev() {
        *slot = USCC_CHARS[(x % 31) as usize];
        x /= 31;
    }
    // GB 11714 check character over the 8 characters.
    const W1: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = org.iter().zip(W1).map(|(&c, w)| uscc_value(c) * w).sum();
    let c9 = match 11 - s % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    };
    body.extend_from_slice(&org);
    body.push(c9);
    // GB 32100 check character over the 17 characters.
    let mut w = 1u32;
    let mut sum = 0u32;
    for &c in &body {
        sum += uscc_value(c) * w;
        w = w * 3 % 31;
    }
    let c18 = (31 - sum % 31) % 31;
    body.push(USCC_CHARS[c18 as usize]);
    String::from_utf8(body).unwrap_or_default()
}

/// Whether a text is a unified social credit code with valid check characters.
pub fn is_valid_uscc(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 18 || !b.iter().all(|c| USCC_CHARS.contains(c)) {
        return false;
    }
    let mut w = 1u32;
    let mut sum = 0u32;
    for &c in &b[..17] {
        sum += uscc_value(c) * w;
        w = w * 3 % 31;
    }
    USCC_CHARS[((31 - sum % 31) % 31) as usize] == b[17]
}

/// Hequ county (河曲县, 忻州市), the county of the notice this project starts from.
const DIVISION: &str = "140930";
const COUNTY: &str = "河曲县";
const TOWNS: [&str; 11] = [
    "文笔镇",
    "楼子营镇",
    "刘家塔镇",
    "巡镇",
    "鹿固乡",
    "单寨乡",
    "土沟乡",
    "沙坪乡",
    "社梁乡",
    "赵家沟乡",
    "沙泉乡",
];
/// Industries with weights (per mille).
const INDUSTRIES: [(&str, u64); 12] = [
    ("批发零售", 300),
    ("餐饮服务", 170),
    ("食品销售", 120),
    ("住宿", 50),
    ("建筑装饰", 80),
    ("信息技术服务", 40),
    ("物流寄递", 40),
    ("美容美发", 60),
    ("特种设备使用", 50),
    ("旅行社", 30),
    ("农药经营", 35),
    ("危险化学品经营", 25),
];
const TRADE_NAMES: [&str; 40] = [
    "黄河",
    "晋西",
    "鸿达",
    "富民",
    "永盛",
    "金源",
    "泰和",
    "兴旺",
    "德馨",
    "汇通",
    "瑞丰",
    "长城",
    "河畔",
    "云岭",
    "宏图",
    "华晋",
    "鑫隆",
    "福源",
    "康泰",
    "惠民",
    "顺达",
    "明珠",
    "天一",
    "众诚",
    "信义",
    "嘉禾",
    "润田",
    "晨光",
    "三晋",
    "聚贤",
    "弘毅",
    "同心",
    "安康",
    "恒通",
    "万家",
    "丰泽",
    "西口",
    "娘娘滩",
    "保德",
    "唐家会",
];

fn industry_word(industry: &str) -> &'static str {
    match industry {
        "批发零售" => "商贸",
        "餐饮服务" => "餐饮",
        "食品销售" => "食品",
        "住宿" => "酒店管理",
        "建筑装饰" => "建筑装饰工程",
        "信息技术服务" => "网络科技",
        "物流寄递" => "物流",
        "美容美发" => "美容美发",
        "特种设备使用" => "机械设备",
        "旅行社" => "旅行社",
        "农药经营" => "农资",
        _ => "化工",
    }
}

/// The check items, from DOMAIN.md §15 (F1–F7) and the Zhejiang list shape.
const ITEMS: &str = "id,department,name,kind,max_ratio,legal_basis,method,qualification
SCJG-01,SCJG,营业执照（登记证）规范使用情况的检查,general,0.30,《市场主体登记管理条例》第三十六条,现场检查;网络检查,
SCJG-02,SCJG,名称规范使用情况的检查,general,0.30,《企业名称登记管理规定》第二十六、二十七条,现场检查;网络检查,
SCJG-03,SCJG,企业公示信息抽查,public_information,,《企业信息公示暂行条例》第十四条;《企业公示信息抽查办法》第四条,书面检查;实地核查;网络监测,
SCJG-04,SCJG,特种设备使用单位监督检查,key,,《特种设备安全监督检查办法》第八条、第十九条,现场检查,特种设备
WLJ-01,WLJ,对旅行社经营情况的检查,key,,《旅行社条例》第四十一条,现场检查,
WLJ-02,WLJ,旅行社业务经营许可证及从业人员资格证检查,general,0.50,《旅行社条例》第六条,现场检查;书面检查,
NYJ-01,NYJ,农药经营许可情况检查,key,,《农药管理条例》第二十四条,现场检查,农药
NYJ-02,NYJ,农药标签、进货查验台账检查,general,0.50,《农药管理条例》第二十五条、第三十二条,现场检查,
GAJ-01,GAJ,易制毒化学品企业检查,key,,《易制毒化学品管理条例》第三十二条;《易制毒化学品购销和运输管理办法》第二十六条,现场检查,易制毒化学品
GAJ-02,GAJ,物流、寄递企业运输烟草制品情况检查,general,0.50,《快递暂行条例》第三十条,现场检查,
";

/// A department of the synthetic joint task.
struct SynthDepartment {
    id: &'static str,
    name: &'static str,
    /// The industries in scope; empty for all.
    scope: &'static [&'static str],
    items: &'static [&'static str],
    /// The mode of class A.
    a_mode: &'static str,
    /// The ratios of classes A and B: SCJG's meet the 3 % floor of its
    /// publicised-information item (企业公示信息抽查).
    a_b: (&'static str, &'static str),
    /// The qualification tag some of its inspectors hold.
    tag: &'static str,
}

const DEPARTMENTS: [SynthDepartment; 4] = [
    SynthDepartment {
        id: "SCJG",
        name: "河曲县市场监督管理局",
        scope: &[],
        items: &["SCJG-01", "SCJG-02", "SCJG-03"],
        a_mode: "off_site",
        a_b: ("0.02", "0.03"),
        tag: "特种设备",
    },
    SynthDepartment {
        id: "WLJ",
        name: "河曲县文化和旅游局",
        scope: &["旅行社"],
        items: &["WLJ-01", "WLJ-02"],
        a_mode: "trigger_only",
        a_b: ("0.01", "0.02"),
        tag: "旅游执法",
    },
    SynthDepartment {
        id: "NYJ",
        name: "河曲县农业农村局",
        scope: &["农药经营"],
        items: &["NYJ-01", "NYJ-02"],
        a_mode: "trigger_only",
        a_b: ("0.01", "0.02"),
        tag: "农药",
    },
    SynthDepartment {
        id: "GAJ",
        name: "河曲县公安局",
        scope: &["危险化学品经营", "物流寄递"],
        items: &["GAJ-01", "GAJ-02"],
        a_mode: "trigger_only",
        a_b: ("0.01", "0.02"),
        tag: "易制毒化学品",
    },
];

/// The window of the synthetic task.
fn window() -> (NaiveDate, NaiveDate) {
    // OK because these are valid constant dates.
    (
        NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2027, 5, 31).unwrap_or_default(),
    )
}

/// What [`synth`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SynthSummary {
    /// Entities written.
    pub entities: u64,
    /// Past visits written.
    pub history: u64,
    /// Directed checks written.
    pub directed: u64,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Writes a synthetic dataset of `entities` entities into `dir`:
/// `entities.csv`, `items.csv`, `history.csv`, `directed.csv`,
/// `calendar.csv`, `inspectors.csv`, `conflicts.csv` and `plan.json` (a joint task of four departments led by market
/// supervision, with the ratios of Henan SAMR's 2021 round: A 1 %, B 2 %,
/// C 10 %, D 30 %).
///
/// The class mix follows Dandong's published 2023 counts (A 65.4 %,
/// B 25.3 %, C 7.7 %, D 1.5 % of enterprises), with one entity in ten an
/// unclassified individual business or co-operative.
///
/// `dir` must not exist: the files are written into a temporary folder
/// beside it, renamed into place when complete, so that nothing is ever
/// overwritten and a failure leaves nothing behind.
///
/// # Errors
///
/// [`ErrorKind::OutputRefused`](crate::ErrorKind::OutputRefused) when
/// `dir` exists, and [`ErrorKind::Io`](crate::ErrorKind::Io) when a file
/// cannot be written.
pub fn synth(dir: &Path, entities: u64, seed: &str) -> Result<SynthSummary> {
    if std::fs::symlink_metadata(dir).is_ok() {
        return Err(crate::place::refused(
            dir,
            "the folder exists already (synth writes a new folder, and replaces none)",
        ));
    }
    let created = crate::place::CreatedDirs::above(dir)?;
    let staging = crate::place::staging_dir(&crate::place::parent_of(dir))?;
    let summary = synth_into(staging.path(), entities, seed)?;
    std::fs::rename(staging.path(), dir).map_err(io_err(dir))?;
    let _ = staging.keep();
    created.keep();
    Ok(summary)
}

/// Writes the dataset of [`synth`] into the folder `dir`, which exists.
fn synth_into(dir: &Path, entities: u64, seed: &str) -> Result<SynthSummary> {
    let digest = Hasher::new().enc(b"DR1/synth").enc(seed.as_bytes()).finish();
    let mut rng = ChaCha20Rng::from_seed(*digest.as_bytes());
    let (start, _end) = window();

    // Regions: the county's towns, or numbered areas (片区) for larger frames.
    let regions: Vec<String> = if entities <= 50_000 {
        TOWNS.iter().map(|t| t.to_string()).collect()
    } else {
        let n = (entities / 5_000).clamp(12, 5_000);
        (1..=n).map(|i| format!("片区{i:04}")).collect()
    };
    let region_weights: Vec<u64> = (0..regions.len() as u64).map(|i| 40 + (i * 37 % 60)).collect();
    let industry_weights: Vec<u64> = INDUSTRIES.iter().map(|(_, w)| *w).collect();

    let path = dir.join("entities.csv");
    let file = std::fs::File::create(&path).map_err(io_err(&path))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    let csv_err = |e: csv::Error| Error::io(&path, std::io::Error::other(e));
    w.write_record(crate::inputs::ENTITY_COLUMNS.iter().chain(&["scale"]))
        .map_err(csv_err)?;
    let mut ids = Vec::with_capacity(entities as usize);
    let mut industries = Vec::with_capacity(entities as usize);
    let mut statuses = Vec::with_capacity(entities as usize);
    let epoch = NaiveDate::from_ymd_opt(1995, 1, 1).unwrap_or_default();
    let span = (start - epoch).num_days().max(1) as u64;
    for serial in 0..entities {
        let industry = weighted(&mut rng, &industry_weights);
        let region = weighted(&mut rng, &region_weights);
        // 10 % unclassified: individual businesses (92) and co-operatives (93).
        let unclassified = below(&mut rng, 10) == 0;
        let (kind, class) = if unclassified {
            (if below(&mut rng, 5) == 0 { "93" } else { "92" }, "")
        } else {
            ("91", ["A", "B", "C", "D"][weighted(&mut rng, &[654, 253, 77, 15])])
        };
        let id = uscc(kind, DIVISION, serial);
        let trade = TRADE_NAMES[below(&mut rng, TRADE_NAMES.len() as u64) as usize];
        let trade2 = TRADE_NAMES[below(&mut rng, TRADE_NAMES.len() as u64) as usize];
        let (ind_name, _) = INDUSTRIES[industry];
        let name = match kind {
            "92" => format!("{COUNTY}{trade}{trade2}{}店", industry_word(ind_name)),
            "93" => format!("{COUNTY}{trade}{trade2}农民专业合作社"),
            _ => format!("{COUNTY}{trade}{trade2}{}有限公司", industry_word(ind_name)),
        };
        let status = ["active", "suspended", "deregistered", "revoked"][weighted(&mut rng, &[920, 40, 30, 10])];
        // Skew establishment towards recent years: the younger of two uniform draws.
        let age = below(&mut rng, span).min(below(&mut rng, span));
        let established = start - Days::new(age + 1);
        let scale = ["微型", "小型", "中型", "大型"][weighted(&mut rng, &[700, 220, 65, 15])];
        w.write_record([
            id.as_str(),
            &name,
            class,
            &regions[region],
            ind_name,
            status,
            &established.to_string(),
            scale,
        ])
        .map_err(csv_err)?;
        ids.push(id);
        industries.push(industry);
        statuses.push(status);
    }
    w.flush().map_err(io_err(&path))?;
    drop(w);

    let path = dir.join("items.csv");
    std::fs::write(&path, ITEMS).map_err(io_err(&path))?;

    // History: about 8 % of entities had visits in the two years before the window.
    let path = dir.join("history.csv");
    let mut h = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
    writeln!(h, "entity_id,department,date,kind,inspector_ids").map_err(io_err(&path))?;
    let mut history = 0u64;
    for (i, id) in ids.iter().enumerate() {
        if below(&mut rng, 100) >= 8 {
            continue;
        }
        let visits = 1 + below(&mut rng, 2);
        for _ in 0..visits {
            let dep =
                departments_for(industries[i])[below(&mut rng, departments_for(industries[i]).len() as u64) as usize];
            let date = start - Days::new(1 + below(&mut rng, 730));
            let kind = if below(&mut rng, 5) == 0 { "directed" } else { "random" };
            let size = roster_size(dep, entities);
            let a = below(&mut rng, size);
            let b = (a + 1 + below(&mut rng, size - 1)) % size;
            writeln!(h, "{id},{dep},{date},{kind},{dep}-{:03};{dep}-{:03}", a + 1, b + 1).map_err(io_err(&path))?;
            history += 1;
        }
    }
    h.flush().map_err(io_err(&path))?;

    // Directed checks: about 3 in 1,000 entities, registered ones only.
    let path = dir.join("directed.csv");
    let mut d = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
    writeln!(d, "entity_id,department,reason,item_ids").map_err(io_err(&path))?;
    let mut directed = 0u64;
    for (i, id) in ids.iter().enumerate() {
        if below(&mut rng, 1000) >= 3 || !matches!(statuses[i], "active" | "suspended") {
            continue;
        }
        let deps = departments_for(industries[i]);
        let dep = deps[below(&mut rng, deps.len() as u64) as usize];
        let reason =
            ["complaint", "big_data", "referral", "legal", "commitment"][weighted(&mut rng, &[50, 25, 15, 5, 5])];
        // OK because every department of DEPARTMENTS has items.
        let items = DEPARTMENTS.iter().find(|x| x.id == dep).map_or(&[][..], |x| x.items);
        let item = items[below(&mut rng, items.len() as u64) as usize];
        writeln!(d, "{id},{dep},{reason},{item}").map_err(io_err(&path))?;
        directed += 1;
    }
    d.flush().map_err(io_err(&path))?;

    let path = dir.join("calendar.csv");
    std::fs::write(&path, CALENDAR).map_err(io_err(&path))?;

    // Inspectors: each department's roster, stationed in the regions.
    let path = dir.join("inspectors.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
    writeln!(
        w,
        "id,name,department,station,certificate_valid_until,qualifications,max_visits,max_per_day,unavailable"
    )
    .map_err(io_err(&path))?;
    let (start, end) = window();
    let window_days = (end - start).num_days() as u64 + 1;
    let mut roster: Vec<String> = Vec::new();
    for dep in &DEPARTMENTS {
        let size = roster_size(dep.id, entities);
        // Enough capacity for the department's expected visits, with room to spare.
        let max_visits = 12 + entities / 400 / size.max(1) * 3;
        for k in 1..=size {
            let id = format!("{}-{k:03}", dep.id);
            let name = format!(
                "{}{}",
                SURNAMES[below(&mut rng, SURNAMES.len() as u64) as usize],
                GIVEN_NAMES[below(&mut rng, GIVEN_NAMES.len() as u64) as usize]
            );
            let station = &regions[below(&mut rng, regions.len() as u64) as usize];
            // One certificate in twenty lapses before or during the window.
            let valid_until = if below(&mut rng, 20) == 0 {
                start + Days::new(below(&mut rng, window_days)) - Days::new(30)
            } else {
                NaiveDate::from_ymd_opt(2029, 12, 31).unwrap_or(end)
            };
            let mut tags: Vec<&str> = Vec::new();
            if below(&mut rng, 100) < 60 {
                tags.push(dep.tag);
            }
            let mut unavailable: Vec<String> = Vec::new();
            for _ in 0..below(&mut rng, 4) {
                unavailable.push((start + Days::new(below(&mut rng, window_days))).to_string());
            }
            unavailable.sort();
            unavailable.dedup();
            writeln!(
                w,
                "{id},{name},{},{station},{valid_until},{},{max_visits},3,{}",
                dep.id,
                tags.join(";"),
                unavailable.join(";")
            )
            .map_err(io_err(&path))?;
            roster.push(id);
        }
    }
    w.flush().map_err(io_err(&path))?;

    // Recusal pairs: about one per 500 entities.
    let path = dir.join("conflicts.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
    writeln!(w, "inspector_id,entity_id,reason").map_err(io_err(&path))?;
    for _ in 0..entities / 500 {
        let inspector = &roster[below(&mut rng, roster.len() as u64) as usize];
        let entity = &ids[below(&mut rng, ids.len() as u64) as usize];
        let reason = ["近亲属", "利害关系", "曾任职"][below(&mut rng, 3) as usize];
        writeln!(w, "{inspector},{entity},{reason}").map_err(io_err(&path))?;
    }
    w.flush().map_err(io_err(&path))?;

    let path = dir.join("plan.json");
    std::fs::write(&path, plan_json()).map_err(io_err(&path))?;
    Ok(SynthSummary {
        entities,
        history,
        directed,
    })
}

/// The size of a department's roster for a population of `entities`.
fn roster_size(department: &str, entities: u64) -> u64 {
    match department {
        "SCJG" => (entities / 200).max(8),
        _ => (entities / 1000).max(4),
    }
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗",
];
const GIVEN_NAMES: [&str; 20] = [
    "建国", "志强", "秀英", "丽华", "伟", "芳", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "霞", "鹏",
];

/// Holidays and make-up workdays in the synthetic year's rounds (illustrative: the
/// State Council publishes each year's schedule in the autumn before).
const CALENDAR: &str = "date,kind,name
2027-04-05,holiday,清明节
2027-04-25,workday,劳动节调休
2027-05-01,holiday,劳动节
2027-05-02,holiday,劳动节
2027-05-03,holiday,劳动节
2027-05-04,holiday,劳动节
2027-05-05,holiday,劳动节
2027-05-08,workday,劳动节调休
2027-09-15,holiday,中秋节
2027-10-01,holiday,国庆节
2027-10-02,holiday,国庆节
2027-10-03,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
";

/// The departments whose scope holds an industry.
fn departments_for(industry: usize) -> &'static [&'static str] {
    match INDUSTRIES[industry].0 {
        "旅行社" => &["SCJG", "WLJ"],
        "农药经营" => &["SCJG", "NYJ"],
        "危险化学品经营" | "物流寄递" => &["SCJG", "GAJ"],
        _ => &["SCJG"],
    }
}

fn plan_json() -> String {
    let (start, end) = window();
    let mut deps = Vec::new();
    for SynthDepartment {
        id,
        name,
        scope,
        items,
        a_mode,
        a_b: (a, b),
        ..
    } in DEPARTMENTS
    {
        let scope = if scope.is_empty() {
            String::from("{}")
        } else {
            let quoted: Vec<String> = scope.iter().map(|s| format!("\"{s}\"")).collect();
            format!("{{\"industry\": [{}]}}", quoted.join(", "))
        };
        let items: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
        deps.push(format!(
            r#"    {{
      "id": "{id}",
      "name": "{name}",
      "scope": {scope},
      "items": [{items}],
      "classes": {{
        "A": {{"ratio": "{a}", "mode": "{a_mode}", "rounds_per_year": 1}},
        "B": {{"ratio": "{b}", "mode": "on_site", "rounds_per_year": 1}},
        "C": {{"ratio": "0.10", "mode": "on_site", "rounds_per_year": 1}},
        "D": {{"ratio": "0.30", "mode": "on_site", "rounds_per_year": 2}}
      }}
    }}"#,
            items = items.join(", ")
        ));
    }
    format!(
        r#"{{
  "spec": "DR3",
  "plan_id": "14093020271000",
  "task_id": "140930202703011001",
  "round_id": "2027-1",
  "window": {{"start": "{start}", "end": "{end}"}},
  "lead_department": "SCJG",
  "inputs": {{
    "entities": "entities.csv",
    "items": "items.csv",
    "history": "history.csv",
    "directed": "directed.csv",
    "calendar": "calendar.csv",
    "inspectors": "inspectors.csv",
    "conflicts": "conflicts.csv"
  }},
  "strata": ["region"],
  "unclassified_class": "B",
  "cooldown_days": 180,
  "annual_cap": 2,
  "class_limits": {{"D": {{"cooldown_days": 90}}}},
  "observation": {{"days": 365, "classes": ["A", "B"]}},
  "teams": {{
    "per_department": 1,
    "single_department": 2,
    "rotation": "exclude_previous",
    "cross_station": "allow",
    "publication_days": 20
  }},
  "departments": [
{}
  ]
}}
"#,
        deps.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_check_characters() {
        // A published code with a valid check character (a well-known listed company).
        assert!(is_valid_uscc("91350100M000100Y43"));
        assert!(is_valid_uscc("9144030071526726XG"));
        assert!(!is_valid_uscc("91350100M000100Y44"));
        for serial in 0..2000 {
            let code = uscc("91", DIVISION, serial);
            assert!(is_valid_uscc(&code), "{code}");
        }
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[below(&mut rng, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
    }
}
