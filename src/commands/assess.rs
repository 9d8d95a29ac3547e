//! `kaohe framework …` and `kaohe assess`: framework files, and an assessment from files of
//! indicator values to a result file. No database is involved.

use super::print;
use crate::cli::{AssessArgs, FrameworkAction, ScaleArg};
use anyhow::Context;
use kaohe_data::{ImportError, WideCell, WideCsvRow};
use kaohe_engine::History;
use kaohe_engine::{
    Assessment, Framework, GradeScale, Input, Matrix, Person, RankUncertainty, Settings,
    WeightNoise, presets,
};
use std::borrow::Cow;
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
        FrameworkAction::Upload { file } => anyhow::bail!(
            "{}: kaohe framework upload stores into the database and runs with it",
            file.display()
        ),
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

fn header_error(
    file: &Path,
    row: usize,
    unknown: Vec<String>,
    h: Header,
) -> Result<(), ImportError> {
    if unknown.is_empty() && h.duplicate.is_empty() && h.missing.is_empty() {
        return Ok(());
    }
    Err(ImportError::Header {
        file: file.to_owned(),
        row,
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
        // Placed on the header's own row by `read_wide_columns`.
        header_error(path, 1, unknown, h)?;
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
    let kaohe_data::WideColumns {
        header,
        rows,
        text,
        numbers,
        mut errors,
        ..
    } = table;
    // The id and unit texts become the people's, without copies.
    let mut text = text.into_iter();
    let (ids, units) = (
        text.next().unwrap_or_default(),
        text.next().unwrap_or_default(),
    );
    let people: Vec<Person> = ids
        .into_iter()
        .zip(units)
        .map(|(id, unit)| Person::new(id, unit))
        .collect();
    let mut seen: FastMap<&str, usize> =
        FastMap::with_capacity_and_hasher(rows.len(), Default::default());
    for (p, &row) in people.iter().zip(&rows) {
        let id = p.person_id.as_str();
        if id.is_empty() {
            errors.push_at(row, &header[id_col], "the person id is empty");
        } else if let Some(prev) = seen.insert(id, row) {
            errors.push_at(
                row,
                &header[id_col],
                format!("person id {id:?} is already given in row {prev}"),
            );
        }
        if p.unit_id.is_empty() {
            errors.push_at(row, &header[unit_col], "the unit id is empty");
        }
    }
    errors.into_result()?;
    drop(seen);
    let columns: Vec<String> = {
        // The chosen value columns, in file order (as `choose` returned them).
        let mut cols = Vec::new();
        for name in &header {
            if (indicators.contains(&name.as_str()) || aux.contains(&name.as_str()))
                && !cols.contains(name)
            {
                cols.push(name.clone());
            }
        }
        cols
    };
    let matrix = Matrix::from_col_major(rows.len(), columns.len(), numbers)?;
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
    header_error(&table.file, table.header_row, unknown, h)?;
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

/// A hash map with a fast hash (ids from local files need no protection against collisions
/// crafted by an attacker).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Row index of each person of the VALUES file, by id.
fn person_index(input: &Input) -> FastMap<&str, usize> {
    input
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (p.person_id.as_str(), i))
        .collect()
}

/// Reads a BASELINE file: `person_id`, then indicator columns (any indicator of the framework;
/// those scored on growth are the ones used). A person of the VALUES file who is not in it has
/// no baseline (growth unavailable for that person).
fn read_baseline(path: &Path, fw: &Framework, input: &Input) -> anyhow::Result<Matrix> {
    let indicators = fw.indicator_ids();
    let table = kaohe_data::read_wide_columns(path, |header| {
        let mut h = resolve(header, &[PERSON_ID]);
        let mut unknown = Vec::new();
        let mut value_cols: Vec<usize> = Vec::new();
        for &i in &h.rest {
            let name = &header[i];
            if !indicators.contains(&name.as_str()) {
                unknown.push(name.clone());
            } else if value_cols.iter().any(|&c| header[c] == *name) {
                h.duplicate.push(name.clone());
            } else {
                value_cols.push(i);
            }
        }
        let text_cols = vec![h.fixed[0].unwrap_or(0)];
        // Placed on the header's own row by `read_wide_columns`.
        header_error(path, 1, unknown, h)?;
        Ok((text_cols, value_cols))
    })?;
    let id_col = table
        .header
        .iter()
        .position(|h| PERSON_ID.aliases.iter().any(|a| a.eq_ignore_ascii_case(h)))
        .unwrap_or(0);
    // The chosen value columns, in file order (as `choose` returned them).
    let mut chosen: Vec<&str> = Vec::new();
    for name in &table.header {
        if indicators.contains(&name.as_str()) && !chosen.contains(&name.as_str()) {
            chosen.push(name);
        }
    }
    let index = person_index(input);
    let rows = table.rows.len();
    let mut matrix = Matrix::missing(input.people.len(), input.columns.len());
    let mut errors = table.errors;
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(rows);
    for (r, &row) in table.rows.iter().enumerate() {
        let id = table.text[0][r].as_str();
        let at = &table.header[id_col];
        let Some(&p) = index.get(id) else {
            let msg = if id.is_empty() {
                "the person id is empty".to_owned()
            } else {
                format!("person id {id:?} is not in the values file")
            };
            errors.push_at(row, at, msg);
            continue;
        };
        if let Some(prev) = seen.insert(id, row) {
            errors.push_at(
                row,
                at,
                format!("person id {id:?} is already given in row {prev}"),
            );
            continue;
        }
        for (j, name) in chosen.iter().enumerate() {
            if let Some(c) = input.column_index(name) {
                let x = table.numbers[j * rows + r];
                matrix.set(p, c, (!x.is_nan()).then_some(x));
            }
        }
    }
    errors.into_result()?;
    Ok(matrix)
}

const HISTORY_COLUMNS: [Col; 4] = [
    PERSON_ID,
    Col {
        key: "indicator",
        aliases: &["indicator", "指标", "指标编号"],
        required: true,
    },
    Col {
        key: "period",
        aliases: &["period", "期间", "年度"],
        required: true,
    },
    Col {
        key: "value",
        aliases: &["value", "数值", "值"],
        required: true,
    },
];

/// Reads a HISTORY file (`person_id, indicator, period, value`, one past value a row) into the
/// engine's year-major [`History`] of each latent indicator. Periods are years before `year`,
/// the assessed one: the year before is `y = 0`, earlier years count back from it. A period
/// not before `year` is an error at its row; periods before an indicator's window are not
/// used, and an indicator with rows but none in its window is an error (a wrong `year` or
/// file). Empty values are missing years.
fn read_history(
    path: &Path,
    fw: &Framework,
    input: &Input,
    year: i64,
) -> anyhow::Result<Vec<History>> {
    let table = kaohe_data::read_wide(path)?;
    let h = resolve(&table.header, &HISTORY_COLUMNS);
    let unknown = h.rest.iter().map(|&i| table.header[i].clone()).collect();
    let fixed = h.fixed.clone();
    header_error(&table.file, table.header_row, unknown, h)?;
    let [id_col, ind_col, period_col, value_col] = [0, 1, 2, 3].map(|k| fixed[k].unwrap_or(0));
    let index = person_index(input);
    // (id, past years in the window) of each latent indicator.
    let latent: Vec<(&str, usize)> = fw
        .indicators()
        .iter()
        .filter_map(|i| i.latent.map(|l| (i.id.as_str(), l.window - 1)))
        .collect();
    let all = fw.indicator_ids();
    let mut errors = table.new_errors();
    // (indicator, person row, period, value)
    let mut entries: Vec<(usize, usize, i64, f64)> = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<(usize, usize, i64), usize> = HashMap::new();
    for row in &table.rows {
        let at = |c: usize| table.header[c].clone();
        let cell = |c: usize| row.cells[c].as_str();
        let id = cell(id_col);
        let person = if id.is_empty() {
            errors.push_at(row.row, at(id_col), "the person id is empty");
            None
        } else {
            let p = index.get(id).copied();
            if p.is_none() {
                errors.push_at(
                    row.row,
                    at(id_col),
                    format!("person id {id:?} is not in the values file"),
                );
            }
            p
        };
        let ind = cell(ind_col);
        let indicator = match latent.iter().position(|l| l.0 == ind) {
            Some(k) => Some(k),
            None if all.contains(&ind) => {
                errors.push_at(
                    row.row,
                    at(ind_col),
                    format!("indicator {ind:?} has no latent credit in this framework"),
                );
                None
            }
            None => {
                errors.push_at(
                    row.row,
                    at(ind_col),
                    format!("{ind:?} is not an indicator of this framework"),
                );
                None
            }
        };
        let pt = cell(period_col);
        let period = pt
            .trim_end_matches('年')
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|y| (1..=9999).contains(y));
        let period = match period {
            None => {
                errors.push_at(
                    row.row,
                    at(period_col),
                    format!("{pt:?} is not a year (e.g. 2024)"),
                );
                None
            }
            Some(y) if y >= year => {
                errors.push_at(
                    row.row,
                    at(period_col),
                    format!("{y} is not before the assessed year {year} (--year)"),
                );
                None
            }
            y => y,
        };
        let vt = cell(value_col);
        let value = if vt.is_empty() {
            Some(f64::NAN)
        } else {
            let v = vt.parse::<f64>().ok().filter(|x| x.is_finite());
            if v.is_none() {
                errors.push_at(row.row, at(value_col), format!("{vt:?} is not a number"));
            }
            v
        };
        if let (Some(p), Some(k), Some(y), Some(v)) = (person, indicator, period, value) {
            if let Some(prev) = seen.insert((k, p, y), row.row) {
                errors.push_at(
                    row.row,
                    at(period_col),
                    format!("{id:?} {ind:?} {y} is already given in row {prev}"),
                );
            } else {
                entries.push((k, p, y, v));
            }
        }
    }
    errors.into_result()?;
    let n = input.people.len();
    let mut out = Vec::new();
    for (k, &(id, window)) in latent.iter().enumerate() {
        let mine: Vec<_> = entries.iter().filter(|e| e.0 == k).collect();
        if mine.is_empty() {
            continue;
        }
        let back = |y: i64| usize::try_from(year - 1 - y).ok().filter(|&b| b < window);
        // Years kept: back to the earliest one given within the window.
        let Some(years) = mine.iter().filter_map(|e| back(e.2)).max().map(|b| b + 1) else {
            anyhow::bail!(
                "{}: no period of {id:?} is within its latent window {}–{} (the {window} years before --year {year})",
                path.display(),
                year - window as i64,
                year - 1,
            );
        };
        let mut data = vec![f64::NAN; years * n];
        for &&(_, p, y, v) in &mine {
            if let Some(b) = back(y) {
                data[b * n + p] = v;
            }
        }
        out.push(History {
            column: id.to_owned(),
            years,
            data,
        });
    }
    Ok(out)
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
    let progress = Progress::new(args);
    progress.step("reading values");
    let values = read_values(&args.data, &fw)?;
    let mut people = values.people;
    if let Some(path) = &args.people {
        progress.step("reading people");
        apply_people(path, &mut people)?;
    } else {
        warn_without_people(people.len());
    }
    let mut input = Input::new(people, values.columns, values.matrix);
    if let Some(path) = &args.baseline {
        progress.step("reading baseline");
        input.baseline = Some(read_baseline(path, &fw, &input)?);
    }
    if let Some(path) = &args.history {
        progress.step("reading history");
        // clap requires --year with --history.
        let year = args
            .year
            .context("--history needs --year, the assessed year")?;
        input.history = read_history(path, &fw, &input, year)?;
    }
    let settings = settings(args, kind)?;
    progress.step("assessing");
    let result = kaohe_engine::assess(&fw, &input, &settings).context("cannot assess")?;
    let ranks = match args.draws {
        Some(draws) => {
            progress.step("Monte Carlo draws");
            Some(
                kaohe_engine::monte_carlo(&fw, &input, &settings, draws, args.seed)
                    .context("cannot run the Monte Carlo draws")?,
            )
        }
        None => None,
    };
    progress.step("writing the result");
    match kind {
        OutKind::Table => write_table(&args.out, &input, &result, ranks.as_deref())?,
        OutKind::Json => write_json(&args.out, &input, &result, ranks.as_deref())?,
    }
    drop(progress);
    let summary = summary(&args.out, &result, started);
    // The process ends next: the system takes the memory back at once, faster than freeing
    // millions of texts one by one.
    std::mem::forget(input);
    std::mem::forget(result);
    print(&summary)
}

/// Warns, on stderr and in the user's language (`LANG`), that without `--people` no
/// sanction, warning or routine grade was applied, so any of the `n` people may be graded
/// higher than the rules allow.
fn warn_without_people(n: usize) {
    let zh = std::env::var("LANG").is_ok_and(|l| l.starts_with("zh"));
    let text = if zh {
        format!(
            "警告：未提供 --people，处分、警告和平时考核结果均未计入；本次 {n} 人中任何人的等次都可能因此偏高。"
        )
    } else {
        format!(
            "warning: no --people file, so no sanction, warning or routine grade was applied; \
             the grade of any of the {n} people assessed may be higher than the rules allow"
        )
    };
    eprintln!("{text}");
}

/// VALUES files from this size on get a progress bar.
const LARGE_INPUT: u64 = 4 << 20;

/// A progress bar of the stages of `kaohe assess`, drawn to stderr only for large inputs and
/// only when stderr is a terminal ([`ProgressDrawTarget::stderr`] hides itself otherwise), so
/// piped and captured output is unaffected. Cleared when dropped, on success or error.
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn new(args: &AssessArgs) -> Self {
        use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
        let large = std::fs::metadata(&args.data).is_ok_and(|m| m.len() >= LARGE_INPUT);
        if !large {
            return Self(ProgressBar::hidden());
        }
        let stages = 3
            + u64::from(args.people.is_some())
            + u64::from(args.baseline.is_some())
            + u64::from(args.history.is_some())
            + u64::from(args.draws.is_some());
        let bar = ProgressBar::with_draw_target(Some(stages), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} {msg}")
        {
            bar.set_style(style);
        }
        if !bar.is_hidden() {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        Self(bar)
    }

    /// Starts the next stage (the previous ones are done).
    fn step(&self, what: &'static str) {
        if self.0.message().is_empty() {
            self.0.set_message(what);
        } else {
            self.0.inc(1);
            self.0.set_message(what);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
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

/// One cell of a result row, borrowed from the result where it can be.
enum Cell<'a> {
    Text(Cow<'a, str>),
    /// Texts joined by `;`.
    Joined(&'a [String]),
    Number(f64),
}

/// The cells of person `i`'s row of a result table, in the order of its header, into `row`.
fn result_row<'a>(
    input: &'a Input,
    result: &'a Assessment,
    ranks: Option<&[RankUncertainty]>,
    i: usize,
    row: &mut Vec<Cell<'a>>,
) {
    let p = &input.people[i];
    row.clear();
    row.extend([
        Cell::Text(Cow::Borrowed(&p.person_id)),
        Cell::Text(Cow::Borrowed(&p.unit_id)),
        Cell::Number(result.scores[i]),
        Cell::Number(f64::from(result.ranks[i])),
        Cell::Number(f64::from(result.unit_ranks[i])),
        Cell::Text(Cow::Borrowed(result.grades[i].map_or("", |g| g.zh()))),
        Cell::Text(result.rules[i].code()),
        Cell::Joined(&result.flags[i]),
    ]);
    if let Some(r) = ranks.and_then(|r| r.get(i)) {
        row.extend([
            Cell::Number(f64::from(r.median_rank)),
            Cell::Number(f64::from(r.p05)),
            Cell::Number(f64::from(r.p95)),
            Cell::Number(r.p_top_grade),
        ]);
    }
}

fn write_csv_row(w: &mut impl WideCsvRow, row: &[Cell<'_>]) -> anyhow::Result<()> {
    for cell in row {
        match cell {
            Cell::Text(t) => w.text(t)?,
            Cell::Joined(parts) => w.joined(parts, ";")?,
            Cell::Number(x) => w.number(*x)?,
        }
    }
    w.end_row()?;
    Ok(())
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
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut row = Vec::with_capacity(header.len());
    if is_csv {
        // Streamed to disk, no copies of the texts; the second half of the rows is formatted
        // by another thread meanwhile and appended.
        let n = result.len();
        let half = n / 2;
        let mut w = kaohe_data::WideCsvWriter::create(path, &header)?;
        let rest = std::thread::scope(|s| {
            let rest = s.spawn(|| {
                let mut rows = kaohe_data::WideCsvRows::new(path);
                let mut row = Vec::with_capacity(header.len());
                for i in half..n {
                    result_row(input, result, ranks, i, &mut row);
                    write_csv_row(&mut rows, &row)?;
                }
                anyhow::Ok(rows)
            });
            for i in 0..half {
                result_row(input, result, ranks, i, &mut row);
                write_csv_row(&mut w, &row)?;
            }
            rest.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })?;
        w.append(rest)?;
        w.finish()?;
        return Ok(());
    }
    let rows: Vec<Vec<WideCell>> = (0..result.len())
        .map(|i| {
            result_row(input, result, ranks, i, &mut row);
            row.iter()
                .map(|cell| match cell {
                    Cell::Text(t) => WideCell::Text(t.clone().into_owned()),
                    Cell::Joined(parts) => WideCell::Text(parts.join(";")),
                    Cell::Number(x) => WideCell::Number(*x),
                })
                .collect()
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
