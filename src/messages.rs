//! The words the command line shows, in English and Chinese, kept in one
//! catalogue ([`CATALOGUE`]): the summary of a draw, the steps of a long
//! command, the outcome of a verification, and the frame of every error
//! (where it is and what kind of error it is).
//!
//! Positions are the same in both languages: an error names the same
//! file, line (row) and field, only the words around them change.
//! English is the default; `--lang zh`, or a Chinese locale
//! (`LANG=zh_CN.UTF-8`), gives Chinese. The wording inside an error (what
//! a field expects, why a policy is refused) is translated where the
//! catalogue has the phrase ([`PHRASES`], whose `{}` stand for numbers and
//! names) and otherwise stays English; a file that cannot be opened is
//! explained in words for the usual causes.

use std::fmt::Write as _;

use crate::error::{Error, ErrorKind, Location, quote};

/// A language of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// A language by its name: `en`, `zh`, or a locale such as
    /// `zh_CN.UTF-8`, `zh-CN` or `en_US`.
    pub fn parse(name: &str) -> Option<Lang> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.starts_with("zh") {
            Some(Lang::Zh)
        } else if lower.starts_with("en") || lower == "c" || lower == "posix" || lower.starts_with("c.") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of the environment's locale: the first of `LC_ALL`,
    /// `LC_MESSAGES` and `LANG` that is set; Chinese for a `zh…` locale,
    /// else English.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }
}

/// Declares [`Msg`] and the list of all its variants, so that the list
/// cannot miss one.
macro_rules! messages {
    ($($name:ident),+ $(,)?) => {
        /// A message of the catalogue. Its text has `{name}` placeholders, the
        /// same in both languages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        #[non_exhaustive]
        #[allow(missing_docs)]
        pub enum Msg {
            $($name),+
        }

        /// Every message, in declaration order (the catalogue has each once).
        #[cfg(test)]
        const ALL_MESSAGES: &[Msg] = &[$(Msg::$name),+];
    };
}

messages! {
    Error,
    Warning,
    Note,
    Verified,
    NotVerified,
    Wrote,
    Logged,
    Line,
    Field,
    Sheet,
    Row,
    Column,
    MissingColumn,
    DuplicateColumn,
    NotA,
    DuplicateId,
    UnknownReference,
    Seed,
    CommitmentDiffers,
    Unstaffable,
    Unreviewable,
    OutputExists,
    SummaryTitle,
    SummaryHeader,
    TriggerOnly,
    OnSite,
    OffSite,
    Visits,
    StepReading,
    StepReadingStreamed,
    StepFrames,
    StepDrawing,
    StepWriting,
    StepWorkbook,
    StepReplaying,
    StepComparing,
    OffSiteChecks,
    OffSiteReviewed,
    Unscheduled,
    NotVisited,
    AndMore,
    LoadTitle,
    LoadRow,
    HistoryWrote,
    HistoryWroteOnBase,
    Published,
    WroteFiles,
    NoticesMade,
    ProgramTitle,
    ProgramHeader,
    ProgramWrote,
    ProgramThen,
    RoundOutput,
    RoundCommitment,
    SeedPlaceholder,
    SynthWrote,
    Serving,
    PlotZTitle,
    PlotZAxis,
    PlotEntities,
    PlotObserved,
    PlotNormal,
    PlotRatesTitle,
    PlotStratumAxis,
    PlotShareAxis,
    PlotClass,
    PlotWorkloadTitle,
    PlotDepartment,
    PlotVisitsPerRun,
}

/// Every message, with its English and Chinese text.
pub const CATALOGUE: &[(Msg, &str, &str)] = &[
    (Msg::Error, "error: {message}", "错误：{message}"),
    (Msg::Warning, "warning: {message}", "警告：{message}"),
    (Msg::Note, "note: {message}", "说明：{message}"),
    (Msg::Verified, "verified", "验证通过"),
    (
        Msg::NotVerified,
        "not verified: {count} difference(s)",
        "验证未通过：{count} 处不一致",
    ),
    (Msg::Wrote, "wrote {path}", "已写入 {path}"),
    (
        Msg::Logged,
        "logged entry {seq} of {log} ({task} {round}): {digest}",
        "已记入抽取日志 {log} 第 {seq} 条（任务 {task}，批次 {round}）：{digest}",
    ),
    (Msg::Line, "{file}, line {line}", "{file}，第 {line} 行"),
    (Msg::Field, "{at}, field {field}", "{at}，字段 {field}"),
    (Msg::Sheet, "{file}, sheet {sheet}", "{file}，工作表 {sheet}"),
    (Msg::Row, "{at}, row {row}", "{at}，第 {row} 行"),
    (
        Msg::Column,
        "{at}, column {column} ({field})",
        "{at}，{column} 列（{field}）",
    ),
    (
        Msg::MissingColumn,
        "{at}: missing column {column}",
        "{at}：缺少列 {column}",
    ),
    (Msg::DuplicateColumn, "{at}: column appears twice", "{at}：列名重复"),
    (
        Msg::NotA,
        "{at}: {found} is not {expected}",
        "{at}：{found} 不是{expected}",
    ),
    (
        Msg::DuplicateId,
        "{at}: duplicate id {id} (first on line {first})",
        "{at}：编号 {id} 重复（首次出现在第 {first} 行）",
    ),
    (
        Msg::UnknownReference,
        "{at}: unknown {what} {id}",
        "{at}：未知的{what} {id}",
    ),
    (Msg::Seed, "seed: {message}", "种子：{message}"),
    (
        Msg::CommitmentDiffers,
        "{commitment}: the inputs differ from the commitment: {differences}",
        "{commitment}：输入文件与事先公布的承诺不一致：{differences}",
    ),
    (
        Msg::Unstaffable,
        "no complete team assignment exists; {count} visit part(s) cannot be staffed:",
        "无法组成完整的检查组：{count} 项检查无法派员：",
    ),
    (
        Msg::Unreviewable,
        "no reviewer can be assigned to {count} off-site check(s):",
        "{count} 项非现场检查无法指派审核人员：",
    ),
    (
        Msg::OutputExists,
        "{path}: output directory exists already (use --force to replace it)",
        "{path}：输出目录已存在（如需替换请加 --force）",
    ),
    (
        Msg::SummaryTitle,
        "{spec} draw: plan {plan}, task {task}, round {round}, seed {seed}",
        "{spec} 抽取：计划 {plan}，任务 {task}，批次 {round}，种子 {seed}",
    ),
    (
        Msg::SummaryHeader,
        "department|class|ratio|mode|base|eligible|quota|selected|shortfall",
        "部门|类别|比例|方式|名录数|可抽数|应抽数|抽中数|缺额",
    ),
    (Msg::TriggerOnly, "trigger only", "触发式监管"),
    (Msg::OnSite, "on_site", "现场检查"),
    (Msg::OffSite, "off_site", "非现场检查"),
    (
        Msg::Visits,
        "visits: {visits} ({directed} with a directed check); {separate} department visits merged into them, {saved} visits saved",
        "检查户次：{visits}（其中 {directed} 户含定向检查）；合并了 {separate} 个部门检查，减少 {saved} 次上门",
    ),
    (
        Msg::StepReading,
        "reading {plan} and its inputs",
        "正在读取 {plan} 及其输入文件",
    ),
    (
        Msg::StepReadingStreamed,
        "reading the plans, and their entity file in chunks",
        "正在读取计划，并分块读取检查对象名录",
    ),
    (Msg::StepFrames, "building the frames", "正在建立抽样框"),
    (Msg::StepDrawing, "drawing", "正在抽取"),
    (Msg::StepWriting, "writing the outputs", "正在写入结果文件"),
    (Msg::StepWorkbook, "writing outputs.xlsx", "正在写入 outputs.xlsx"),
    (Msg::StepReplaying, "replaying the draw", "正在重演抽取"),
    (Msg::StepComparing, "comparing the outputs", "正在比对结果文件"),
    (
        Msg::OffSiteChecks,
        "off-site checks: {count} (offsite.csv), not visits",
        "非现场检查：{count} 项（offsite.csv），不上门",
    ),
    (
        Msg::OffSiteReviewed,
        "off-site checks: {count} (offsite.csv), not visits, each with a reviewer",
        "非现场检查：{count} 项（offsite.csv），不上门，每项指派审核人员",
    ),
    (
        Msg::Unscheduled,
        "directed checks not visited, the entity not being active: {count} (unscheduled.csv)",
        "检查对象不在营业状态、未安排上门的定向检查：{count} 项（unscheduled.csv）",
    ),
    (
        Msg::NotVisited,
        "  not visited: {department} directed check of {reason} (line {line} of {file}) on {entity}, which is {status}",
        "  未安排：{department} 对 {entity} 的定向检查（{reason}，{file} 第 {line} 行），该对象状态为 {status}",
    ),
    (Msg::AndMore, "  … and {count} more", "  … 另有 {count} 项"),
    (
        Msg::LoadTitle,
        "inspector load per department (visits per inspector): min / median / max",
        "各部门执法检查人员工作量（每人检查户次）：最少 / 中位数 / 最多",
    ),
    (
        Msg::LoadRow,
        "  {department} {min} / {median} / {max} over {count} inspectors",
        "  {department} {min} / {median} / {max}（共 {count} 人）",
    ),
    (
        Msg::HistoryWrote,
        "wrote {path} ({rows} rows)",
        "已写入 {path}（{rows} 行）",
    ),
    (
        Msg::HistoryWroteOnBase,
        "wrote {path} ({base_rows} rows of {base} and {rows} of the round)",
        "已写入 {path}（{base} 的 {base_rows} 行，加本批次 {rows} 行）",
    ),
    (
        Msg::Published,
        "{results} results, {problems} with a problem; {rows} rows published, {overdue} overdue on {on}",
        "检查结果 {results} 条，发现问题 {problems} 条；公示 {rows} 行，截至 {on} 逾期 {overdue} 条",
    ),
    (Msg::WroteFiles, "wrote {path}: {files}", "已写入 {path}：{files}"),
    (
        Msg::NoticesMade,
        "{notices} notices (一次告知), {warned} entities on the pre-warning list (事前失信警示提醒)",
        "一次告知 {notices} 份，列入事前失信警示提醒名单 {warned} 户",
    ),
    (
        Msg::ProgramTitle,
        "program {program}, year {year}: {rounds} round(s)",
        "年度抽查工作计划 {program}，{year} 年：{rounds} 个批次",
    ),
    (
        Msg::ProgramHeader,
        "department|class|mode|base|ratio|per year",
        "部门|类别|方式|名录数|比例|全年应抽",
    ),
    (
        Msg::ProgramWrote,
        "wrote {path}: {plans} and expected.csv",
        "已写入 {path}：{plans} 及 expected.csv",
    ),
    (Msg::ProgramThen, "then, round by round:", "此后逐批次执行："),
    (
        Msg::RoundOutput,
        "<round {round} output>",
        "<第 {round} 批次的结果文件夹>",
    ),
    (
        Msg::RoundCommitment,
        "<commitment of round {round}>",
        "<第 {round} 批次的承诺文件>",
    ),
    (Msg::SeedPlaceholder, "<seed>", "<种子>"),
    (
        Msg::SynthWrote,
        "wrote {path}: {entities} entities, {history} past visits, {directed} directed checks, plan.json",
        "已写入 {path}：检查对象 {entities} 户，历史检查 {history} 条，定向检查 {directed} 项，plan.json",
    ),
    (
        Msg::PlotZTitle,
        "Inclusion z-scores of {entities} entities over {runs} runs (max |z| {max}, Bonferroni bound {bound})",
        "{entities} 个检查对象在 {runs} 次抽取中被抽中次数的 z 值（最大 |z| {max}，Bonferroni 界 {bound}）",
    ),
    (
        Msg::PlotZAxis,
        "z = (selections − runs × n/|E|) / sd",
        "z =（抽中次数 − 抽取次数 × n/|E|）/ 标准差",
    ),
    (Msg::PlotEntities, "entities", "检查对象数"),
    (Msg::PlotObserved, "observed", "实际"),
    (Msg::PlotNormal, "standard normal", "标准正态分布"),
    (
        Msg::PlotRatesTitle,
        "Inclusion rate by department, class and stratum (dots) against the target n/|E| (lines)",
        "各部门、类别和分层的抽中率（点）与目标 n/|E|（线）",
    ),
    (
        Msg::PlotStratumAxis,
        "stratum (grouped by department, then class A–D)",
        "分层（按部门、再按 A–D 类分组）",
    ),
    (Msg::PlotShareAxis, "share of runs selected", "被抽中的比例"),
    (Msg::PlotClass, "class {class}", "{class} 类"),
    (
        Msg::PlotWorkloadTitle,
        "Inspector workload: visits per run of each inspector, by department",
        "执法检查人员工作量：各部门每人每次抽取的检查户次",
    ),
    (Msg::PlotDepartment, "department", "部门"),
    (Msg::PlotVisitsPerRun, "visits per run", "每次抽取的检查户次"),
    (
        Msg::Serving,
        "serving http://{addr}",
        "已启动，请用浏览器打开 http://{addr}",
    ),
];

/// Phrases inside errors and notes, with their Chinese: what a field
/// expects, and the most frequent reasons. A phrase without a translation
/// stays English.
pub const PHRASES: &[(&str, &str)] = &[
    (
        "a risk class (A, B, C, D, also A类 or A级 …, or empty for unclassified)",
        "信用风险分类（A、B、C、D，也可写作 A类、A级 …，未分类留空）",
    ),
    (
        "a status (one of \"active\", \"suspended\", \"deregistered\" or \"revoked\", or a register's 存续, 在业, 歇业, 注销, 吊销 or 撤销)",
        "登记状态（active、suspended、deregistered、revoked，或 存续、在业、歇业、注销、吊销、撤销）",
    ),
    ("a date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"),
    ("a ratio between 0 and 1", "介于 0 和 1 之间的比例"),
    (
        "a decimal ratio between 0 and 1 written as a string, like \"0.05\"",
        "写成字符串的 0 到 1 之间的小数比例，如 \"0.05\"",
    ),
    ("a ratio with at most 12 decimal places", "最多 12 位小数的比例"),
    (
        "the JSON number {} is not a ratio: write ratios as decimal strings, like \"0.05\"",
        "JSON 数字 {} 不是比例：比例应写成小数字符串，如 \"0.05\"",
    ),
    ("unknown field {}, expected one of {}", "未知字段 {}，可用的字段为 {}"),
    ("unknown field {}, expected {}", "未知字段 {}，应为 {}"),
    ("unknown field {}, there are no fields", "未知字段 {}，此处没有字段"),
    ("unknown variant {}, expected one of {}", "未知取值 {}，可选值为 {}"),
    ("unknown variant {}, expected {}", "未知取值 {}，应为 {}"),
    ("missing field {}", "缺少字段 {}"),
    ("duplicate field {}", "字段 {} 重复"),
    ("invalid type: {}, expected {}", "类型不对：{}，应为 {}"),
    ("the value is not valid UTF-8", "该值不是有效的 UTF-8 编码"),
    ("the file is empty (expected a header row)", "文件为空（应有表头行）"),
    ("the seed is empty", "种子为空"),
    (
        "an id (not empty, no surrounding spaces or control characters)",
        "编号（不能为空，首尾不能有空格，不能含控制字符）",
    ),
    (
        "a day kind (\"holiday\" or \"workday\")",
        "日期类型（holiday 或 workday）",
    ),
    (
        "a visit kind (\"random\" or \"directed\")",
        "检查类型（random 或 directed）",
    ),
    ("a `;`-separated list of item ids", "以 `;` 分隔的检查事项编号"),
    (
        "a `;`-separated list of dates (YYYY-MM-DD)",
        "以 `;` 分隔的日期（YYYY-MM-DD）",
    ),
    ("a date with working days after it", "其后还有工作日的日期"),
    ("a number of days from {} to {}", "介于 {} 和 {} 之间的天数"),
    ("a number of working days from {} to {}", "介于 {} 和 {} 之间的工作日数"),
    ("a number of visits from {} to {}", "介于 {} 和 {} 之间的检查次数"),
    (
        "a number of rounds per year from {} to {}",
        "介于 {} 和 {} 之间的每年抽查批次数",
    ),
    ("a count from {} to {}", "介于 {} 和 {} 之间的人数"),
    (
        "a value of {} bytes (at most {} are accepted)",
        "长度为 {} 字节的值（最多 {} 字节）",
    ),
    (
        "the row has {} fields, the header has {}",
        "该行有 {} 个字段，而表头有 {} 个",
    ),
    (
        "column {} of the header is not valid UTF-8",
        "表头第 {} 列不是有效的 UTF-8 编码",
    ),
    (
        "it reads as GB18030 (GBK), the encoding Excel and WPS use for CSV on Chinese Windows: {}. Declare it in the plan (\"encodings\": {\"{}\": \"gb18030\"}, naming this file's role) or save the file as \"CSV UTF-8\"",
        "按 GB18030（GBK，中文 Windows 上 Excel 和 WPS 保存 CSV 的编码）读作 {}。请在计划中声明该文件的编码（\"encodings\": {\"{}\": \"gb18030\"}，键为该文件的角色），或将文件另存为“CSV UTF-8”",
    ),
    (
        "the line is not valid GB18030 (the encoding the plan declares for this file)",
        "该行不是有效的 GB18030 编码（计划为此文件声明的编码）",
    ),
    ("the file is not valid {}", "文件不是有效的 {} 编码"),
    (
        "it reads as GB18030 (GBK): save it as \"CSV UTF-8\"",
        "可按 GB18030（GBK）读取：请另存为“CSV UTF-8”",
    ),
    (
        "the file is not a readable .xlsx workbook ({})",
        "文件不是可读取的 .xlsx 工作簿（{}）",
    ),
    ("the workbook has no sheet", "工作簿中没有工作表"),
    ("the cell holds a spreadsheet error ({})", "单元格中是错误值（{}）"),
    (
        "this build reads no .xlsx workbooks (the crate's `xlsx` feature): save the sheet as CSV",
        "此版本不能读取 .xlsx 工作簿（未启用 `xlsx` 功能）：请将工作表另存为 CSV",
    ),
    (
        "the file has no entities (only a header)",
        "文件中没有检查对象（只有表头）",
    ),
    (
        "the file has no inspectors (only a header)",
        "文件中没有执法检查人员（只有表头）",
    ),
    (
        "to draw without teams, leave the inspectors out of the plan",
        "如不组建检查组，请从计划中去掉 inspectors",
    ),
    ("item {} is listed twice", "检查事项 {} 重复列出"),
    (
        "item {} belongs to department {}, not {}",
        "检查事项 {} 属于部门 {}，而不是 {}",
    ),
    (
        "entity {} is unclassified and the plan names no unclassified_class",
        "检查对象 {} 未分类，而计划没有指定 unclassified_class",
    ),
    ("the plan names no history file", "计划没有指定历史检查记录文件"),
    (
        "the file exists already (use --force to replace it)",
        "文件已存在（如需替换请加 --force）",
    ),
    ("--force never replaces an input", "--force 不会替换输入文件"),
    (
        "--force replaces only a file, and this is a folder or a link",
        "--force 只替换文件，而这是文件夹或链接",
    ),
    (
        "--force replaces only a folder written by a draw, and this is a symbolic link",
        "--force 只替换抽取写出的文件夹，而这是符号链接",
    ),
    (
        "--force replaces only a folder written by a draw, and this is a file",
        "--force 只替换抽取写出的文件夹，而这是文件",
    ),
    (
        "--force replaces only a folder written by a draw, and this one has no record.json",
        "--force 只替换抽取写出的文件夹，而其中没有 record.json",
    ),
    (
        "--force replaces only a folder written by a draw, and its record.json is not a draw's record",
        "--force 只替换抽取写出的文件夹，而其中的 record.json 不是抽取记录",
    ),
    (
        "--force replaces only a folder written by a draw, and its {} is not a file",
        "--force 只替换抽取写出的文件夹，而其中的 {} 不是文件",
    ),
    (
        "--force replaces only a folder written by a draw, and this one holds {}",
        "--force 只替换抽取写出的文件夹，而其中有 {}",
    ),
    (
        "--plan and --log apply to a draw's record, not a publication",
        "--plan 和 --log 只用于抽取记录，不用于公示",
    ),
    (
        "--svg draws a plan's report; a program's year has no pictures yet",
        "--svg 只为单个计划的报告作图；年度计划暂无图",
    ),
    (
        "task {} round {} was drawn already (entry {}, record {})",
        "任务 {} 批次 {} 已经抽取过（日志第 {} 条，记录 {}）",
    ),
    (
        "give --redraw-reason to draw it again",
        "如需重新抽取，请用 --redraw-reason 说明理由",
    ),
    (
        "{}, line {}, from character {}: expected {}, found {}",
        "{}，第 {} 行，第 {} 个字符起：应为 {}，实为 {}",
    ),
    (
        "{}: sha256 {} differs from the record's {}",
        "{}：sha256 {} 与记录中的 {} 不一致",
    ),
    (
        "{}: sha256 {} differs from the committed {}",
        "{}：sha256 {} 与承诺中的 {} 不一致",
    ),
    (
        "{}: sha256 {} differs from the publication's {}",
        "{}：sha256 {} 与公示记录中的 {} 不一致",
    ),
    (
        "the frame digest {} differs from the committed {}",
        "抽样框摘要 {} 与承诺中的 {} 不一致",
    ),
    (
        "{}: commitment: {}: sha256 {} differs from the committed {}",
        "{}：承诺：{}：sha256 {} 与承诺中的 {} 不一致",
    ),
    (
        "{}: commitment: the frame digest {} differs from the committed {}",
        "{}：承诺：抽样框摘要 {} 与承诺中的 {} 不一致",
    ),
    ("{}: commitment: {}", "{}：承诺：{}"),
    ("{}: the sheet {} is missing", "{}：缺少工作表 {}"),
    (
        "{}: task {} round {} of this record is not in the draw log {}",
        "{}：该记录的任务 {} 批次 {} 不在抽取日志 {} 中",
    ),
    (
        "{}: task {} round {} was drawn again after this record (log entry {}: {})",
        "{}：任务 {} 批次 {} 在该记录之后又抽取过（日志第 {} 条：{}）",
    ),
    (
        "task {} round {} was redrawn (log entry {}, {}): {}",
        "任务 {} 批次 {} 曾重新抽取（日志第 {} 条，{}）：{}",
    ),
    ("{}: the replay fails: {}", "{}：重演失败：{}"),
    ("entity", "检查对象"),
    ("department", "部门"),
    ("item", "检查事项"),
    ("inspector", "执法检查人员"),
    ("column", "列"),
    ("command", "命令"),
];

/// The text of `msg` in `lang`.
pub fn text(msg: Msg, lang: Lang) -> &'static str {
    CATALOGUE
        .iter()
        .find(|(m, _, _)| *m == msg)
        .map_or("", |(_, en, zh)| if lang == Lang::Zh { zh } else { en })
}

/// The text of `msg` in `lang` with its placeholders filled, in one pass:
/// a value is never read for placeholders (an id may hold `{line}`).
pub fn fill(msg: Msg, lang: Lang, args: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text(msg, lang);
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            args.iter()
                .find(|(name, _)| *name == &after[..close])
                .map(|a| (a.1, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A phrase in `lang`, when the catalogue has it; else as it is. A
/// catalogue phrase's `{}` stands for any text (a number, a name), carried
/// into the translation in the same order; a phrase followed by `; ` and
/// more is translated in both parts where each is in the catalogue.
pub fn phrase(text: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    let known = |text: &str| PHRASES.iter().find_map(|(en, zh)| translate(en, zh, text));
    // A sentence and its hint, both known, before the whole (whose last
    // `{}` could take the hint in).
    let split = text
        .split_once("; ")
        .map(|(head, tail)| (known(head), known(tail), tail));
    match split {
        Some((Some(head), Some(tail), _)) => format!("{head}；{tail}"),
        _ => match (known(text), split) {
            (Some(whole), _) => whole,
            (None, Some((Some(head), None, tail))) => format!("{head}；{tail}"),
            // A value that is not what a field expects, said the way the
            // errors say it, with the expectation in the catalogue.
            _ => find_unquoted(text, " is not ")
                .and_then(|at| Some((&text[..at], known(&text[at + " is not ".len()..])?)))
                .map_or_else(
                    || text.to_string(),
                    |(found, expected)| format!("{found} 不是{expected}"),
                ),
        },
    }
}

/// The first `part` in `text` outside a quoted value (`"…"`, with `\"`
/// inside it), so a quoted value holding the template's words is kept
/// whole.
fn find_unquoted(text: &str, part: &str) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in text.char_indices() {
        if !quoted && text[i..].starts_with(part) {
            return Some(i);
        }
        match c {
            '\\' if quoted => escaped = !escaped,
            '"' if !escaped => quoted = !quoted,
            _ => escaped = false,
        }
    }
    None
}

/// `text` in the words of `zh` when it is `en` with its `{}` filled.
fn translate(en: &str, zh: &str, text: &str) -> Option<String> {
    let pieces = captures(en, text)?;
    let mut parts = zh.split("{}");
    let mut out = parts.next().unwrap_or_default().to_string();
    for (piece, part) in pieces.iter().zip(parts) {
        out.push_str(piece);
        out.push_str(part);
    }
    Some(out)
}

/// The texts that `pattern`'s `{}` stand for in `text`, each as short as
/// it can be (the last takes the rest); `None` when `text` does not fit.
fn captures<'t>(pattern: &str, text: &'t str) -> Option<Vec<&'t str>> {
    let mut parts = pattern.split("{}");
    let mut rest = text.strip_prefix(parts.next().unwrap_or_default())?;
    let parts: Vec<&str> = parts.collect();
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            out.push(rest.strip_suffix(part)?);
            return Some(out);
        }
        let at = find_unquoted(rest, part)?;
        out.push(&rest[..at]);
        rest = &rest[at + part.len()..];
    }
    rest.is_empty().then_some(out)
}

/// A progress step (as the library reports it, in English) in `lang`.
pub fn step(text_en: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text_en.to_string();
    }
    let plain = [
        Msg::StepReadingStreamed,
        Msg::StepFrames,
        Msg::StepDrawing,
        Msg::StepWriting,
        Msg::StepWorkbook,
        Msg::StepReplaying,
        Msg::StepComparing,
    ];
    if let Some(m) = plain.iter().find(|m| text(**m, Lang::En) == text_en) {
        return text(*m, lang).to_string();
    }
    if let Some(plan) = text_en
        .strip_prefix("reading ")
        .and_then(|t| t.strip_suffix(" and its inputs"))
    {
        return fill(Msg::StepReading, lang, &[("plan", plan)]);
    }
    text_en.to_string()
}

/// The columns a text takes in a terminal: two for a wide (CJK) character.
pub(crate) fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// Appends one line of a table: each cell padded to its width in
/// terminal columns (see [`display_width`]), the first `left` cells
/// left-aligned and the others right-aligned, one space between.
pub(crate) fn table_row(out: &mut String, cells: &[&str], widths: &[usize], left: usize) {
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let pad = " ".repeat(width.saturating_sub(display_width(cell)));
        if i > 0 {
            out.push(' ');
        }
        if i < left {
            out.push_str(cell);
            out.push_str(&pad);
        } else {
            out.push_str(&pad);
            out.push_str(cell);
        }
    }
    out.push('\n');
}

/// How a class is checked, in `lang`: the plan's word in English.
pub(crate) fn mode_word(mode: crate::model::Mode, lang: Lang) -> &'static str {
    use crate::model::Mode;
    match (mode, lang) {
        (Mode::TriggerOnly, _) => text(Msg::TriggerOnly, lang),
        (Mode::OnSite, Lang::Zh) => text(Msg::OnSite, lang),
        (Mode::OffSite, Lang::Zh) => text(Msg::OffSite, lang),
        (mode, _) => mode.as_str(),
    }
}

/// A table's header row in `lang`, from a message whose text is its
/// cells separated by `|`.
pub(crate) fn header_cells(msg: Msg, lang: Lang) -> Vec<&'static str> {
    text(msg, lang).split('|').collect()
}

/// Where an error is, in `lang`.
pub fn location(at: &Location, lang: Lang) -> String {
    if lang == Lang::En {
        return at.to_string();
    }
    let mut out = match &at.sheet {
        Some(sheet) => fill(Msg::Sheet, lang, &[("file", &at.file), ("sheet", sheet)]),
        None => at.file.clone(),
    };
    if let Some(line) = at.line {
        out = match at.sheet {
            Some(_) => fill(Msg::Row, lang, &[("at", &out), ("row", &line.to_string())]),
            None => fill(Msg::Line, lang, &[("file", &out), ("line", &line.to_string())]),
        };
    }
    match (&at.column, &at.field, &at.sheet) {
        (Some(column), Some(field), Some(_)) => {
            fill(Msg::Column, lang, &[("at", &out), ("column", column), ("field", field)])
        }
        (_, Some(field), _) => fill(Msg::Field, lang, &[("at", &out), ("field", field)]),
        _ => out,
    }
}

/// Why a file could not be read or written, in Chinese: the usual kinds
/// in words, anything else as the system tells it.
fn io_reason(source: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let words = match source.kind() {
        K::NotFound => "找不到该文件或文件夹",
        K::PermissionDenied => "没有读写权限",
        K::AlreadyExists => "已存在",
        K::IsADirectory => "这是文件夹，不是文件",
        K::NotADirectory => "路径中有一段不是文件夹",
        K::StorageFull => "磁盘已满",
        K::ReadOnlyFilesystem => "文件系统为只读",
        K::InvalidFilename => "文件名无效",
        _ => return source.to_string(),
    };
    format!("{words}（{source}）")
}

impl Error {
    /// The error's message in `lang`: the same as its `Display` in
    /// English; in Chinese the same positions with Chinese words around
    /// them (see the [module](crate::messages)).
    pub fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        let at = |a: &Location| location(a, lang);
        match self.kind() {
            ErrorKind::Io { path, source } => format!("{}：{}", path.display(), io_reason(source)),
            ErrorKind::Syntax { at: a, message } | ErrorKind::Policy { at: a, message } => {
                format!("{}：{}", at(a), phrase(message, lang))
            }
            ErrorKind::MissingColumn { at: a, column } => {
                fill(Msg::MissingColumn, lang, &[("at", &at(a)), ("column", column)])
            }
            ErrorKind::DuplicateColumn { at: a } => fill(Msg::DuplicateColumn, lang, &[("at", &at(a))]),
            ErrorKind::InvalidField { at: a, expected, found } => fill(
                Msg::NotA,
                lang,
                &[
                    ("at", &at(a)),
                    ("found", &quote(found)),
                    ("expected", &phrase(expected, lang)),
                ],
            ),
            ErrorKind::DuplicateId { at: a, id, first_line } => fill(
                Msg::DuplicateId,
                lang,
                &[("at", &at(a)), ("id", &quote(id)), ("first", &first_line.to_string())],
            ),
            ErrorKind::UnknownReference { at: a, what, id } => fill(
                Msg::UnknownReference,
                lang,
                &[("at", &at(a)), ("what", &phrase(what, lang)), ("id", &quote(id))],
            ),
            ErrorKind::InvalidSeed { message } => fill(Msg::Seed, lang, &[("message", &phrase(message, lang))]),
            ErrorKind::CommitmentMismatch {
                commitment,
                differences,
            } => fill(
                Msg::CommitmentDiffers,
                lang,
                &[
                    ("commitment", commitment),
                    (
                        "differences",
                        &differences
                            .iter()
                            .map(|d| phrase(d, lang))
                            .collect::<Vec<_>>()
                            .join("；"),
                    ),
                ],
            ),
            ErrorKind::Unstaffable { visits } => {
                let mut out = fill(Msg::Unstaffable, lang, &[("count", &visits.len().to_string())]);
                for v in visits.iter().take(20) {
                    let _ = write!(out, "\n  {v}");
                }
                out
            }
            ErrorKind::Unreviewable { checks } => {
                let mut out = fill(Msg::Unreviewable, lang, &[("count", &checks.len().to_string())]);
                for c in checks.iter().take(20) {
                    let _ = write!(out, "\n  {c}");
                }
                out
            }
            ErrorKind::OutputExists { path } => fill(Msg::OutputExists, lang, &[("path", &path.display().to_string())]),
            ErrorKind::OutputRefused { path, reason } => format!("{}：{}", path.display(), phrase(reason, lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<&str> {
        let mut out: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn the_catalogue_is_complete_in_both_languages() {
        let mut listed: Vec<Msg> = CATALOGUE.iter().map(|(m, _, _)| *m).collect();
        listed.sort();
        let mut all = ALL_MESSAGES.to_vec();
        all.sort();
        assert_eq!(listed, all, "every message exactly once");
        for (m, en, zh) in CATALOGUE {
            assert!(!en.is_empty() && !zh.is_empty(), "{m:?}");
            assert_ne!(en, zh, "{m:?} is not translated");
            assert_eq!(placeholders(en), placeholders(zh), "{m:?}: the placeholders differ");
            assert_eq!(
                en.matches('|').count(),
                zh.matches('|').count(),
                "{m:?}: the columns differ"
            );
        }
        for (en, zh) in PHRASES {
            assert!(!en.is_empty() && !zh.is_empty() && en != zh, "{en}");
            assert_eq!(en.matches("{}").count(), zh.matches("{}").count(), "{en}");
            assert!(!en.contains("{}{}"), "{en}: two placeholders need text between them");
        }
    }

    #[test]
    fn phrases_carry_their_numbers_and_names_across() {
        assert_eq!(
            phrase("the row has 7 fields, the header has 8", Lang::Zh),
            "该行有 7 个字段，而表头有 8 个"
        );
        assert_eq!(
            phrase("item I-3 belongs to department WLJ, not SCJG", Lang::Zh),
            "检查事项 I-3 属于部门 WLJ，而不是 SCJG"
        );
        assert_eq!(
            phrase("a number of days from 0 to 3650", Lang::Zh),
            "介于 0 和 3650 之间的天数"
        );
        // Both halves of a sentence with a hint.
        assert_eq!(
            phrase(
                "the file has no inspectors (only a header); to draw without teams, leave the inspectors out of the plan",
                Lang::Zh
            ),
            "文件中没有执法检查人员（只有表头）；如不组建检查组，请从计划中去掉 inspectors"
        );
        // A known head keeps an unknown hint as it is; an unknown phrase stays English.
        assert_eq!(phrase("the seed is empty; say why", Lang::Zh), "种子为空；say why");
        assert_eq!(phrase("the row has 7 fields", Lang::Zh), "the row has 7 fields");
        // A value that is not what a field expects, as a plan's errors say it.
        assert_eq!(
            phrase("\"1.5\" is not a ratio between 0 and 1", Lang::Zh),
            "\"1.5\" 不是介于 0 和 1 之间的比例"
        );
        assert_eq!(
            phrase("\"x is not y\" is not a ratio between 0 and 1", Lang::Zh),
            "\"x is not y\" 不是介于 0 和 1 之间的比例"
        );
        assert_eq!(phrase("\"1.5\" is not a fish", Lang::Zh), "\"1.5\" is not a fish");
        assert_eq!(
            phrase(
                "record.json: commitment: the frame digest ab differs from the committed cd",
                Lang::Zh
            ),
            "record.json：承诺：抽样框摘要 ab 与承诺中的 cd 不一致"
        );
        assert_eq!(
            phrase("unknown field `bogus`, expected one of `spec`, `plan_id`", Lang::Zh),
            "未知字段 `bogus`，可用的字段为 `spec`, `plan_id`"
        );
        // A verification's difference, quoted texts kept whole.
        assert_eq!(
            phrase(
                "visits.csv, line 2, from character 9: expected …\"a, found b\", found …\"c\"",
                Lang::Zh
            ),
            "visits.csv，第 2 行，第 9 个字符起：应为 …\"a, found b\"，实为 …\"c\""
        );
        assert_eq!(
            phrase("the row has 7 fields, the header has 8", Lang::En),
            "the row has 7 fields, the header has 8"
        );
        assert_eq!(captures("a{}b{}", "axxbyy"), Some(vec!["xx", "yy"]));
        assert_eq!(captures("a{}b", "axxbyyb"), Some(vec!["xxbyy"]));
        assert_eq!(captures("a{}b", "axxc"), None);
        assert_eq!(captures("ab", "abc"), None);
        assert_eq!(captures("{}, x {}", r#""a\", x", x b"#), Some(vec![r#""a\", x""#, "b"]));
    }

    #[test]
    fn values_are_filled_in_once() {
        assert_eq!(
            fill(Msg::Line, Lang::En, &[("file", "{line}.csv"), ("line", "7")]),
            "{line}.csv, line 7"
        );
        assert_eq!(fill(Msg::Line, Lang::Zh, &[("file", "e.csv")]), "e.csv，第 {line} 行");
    }

    #[test]
    fn usual_file_failures_are_in_words() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = Error::io("entities.csv", missing);
        assert!(
            e.localized(Lang::Zh)
                .starts_with("entities.csv：找不到该文件或文件夹（"),
            "{}",
            e.localized(Lang::Zh)
        );
        assert_eq!(e.localized(Lang::En), e.to_string());
        let odd = Error::io("e.csv", std::io::Error::other("odd"));
        assert_eq!(odd.localized(Lang::Zh), "e.csv：odd");
    }

    #[test]
    fn languages_come_from_names_and_locales() {
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::Zh));
        assert_eq!(Lang::parse("zh-TW"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("fr_FR"), None);
    }

    #[test]
    fn steps_translate_with_their_plan() {
        assert_eq!(
            step("reading plans/p.json and its inputs", Lang::Zh),
            "正在读取 plans/p.json 及其输入文件"
        );
        assert_eq!(step("drawing", Lang::Zh), "正在抽取");
        assert_eq!(step("drawing", Lang::En), "drawing");
    }
}
