//! `kaohe framework …` and `kaohe assess`: framework files, and an assessment from files of
//! indicator values to a result file. No database is involved.

use super::print;
use crate::cli::{AssessArgs, FrameworkAction};
use anyhow::Context;
use kaohe_data::{ImportError, WideCell, WideTable};
use kaohe_engine::{
    Assessment, Framework, Input, Matrix, Person, RankUncertainty, Settings, presets,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

/// Runs `kaohe framework …`.
pub(crate) fn framework(action: &FrameworkAction) -> anyhow::Result<()> {
    match action {
        FrameworkAction::Presets => print(
            &presets::all()
                .iter()
                .map(|p| format!("{}\t{}\t{}\n", p.name, p.title_zh, p.title_en))
                .collect::<String>(),
        ),
        FrameworkAction::Show { name } => match presets::get(name) {
            Some(p) => print(p.source),
            None => anyhow::bail!("no preset named {name:?}; presets: {}", preset_names()),
        },
        FrameworkAction::Check { framework } => {
            let fw = load_framework(framework)?;
            print(&format!("{framework}: ok\n{}", fw.describe()))
        }
    }
}

fn preset_names() -> String {
    presets::all()
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a framework from a TOML file, or else a preset of that name.
fn load_framework(spec: &str) -> anyhow::Result<Framework> {
    let path = Path::new(spec);
    if path.is_file() {
        let src = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Framework::from_toml_str(&src).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    } else if let Some(p) = presets::get(spec) {
        p.framework()
            .map_err(|e| anyhow::anyhow!("preset {}: {e}", p.name))
    } else {
        anyhow::bail!(
            "{spec}: no such file and no preset of that name (presets: {})",
            preset_names()
        )
    }
}

/// A fixed column of a wide file: key and accepted headers.
struct Col {
    key: &'static str,
    aliases: &'static [&'static str],
    required: bool,
}

const PERSON_ID: Col = Col {
    key: "person_id",
    aliases: &["person_id", "人员编号", "干部编号"],
    required: true,
};
const UNIT_ID: Col = Col {
    key: "unit_id",
    aliases: &["unit_id", "单位编码"],
    required: true,
};
const PEOPLE_COLUMNS: [Col; 4] = [
    PERSON_ID,
    Col {
        key: "warning_in_year",
        aliases: &["warning_in_year", "是否受警告", "受警告"],
        required: false,
    },
    Col {
        key: "sanction_in_effect",
        aliases: &["sanction_in_effect", "处分期内", "是否处分期内"],
        required: false,
    },
    Col {
        key: "routine_poor",
        aliases: &["routine_poor", "平时考核较差次数"],
        required: false,
    },
];

/// Header resolution: the index of each fixed column, and the other named columns.
struct Header {
    fixed: Vec<Option<usize>>,
    rest: Vec<usize>,
    duplicate: Vec<String>,
    missing: Vec<String>,
}

fn resolve(table: &WideTable, cols: &[Col]) -> Header {
    let mut h = Header {
        fixed: vec![None; cols.len()],
        rest: Vec::new(),
        duplicate: Vec::new(),
        missing: Vec::new(),
    };
    for (i, name) in table.header.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        match cols
            .iter()
            .position(|c| c.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
        {
            Some(c) if h.fixed[c].is_some() => h.duplicate.push(name.clone()),
            Some(c) => h.fixed[c] = Some(i),
            None => h.rest.push(i),
        }
    }
    for (c, f) in cols.iter().zip(&h.fixed) {
        if c.required && f.is_none() {
            h.missing.push(format!("{} ({})", c.aliases[1], c.key));
        }
    }
    h
}

fn header_error(table: &WideTable, unknown: Vec<String>, h: Header) -> Result<(), ImportError> {
    if unknown.is_empty() && h.duplicate.is_empty() && h.missing.is_empty() {
        return Ok(());
    }
    Err(ImportError::Header {
        file: table.file.clone(),
        unknown,
        duplicate: h.duplicate,
        missing: h.missing,
    })
}

/// The people and values of a VALUES file.
struct Values {
    people: Vec<Person>,
    columns: Vec<String>,
    matrix: Matrix,
}

fn read_values(path: &Path, fw: &Framework) -> anyhow::Result<Values> {
    let table = kaohe_data::read_wide(path)?;
    let indicators = fw.indicator_ids();
    let aux: Vec<&str> = fw
        .indicators()
        .iter()
        .filter_map(|i| i.shrink.as_ref().map(|s| s.count.as_str()))
        .collect();
    let mut h = resolve(&table, &[PERSON_ID, UNIT_ID]);
    let mut unknown = Vec::new();
    let mut value_cols: Vec<usize> = Vec::new();
    for &i in &h.rest {
        let name = &table.header[i];
        if !indicators.contains(&name.as_str()) && !aux.contains(&name.as_str()) {
            unknown.push(name.clone());
        } else if value_cols.iter().any(|&c| table.header[c] == *name) {
            h.duplicate.push(name.clone());
        } else {
            value_cols.push(i);
        }
    }
    for ind in fw.indicators() {
        if !value_cols.iter().any(|&c| table.header[c] == ind.id) {
            h.missing.push(format!("{} ({})", ind.id, ind.name));
        }
    }
    let (id_col, unit_col) = (h.fixed[0].unwrap_or(0), h.fixed[1].unwrap_or(0));
    header_error(&table, unknown, h)?;
    anyhow::ensure!(
        !table.rows.is_empty(),
        "{}: no people below the header",
        path.display()
    );
    let mut errors = table.new_errors();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut people = Vec::with_capacity(table.rows.len());
    let mut matrix = Matrix::missing(table.rows.len(), value_cols.len());
    for (r, row) in table.rows.iter().enumerate() {
        let id = row.cells[id_col].as_str();
        let unit = row.cells[unit_col].as_str();
        if id.is_empty() {
            errors.push_at(row.row, &table.header[id_col], "the person id is empty");
        } else if let Some(prev) = seen.insert(id, row.row) {
            errors.push_at(
                row.row,
                &table.header[id_col],
                format!("person id {id:?} is already given in row {prev}"),
            );
        }
        if unit.is_empty() {
            errors.push_at(row.row, &table.header[unit_col], "the unit id is empty");
        }
        for (c, &col) in value_cols.iter().enumerate() {
            let text = row.cells[col].as_str();
            if text.is_empty() {
                continue;
            }
            match text.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    matrix.set(r, c, Some(x));
                }
                _ => errors.push_at(
                    row.row,
                    &table.header[col],
                    format!("{text:?} is not a number"),
                ),
            }
        }
        people.push(Person::new(id, unit));
    }
    errors.into_result()?;
    Ok(Values {
        people,
        columns: value_cols
            .iter()
            .map(|&c| table.header[c].clone())
            .collect(),
        matrix,
    })
}

/// Sets the facts of `people` from a PEOPLE file.
fn apply_people(path: &Path, people: &mut [Person]) -> anyhow::Result<()> {
    let table = kaohe_data::read_wide(path)?;
    let h = resolve(&table, &PEOPLE_COLUMNS);
    let unknown = h.rest.iter().map(|&i| table.header[i].clone()).collect();
    let fixed = h.fixed.clone();
    header_error(&table, unknown, h)?;
    let index: HashMap<String, usize> = people
        .iter()
        .enumerate()
        .map(|(i, p)| (p.person_id.clone(), i))
        .collect();
    let mut errors = table.new_errors();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let id_col = fixed[0].unwrap_or(0);
    for row in &table.rows {
        let id = row.cells[id_col].as_str();
        let at = |c: usize| table.header[c].clone();
        let Some(&p) = index.get(id) else {
            errors.push_at(
                row.row,
                at(id_col),
                format!("person id {id:?} is not in the values file"),
            );
            continue;
        };
        if let Some(prev) = seen.insert(id, row.row) {
            errors.push_at(
                row.row,
                at(id_col),
                format!("person id {id:?} is already given in row {prev}"),
            );
            continue;
        }
        let mut boolean = |c: Option<usize>| -> bool {
            let Some(c) = c else { return false };
            let t = row.cells[c].as_str();
            if t.is_empty() {
                return false;
            }
            kaohe_data::parse::parse_bool(t).unwrap_or_else(|e| {
                errors.push_at(row.row, at(c), e);
                false
            })
        };
        let warning = boolean(fixed[1]);
        let sanction = boolean(fixed[2]);
        let poor = match fixed[3] {
            Some(c) if !row.cells[c].is_empty() => {
                let t = row.cells[c].as_str();
                t.parse::<u32>().unwrap_or_else(|_| {
                    errors.push_at(row.row, at(c), format!("{t:?} is not a count (0, 1, 2, …)"));
                    0
                })
            }
            _ => 0,
        };
        let facts = &mut people[p].facts;
        facts.blocks.warning_in_year = warning;
        facts.blocks.sanction_in_effect = sanction;
        facts.routine_poor = poor;
    }
    errors.into_result()?;
    Ok(())
}

/// Result file kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OutKind {
    Table,
    Json,
}

fn out_kind(path: &Path) -> anyhow::Result<OutKind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "xlsx" => Ok(OutKind::Table),
        "json" => Ok(OutKind::Json),
        _ => anyhow::bail!(
            "{}: unsupported result file type; expected .csv, .json or .xlsx",
            path.display()
        ),
    }
}

/// Runs `kaohe assess`.
pub(crate) fn assess(args: &AssessArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let kind = out_kind(&args.out)?;
    let fw = load_framework(&args.framework)?;
    let values = read_values(&args.data, &fw)?;
    let mut people = values.people;
    if let Some(path) = &args.people {
        apply_people(path, &mut people)?;
    }
    let input = Input::new(people, values.columns, values.matrix);
    let settings = Settings::default();
    let result = kaohe_engine::assess(&fw, &input, &settings).context("cannot assess")?;
    let ranks = match args.draws {
        Some(draws) => Some(
            kaohe_engine::monte_carlo(&fw, &input, &settings, draws, args.seed)
                .context("cannot run the Monte Carlo draws")?,
        ),
        None => None,
    };
    match kind {
        OutKind::Table => write_table(&args.out, &input, &result, ranks.as_deref())?,
        OutKind::Json => write_json(&args.out, &input, &result, ranks.as_deref())?,
    }
    print(&summary(&args.out, &result, started))
}

fn summary(out: &Path, result: &Assessment, started: Instant) -> String {
    let mut counts: BTreeMap<u8, (&str, usize)> = BTreeMap::new();
    for (i, g) in result.grades.iter().enumerate() {
        let key = g.map_or(u8::MAX, |g| g.level);
        counts
            .entry(key)
            .or_insert((result.grade_label(i, "zh"), 0))
            .1 += 1;
    }
    let grades: Vec<String> = counts
        .values()
        .map(|(label, n)| format!("{label} {n}"))
        .collect();
    let mut s = format!(
        "assessed {} people: {}; {} warnings; wrote {} in {:.2}s\n",
        result.len(),
        grades.join(", "),
        result.warnings.len(),
        out.display(),
        started.elapsed().as_secs_f64()
    );
    for w in &result.warnings {
        s.push_str(&format!(
            "warning {}{}: {}\n",
            w.code.code(),
            w.indicator
                .as_deref()
                .map(|i| format!(" [{i}]"))
                .unwrap_or_default(),
            w.message
        ));
    }
    s
}

fn grade_cell(result: &Assessment, i: usize) -> String {
    result.grades[i]
        .map(|g| g.zh().to_owned())
        .unwrap_or_default()
}

fn write_table(
    path: &Path,
    input: &Input,
    result: &Assessment,
    ranks: Option<&[RankUncertainty]>,
) -> anyhow::Result<()> {
    let mut header: Vec<String> = [
        "person_id",
        "unit_id",
        "score",
        "rank",
        "rank_in_unit",
        "grade",
        "rule",
        "flags",
    ]
    .map(str::to_owned)
    .to_vec();
    if ranks.is_some() {
        header.extend(["median_rank", "p05", "p95", "p_top_grade"].map(str::to_owned));
    }
    let rows: Vec<Vec<WideCell>> = (0..result.len())
        .map(|i| {
            let p = &input.people[i];
            let mut row = vec![
                WideCell::Text(p.person_id.clone()),
                WideCell::Text(p.unit_id.clone()),
                WideCell::Number(result.scores[i]),
                WideCell::Number(f64::from(result.ranks[i])),
                WideCell::Number(f64::from(result.unit_ranks[i])),
                WideCell::Text(grade_cell(result, i)),
                WideCell::Text(result.rules[i].code().into_owned()),
                WideCell::Text(result.flags[i].join(";")),
            ];
            if let Some(r) = ranks.and_then(|r| r.get(i)) {
                row.extend([
                    WideCell::Number(f64::from(r.median_rank)),
                    WideCell::Number(f64::from(r.p05)),
                    WideCell::Number(f64::from(r.p95)),
                    WideCell::Number(r.p_top_grade),
                ]);
            }
            row
        })
        .collect();
    kaohe_data::write_wide(path, &header, &rows)?;
    Ok(())
}

fn write_json(
    path: &Path,
    input: &Input,
    result: &Assessment,
    ranks: Option<&[RankUncertainty]>,
) -> anyhow::Result<()> {
    use serde_json::{Map, Value, json};
    let people: Vec<Value> = (0..result.len())
        .map(|i| {
            let p = &input.people[i];
            let contributions: Map<String, Value> = result
                .contributions_of(i)
                .into_iter()
                .map(|(id, v)| (id.to_owned(), json!(v)))
                .collect();
            let mut v = json!({
                "person_id": p.person_id,
                "unit_id": p.unit_id,
                "score": result.scores[i],
                "rank": result.ranks[i],
                "rank_in_unit": result.unit_ranks[i],
                "grade": grade_cell(result, i),
                "grade_code": result.grades[i].map(|g| g.code()),
                "rule": result.rules[i].code(),
                "flags": result.flags[i],
                "contributions": contributions,
            });
            if let (Some(r), Some(obj)) = (ranks.and_then(|r| r.get(i)), v.as_object_mut()) {
                obj.insert("median_rank".into(), json!(r.median_rank));
                obj.insert("p05".into(), json!(r.p05));
                obj.insert("p95".into(), json!(r.p95));
                obj.insert("p_top_grade".into(), json!(r.p_top_grade));
            }
            v
        })
        .collect();
    let doc = json!({
        "framework_id": result.framework_id,
        "framework_version": result.framework_version,
        "thresholds": result.thresholds,
        "indicators": result.indicator_ids,
        "effective_weights": result.effective_weights,
        "people": people,
        "quota_lines": result.quota_lines,
        "warnings": result.warnings,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).context("cannot encode the result")?;
    bytes.push(b'\n');
    kaohe_data::write_atomic(path, &bytes)?;
    Ok(())
}
