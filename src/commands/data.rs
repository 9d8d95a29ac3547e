//! `kaohe import`, `kaohe export` and `kaohe gen`: files in, files out, synthetic data.

use super::print;
use crate::cli::{ExportArgs, FormatArg, GenArgs, ImportArgs, ImportWhat, LangArg};
use anyhow::Context;
use kaohe_data::synth::{Dataset, GenSpec, ValuesSpec};
use kaohe_data::{Format, HeaderLang, ImportError, Parsed, Phones, RatingRecord, Table};
use kaohe_domain::audit::action;
use kaohe_domain::ratings::rectification::RectificationPolicy;
use kaohe_domain::ratings::{IntakeError, RatingPolicy, ServiceCase, rating_code};
use kaohe_domain::{Appointment, Cadre, Code, NewAuditEntry, Sanction, WorkCalendar};
use kaohe_engine::Framework;
use kaohe_store::{CaseTerms, IntakeRefused, RatingIntake, Store, StoredCase};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use time::{OffsetDateTime, UtcOffset};

pub(crate) async fn import(
    args: &ImportArgs,
    store: &Arc<dyn Store>,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let table = match args.what {
        ImportWhat::Units => Table::Units,
        ImportWhat::Cadres => Table::Cadres,
        ImportWhat::Appointments => Table::Appointments,
        ImportWhat::Sanctions => Table::Sanctions,
        ImportWhat::Calendar => Table::Calendar,
        ImportWhat::Cases => Table::ServiceCases,
        ImportWhat::Ratings => Table::Ratings,
        ImportWhat::All => return import_dir(&args.path, store, offset).await,
    };
    import_file(table, &args.path, store.as_ref(), offset).await
}

/// Imports each table's file found in `dir` (CSV preferred over XLSX), in dependency order.
/// Each file is all or nothing; a failure stops before the next file.
async fn import_dir(dir: &Path, store: &Arc<dyn Store>, offset: UtcOffset) -> anyhow::Result<()> {
    anyhow::ensure!(dir.is_dir(), "{} is not a directory", dir.display());
    let mut found = 0;
    // Table::ALL is in the order references need: units, cadres, then their history, the
    // calendar before ratings (their rectification deadlines), cases before their ratings.
    for table in Table::ALL {
        let file = [Format::Csv, Format::Xlsx]
            .into_iter()
            .map(|f| dir.join(format!("{}.{}", table.file_stem(), f.extension())))
            .find(|p| p.is_file());
        if let Some(file) = file {
            import_file(table, &file, store.as_ref(), offset).await?;
            found += 1;
        }
    }
    anyhow::ensure!(
        found > 0,
        "no table files (units.csv, cadres.csv, …) in {}",
        dir.display()
    );
    Ok(())
}

async fn import_file(
    table: Table,
    path: &Path,
    store: &dyn Store,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let audit = |n: usize| import_audit(table, path, n);
    let n = match table {
        Table::Units => {
            let parsed = kaohe_data::read_units(path)?;
            kaohe_data::check_unit_tree(&store.all_units().await?, &parsed)?;
            let units = parsed.into_values();
            store.upsert_units(&units, &audit(units.len())).await?;
            units.len()
        }
        Table::Cadres => {
            let units = unit_codes(store).await?;
            let cadres = with_refs(
                kaohe_data::read_cadres(path)?,
                &[("unit", |c: &Cadre| &c.unit, &units)],
            )?;
            store.upsert_cadres(&cadres, &audit(cadres.len())).await?;
            cadres.len()
        }
        Table::Appointments => {
            let (units, cadres) = (unit_codes(store).await?, cadre_ids(store).await?);
            let appointments = with_refs(
                kaohe_data::read_appointments(path)?,
                &[
                    ("cadre", |a: &Appointment| &a.cadre, &cadres),
                    ("unit", |a: &Appointment| &a.unit, &units),
                ],
            )?;
            store
                .upsert_appointments(&appointments, &audit(appointments.len()))
                .await?;
            appointments.len()
        }
        Table::Sanctions => {
            let cadres = cadre_ids(store).await?;
            let sanctions = with_refs(
                kaohe_data::read_sanctions(path)?,
                &[("cadre", |s: &Sanction| &s.cadre, &cadres)],
            )?;
            store
                .upsert_sanctions(&sanctions, &audit(sanctions.len()))
                .await?;
            sanctions.len()
        }
        Table::Calendar => {
            let entries = kaohe_data::read_calendar(path)?.into_values();
            store
                .upsert_calendar(&entries, &audit(entries.len()))
                .await?;
            entries.len()
        }
        Table::ServiceCases => {
            let (units, cadres) = (unit_codes(store).await?, cadre_ids(store).await?);
            let parsed = kaohe_data::read_cases(path, offset)?;
            let mut errors = parsed.new_errors();
            parsed.check_refs(
                &mut errors,
                "unit",
                "unit",
                |c| Some(&c.unit),
                |u| units.contains(u),
            );
            for r in &parsed.rows {
                for o in r.value.officials.iter().filter(|o| !cadres.contains(*o)) {
                    errors.push(parsed.error(
                        r.row,
                        "officials",
                        format!("cadre {o} does not exist"),
                    ));
                }
            }
            errors.into_result()?;
            let cases = with_rating_codes(parsed.into_values())?;
            store.upsert_cases(&cases, &audit(cases.len())).await?;
            cases.len()
        }
        Table::Ratings => {
            let mut parsed = kaohe_data::read_ratings(path, offset)?;
            tracing::debug!(rows = parsed.len(), took = ?started.elapsed(), "file read");
            let (intakes, rows) = prepare_ratings(store, &mut parsed, offset).await?;
            let n = intakes.len();
            let refused = store.import_ratings(intakes, audit(n)).await?;
            if !refused.is_empty() {
                let mut errors = parsed.new_errors();
                for i in refused {
                    errors.push(parsed.error(
                        rows[i],
                        "case_id",
                        "the case was rated meanwhile: one rating per case",
                    ));
                }
                return Err(ImportError::Rows(errors).into());
            }
            n
        }
    };
    print(&format!(
        "imported {n} {} from {} in {:.2}s\n",
        table.file_stem(),
        path.display(),
        started.elapsed().as_secs_f64()
    ))
}

/// Gives each case the code of its rating page, from the operating system's randomness (a
/// case already stored keeps its code).
pub(crate) fn with_rating_codes(cases: Vec<ServiceCase>) -> anyhow::Result<Vec<StoredCase>> {
    use rand::TryRngCore;
    let mut random = [0u8; 10];
    cases
        .into_iter()
        .map(|case| {
            rand::rngs::OsRng
                .try_fill_bytes(&mut random)
                .context("cannot draw random rating codes from the operating system")?;
            Ok(StoredCase {
                case,
                rating_code: rating_code(&random),
            })
        })
        .collect()
}

/// Checks every rating of a file by the intake rules at the time it was given (the rating
/// window counts from its case's closing to its own `rated_at`) and opens the rectification of
/// each bad review, with its deadline on the stored calendar: the ratings ready to store with
/// the row of each, or every refusal as `FILE:ROW:COLUMN: reason`. The records are moved out of
/// `parsed`.
async fn prepare_ratings(
    store: &dyn Store,
    parsed: &mut Parsed<RatingRecord>,
    offset: UtcOffset,
) -> anyhow::Result<(Vec<RatingIntake>, Vec<usize>)> {
    let located = std::mem::take(&mut parsed.rows);
    // In case-id order: the lookups walk the case table's key forward.
    let order = kaohe_domain::code_order(located.iter().map(|r| &r.value.rating.case_id));
    let ids = order
        .iter()
        .map(|&i| located[i].value.rating.case_id.clone())
        .collect();
    let lap = Instant::now();
    let terms = store.case_terms(ids).await?;
    tracing::debug!(took = ?lap.elapsed(), "rated cases looked up");
    let lap = Instant::now();
    let calendar = WorkCalendar::new(&store.calendar().await?);
    let (policy, rectification) = (RatingPolicy::default(), RectificationPolicy::default());
    let now = OffsetDateTime::now_utc();
    // In row order, each rating beside its case's terms.
    let mut by_row: Vec<Option<CaseTerms>> = vec![None; located.len()];
    for (i, t) in order.into_iter().zip(terms) {
        by_row[i] = t;
    }
    let mut refusals: Vec<(usize, &str, String)> = Vec::new();
    let mut intakes = Vec::with_capacity(located.len());
    let mut rows = Vec::with_capacity(located.len());
    for (r, case) in located.into_iter().zip(by_row) {
        let RatingRecord { rating, rated_at } = r.value;
        let Some(case) = case else {
            let e = format!("case {} does not exist", rating.case_id);
            refusals.push((r.row, "case_id", e));
            continue;
        };
        if case.rated {
            let e = IntakeError::AlreadyRated(rating.case_id.to_string());
            refusals.push((r.row, "case_id", e.to_string()));
            continue;
        }
        if rated_at > now {
            let e = "a rating cannot be given in the future".to_owned();
            refusals.push((r.row, "rated_at", e));
            continue;
        }
        let prepared = RatingIntake::prepare_of(
            &case.unit,
            case.closed_at,
            rating,
            rated_at,
            offset,
            (&policy, &calendar, &rectification),
        );
        match prepared {
            Ok(intake) => {
                intakes.push(intake);
                rows.push(r.row);
            }
            Err(e) => {
                let column = match &e {
                    IntakeRefused::Rule(IntakeError::AlreadyRated(_)) => "case_id",
                    IntakeRefused::Rule(
                        IntakeError::TooManyTags(_) | IntakeError::DuplicateTag(_),
                    ) => "tags",
                    IntakeRefused::Rule(IntakeError::CommentTooLong | IntakeError::BadText(_)) => {
                        "comment"
                    }
                    IntakeRefused::Rule(
                        IntakeError::WindowClosed { .. } | IntakeError::NotClosed(_),
                    )
                    | IntakeRefused::Calendar(_) => "rated_at",
                };
                refusals.push((r.row, column, e.to_string()));
            }
        }
    }
    tracing::debug!(took = ?lap.elapsed(), "intake rules applied");
    let mut errors = parsed.new_errors();
    for (row, column, message) in refusals {
        errors.push(parsed.error(row, column, message));
    }
    errors.into_result()?;
    Ok((intakes, rows))
}

/// The audit action of importing a file of `table`.
fn import_action(table: Table) -> &'static str {
    match table {
        Table::Units => action::IMPORT_UNITS,
        Table::Cadres => action::IMPORT_CADRES,
        Table::Appointments => action::IMPORT_APPOINTMENTS,
        Table::Sanctions => action::IMPORT_SANCTIONS,
        Table::Calendar => action::IMPORT_CALENDAR,
        Table::ServiceCases => action::IMPORT_SERVICE_CASES,
        Table::Ratings => action::IMPORT_RATINGS,
    }
}

/// The audit entry of importing `n` rows of `table` from `path`.
fn import_audit(table: Table, path: &Path, n: usize) -> NewAuditEntry {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    NewAuditEntry::new(super::audit::actor(), import_action(table), file)
        .after(serde_json::json!({ "rows": n, "file": path.display().to_string() }).to_string())
}

/// A reference of an imported record: the field's key, how to get it, and the codes that exist.
type Reference<'a, T> = (&'static str, fn(&T) -> &Code, &'a HashSet<Code>);

/// The records of a file, once every reference of every record names something that exists;
/// otherwise every dangling reference as `FILE:ROW:COLUMN: unit X does not exist`.
fn with_refs<T>(parsed: Parsed<T>, references: &[Reference<'_, T>]) -> Result<Vec<T>, ImportError> {
    let mut errors = parsed.new_errors();
    for (field, get, known) in references {
        parsed.check_refs(
            &mut errors,
            field,
            field,
            |v| Some(get(v)),
            |c| known.contains(c),
        );
    }
    errors.into_result()?;
    Ok(parsed.into_values())
}

async fn unit_codes(store: &dyn Store) -> anyhow::Result<HashSet<Code>> {
    Ok(store
        .all_units()
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect())
}

async fn cadre_ids(store: &dyn Store) -> anyhow::Result<HashSet<Code>> {
    Ok(store.cadre_ids().await?.into_iter().collect())
}

fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Csv => Format::Csv,
        FormatArg::Xlsx => Format::Xlsx,
    }
}

fn lang(l: LangArg) -> HeaderLang {
    match l {
        LangArg::Zh => HeaderLang::Zh,
        LangArg::En => HeaderLang::En,
    }
}

pub(crate) async fn export(
    args: &ExportArgs,
    store: &Arc<dyn Store>,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let (action, phones) = if args.unmasked {
        (action::EXPORT_PERSONAL_DATA, Phones::Unmasked)
    } else {
        (action::EXPORT_ALL, Phones::Masked)
    };
    // Personal data leaves the database: recorded before anything is written.
    store
        .append_audit(
            &NewAuditEntry::new(
                super::audit::actor(),
                action,
                args.out.display().to_string(),
            )
            .after(
                serde_json::json!({
                    "tables": Table::ALL.iter().map(|t| t.file_stem()).collect::<Vec<_>>(),
                    "dir": args.out.display().to_string(),
                    "format": format(args.format).extension(),
                    "phones": if args.unmasked { "unmasked" } else { "masked" },
                })
                .to_string(),
            ),
        )
        .await
        .context("cannot record the export in the audit log")?;
    let dataset = Dataset {
        units: store.all_units().await?,
        cadres: store.all_cadres().await?,
        appointments: store.all_appointments().await?,
        sanctions: store.all_sanctions().await?,
        calendar: store.calendar().await?,
        cases: store
            .all_cases()
            .await?
            .into_iter()
            .map(|c| c.case)
            .collect(),
        ratings: store
            .rating_facts(i64::MIN, i64::MAX)
            .await?
            .into_iter()
            .map(|f| RatingRecord {
                rating: f.rating.rating,
                rated_at: f.rating.rated_at,
            })
            .collect(),
    };
    let files = write(
        &args.out,
        &dataset,
        (format(args.format), lang(args.lang)),
        offset,
        phones,
    )?;
    print(&files)
}

/// Writes a dataset's tables into `dir`, returning a line per file for the user.
fn write(
    dir: &Path,
    dataset: &Dataset,
    (format, lang): (Format, HeaderLang),
    offset: UtcOffset,
    phones: Phones,
) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let paths = kaohe_data::synth::write_dataset(dir, dataset, lang, format, offset, phones)?;
    let counts = [
        dataset.units.len(),
        dataset.cadres.len(),
        dataset.appointments.len(),
        dataset.sanctions.len(),
        dataset.calendar.len(),
        dataset.cases.len(),
        dataset.ratings.len(),
    ];
    Ok(paths
        .iter()
        .zip(counts)
        .map(|(p, n)| format!("wrote {n} rows to {}\n", p.display()))
        .collect())
}

/// Loads a whole dataset into the store, table by table in dependency order, each with an
/// audit entry `action` (`gen.load`, `demo.load`) naming the table. Ratings go through the
/// intake rules at their own time, as in a file import.
pub(crate) async fn load(
    store: &dyn Store,
    dataset: &Dataset,
    action: &str,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let audit = |table: &str, rows: usize| {
        NewAuditEntry::new(super::audit::actor(), action, table)
            .after(serde_json::json!({ "rows": rows }).to_string())
    };
    store
        .upsert_units(&dataset.units, &audit("units", dataset.units.len()))
        .await
        .context("loading units")?;
    store
        .upsert_cadres(&dataset.cadres, &audit("cadres", dataset.cadres.len()))
        .await
        .context("loading cadres")?;
    store
        .upsert_appointments(
            &dataset.appointments,
            &audit("appointments", dataset.appointments.len()),
        )
        .await
        .context("loading appointments")?;
    store
        .upsert_sanctions(
            &dataset.sanctions,
            &audit("sanctions", dataset.sanctions.len()),
        )
        .await
        .context("loading sanctions")?;
    store
        .upsert_calendar(
            &dataset.calendar,
            &audit("calendar", dataset.calendar.len()),
        )
        .await
        .context("loading calendar")?;
    let cases = with_rating_codes(dataset.cases.clone())?;
    store
        .upsert_cases(&cases, &audit("service_cases", cases.len()))
        .await
        .context("loading service cases")?;
    let by_id: HashMap<&Code, &StoredCase> = cases.iter().map(|c| (&c.case.id, c)).collect();
    let calendar = WorkCalendar::new(&dataset.calendar);
    let (policy, rectification) = (RatingPolicy::default(), RectificationPolicy::default());
    let intakes = dataset
        .ratings
        .iter()
        .map(|r| {
            let case = by_id
                .get(&r.rating.case_id)
                .with_context(|| format!("rating of unknown case {}", r.rating.case_id))?;
            RatingIntake::prepare(
                case,
                r.rating.clone(),
                r.rated_at,
                offset,
                &policy,
                &calendar,
                &rectification,
            )
            .with_context(|| format!("rating of case {}", r.rating.case_id))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let n = intakes.len();
    let refused = store
        .import_ratings(intakes, audit("ratings", n))
        .await
        .context("loading ratings")?;
    anyhow::ensure!(
        refused.is_empty(),
        "loading ratings: {} cases were rated already",
        refused.len()
    );
    Ok(())
}

/// The work records of `kaohe gen --load`: the presets stored, then `--records` a cadre over
/// the year or `--records-quarter`, the last two weeks awaiting review.
async fn gen_records(
    store: &dyn Store,
    args: &GenArgs,
    dataset: &Dataset,
) -> anyhow::Result<usize> {
    if args.records == 0 {
        return Ok(0);
    }
    kaohe_store::cycles::work::store_presets(store, "gen").await?;
    let (from, to) = match args.records_quarter {
        Some(q) => {
            let p = kaohe_domain::cycles::Period::quarter(args.year, q)
                .context("--records-quarter takes 1 to 4")?;
            (p.start, p.end)
        }
        None => (
            time::Date::from_calendar_date(args.year, time::Month::January, 1)?,
            time::Date::from_calendar_date(args.year, time::Month::December, 31)?,
        ),
    };
    let spec = kaohe_data::synth::RecordSpec {
        seed: args.seed,
        per_cadre: args.records,
        from,
        to,
        pending_days: 14,
    };
    let cadres: Vec<Code> = dataset.cadres.iter().map(|c| c.id.clone()).collect();
    super::records::load(store, &spec, &cadres, ["gen_recorder", "gen_reviewer"]).await
}

pub(crate) async fn generate(
    args: &GenArgs,
    store: Option<&Arc<dyn Store>>,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let dataset = kaohe_data::synth::generate(&GenSpec {
        seed: args.seed,
        cadres: args.cadres,
        year: args.year,
        cases: args.cases,
    });
    let generated = started.elapsed();
    let summary = match (store, &args.out) {
        (Some(store), _) => {
            load(store.as_ref(), &dataset, action::GEN_LOAD, offset).await?;
            let records = gen_records(store.as_ref(), args, &dataset).await?;
            format!(
                "loaded {} units, {} cadres, {} service cases, {} ratings and {records} work records into the database\n",
                dataset.units.len(),
                dataset.cadres.len(),
                dataset.cases.len(),
                dataset.ratings.len()
            )
        }
        (None, Some(dir)) => {
            // Synthetic people: their phone numbers are written in full, to import back.
            let mut lines = write(
                dir,
                &dataset,
                (format(args.format), lang(args.lang)),
                offset,
                Phones::Unmasked,
            )?;
            lines.push_str(&write_values(args, dir, &dataset)?);
            lines
        }
        (None, None) => anyhow::bail!("give --out DIR or --load"),
    };
    print(&format!(
        "{summary}generated in {:.2}s, total {:.2}s\n",
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ))
}

/// With `--framework` or `--indicators`: writes `values.csv` and `people.csv` (and, for
/// `--indicators`, the synthetic `framework.toml`; `baseline.csv` when an indicator scores
/// growth and `history.csv` when one has latent credit) into `dir`.
fn write_values(args: &GenArgs, dir: &Path, dataset: &Dataset) -> anyhow::Result<String> {
    use kaohe_data::synth::{GrowthColumn, LatentColumn};
    let mut lines = String::new();
    let fw = match (&args.framework, args.indicators) {
        (Some(spec), _) => super::assess::load_framework(spec)?,
        (None, Some(n)) => {
            let src = synthetic_framework(usize::from(n));
            let path = dir.join("framework.toml");
            kaohe_data::write_atomic(&path, src.as_bytes())?;
            lines.push_str(&format!("wrote {n} indicators to {}\n", path.display()));
            Framework::from_toml_str(&src)
                .map_err(|e| anyhow::anyhow!("the synthetic framework is invalid: {e}"))?
        }
        (None, None) => return Ok(lines),
    };
    let spec = values_spec(&fw, args.seed);
    let path = dir.join("values.csv");
    let n = kaohe_data::synth::write_values(&path, dataset, &spec)?;
    lines.push_str(&format!(
        "wrote {n} rows of {} values to {}\n",
        spec.columns.len(),
        path.display()
    ));
    let path = dir.join("people.csv");
    let n = kaohe_data::synth::write_people(&path, dataset, args.year, args.seed)?;
    lines.push_str(&format!("wrote {n} rows to {}\n", path.display()));
    let column = |id: &str| spec.columns.iter().position(|c| c.id == id);
    let growth: Vec<GrowthColumn> = fw
        .indicators()
        .iter()
        .filter_map(|i| {
            Some(GrowthColumn {
                column: column(&i.id)?,
                cap: i.growth?.cap,
                positive: i.direction == kaohe_engine::Direction::Positive,
            })
        })
        .collect();
    if !growth.is_empty() {
        let path = dir.join("baseline.csv");
        let n = kaohe_data::synth::write_baseline(&path, dataset, &spec, &growth)?;
        lines.push_str(&format!(
            "wrote {n} rows of {} baseline values to {}\n",
            growth.len(),
            path.display()
        ));
    }
    let latent: Vec<LatentColumn> = fw
        .indicators()
        .iter()
        .filter_map(|i| {
            Some(LatentColumn {
                column: column(&i.id)?,
                window: i.latent?.window,
            })
        })
        .collect();
    if !latent.is_empty() {
        let path = dir.join("history.csv");
        let n = kaohe_data::synth::write_history(&path, dataset, &spec, &latent, args.year)?;
        lines.push_str(&format!(
            "wrote {n} rows of history to {} (years before {}: assess with --year {})\n",
            path.display(),
            args.year,
            args.year
        ));
    }
    Ok(lines)
}

/// Fills the values of cycle `id` with generated values of its framework's indicators for its
/// people (deterministic for `seed`), imported like a values file under `actor`; columns that a
/// source of the cycle gathers are left to it. Returns the number of people.
pub(crate) async fn fill_cycle(
    store: &dyn Store,
    id: i64,
    seed: u64,
    settings: &crate::settings::Settings,
    actor: &str,
) -> anyhow::Result<usize> {
    use kaohe_store::cycles::work;
    let cycle = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let (_, fw) =
        work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let people = store.cycle_people(id).await?;
    let gathered = crate::sources::gathered_columns(store, settings, &fw, id).await?;
    let spec = values_spec(&fw, seed);
    let keep: Vec<usize> = (0..spec.columns.len())
        .filter(|&c| !gathered.contains(&spec.columns[c].id))
        .collect();
    let mut table = kaohe_domain::cycles::ValueTable {
        file: format!("kaohe gen --cycle {id} --seed {seed}"),
        columns: keep.iter().map(|&c| spec.columns[c].id.clone()).collect(),
        ..Default::default()
    };
    kaohe_data::synth::generate_values(&spec, people.len(), |i, values| {
        table.people.push(people[i].cadre.to_string());
        table.units.push(None);
        table.rows.push(i + 2);
        table.values.push(
            keep.iter()
                .map(|&c| Some(values[c]).filter(|v| !v.is_nan()))
                .collect(),
        );
    });
    Ok(work::import_values(store, id, &table, actor).await?)
}

/// A framework of `n` min-max indicators (every fourth negative) with explicit integer weights,
/// in a few dimensions, aggregated arithmetically: the benchmark's framework.
fn synthetic_framework(n: usize) -> String {
    let dims = (3 + n / 30).min(n);
    let width = n.to_string().len().max(2);
    let mut s = format!(
        "# Synthetic framework written by `kaohe gen --indicators {n}`: {n} min-max indicators\n\
         # in {dims} dimensions, explicit weights, arithmetic aggregation.\n\
         [framework]\nid = \"synthetic_{n}\"\nversion = \"1\"\nname = \"合成指标体系（{n} 项）\"\n\
         name_en = \"Synthetic framework ({n} indicators)\"\naggregation = \"arithmetic\"\n\
         weighting = \"explicit\"\n\n[grading]\nscale = \"annual\"\nthresholds = [60, 50, 40]\n"
    );
    for d in 0..dims {
        s.push_str(&format!(
            "\n[[dimensions]]\nid = \"d{}\"\nname = \"维度 {}\"\nweight = {}\n",
            d + 1,
            d + 1,
            20 + 5 * (d % 3)
        ));
        for i in (0..n).filter(|i| i % dims == d) {
            let negative = i % 4 == 3;
            s.push_str(&format!(
                "\n  [[dimensions.indicators]]\n  id = \"x{:0width$}\"\n  name = \"指标 {}\"\n  \
                 unit = \"分\"\n  direction = \"{}\"\n  weight = {}\n  normalization = \"minmax\"\n",
                i + 1,
                i + 1,
                if negative { "negative" } else { "positive" },
                1 + (i * 7) % 5,
            ));
        }
    }
    s
}

/// A stable number in [0, 1) from an indicator id (FNV-1a), for made-up levels.
fn unit_hash(id: &str) -> f64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// How to draw each input column of `fw`: around the good side of goalposts, targets and bands
/// (respecting the direction), a made-up level for data-driven methods, rare events for veto,
/// review and count indicators, rating counts for shrinkage.
fn values_spec(fw: &Framework, seed: u64) -> ValuesSpec {
    use kaohe_data::synth::{ValueColumn, ValueDist};
    use kaohe_engine::{Direction, MissingRule, Normalization};
    let mut columns = Vec::new();
    for ind in fw.indicators() {
        let positive = ind.direction == Direction::Positive;
        // Position of the typical value between the worst (0) and best (1) ends.
        let good = 0.8;
        let normal = |worst: f64, best: f64, min: f64, max: f64| {
            let (lo, hi) = (min.min(max), min.max(max));
            ValueDist::Normal {
                mean: worst + good * (best - worst),
                sd: (best - worst).abs() / 8.0,
                min: lo,
                max: hi,
                decimals: 2,
                positive,
            }
        };
        let counted = matches!(ind.unit.as_str(), "件" | "起" | "次");
        let dist = match &ind.normalization {
            _ if ind.veto.is_some() && ind.local_weight == 0.0 => ValueDist::Count { mean: 0.004 },
            // Committee reviews (研判) are rarer than not but commoner than vetoes.
            _ if ind.review.is_some() && ind.local_weight == 0.0 => ValueDist::Count { mean: 0.02 },
            Normalization::Goalposts { min, max } if counted && !positive => ValueDist::Count {
                mean: (1.0 - good) * (max - min).abs() / 2.0,
            },
            Normalization::Goalposts { min, max } => {
                let (worst, best) = if positive { (*min, *max) } else { (*max, *min) };
                normal(worst, best, *min, *max)
            }
            Normalization::Target { target, floor } => {
                let floor = floor.unwrap_or(0.0);
                let span = (target - floor).abs();
                let (mut lo, hi) = if positive {
                    (floor - 0.1 * span, target + 0.2 * span)
                } else {
                    (target - 0.2 * span, floor + 0.1 * span)
                };
                if floor.min(*target) >= 0.0 {
                    lo = lo.max(0.0);
                }
                normal(floor, *target, lo, hi)
            }
            Normalization::Bands { points } => {
                // Worst end: the end with the lower score; best: the top-scoring point nearest
                // to it (a debt ratio scores full marks anywhere up to 80%, not only at 0).
                let (first, last) = (points[0], points[points.len() - 1]);
                let top = points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
                let tops = points.iter().filter(|p| p[1] == top).map(|p| p[0]);
                let (worst, best) = if first[1] <= last[1] {
                    (first[0], tops.fold(f64::MAX, f64::min))
                } else {
                    (last[0], tops.fold(f64::MIN, f64::max))
                };
                normal(worst, best, first[0], last[0])
            }
            Normalization::MinMax { .. }
            | Normalization::ZScore { .. }
            | Normalization::Rank { .. } => {
                let level = 20.0 + 100.0 * unit_hash(&ind.id);
                ValueDist::Normal {
                    mean: level,
                    sd: 0.2 * level,
                    min: 0.0,
                    max: f64::MAX,
                    decimals: if ind.unit == "人" { 0 } else { 2 },
                    positive,
                }
            }
        };
        columns.push(ValueColumn {
            id: ind.id.clone(),
            dist,
            missing: if ind.missing == MissingRule::Error {
                0.0
            } else {
                0.03
            },
        });
        if let Some(shrink) = &ind.shrink {
            columns.push(ValueColumn {
                id: shrink.count.clone(),
                dist: ValueDist::Count { mean: 40.0 },
                missing: 0.0,
            });
        }
    }
    ValuesSpec { seed, columns }
}
