//! `kaohe import`, `kaohe export` and `kaohe gen`: files in, files out, synthetic data.

use super::print;
use crate::cli::{ExportArgs, FormatArg, GenArgs, ImportArgs, ImportWhat, LangArg};
use anyhow::Context;
use kaohe_data::synth::{Dataset, GenSpec};
use kaohe_data::{Format, HeaderLang, Table};
use kaohe_domain::Code;
use kaohe_store::Store;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub(crate) async fn import(args: &ImportArgs, store: &Arc<dyn Store>) -> anyhow::Result<()> {
    let table = match args.what {
        ImportWhat::Units => Table::Units,
        ImportWhat::Cadres => Table::Cadres,
        ImportWhat::Appointments => Table::Appointments,
        ImportWhat::Sanctions => Table::Sanctions,
        ImportWhat::Calendar => Table::Calendar,
        ImportWhat::All => return import_dir(&args.path, store).await,
    };
    import_file(table, &args.path, store.as_ref()).await
}

/// Imports each table's file found in `dir` (CSV preferred over XLSX), in dependency order.
/// Each file is all or nothing; a failure stops before the next file.
async fn import_dir(dir: &Path, store: &Arc<dyn Store>) -> anyhow::Result<()> {
    anyhow::ensure!(dir.is_dir(), "{} is not a directory", dir.display());
    let mut found = 0;
    // Table::ALL is in the order references need: units, cadres, then their history.
    for table in Table::ALL {
        let file = [Format::Csv, Format::Xlsx]
            .into_iter()
            .map(|f| dir.join(format!("{}.{}", table.file_stem(), f.extension())))
            .find(|p| p.is_file());
        if let Some(file) = file {
            import_file(table, &file, store.as_ref()).await?;
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

async fn import_file(table: Table, path: &Path, store: &dyn Store) -> anyhow::Result<()> {
    let started = Instant::now();
    let n = match table {
        Table::Units => {
            let parsed = kaohe_data::read_units(path)?;
            kaohe_data::check_unit_tree(&store.all_units().await?, &parsed)?;
            let n = parsed.len();
            store.upsert_units(&parsed.into_values()).await?;
            n
        }
        Table::Cadres => {
            let parsed = kaohe_data::read_cadres(path)?;
            let units = unit_codes(store).await?;
            let mut errors = parsed.new_errors();
            parsed.check_refs(
                &mut errors,
                "unit",
                "unit",
                |c| Some(&c.unit),
                |c| units.contains(c),
            );
            errors.into_result()?;
            let n = parsed.len();
            store.upsert_cadres(&parsed.into_values()).await?;
            n
        }
        Table::Appointments => {
            let parsed = kaohe_data::read_appointments(path)?;
            let units = unit_codes(store).await?;
            let cadres = cadre_ids(store).await?;
            let mut errors = parsed.new_errors();
            parsed.check_refs(
                &mut errors,
                "cadre",
                "cadre",
                |a| Some(&a.cadre),
                |c| cadres.contains(c),
            );
            parsed.check_refs(
                &mut errors,
                "unit",
                "unit",
                |a| Some(&a.unit),
                |c| units.contains(c),
            );
            errors.into_result()?;
            let n = parsed.len();
            store.upsert_appointments(&parsed.into_values()).await?;
            n
        }
        Table::Sanctions => {
            let parsed = kaohe_data::read_sanctions(path)?;
            let cadres = cadre_ids(store).await?;
            let mut errors = parsed.new_errors();
            parsed.check_refs(
                &mut errors,
                "cadre",
                "cadre",
                |s| Some(&s.cadre),
                |c| cadres.contains(c),
            );
            errors.into_result()?;
            let n = parsed.len();
            store.upsert_sanctions(&parsed.into_values()).await?;
            n
        }
        Table::Calendar => {
            let parsed = kaohe_data::read_calendar(path)?;
            let n = parsed.len();
            store.upsert_calendar(&parsed.into_values()).await?;
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

pub(crate) async fn export(args: &ExportArgs, store: &Arc<dyn Store>) -> anyhow::Result<()> {
    let dataset = Dataset {
        units: store.all_units().await?,
        cadres: store.all_cadres().await?,
        appointments: store.all_appointments().await?,
        sanctions: store.all_sanctions().await?,
        calendar: store.calendar().await?,
    };
    let files = write(&args.out, &dataset, format(args.format), lang(args.lang))?;
    print(&files)
}

/// Writes a dataset's tables into `dir`, returning a line per file for the user.
fn write(
    dir: &Path,
    dataset: &Dataset,
    format: Format,
    lang: HeaderLang,
) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let paths = kaohe_data::synth::write_dataset(dir, dataset, lang, format)?;
    let counts = [
        dataset.units.len(),
        dataset.cadres.len(),
        dataset.appointments.len(),
        dataset.sanctions.len(),
        dataset.calendar.len(),
    ];
    Ok(paths
        .iter()
        .zip(counts)
        .map(|(p, n)| format!("wrote {n} rows to {}\n", p.display()))
        .collect())
}

/// Loads a whole dataset into the store, table by table in dependency order.
pub(crate) async fn load(store: &dyn Store, dataset: &Dataset) -> anyhow::Result<()> {
    store
        .upsert_units(&dataset.units)
        .await
        .context("loading units")?;
    store
        .upsert_cadres(&dataset.cadres)
        .await
        .context("loading cadres")?;
    store
        .upsert_appointments(&dataset.appointments)
        .await
        .context("loading appointments")?;
    store
        .upsert_sanctions(&dataset.sanctions)
        .await
        .context("loading sanctions")?;
    store
        .upsert_calendar(&dataset.calendar)
        .await
        .context("loading calendar")?;
    Ok(())
}

pub(crate) async fn generate(args: &GenArgs, store: Option<&Arc<dyn Store>>) -> anyhow::Result<()> {
    let started = Instant::now();
    let dataset = kaohe_data::synth::generate(&GenSpec {
        seed: args.seed,
        cadres: args.cadres,
        year: args.year,
    });
    let generated = started.elapsed();
    let summary = match (store, &args.out) {
        (Some(store), _) => {
            load(store.as_ref(), &dataset).await?;
            format!(
                "loaded {} units and {} cadres into the database\n",
                dataset.units.len(),
                dataset.cadres.len()
            )
        }
        (None, Some(dir)) => write(dir, &dataset, format(args.format), lang(args.lang))?,
        (None, None) => anyhow::bail!("give --out DIR or --load"),
    };
    print(&format!(
        "{summary}generated in {:.2}s, total {:.2}s\n",
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ))
}
