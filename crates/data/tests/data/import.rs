//! Import of hand-made and damaged files.

use kaohe_data::{
    Format, GenSpec, HeaderLang, ImportError, generate, read_cadres, read_calendar, read_ratings,
    read_units, write_cadres,
};
use kaohe_domain::{CadreStatus, DayKind, Gender, RankLevel, UnitKind};
use rust_xlsxwriter::{ExcelDateTime, Workbook};
use std::path::Path;
use time::macros::date;

fn rows_err<T: std::fmt::Debug>(r: Result<T, ImportError>) -> kaohe_data::RowErrors {
    match r {
        Err(ImportError::Rows(e)) => e,
        other => panic!("expected row errors, got {other:?}"),
    }
}

#[test]
fn one_bad_row_among_thousands_fails_the_whole_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cadres.csv");
    let data = generate(&GenSpec {
        seed: 7,
        cadres: 3_000,
        year: 2025,
        cases: None,
    });
    write_cadres(&path, &data.cadres, HeaderLang::Zh).expect("export");
    assert_eq!(read_cadres(&path).expect("valid file").len(), 3_000);

    // Break the birth date on line 1734 (line 1 is the header).
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fields: Vec<&str> = lines[1733].split(',').collect();
    fields[4] = "1980-02-30";
    lines[1733] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");

    let errors = rows_err(read_cadres(&path));
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    assert_eq!((e.row, e.column.as_str()), (1734, "出生日期"));
    let text = errors.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:1734:出生日期: invalid date \"1980-02-30\"",
            path.display()
        )),
        "{text}"
    );
}

#[test]
fn text_no_field_may_hold_is_refused_with_file_row_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("units.csv");
    std::fs::write(
        &path,
        "单位编码,单位名称,单位类型,上级单位编码\n\
340000,安徽省,省,\n\
340100,合肥\u{202E}市,市,340000\n\
340102,瑶海区\u{200B},县,340100\n\
340103,庐阳区,县\u{0},340100\n",
    )
    .expect("write");
    let errors = rows_err(read_units(&path));
    let found: Vec<(usize, &str)> = errors
        .errors()
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![(3, "单位名称"), (4, "单位名称"), (5, "单位类型")],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(
        text.contains(&format!(
            "{}:3:单位名称: the bidirectional formatting character U+202E at character 3 is not allowed",
            path.display()
        )),
        "{text}"
    );
    assert!(text.contains("U+200B") && text.contains("U+0000"), "{text}");
}

#[test]
fn all_bad_rows_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cadres.csv");
    std::fs::write(
        &path,
        "干部编号,姓名,性别,民族,出生日期,单位编码,职务,职务职级,是否班子成员,状态\n\
         G1,张三,男,汉族,1980-01-01,340102,局长,乡科级正职,是,在职\n\
         G2,,未知,汉族,1980-13-01,340102,科员,二级科员,也许,在职\n\
         G1,李四,女,汉族,1980-01-01,340102,科员,科员,否,在职\n",
    )
    .expect("write");
    let errors = rows_err(read_cadres(&path));
    let found: Vec<(usize, &str)> = errors
        .errors()
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (3, "姓名"),
            (3, "性别"),
            (3, "出生日期"),
            (3, "是否班子成员"),
            (4, "职务职级"),
            (4, "干部编号"),
        ],
        "{errors}"
    );
    assert!(
        errors
            .to_string()
            .contains(":4:干部编号: duplicate cadre id G1; first on row 2")
    );
}

#[test]
fn gb18030_with_chinese_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cadres.csv");
    // 䶮 (U+4DAE) is outside GBK: GB18030 encodes it in four bytes.
    let text = "干部编号,姓名,性别,民族,出生日期,单位编码,职务,职务职级,是否班子成员,状态\r\n\
                G0001,欧阳娜,女,土家族,1985年7月1日,340102-005,副局长,乡科级副职,是,在职\r\n\
                G0002,王䶮,男,汉族,1990/3/9,340102-005,一级科员,一级科员,否,调出\r\n";
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    std::fs::write(&path, &bytes).expect("write");
    let parsed = read_cadres(&path).expect("GB18030 file");
    assert_eq!(parsed.len(), 2);
    let a = &parsed.rows[0].value;
    assert_eq!(a.name, "欧阳娜");
    assert_eq!(a.ethnicity, "土家族");
    assert_eq!(a.gender, Gender::Female);
    assert_eq!(a.birth_date, date!(1985 - 07 - 01));
    assert_eq!(a.post, "副局长");
    assert_eq!(a.rank, RankLevel::SectionDeputy);
    assert!(a.is_leader);
    let b = &parsed.rows[1].value;
    assert_eq!(b.name, "王䶮");
    assert_eq!(b.status, CadreStatus::TransferredOut);
    assert_eq!(parsed.rows[1].row, 3);
}

#[test]
fn utf8_bom_and_english_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("units.CSV");
    std::fs::write(
        &path,
        "\u{feff} Parent ,CODE,Name,kind\n,34,安徽省,province\n34,3401,合肥市,City\n3401,340102,瑶海区,县\n",
    )
    .expect("write");
    let parsed = read_units(&path).expect("valid");
    assert_eq!(parsed.header, vec!["Parent", "CODE", "Name", "kind"]);
    let units = parsed.into_values();
    assert_eq!(units.len(), 3);
    assert_eq!(units[0].code.as_str(), "34");
    assert_eq!(units[0].parent, None);
    assert_eq!(units[2].kind, UnitKind::County);
    assert_eq!(units[2].parent.as_ref().map(|c| c.as_str()), Some("3401"));

    let path = dir.path().join("calendar.csv");
    std::fs::write(
        &path,
        "\u{feff}date,kind,name\n2025-10-01,holiday,国庆节\n20250928,WORKDAY,调休\n2025.10.11,班,调休\n",
    )
    .expect("write");
    let cal = read_calendar(&path).expect("valid").into_values();
    assert_eq!(cal[1].date, date!(2025 - 09 - 28));
    assert_eq!(cal[1].kind, DayKind::Workday);
    assert_eq!(cal[2].kind, DayKind::Workday);
}

#[test]
fn neither_utf8_nor_gb18030_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("units.csv");
    std::fs::write(&path, b"code,name,kind\n1,\xFF\xFE\xFD,county\n").expect("write");
    let e = read_units(&path).expect_err("binary");
    assert!(matches!(e, ImportError::Encoding { .. }), "{e:?}");
    assert!(e.to_string().contains("neither UTF-8 nor GB18030"), "{e}");
}

/// A roster of three cadres with its header on `header_row` (0-based); with `title`, a title
/// merged across the columns and a line of notes in two cells stand above it, as offices
/// make their files.
fn cadre_sheet(path: &Path, header_row: u32, bad_date_row: Option<u32>, title: bool) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    if title {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        sheet
            .merge_range(0, 0, 0, 9, "2026年度科级干部名册", &bold)
            .expect("title");
        sheet
            .write_string(1, 0, "填报单位：清河县委组织部")
            .expect("note");
        sheet
            .write_string(1, 6, "填报日期：2026年1月5日")
            .expect("note");
    }
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    let headers = [
        "干部编号",
        "姓名",
        "性别",
        "民族",
        "出生日期",
        "单位编码",
        "职务",
        "职务职级",
        "是否班子成员",
        "状态",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet
            .write_string(header_row, c as u16, *h)
            .expect("header");
    }
    for i in 0..3u32 {
        let r = header_row + 1 + i;
        sheet.write_string(r, 0, format!("G{i}")).expect("cell");
        sheet.write_string(r, 1, "李明").expect("cell");
        sheet.write_string(r, 2, "男").expect("cell");
        sheet.write_string(r, 3, "汉族").expect("cell");
        if Some(r) == bad_date_row {
            sheet.write_string(r, 4, "1980-00-01").expect("cell");
        } else if i == 2 {
            // A date typed as text.
            sheet.write_string(r, 4, "1981/2/3").expect("cell");
        } else {
            let d = ExcelDateTime::from_ymd(1980, 2, 29).expect("date");
            sheet
                .write_datetime_with_format(r, 4, d, &date_format)
                .expect("cell");
        }
        // A unit code typed as a number.
        sheet.write_number(r, 5, 340102.0).expect("cell");
        sheet.write_string(r, 6, "科员").expect("cell");
        sheet.write_string(r, 7, "一级科员").expect("cell");
        sheet.write_boolean(r, 8, i == 0).expect("cell");
        sheet.write_string(r, 9, "在职").expect("cell");
    }
    book.save(path).expect("save");
}

#[test]
fn xlsx_with_date_cells_numbers_and_booleans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cadres.xlsx");
    // Two empty rows above the header: row numbers stay those Excel shows.
    cadre_sheet(&path, 2, None, false);
    let parsed = read_cadres(&path).expect("valid workbook");
    assert_eq!(
        parsed.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    let c = &parsed.rows[0].value;
    assert_eq!(c.birth_date, date!(1980 - 02 - 29));
    assert_eq!(c.unit.as_str(), "340102");
    assert!(c.is_leader);
    assert!(!parsed.rows[1].value.is_leader);
    assert_eq!(parsed.rows[2].value.birth_date, date!(1981 - 02 - 03));

    let bad = dir.path().join("bad.xlsx");
    cadre_sheet(&bad, 0, Some(2), false);
    let errors = rows_err(read_cadres(&bad));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors.errors()[0].row, errors.errors()[0].column.as_str()),
        (3, "出生日期")
    );
}

#[test]
fn a_title_and_notes_above_the_header_are_skipped_and_rows_keep_their_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    // XLSX: title (merged) on row 1, notes on row 2, header on row 3, a bad date on row 5.
    let path = dir.path().join("名册.xlsx");
    cadre_sheet(&path, 2, None, true);
    let parsed = read_cadres(&path).expect("a roster with a title");
    assert_eq!(
        parsed.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    assert_eq!(parsed.rows[0].value.name, "李明");
    let bad = dir.path().join("bad.xlsx");
    cadre_sheet(&bad, 2, Some(4), true);
    let errors = rows_err(read_cadres(&bad));
    assert_eq!(
        (errors.errors()[0].row, errors.errors()[0].column.as_str()),
        (5, "出生日期")
    );

    // CSV: a title line and a blank line above the header; a bad date on line 5.
    let csv = dir.path().join("cadres.csv");
    let header = "干部编号,姓名,性别,民族,出生日期,单位编码,职务,职务职级,是否班子成员,状态";
    std::fs::write(
        &csv,
        format!(
            "2026年度科级干部名册,,,,,,,,,\n\n{header}\n             G0001,欧阳娜,女,土家族,1985-07-01,340102,副局长,乡科级副职,是,在职\n             G0002,王五,男,汉族,1990-13-09,340102,科员,一级科员,否,在职\n"
        ),
    )
    .expect("write");
    let errors = rows_err(read_cadres(&csv));
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(
        (errors.errors()[0].row, errors.errors()[0].column.as_str()),
        (5, "出生日期")
    );

    // A header with a wrong column below a title: the header's own row is named, not the title.
    std::fs::write(
        &csv,
        format!("2026年度科级干部名册\n{}\n", header.replace("民族", "族别")),
    )
    .expect("write");
    let e = read_cadres(&csv).expect_err("unknown column");
    let text = e.to_string();
    assert!(
        text.contains("cadres.csv:2: unknown column(s) \"族别\"") && !text.contains("名册"),
        "{text}"
    );
}

#[test]
fn values_files_with_a_title_are_read_below_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("values.csv");
    std::fs::write(
        &path,
        "2026年度考核数据（单位：分）\n\
         person_id,姓名,a,b\n\
         G1,李明,90,80\n\
         G2,王五,x,70\n",
    )
    .expect("write");
    let e = kaohe_data::read_value_table(&path, "values.csv", |h| {
        ["a", "b"].contains(&h).then(|| h.to_owned())
    })
    .expect_err("a bad cell");
    let text = e.to_string();
    assert!(
        text.contains("values.csv:4") && text.contains("\"x\""),
        "{text}"
    );
    let columns = kaohe_data::read_wide_columns(&path, |header| {
        assert_eq!(header, ["person_id", "姓名", "a", "b"]);
        Ok((vec![0], vec![2, 3]))
    })
    .expect("assess reads below the title");
    assert_eq!(columns.rows, vec![3, 4]);
    assert_eq!(columns.text[0], ["G1", "G2"]);
    assert_eq!(columns.numbers[0], 90.0);
    assert_eq!(columns.errors.len(), 1);
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "标题\nperson_id,c\nG1,1\n").expect("write");
    let e = kaohe_data::read_value_table(&unknown, "unknown.csv", |_| None)
        .expect_err("unknown column");
    assert!(
        e.to_string()
            .starts_with("unknown.csv:2: unknown column(s) \"c\""),
        "{e}"
    );
}

#[test]
fn xlsx_date_time_cells_are_local_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ratings.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in ["办件编号", "评价等级", "评价渠道", "是否实名", "评价时间"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    sheet.write_string(1, 0, "BJ-1").expect("cell");
    sheet.write_number(1, 1, 4.0).expect("cell");
    sheet.write_string(1, 2, "二维码").expect("cell");
    sheet.write_boolean(1, 3, true).expect("cell");
    let at = ExcelDateTime::from_ymd(2025, 3, 4)
        .and_then(|d| d.and_hms(15, 30, 0))
        .expect("date time");
    sheet
        .write_datetime_with_format(1, 4, &at, &format)
        .expect("cell");
    book.save(&path).expect("save");
    let parsed = read_ratings(&path, time::macros::offset!(+8)).expect("valid workbook");
    let r = &parsed.rows[0].value;
    assert_eq!(r.rated_at, time::macros::datetime!(2025-03-04 07:30 UTC));
    assert_eq!(
        r.rating.level,
        kaohe_domain::ratings::RatingLevel::Satisfied
    );
    assert!(r.rating.real_name);
}

#[test]
fn unsupported_extension() {
    let e = read_units("units.xls").expect_err("xls");
    assert!(matches!(e, ImportError::UnsupportedFormat { .. }));
    assert_eq!(Format::from_path(Path::new("units.xls")), None);
}
