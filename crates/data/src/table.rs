//! The tables kaohe exchanges as files, their columns, header languages and file formats.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A table kaohe imports and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Units (单位): `units`.
    Units,
    /// Cadres (干部): `cadres`.
    Cadres,
    /// Appointment history (任职经历): `appointments`.
    Appointments,
    /// Disciplinary sanctions (处分): `sanctions`.
    Sanctions,
    /// Holiday and make-up working-day overrides (节假日安排): `calendar`.
    Calendar,
    /// Service cases (办件) of public ratings: `service_cases`.
    ServiceCases,
    /// Public ratings of service cases (好差评): `ratings`.
    Ratings,
}

impl Table {
    /// Every table, in the order they are imported (referenced tables first).
    pub const ALL: [Table; 7] = [
        Table::Units,
        Table::Cadres,
        Table::Appointments,
        Table::Sanctions,
        Table::Calendar,
        Table::ServiceCases,
        Table::Ratings,
    ];

    /// File name without extension, also the name on the command line: `units`, `cadres`, …
    pub fn file_stem(self) -> &'static str {
        match self {
            Table::Units => "units",
            Table::Cadres => "cadres",
            Table::Appointments => "appointments",
            Table::Sanctions => "sanctions",
            Table::Calendar => "calendar",
            Table::ServiceCases => "service_cases",
            Table::Ratings => "ratings",
        }
    }

    /// The columns of the table, in export order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Units => UNIT_COLUMNS,
            Table::Cadres => CADRE_COLUMNS,
            Table::Appointments => APPOINTMENT_COLUMNS,
            Table::Sanctions => SANCTION_COLUMNS,
            Table::Calendar => CALENDAR_COLUMNS,
            Table::ServiceCases => CASE_COLUMNS,
            Table::Ratings => RATING_COLUMNS,
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_stem())
    }
}

/// A text that names no [`Table`], [`HeaderLang`] or [`Format`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}; expected one of: {expected}")]
pub struct ParseNameError {
    /// What was being parsed.
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The accepted values.
    pub expected: &'static str,
}

impl FromStr for Table {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Table::ALL
            .into_iter()
            .find(|table| table.file_stem().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseNameError {
                what: "table",
                value: t.to_owned(),
                expected: "units, cadres, appointments, sanctions, calendar, service_cases, ratings",
            })
    }
}

/// Language of the header row, and of enumeration and boolean cells, in exported files.
///
/// Imports accept both languages, even mixed in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeaderLang {
    /// Chinese headers (单位编码 …); enumerations as Chinese labels, booleans as 是/否.
    #[default]
    Zh,
    /// English headers (`code` …); enumerations as their codes, booleans as true/false.
    En,
}

impl FromStr for HeaderLang {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "cn" | "zh-cn" | "chinese" | "中文" => Ok(HeaderLang::Zh),
            "en" | "english" | "英文" => Ok(HeaderLang::En),
            _ => Err(ParseNameError {
                what: "header language",
                value: s.trim().to_owned(),
                expected: "zh, en",
            }),
        }
    }
}

/// File format, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Comma-separated values: read as UTF-8 (with or without BOM) or GB18030/GBK, written as
    /// UTF-8 with BOM so that Excel opens it correctly.
    #[default]
    Csv,
    /// Excel workbook (Office Open XML): the first worksheet.
    Xlsx,
}

impl Format {
    /// The format of a path, from its extension (case-insensitive); `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(Format::Csv)
        } else if ext.eq_ignore_ascii_case("xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

impl FromStr for Format {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('.');
        if t.eq_ignore_ascii_case("csv") {
            Ok(Format::Csv)
        } else if t.eq_ignore_ascii_case("xlsx") {
            Ok(Format::Xlsx)
        } else {
            Err(ParseNameError {
                what: "file format",
                value: t.to_owned(),
                expected: "csv, xlsx",
            })
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// English header and field name, e.g. `birth_date`.
    pub key: &'static str,
    /// Chinese header, e.g. 出生日期: the default in exports.
    pub zh: &'static str,
    /// Further accepted headers on import.
    pub aliases: &'static [&'static str],
    /// Whether the column must be present in an imported file. Cells of a required column
    /// must not be empty; an optional column may be absent or hold empty cells.
    pub required: bool,
}

impl Column {
    /// The header in a language.
    pub fn header(&self, lang: HeaderLang) -> &'static str {
        match lang {
            HeaderLang::Zh => self.zh,
            HeaderLang::En => self.key,
        }
    }

    /// Whether a header cell names this column: the Chinese header or an alias exactly, the
    /// English key case-insensitively with spaces and hyphens read as underscores.
    pub fn matches(&self, header: &str) -> bool {
        let h = header.trim();
        if h == self.zh || self.aliases.contains(&h) {
            return true;
        }
        let normalized_eq = |name: &str| {
            name.len() == h.len()
                && name.bytes().zip(h.bytes()).all(|(a, b)| {
                    let b = match b {
                        b' ' | b'-' => b'_',
                        b => b.to_ascii_lowercase(),
                    };
                    a.to_ascii_lowercase() == b
                })
        };
        normalized_eq(self.key) || self.aliases.iter().any(|a| normalized_eq(a))
    }
}

const fn req(key: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        key,
        zh,
        aliases,
        required: true,
    }
}

const fn opt(key: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        key,
        zh,
        aliases,
        required: false,
    }
}

/// Columns of `units`.
pub const UNIT_COLUMNS: &[Column] = &[
    req("code", "单位编码", &["单位代码", "编码", "unit_code"]),
    req("name", "单位名称", &["名称", "unit_name"]),
    req("kind", "单位类型", &["类型", "单位级别", "unit_kind"]),
    opt(
        "parent",
        "上级单位编码",
        &["上级单位代码", "上级编码", "parent_code"],
    ),
];

/// Columns of `cadres`.
pub const CADRE_COLUMNS: &[Column] = &[
    req("id", "干部编号", &["编号", "cadre_id"]),
    req("name", "姓名", &[]),
    req("gender", "性别", &["sex"]),
    req("ethnicity", "民族", &["nation"]),
    req(
        "birth_date",
        "出生日期",
        &["出生年月日", "birthday", "date_of_birth"],
    ),
    req("unit", "单位编码", &["单位代码", "unit_code"]),
    req("post", "职务", &["现任职务", "title"]),
    req("rank", "职务职级", &["职级", "rank_level"]),
    req(
        "is_leader",
        "是否班子成员",
        &["班子成员", "是否领导班子成员", "leader"],
    ),
    req("status", "状态", &["在职状态"]),
];

/// Columns of `appointments`.
pub const APPOINTMENT_COLUMNS: &[Column] = &[
    req("cadre", "干部编号", &["编号", "cadre_id"]),
    req("unit", "单位编码", &["单位代码", "unit_code"]),
    req("post", "职务", &["title"]),
    req("rank", "职务职级", &["职级", "rank_level"]),
    req(
        "start_date",
        "任职开始日期",
        &["任职日期", "开始日期", "start"],
    ),
    opt("end_date", "任职结束日期", &["免职日期", "结束日期", "end"]),
];

/// Columns of `sanctions`.
pub const SANCTION_COLUMNS: &[Column] = &[
    req("id", "处分编号", &["编号", "sanction_id"]),
    req("cadre", "干部编号", &["cadre_id"]),
    req("kind", "处分种类", &["处分类型", "种类"]),
    req("start_date", "开始日期", &["处分日期", "生效日期", "start"]),
    opt("end_date", "结束日期", &["解除日期", "end"]),
    req("reason", "处分原因", &["原因"]),
];

/// Columns of `calendar`.
pub const CALENDAR_COLUMNS: &[Column] = &[
    req("date", "日期", &[]),
    req("kind", "类型", &["休/班", "day_kind"]),
    req("name", "名称", &["节日", "节日名称", "holiday"]),
];

/// Columns of `service_cases`.
pub const CASE_COLUMNS: &[Column] = &[
    req("id", "办件编号", &["办件号", "办件流水号", "case_id"]),
    req("item", "事项名称", &["服务事项", "事项", "service_item"]),
    req("unit", "单位编码", &["单位代码", "unit_code"]),
    opt("window", "窗口", &["窗口编号", "window_code"]),
    opt(
        "officials",
        "经办人",
        &["经办人员", "经办人编号", "handled_by"],
    ),
    req("channel", "渠道", &["办理渠道", "申办渠道"]),
    req("accepted_at", "受理时间", &["受理日期", "accepted"]),
    req("closed_at", "办结时间", &["办结日期", "closed"]),
    opt("applicant", "申请人", &["申请人姓名"]),
    opt("phone", "联系电话", &["手机号码", "电话", "phone_number"]),
];

/// Columns of `ratings`.
pub const RATING_COLUMNS: &[Column] = &[
    req("case_id", "办件编号", &["办件号", "办件流水号"]),
    req("level", "评价等级", &["评价结果", "满意度", "rating"]),
    opt("tags", "评价原因", &["原因", "评价标签", "reasons"]),
    opt("comment", "评价内容", &["意见建议", "留言"]),
    req("channel", "评价渠道", &["渠道"]),
    req("real_name", "是否实名", &["实名评价", "实名"]),
    opt("contact", "联系电话", &["回访电话", "联系方式"]),
    req("rated_at", "评价时间", &["评价日期", "rated"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!("Cadres".parse(), Ok(Table::Cadres));
        assert!("people".parse::<Table>().is_err());
        for t in Table::ALL {
            assert_eq!(t.file_stem().parse(), Ok(t));
        }
        assert_eq!("EN".parse(), Ok(HeaderLang::En));
        assert_eq!(".xlsx".parse(), Ok(Format::Xlsx));
        assert_eq!(Format::from_path(Path::new("a/b.CSV")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("a/b.xls")), None);
        assert_eq!(Format::from_path(Path::new("csv")), None);
    }

    #[test]
    fn headers_match() {
        let birth = CADRE_COLUMNS[4];
        assert!(birth.matches(" 出生日期 "));
        assert!(birth.matches("Birth_Date"));
        assert!(birth.matches("birth date"));
        assert!(birth.matches("BIRTHDAY"));
        assert!(!birth.matches("birth"));
        assert!(!birth.matches("出生"));
    }

    #[test]
    fn headers_are_unambiguous() {
        for t in Table::ALL {
            let cols = t.columns();
            for (i, a) in cols.iter().enumerate() {
                for b in &cols[i + 1..] {
                    for name in std::iter::once(&a.zh)
                        .chain(std::iter::once(&a.key))
                        .chain(a.aliases)
                    {
                        assert!(!b.matches(name), "{t}: {name} matches {} too", b.key);
                    }
                }
            }
        }
    }
}
