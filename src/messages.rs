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
//! catalogue has the phrase ([`PHRASES`]) and otherwise stays English.

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

/// A message of the catalogue. Its text has `{name}` placeholders, the
/// same in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Msg {
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
    ("the value is not valid UTF-8", "该值不是有效的 UTF-8 编码"),
    ("the file is empty (expected a header row)", "文件为空（应有表头行）"),
    ("the seed is empty", "种子为空"),
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

/// The text of `msg` in `lang` with its placeholders filled.
pub fn fill(msg: Msg, lang: Lang, args: &[(&str, &str)]) -> String {
    let mut out = text(msg, lang).to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A phrase in `lang`, when the catalogue has it; else as it is.
pub fn phrase(text: &str, lang: Lang) -> String {
    if lang == Lang::Zh
        && let Some((_, zh)) = PHRASES.iter().find(|(en, _)| *en == text)
    {
        return (*zh).to_string();
    }
    // A phrase followed by a hint keeps the hint as it is.
    if lang == Lang::Zh
        && let Some((en, zh)) = PHRASES
            .iter()
            .find(|(en, _)| text.starts_with(en) && text[en.len()..].starts_with(';'))
    {
        return format!("{zh}{}", &text[en.len()..]);
    }
    text.to_string()
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
            ErrorKind::Io { path, source } => format!("{}：{source}", path.display()),
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
                &[("commitment", commitment), ("differences", &differences.join("; "))],
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
            ErrorKind::OutputRefused { path, reason } => format!("{}：{reason}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message once in the catalogue.
    const ALL: [Msg; 36] = [
        Msg::Error,
        Msg::Warning,
        Msg::Note,
        Msg::Verified,
        Msg::NotVerified,
        Msg::Wrote,
        Msg::Logged,
        Msg::Line,
        Msg::Field,
        Msg::Sheet,
        Msg::Row,
        Msg::Column,
        Msg::MissingColumn,
        Msg::DuplicateColumn,
        Msg::NotA,
        Msg::DuplicateId,
        Msg::UnknownReference,
        Msg::Seed,
        Msg::CommitmentDiffers,
        Msg::Unstaffable,
        Msg::Unreviewable,
        Msg::OutputExists,
        Msg::SummaryTitle,
        Msg::SummaryHeader,
        Msg::TriggerOnly,
        Msg::OnSite,
        Msg::OffSite,
        Msg::Visits,
        Msg::StepReading,
        Msg::StepReadingStreamed,
        Msg::StepFrames,
        Msg::StepDrawing,
        Msg::StepWriting,
        Msg::StepWorkbook,
        Msg::StepReplaying,
        Msg::StepComparing,
    ];

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
        let mut all = ALL.to_vec();
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
        }
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
