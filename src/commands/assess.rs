//! `kaohe framework …` and `kaohe assess`: framework files, and an assessment from files of
//! indicator values to a result file. No database is involved.

use super::print;
use crate::cli::{AssessArgs, FrameworkAction, ScaleArg};
use anyhow::Context;
use kaohe_data::{ImportError, WideCell};
use kaohe_engine::{
    Assessment, Framework, GradeScale, Input, Matrix, Person, RankUncertainty, Settings,
    WeightNoise, presets,
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
pub(crate) fn load_framework(spec: &str) -> anyhow::Result<Framework> {
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

fn resolve(header: &[String], cols: &[Col]) -> Header {
    let mut h = Header {
        fixed: vec![None; cols.len()],
        rest: Vec::new(),
        duplicate: Vec::new(),
        missing: Vec::new(),
    };
    for (i, name) in header.iter().enumerate() {
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

fn header_error(file: &Path, unknown: Vec<String>, h: Header) -> Result<(), ImportError> {
    if unknown.is_empty() && h.duplicate.is_empty() && h.missing.is_empty() {
        return Ok(());
    }
    Err(ImportError::Header {
        file: file.to_owned(),
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
    let indicators = fw.indicator_ids();
    let aux: Vec<&str> = fw
        .indicators()
        .iter()
        .filter_map(|i| i.shrink.as_ref().map(|s| s.count.as_str()))
        .collect();
    let table = kaohe_data::read_wide_columns(path, |header| {
        let mut h = resolve(header, &[PERSON_ID, UNIT_ID]);
        let mut unknown = Vec::new();
        let mut value_cols: Vec<usize> = Vec::new();
        for &i in &h.rest {
            let name = &header[i];
            if !indicators.contains(&name.as_str()) && !aux.contains(&name.as_str()) {
                unknown.push(name.clone());
            } else if value_cols.iter().any(|&c| header[c] == *name) {
                h.duplicate.push(name.clone());
            } else {
                value_cols.push(i);
            }
        }
        for ind in fw.indicators() {
            if !value_cols.iter().any(|&c| header[c] == ind.id) {
                h.missing.push(format!("{} ({})", ind.id, ind.name));
            }
        }
        let text_cols = vec![h.fixed[0].unwrap_or(0), h.fixed[1].unwrap_or(0)];
        header_error(path, unknown, h)?;
        Ok((text_cols, value_cols))
    })?;
    anyhow::ensure!(
        !table.rows.is_empty(),
        "{}: no people below the header",
        path.display()
    );
    let id_col = table
        .header
        .iter()
        .position(|h| PERSON_ID.aliases.iter().any(|a| a.eq_ignore_ascii_case(h)))
        .unwrap_or(0);
    let unit_col = table
        .header
        .iter()
        .position(|h| UNIT_ID.aliases.iter().any(|a| a.eq_ignore_ascii_case(h)))
        .unwrap_or(0);
    let mut errors = table.errors;
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(table.rows.len());
    let mut people = Vec::with_capacity(table.rows.len());
    for (r, &row) in table.rows.iter().enumerate() {
        let id = table.text[0][r].as_str();
        let unit = table.text[1][r].as_str();
        if id.is_empty() {
            errors.push_at(row, &table.header[id_col], "the person id is empty");
        } else if let Some(prev) = seen.insert(id, row) {
            errors.push_at(
                row,
                &table.header[id_col],
                format!("person id {id:?} is already given in row {prev}"),
            );
        }
        if unit.is_empty() {
            errors.push_at(row, &table.header[unit_col], "the unit id is empty");
        }
        people.push(Person::new(id, unit));
    }
    errors.into_result()?;
    drop(seen);
    let columns: Vec<String> = {
        // The chosen value columns, in file order (as `choose` returned them).
        let mut cols = Vec::new();
        for name in &table.header {
            if (indicators.contains(&name.as_str()) || aux.contains(&name.as_str()))
                && !cols.contains(name)
            {
                cols.push(name.clone());
            }
        }
        cols
    };
    let rows = table.rows.len();
    let matrix = Matrix::from_col_major(rows, columns.len(), table.numbers)?;
    Ok(Values {
        people,
        columns,
        matrix,
    })
}

/// Sets the facts of `people` from a PEOPLE file.
fn apply_people(path: &Path, people: &mut [Person]) -> anyhow::Result<()> {
    let table = kaohe_data::read_wide(path)?;
    let h = resolve(&table.header, &PEOPLE_COLUMNS);
    let unknown = h.rest.iter().map(|&i| table.header[i].clone()).collect();
    let fixed = h.fixed.clone();
    header_error(&table.file, unknown, h)?;
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
    let settings = settings(args, kind)?;
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

/// Engine settings from the flags.
fn settings(args: &AssessArgs, kind: OutKind) -> anyhow::Result<Settings> {
    let mut settings = Settings {
        // Only the JSON result lists each person's contributions.
        keep_contributions: kind == OutKind::Json,
        ..Settings::default()
    };
    if let Some(share) = args.quota_share {
        settings.quota_share = share;
    }
    settings.scale = args.scale.map(|s| match s {
        ScaleArg::Annual => GradeScale::Annual,
        ScaleArg::Routine => GradeScale::Routine,
        ScaleArg::Team => GradeScale::Team,
    });
    if let Some(noise) = &args.noise {
        let (kind, value) = noise.split_once(':').unwrap_or((noise.as_str(), ""));
        let number = |default: Option<f64>| -> anyhow::Result<f64> {
            match (value, default) {
                ("", Some(d)) => Ok(d),
                (v, _) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| {
                        anyhow::anyhow!("--noise {noise}: {v:?} is not a positive number")
                    }),
            }
        };
        settings.monte_carlo.noise = match kind {
            "none" => WeightNoise::None,
            "uniform" => WeightNoise::Uniform {
                fraction: number(Some(0.2))?,
            },
            "dirichlet" => WeightNoise::Dirichlet {
                concentration: number(None)?,
            },
            _ => anyhow::bail!("--noise {noise}: expected none, uniform:F or dirichlet:C"),
        };
    }
    settings
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
    Ok(settings)
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
    let cells = |i: usize, row: &mut Vec<WideCell>| {
        let p = &input.people[i];
        row.extend([
            WideCell::Text(p.person_id.clone()),
            WideCell::Text(p.unit_id.clone()),
            WideCell::Number(result.scores[i]),
            WideCell::Number(f64::from(result.ranks[i])),
            WideCell::Number(f64::from(result.unit_ranks[i])),
            WideCell::Text(grade_cell(result, i)),
            WideCell::Text(result.rules[i].code().into_owned()),
            WideCell::Text(result.flags[i].join(";")),
        ]);
        if let Some(r) = ranks.and_then(|r| r.get(i)) {
            row.extend([
                WideCell::Number(f64::from(r.median_rank)),
                WideCell::Number(f64::from(r.p05)),
                WideCell::Number(f64::from(r.p95)),
                WideCell::Number(r.p_top_grade),
            ]);
        }
    };
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        // Streamed: no table of all result cells in memory.
        kaohe_data::write_wide_csv_rows(path, &header, result.len(), cells)?;
        return Ok(());
    }
    let rows: Vec<Vec<WideCell>> = (0..result.len())
        .map(|i| {
            let mut row = Vec::new();
            cells(i, &mut row);
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
