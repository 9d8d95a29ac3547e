//! Values files of an assessment cycle (考核数据): `person_id`, an optional `unit_id`,
//! optional names (not read), then one column per indicator, named by its id or by its name
//! in the cycle's framework. The same file format as `kaohe assess` reads, with any subset of
//! the indicators; CSV (UTF-8 or GB18030) or XLSX.

use crate::{ImportError, read_wide};
use kaohe_domain::cycles::ValueTable;
use std::collections::HashMap;
use std::path::Path;

const PERSON: [&str; 3] = ["person_id", "人员编号", "干部编号"];
const UNIT: [&str; 2] = ["unit_id", "单位编码"];
const NAMES: [&str; 4] = ["name", "姓名", "unit_name", "单位名称"];

fn is(aliases: &[&str], header: &str) -> bool {
    aliases.iter().any(|a| a.eq_ignore_ascii_case(header))
}

/// Reads a values file; `column` maps a header to the column id it names (`None`: not a
/// column of the cycle). Every problem is listed at once: unknown or repeated headers, then
/// each bad cell by row and column. `file` names the file in messages (an upload's own name).
pub fn read_value_table(
    path: &Path,
    file: &str,
    column: impl Fn(&str) -> Option<String>,
) -> Result<ValueTable, ImportError> {
    let table = read_wide(path)?;
    let named = |e: ImportError| rename(e, path, file);
    let person = table.header.iter().position(|h| is(&PERSON, h));
    let unit = table.header.iter().position(|h| is(&UNIT, h));
    let mut columns: Vec<(usize, String)> = Vec::new();
    let (mut unknown, mut duplicate) = (Vec::new(), Vec::new());
    for (i, h) in table.header.iter().enumerate() {
        if Some(i) == person || Some(i) == unit || h.is_empty() || is(&NAMES, h) {
            continue;
        }
        match column(h) {
            Some(id) if columns.iter().any(|(_, c)| *c == id) => duplicate.push(h.clone()),
            Some(id) => columns.push((i, id)),
            None => unknown.push(h.clone()),
        }
    }
    let Some(person) = person else {
        return Err(named(ImportError::Header {
            file: path.to_owned(),
            row: table.header_row,
            unknown,
            duplicate,
            missing: vec!["人员编号 (person_id)".to_owned()],
        }));
    };
    if !unknown.is_empty() || !duplicate.is_empty() {
        return Err(named(ImportError::Header {
            file: path.to_owned(),
            row: table.header_row,
            unknown,
            duplicate,
            missing: Vec::new(),
        }));
    }
    let mut errors = table.new_errors();
    let mut out = ValueTable {
        file: file.to_owned(),
        columns: columns.iter().map(|(_, c)| c.clone()).collect(),
        ..ValueTable::default()
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for row in &table.rows {
        let pid = row.cells[person].as_str();
        if pid.is_empty() {
            errors.push_at(row.row, &table.header[person], "the person id is empty");
            continue;
        }
        if let Some(prev) = seen.insert(pid, row.row) {
            errors.push_at(
                row.row,
                &table.header[person],
                format!("person id {pid:?} is already given in row {prev}"),
            );
            continue;
        }
        let mut vals = Vec::with_capacity(columns.len());
        for (c, _) in &columns {
            let t = row.cells[*c].as_str();
            if t.is_empty() {
                vals.push(None);
            } else if let Some(x) = t.parse::<f64>().ok().filter(|x| x.is_finite()) {
                vals.push(Some(x));
            } else {
                errors.push_at(row.row, &table.header[*c], format!("{t:?} is not a number"));
                vals.push(None);
            }
        }
        out.people.push(pid.to_owned());
        out.units
            .push(unit.map(|u| row.cells[u].clone()).filter(|u| !u.is_empty()));
        out.rows.push(row.row);
        out.values.push(vals);
    }
    errors.into_result().map_err(named)?;
    if out.people.is_empty() {
        return Err(named(ImportError::Empty {
            file: path.to_owned(),
        }));
    }
    Ok(out)
}

/// The same error naming `file` instead of `path` (an upload stored under a temporary name).
fn rename(e: ImportError, path: &Path, file: &str) -> ImportError {
    if path.as_os_str() == file {
        return e;
    }
    let file = std::path::PathBuf::from(file);
    match e {
        ImportError::Header {
            row,
            unknown,
            duplicate,
            missing,
            ..
        } => ImportError::Header {
            file,
            row,
            unknown,
            duplicate,
            missing,
        },
        ImportError::Empty { .. } => ImportError::Empty { file },
        ImportError::Rows(rows) => ImportError::Rows(rows.in_file(&file)),
        other => other,
    }
}
