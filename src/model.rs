//! The domain vocabulary: risk classes, ratios, entities, check items,
//! past visits and directed checks.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

/// A credit-risk class (企业信用风险分类), from A (low) to D (high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskClass {
    /// Low risk (信用风险低).
    A,
    /// General risk (信用风险一般).
    B,
    /// Fairly high risk (信用风险较高).
    C,
    /// High risk (信用风险高).
    D,
}

impl RiskClass {
    /// All classes, from low to high risk.
    pub const ALL: [RiskClass; 4] = [RiskClass::A, RiskClass::B, RiskClass::C, RiskClass::D];

    /// The class letter.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::A => "A",
            RiskClass::B => "B",
            RiskClass::C => "C",
            RiskClass::D => "D",
        }
    }

    /// Parses a class letter (`A`…`D`, upper case only).
    pub fn parse(text: &str) -> Option<RiskClass> {
        match text {
            "A" => Some(RiskClass::A),
            "B" => Some(RiskClass::B),
            "C" => Some(RiskClass::C),
            "D" => Some(RiskClass::D),
            _ => None,
        }
    }

    /// Parses a class as an input file may write it: the letter, or one
    /// of the documented Chinese forms, `A类`, `A级`, `A类（信用风险低）`… or
    /// the class's name, `信用风险低` (`低风险`), `信用风险一般`
    /// (`一般风险`), `信用风险较高` (`较高风险`), `信用风险高` (`高风险`).
    /// The canonical letter is what the draw and its record use.
    ///
    /// ```
    /// use double_random::RiskClass;
    /// assert_eq!(RiskClass::parse_with_aliases("C类"), Some(RiskClass::C));
    /// assert_eq!(RiskClass::parse_with_aliases("信用风险低"), Some(RiskClass::A));
    /// assert_eq!(RiskClass::parse_with_aliases("E类"), None);
    /// ```
    pub fn parse_with_aliases(text: &str) -> Option<RiskClass> {
        if let Some(class) = RiskClass::parse(text) {
            return Some(class);
        }
        let text = text.trim();
        let named = |name: &str| match name {
            "信用风险低" | "低风险" => Some(RiskClass::A),
            "信用风险一般" | "一般风险" => Some(RiskClass::B),
            "信用风险较高" | "较高风险" => Some(RiskClass::C),
            "信用风险高" | "高风险" => Some(RiskClass::D),
            _ => None,
        };
        if let Some(class) = named(text) {
            return Some(class);
        }
        // A letter, then 类 or 级, then optionally the name in brackets.
        let mut chars = text.chars();
        let class = RiskClass::parse(chars.next()?.encode_utf8(&mut [0; 4]))?;
        let rest = chars.as_str();
        let rest = rest.strip_prefix('类').or_else(|| rest.strip_prefix('级'))?;
        let named_in = |open: char, close: char| {
            rest.strip_prefix(open)
                .and_then(|r| r.strip_suffix(close))
                .and_then(named)
        };
        match rest {
            "" => Some(class),
            _ => (named_in('（', '）').or_else(|| named_in('(', ')')) == Some(class)).then_some(class),
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The registration status of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Trading.
    Active,
    /// A filed suspension of business (歇业): still registered, excluded from on-site work.
    Suspended,
    /// Deregistered (注销): not in any population.
    Deregistered,
    /// Licence revoked (吊销): not in any population.
    Revoked,
}

impl Status {
    /// The name used in input files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Deregistered => "deregistered",
            Status::Revoked => "revoked",
        }
    }

    /// Parses a status name.
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            "deregistered" => Some(Status::Deregistered),
            "revoked" => Some(Status::Revoked),
            _ => None,
        }
    }

    /// Parses a status as an input file may write it: the English name, or
    /// a registration state as Chinese registers write it: 存续, 在业, 开业,
    /// 在营 or 正常 (active), 歇业 or 停业 (suspended), 注销 (deregistered),
    /// 吊销 or 撤销 (revoked; 吊销，未注销 too). The canonical name is what
    /// the draw and its record use.
    ///
    /// ```
    /// use double_random::model::Status;
    /// assert_eq!(Status::parse_with_aliases("存续"), Some(Status::Active));
    /// assert_eq!(Status::parse_with_aliases("吊销，未注销"), Some(Status::Revoked));
    /// ```
    pub fn parse_with_aliases(text: &str) -> Option<Status> {
        if let Some(status) = Status::parse(text) {
            return Some(status);
        }
        // Registers write the state alone or followed by a note in brackets: 存续（在营、开业、在册）.
        let text = text.trim();
        let state = text.split(['（', '(']).next().unwrap_or(text).trim();
        match state {
            "存续" | "在业" | "开业" | "在营" | "正常" | "在册" => Some(Status::Active),
            "歇业" | "停业" => Some(Status::Suspended),
            "注销" => Some(Status::Deregistered),
            "吊销" | "撤销" | "吊销，未注销" | "吊销,未注销" | "吊销未注销" => {
                Some(Status::Revoked)
            }
            _ => None,
        }
    }

    /// Whether the registration still exists (active or suspended), which
    /// is what puts an entity in a base population.
    pub fn is_registered(self) -> bool {
        matches!(self, Status::Active | Status::Suspended)
    }
}

/// How a class is inspected by a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Proactive on-site inspection (现场检查). Suspended entities are excluded.
    #[default]
    OnSite,
    /// Proactive off-site inspection (书面检查, 网络监测). Suspended entities stay eligible.
    OffSite,
    /// No proactive draw: the class is only visited on a trigger (触发式监管).
    TriggerOnly,
}

impl Mode {
    /// The name used in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::OnSite => "on_site",
            Mode::OffSite => "off_site",
            Mode::TriggerOnly => "trigger_only",
        }
    }

    /// Parses a mode name.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "on_site" => Some(Mode::OnSite),
            "off_site" => Some(Mode::OffSite),
            "trigger_only" => Some(Mode::TriggerOnly),
            _ => None,
        }
    }
}

/// An exact ratio in [0, 1], written as a decimal string such as `"0.05"`.
///
/// Ratios are never floating point: `"0.05"` is 5/100 and quotas are
/// computed from it in integers.
///
/// # Example
///
/// ```
/// use double_random::model::Ratio;
/// let r: Ratio = "0.05".parse()?;
/// assert_eq!((r.numerator(), r.denominator()), (5, 100));
/// assert_eq!(r.quota(101), 6); // ceil(0.05 × 101)
/// assert!("1.5".parse::<Ratio>().is_err());
/// # Ok::<(), double_random::model::RatioError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ratio {
    text: String,
    num: u64,
    den: u64,
}

/// Why a text is not a [`Ratio`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatioError(&'static str);

impl fmt::Display for RatioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RatioError {}

/// The expected shape of a ratio, for error messages.
pub(crate) const RATIO_EXPECTED: &str = "a decimal ratio between 0 and 1 written as a string, like \"0.05\"";

impl FromStr for Ratio {
    type Err = RatioError;

    fn from_str(text: &str) -> Result<Ratio, RatioError> {
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (text.contains('.') && frac.is_empty()) {
            return Err(RatioError(RATIO_EXPECTED));
        }
        if frac.len() > 12 || int.len() > 12 {
            return Err(RatioError("a ratio with at most 12 decimal places"));
        }
        // OK because both parts are at most 12 ASCII digits.
        let int_v: u64 = int.parse().map_err(|_| RatioError(RATIO_EXPECTED))?;
        let frac_v: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| RatioError(RATIO_EXPECTED))?
        };
        let den = 10u64.pow(frac.len() as u32);
        let num = int_v * den + frac_v;
        if num > den {
            return Err(RatioError("a ratio between 0 and 1"));
        }
        Ok(Ratio {
            text: text.to_string(),
            num,
            den,
        })
    }
}

impl Ratio {
    /// The numerator of the exact fraction (not reduced: `"0.50"` is 50/100).
    pub fn numerator(&self) -> u64 {
        self.num
    }

    /// The denominator of the exact fraction, a power of ten.
    pub fn denominator(&self) -> u64 {
        self.den
    }

    /// The decimal text as written in the plan.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// DR3 step 5: `ceil(ratio × base)`, in integers.
    pub fn quota(&self, base: u64) -> u64 {
        let p = u128::from(self.num) * u128::from(base);
        let d = u128::from(self.den);
        // OK because num <= den, so the quotient is at most `base`.
        p.div_ceil(d) as u64
    }

    /// Compares two ratios exactly.
    pub fn cmp_value(&self, other: &Ratio) -> std::cmp::Ordering {
        (u128::from(self.num) * u128::from(other.den)).cmp(&(u128::from(other.num) * u128::from(self.den)))
    }

    /// Whether the ratio is zero.
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether an item is key (重点, no ratio cap) or general (一般, capped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemKind {
    /// A key item (重点检查事项): no upper limit on the ratio.
    Key,
    /// A general item (一般检查事项): its ratio is strictly limited by `max_ratio`.
    General,
    /// A key item that checks the information an enterprise publicises
    /// (企业公示信息抽查): at least 3 % of the department's base population
    /// must be drawn for it (企业公示信息抽查办法 Art. 4), unless its
    /// `min_ratio` sets another floor.
    PublicInformation,
}

impl ItemKind {
    /// The name used in input files.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Key => "key",
            ItemKind::General => "general",
            ItemKind::PublicInformation => "public_information",
        }
    }
}

/// A check item of the list (随机抽查事项清单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckItem {
    /// The item id.
    pub id: String,
    /// The department that checks it.
    pub department: String,
    /// The item name.
    pub name: String,
    /// Key or general.
    pub kind: ItemKind,
    /// The highest ratio the item may be drawn at (required for general items).
    pub max_ratio: Option<Ratio>,
    /// The lowest share of its department's base population the item may
    /// be drawn for, if any (see [`CheckItem::floor`]).
    pub min_ratio: Option<Ratio>,
    /// The legal basis, as listed.
    pub legal_basis: String,
    /// The method (on-site, written, online …).
    pub method: String,
    /// A qualification tag an inspector must hold, if any.
    pub qualification: Option<String>,
    /// The 1-based line of the input.
    pub line: u64,
}

impl CheckItem {
    /// The floor of the item: its `min_ratio`, else 3/100 for a
    /// [public-information](ItemKind::PublicInformation) item, else none.
    /// A plan whose class quotas for the item's department add up to less
    /// than this share of its base population is refused when drawn.
    pub fn floor(&self) -> Option<Ratio> {
        self.min_ratio.clone().or_else(|| {
            (self.kind == ItemKind::PublicInformation).then(|| {
                // OK because the literal is a valid ratio.
                "0.03".parse().expect("0.03 is a ratio")
            })
        })
    }
}

/// Whether a past visit was drawn or directed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VisitKind {
    /// Drawn at random (双随机).
    Random,
    /// Directed by a trigger (complaint, alert, referral …); exempt from annual caps.
    Directed,
}

impl VisitKind {
    /// Parses a kind as history files name it: `random` or `directed`.
    pub(crate) fn parse(text: &str) -> Option<VisitKind> {
        match text {
            "random" | "随机" | "双随机" | "随机抽查" => Some(VisitKind::Random),
            "directed" | "定向" | "定向抽查" => Some(VisitKind::Directed),
            _ => None,
        }
    }
}

/// The visit history (检查记录), held by column: one row per past visit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    entities: Vec<u32>,
    departments: Vec<u16>,
    department_names: Vec<String>,
    dates: Vec<NaiveDate>,
    kinds: Vec<VisitKind>,
    lines: Vec<u64>,
    /// The inspectors of all visits, `;`-separated per visit, one after another.
    inspectors: String,
    inspector_ends: Vec<u32>,
}

/// One past visit of a [`History`], by reference.
#[derive(Debug, Clone, Copy)]
pub struct PastVisit<'a> {
    history: &'a History,
    index: usize,
}

impl History {
    /// The number of past visits.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Every past visit, in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = PastVisit<'_>> + '_ {
        (0..self.len()).map(|index| PastVisit { history: self, index })
    }

    /// Appends a visit; `None` when there are too many (more than u32::MAX
    /// visits, inspector bytes or 65,536 departments).
    pub(crate) fn push<'a>(
        &mut self,
        entity: usize,
        department: &str,
        date: NaiveDate,
        kind: VisitKind,
        inspectors: impl IntoIterator<Item = &'a str>,
        line: u64,
    ) -> Option<()> {
        let d = self.department_code(department)?;
        self.entities.push(u32::try_from(entity).ok()?);
        self.departments.push(d);
        self.dates.push(date);
        self.kinds.push(kind);
        self.lines.push(line);
        for (k, id) in inspectors.into_iter().enumerate() {
            if k > 0 {
                self.inspectors.push(';');
            }
            self.inspectors.push_str(id);
        }
        self.inspector_ends.push(u32::try_from(self.inspectors.len()).ok()?);
        Some(())
    }

    /// The code of a department's name, interned on first use; `None` past 65,536.
    fn department_code(&mut self, name: &str) -> Option<u16> {
        let d = match self.department_names.iter().position(|n| n == name) {
            Some(d) => d,
            None => {
                self.department_names.push(name.to_string());
                self.department_names.len() - 1
            }
        };
        u16::try_from(d).ok()
    }

    /// Appends the visits of another history (departments matched by
    /// name); `None` when there are too many, as for [`History::push`].
    pub(crate) fn append(&mut self, other: History) -> Option<()> {
        if self.is_empty() {
            *self = other;
            return Some(());
        }
        let remap: Vec<u16> = other
            .department_names
            .iter()
            .map(|name| self.department_code(name))
            .collect::<Option<_>>()?;
        let shift = u32::try_from(self.inspectors.len()).ok()?;
        self.entities.extend_from_slice(&other.entities);
        self.departments
            .extend(other.departments.iter().map(|&d| remap[d as usize]));
        self.dates.extend_from_slice(&other.dates);
        self.kinds.extend_from_slice(&other.kinds);
        self.lines.extend_from_slice(&other.lines);
        self.inspectors.push_str(&other.inspectors);
        for &end in &other.inspector_ends {
            self.inspector_ends.push(shift.checked_add(end)?);
        }
        Some(())
    }

    /// The visits for which `keep` is true (one flag per visit), in order.
    pub(crate) fn retain(self, keep: &[bool]) -> History {
        let mut out = History {
            department_names: self.department_names.clone(),
            ..History::default()
        };
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            out.entities.push(self.entities[i]);
            out.departments.push(self.departments[i]);
            out.dates.push(self.dates[i]);
            out.kinds.push(self.kinds[i]);
            out.lines.push(self.lines[i]);
            let start = if i == 0 { 0 } else { self.inspector_ends[i - 1] as usize };
            out.inspectors
                .push_str(&self.inspectors[start..self.inspector_ends[i] as usize]);
            // OK because the kept inspectors are fewer bytes than all of them, which fit.
            out.inspector_ends.push(out.inspectors.len() as u32);
        }
        out
    }

    /// Sets the entity of visit `i` (the loader finds them all at once).
    pub(crate) fn set_entity(&mut self, i: usize, entity: usize) -> Option<()> {
        self.entities[i] = u32::try_from(entity).ok()?;
        Some(())
    }
}

impl<'a> PastVisit<'a> {
    /// The entity's position in the [`Population`](crate::inputs::Population)
    /// (its id is [`Population::id`](crate::inputs::Population::id)).
    pub fn entity(&self) -> usize {
        self.history.entities[self.index] as usize
    }

    /// The department that visited.
    pub fn department(&self) -> &'a str {
        &self.history.department_names[usize::from(self.history.departments[self.index])]
    }

    /// The visit date.
    pub fn date(&self) -> NaiveDate {
        self.history.dates[self.index]
    }

    /// Random or directed.
    pub fn kind(&self) -> VisitKind {
        self.history.kinds[self.index]
    }

    /// The inspectors who went.
    pub fn inspectors(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let h = self.history;
        let start = if self.index == 0 {
            0
        } else {
            h.inspector_ends[self.index - 1] as usize
        };
        h.inspectors[start..h.inspector_ends[self.index] as usize]
            .split(';')
            .filter(|s| !s.is_empty())
    }

    /// The 1-based line of the input.
    pub fn line(&self) -> u64 {
        self.history.lines[self.index]
    }
}

/// Why a directed check is made (定向检查).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DirectedReason {
    /// A complaint or report (投诉举报).
    Complaint,
    /// A big-data alert (大数据监测).
    BigData,
    /// A referred or assigned case lead (转办交办).
    Referral,
    /// A legal requirement.
    Legal,
    /// A follow-up of a written commitment (告知承诺).
    Commitment,
}

impl DirectedReason {
    /// The name used in input files.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectedReason::Complaint => "complaint",
            DirectedReason::BigData => "big_data",
            DirectedReason::Referral => "referral",
            DirectedReason::Legal => "legal",
            DirectedReason::Commitment => "commitment",
        }
    }

    /// Parses a reason name.
    pub fn parse(text: &str) -> Option<DirectedReason> {
        match text {
            "complaint" => Some(DirectedReason::Complaint),
            "big_data" => Some(DirectedReason::BigData),
            "referral" => Some(DirectedReason::Referral),
            "legal" => Some(DirectedReason::Legal),
            "commitment" => Some(DirectedReason::Commitment),
            _ => None,
        }
    }
}

/// A directed check: an entity a department must visit regardless of the draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectedCheck {
    /// The entity.
    pub entity_id: String,
    /// The department.
    pub department: String,
    /// Why.
    pub reason: DirectedReason,
    /// The items to check.
    pub item_ids: Vec<String>,
    /// The 1-based line of the input.
    pub line: u64,
}
