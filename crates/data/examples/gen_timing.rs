//! Times `generate` and writing the dataset as CSV:
//! `cargo run --release -p kaohe-data --example gen_timing -- 100000 /tmp/kaohe-gen`.
#![allow(clippy::print_stdout)]

use kaohe_data::{Format, GenSpec, HeaderLang, Phones, generate, read_cadres, write_dataset};
use std::time::Instant;
use time::UtcOffset;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cadres: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let dir = args
        .next()
        .unwrap_or_else(|| "target/gen-timing".to_owned());
    let spec = GenSpec {
        seed: 42,
        cadres,
        year: 2025,
        cases: None,
    };
    let t = Instant::now();
    let data = generate(&spec);
    let generated = t.elapsed();
    let t = Instant::now();
    let paths = write_dataset(
        &dir,
        &data,
        HeaderLang::Zh,
        Format::Csv,
        UtcOffset::UTC,
        Phones::Unmasked,
    )?;
    let written = t.elapsed();
    let t = Instant::now();
    let cadres_back = read_cadres(&paths[1])?;
    let read = t.elapsed();
    println!(
        "{} units, {} cadres, {} appointments, {} sanctions, {} calendar entries",
        data.units.len(),
        data.cadres.len(),
        data.appointments.len(),
        data.sanctions.len(),
        data.calendar.len()
    );
    println!(
        "generate {generated:.2?}, write CSV {written:.2?}, read cadres.csv back {read:.2?} ({} rows)",
        cadres_back.len()
    );
    if std::env::var_os("KAOHE_XLSX").is_some() {
        let path = std::path::Path::new(&dir).join("cadres.xlsx");
        let t = Instant::now();
        kaohe_data::write_cadres(&path, &data.cadres, HeaderLang::Zh)?;
        let written = t.elapsed();
        let t = Instant::now();
        let back = read_cadres(&path)?;
        println!(
            "cadres.xlsx: write {written:.2?}, read {:.2?} ({} rows)",
            t.elapsed(),
            back.len()
        );
    }
    Ok(())
}
