//! `kaohe cycle …` and `kaohe framework upload`: assessment cycles on the database, through
//! the steps of `kaohe_store::cycles::work`.

use super::print;
use crate::cli::CycleAction;
use crate::settings::Settings;
use crate::sources;
use anyhow::Context;
use kaohe_data::WideCell;
use kaohe_domain::cycles::ValueTable;
use kaohe_domain::cycles::{CycleKind, Decision};
use kaohe_domain::{Code, GradeScale, Labeled};
use kaohe_store::Store;
use kaohe_store::cycles::work;
use std::path::Path;
use time::Date;

/// Runs `kaohe framework upload FILE`.
pub(crate) async fn upload(file: &Path, store: &dyn Store) -> anyhow::Result<()> {
    let source =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (fw, stored) = work::save_framework(store, &source, "upload", &super::audit::actor())
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let what = if stored { "stored" } else { "already stored" };
    print(&format!(
        "framework {} version {} ({}) {what}\n",
        fw.id(),
        fw.version(),
        fw.name()
    ))
}

fn day(flag: &str, text: &str) -> anyhow::Result<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .with_context(|| format!("--{flag} {text:?}: expected YYYY-MM-DD"))
}

/// Runs `kaohe cycle …`.
pub(crate) async fn run(
    action: &CycleAction,
    store: &dyn Store,
    settings: &Settings,
) -> anyhow::Result<()> {
    let actor = super::audit::actor();
    let opts = settings.cycles.options(&settings.rules);
    match action {
        CycleAction::Create {
            name,
            kind,
            from,
            to,
            framework,
            units,
        } => {
            work::store_presets(store, "system").await?;
            let (framework_id, framework_version) = match framework.split_once('@') {
                Some((id, v)) => (id.to_owned(), Some(v.to_owned())),
                None => (framework.clone(), None),
            };
            let spec = work::CycleSpec {
                name: name.clone(),
                kind: CycleKind::parse_label(kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                start: day("from", from)?,
                end: day("to", to)?,
                framework_id,
                framework_version,
                units: units
                    .iter()
                    .map(|u| Code::parse(u).map_err(|e| anyhow::anyhow!("--unit {u:?}: {e}")))
                    .collect::<anyhow::Result<_>>()?,
            };
            let id = work::create(store, &spec, &actor).await?;
            let cycle = store.cycle(id).await?.context("the cycle just created")?;
            print(&format!(
                "created cycle {id} ({}): {} people, {} changes of the scope during the period\n",
                cycle.name,
                cycle.people,
                cycle.changes.len()
            ))
        }
        CycleAction::List => {
            let mut text = String::new();
            for c in store.cycles().await? {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{} – {}\t{}@{}\t{}\t{} people\n",
                    c.id,
                    c.name,
                    c.kind.zh(),
                    c.period.start,
                    c.period.end,
                    c.framework_id,
                    c.framework_version,
                    c.state.zh(),
                    c.people
                ));
            }
            print(&text)
        }
        CycleAction::Show { id } => show(store, *id).await,
        CycleAction::Open { id } => {
            let state = work::advance(store, *id, work::StateStep::Open, &actor).await?;
            print(&format!("cycle {id} is now {}\n", state.zh()))
        }
        CycleAction::Review { id } => {
            let state = work::advance(store, *id, work::StateStep::SubmitReview, &actor).await?;
            print(&format!("cycle {id} is now {}\n", state.zh()))
        }
        CycleAction::Template { id, out } => template(store, *id, out).await,
        CycleAction::ImportValues { id, file } => {
            let table = read_values(store, *id, file).await?;
            let n = work::import_values(store, *id, &table, &actor).await?;
            print(&format!(
                "imported the values of {n} people into cycle {id}\n"
            ))
        }
        CycleAction::Compute { id } => {
            // The ballot key seals the cycle's polls that closed on time.
            let sources = sources::all(settings, super::ballot_key(settings, store).await?);
            let done = work::compute(store, *id, &sources, &opts, &actor).await?;
            let cycle = store.cycle(*id).await?.context("the cycle just computed")?;
            let mut text = format!(
                "computed cycle {id} (revision {}): {} people; {}; {} tied at a quota line\n",
                done.revision,
                done.people,
                grade_counts(cycle.kind.scale(), &done.grades),
                done.ties
            );
            for w in &done.warnings {
                text.push_str(&format!("warning: {w}\n"));
            }
            print(&text)
        }
        CycleAction::Decide {
            id,
            person,
            decision,
            reason,
        } => {
            let person = Code::parse(person).map_err(|e| anyhow::anyhow!("--person: {e}"))?;
            let decision =
                Decision::parse_label(decision).map_err(|e| anyhow::anyhow!("--decision: {e}"))?;
            work::decide(store, *id, &person, decision, reason, &actor).await?;
            print(&format!("recorded: {person} {}\n", decision.zh()))
        }
        CycleAction::Finalize { id } => {
            let revision = work::finalize(store, *id, &actor).await?;
            print(&format!("cycle {id} is final (revision {revision})\n"))
        }
        CycleAction::Amend { id, reason, values } => {
            let table = match values {
                Some(file) => Some(read_values(store, *id, file).await?),
                None => None,
            };
            let done = work::amend(store, *id, table.as_ref(), reason, &opts, &actor).await?;
            let mut text = format!(
                "amended cycle {id}: revision {} corrects revision {}; {} people changed\n",
                done.revision,
                done.corrects,
                done.changed.len()
            );
            for (cadre, before, after) in &done.changed {
                text.push_str(&format!(
                    "{cadre}\t{}\tscore {} → {}\trank {} → {}\n",
                    after.name, before.score, after.score, before.rank, after.rank
                ));
            }
            print(&text)
        }
        CycleAction::Results { id, out, revision } => results(store, *id, out, *revision).await,
        CycleAction::Input { id, out } => input(store, *id, out, settings).await,
    }
}

fn grade_counts(scale: GradeScale, counts: &[usize; 5]) -> String {
    let mut parts = Vec::new();
    for (level, n) in counts.iter().enumerate().take(4) {
        if let Some((_, zh, _)) = scale.grade(level) {
            parts.push(format!("{zh} {n}"));
        }
    }
    parts.push(format!("不定等次 {}", counts[4]));
    parts.join(", ")
}

async fn show(store: &dyn Store, id: i64) -> anyhow::Result<()> {
    let c = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let units = store.cycle_units(id).await?;
    let mut text = format!(
        "cycle {}: {}\nkind: {}\nperiod: {} – {}\nframework: {} version {}\nstate: {}\nunits: {}\npeople: {}\n",
        c.id,
        c.name,
        c.kind.zh(),
        c.period.start,
        c.period.end,
        c.framework_id,
        c.framework_version,
        c.state.zh(),
        units
            .iter()
            .map(Code::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        c.people
    );
    for ch in &c.changes {
        text.push_str(&format!(
            "change: {} {} on {} ({} → {})\n",
            ch.cadre,
            ch.kind.zh(),
            ch.on,
            ch.from.as_ref().map_or("-", Code::as_str),
            ch.to.as_ref().map_or("-", Code::as_str)
        ));
    }
    let (people, missing) = work::completeness(store, id).await?;
    for m in missing.iter().filter(|m| m.missing > 0) {
        text.push_str(&format!(
            "missing: {} ({}) for {} of {people}: {}\n",
            m.column, m.name, m.missing, m.rule
        ));
    }
    for r in store.revisions(id).await? {
        text.push_str(&format!(
            "revision {}: {}{}{}\n",
            r.revision,
            r.kind.zh(),
            if r.locked { ", locked" } else { "" },
            r.reason.map(|x| format!(": {x}")).unwrap_or_default()
        ));
    }
    if c.revision > 0 {
        let rows = store.results(id, c.revision).await?;
        let mut counts = [0usize; 5];
        for r in &rows {
            counts[r.grade_level.map_or(4, |g| usize::from(g.min(3)))] += 1;
        }
        text.push_str(&format!(
            "grades: {}\n",
            grade_counts(c.kind.scale(), &counts)
        ));
    }
    print(&text)
}

/// Reads a values file for a cycle: columns named by an indicator id or its name in the
/// cycle's framework, or by an auxiliary column of the cycle.
async fn read_values(store: &dyn Store, id: i64, file: &Path) -> anyhow::Result<ValueTable> {
    let cycle = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let (_, fw) =
        work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    Ok(kaohe_data::read_value_table(
        file,
        &file.display().to_string(),
        |h| work::column_named(&cycle, &fw, h),
    )?)
}

async fn template(store: &dyn Store, id: i64, out: &Path) -> anyhow::Result<()> {
    let cycle = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let (_, fw) =
        work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let people = store.cycle_people(id).await?;
    let mut header: Vec<String> = ["person_id", "姓名", "unit_id", "单位名称"]
        .map(str::to_owned)
        .to_vec();
    let names: Vec<String> = cycle
        .columns
        .iter()
        .map(|c| {
            fw.indicators()
                .iter()
                .find(|i| &i.id == c)
                .map_or_else(|| c.clone(), |i| i.id.clone())
        })
        .collect();
    header.extend(names);
    let rows: Vec<Vec<WideCell>> = people
        .iter()
        .map(|p| {
            let mut row = vec![
                WideCell::Text(p.cadre.to_string()),
                WideCell::Text(p.name.clone()),
                WideCell::Text(p.unit.to_string()),
                WideCell::Text(p.unit_name.clone()),
            ];
            row.extend(cycle.columns.iter().map(|_| WideCell::Empty));
            row
        })
        .collect();
    kaohe_data::write_wide(out, &header, &rows)?;
    print(&format!(
        "wrote a template of {} people × {} indicators to {}\n",
        people.len(),
        cycle.columns.len(),
        out.display()
    ))
}

async fn results(
    store: &dyn Store,
    id: i64,
    out: &Path,
    revision: Option<i64>,
) -> anyhow::Result<()> {
    let cycle = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let revision = revision.unwrap_or(cycle.revision);
    anyhow::ensure!(
        revision > 0,
        "cycle {id} has no result yet: compute it first"
    );
    let mut rows = store.results(id, revision).await?;
    anyhow::ensure!(!rows.is_empty(), "cycle {id} has no revision {revision}");
    rows.sort_by(|a, b| a.cadre.cmp(&b.cadre));
    let intervals = rows.iter().any(|r| r.median_rank.is_some());
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
    if intervals {
        header.extend(["median_rank", "p05", "p95", "p_top_grade"].map(str::to_owned));
    }
    header.extend(["name", "unit_name"].map(str::to_owned));
    let scale = cycle.kind.scale();
    let number = |x: Option<f64>| x.map_or(WideCell::Empty, WideCell::Number);
    let table: Vec<Vec<WideCell>> = rows
        .iter()
        .map(|r| {
            let grade = r
                .grade_level
                .and_then(|g| scale.grade(usize::from(g)))
                .map_or("", |g| g.1);
            let mut row = vec![
                WideCell::Text(r.cadre.to_string()),
                WideCell::Text(r.unit.to_string()),
                WideCell::Number(r.score),
                WideCell::Number(f64::from(r.rank)),
                WideCell::Number(f64::from(r.rank_in_unit)),
                WideCell::Text(grade.to_owned()),
                WideCell::Text(r.rule.clone()),
                WideCell::Text(r.flags.join(";")),
            ];
            if intervals {
                row.extend([
                    number(r.median_rank.map(f64::from)),
                    number(r.p05.map(f64::from)),
                    number(r.p95.map(f64::from)),
                    number(r.p_top),
                ]);
            }
            row.extend([
                WideCell::Text(r.name.clone()),
                WideCell::Text(r.unit_name.clone()),
            ]);
            row
        })
        .collect();
    kaohe_data::write_wide(out, &header, &table)?;
    print(&format!(
        "wrote {} results of cycle {id} (revision {revision}) to {}\n",
        table.len(),
        out.display()
    ))
}

/// Writes the engine's input of a cycle as `kaohe assess` reads it.
async fn input(store: &dyn Store, id: i64, out: &Path, settings: &Settings) -> anyhow::Result<()> {
    let cycle = store
        .cycle(id)
        .await?
        .with_context(|| format!("no cycle {id}"))?;
    let opts = settings.cycles.options(&settings.rules);
    let (people, input) = work::engine_input(store, id, &opts).await?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut header: Vec<String> = ["person_id", "unit_id"].map(str::to_owned).to_vec();
    header.extend(cycle.columns.iter().cloned());
    let values: Vec<Vec<WideCell>> = input
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row = vec![
                WideCell::Text(p.person_id.clone()),
                WideCell::Text(p.unit_id.clone()),
            ];
            row.extend((0..cycle.columns.len()).map(|c| {
                input
                    .values
                    .get(i, c)
                    .map_or(WideCell::Empty, WideCell::Number)
            }));
            row
        })
        .collect();
    kaohe_data::write_wide(out.join("values.csv"), &header, &values)?;
    let yes = |b: bool| WideCell::Text(if b { "是" } else { "否" }.to_owned());
    let facts: Vec<Vec<WideCell>> = input
        .people
        .iter()
        .map(|p| {
            vec![
                WideCell::Text(p.person_id.clone()),
                yes(p.facts.blocks.warning_in_year),
                yes(p.facts.blocks.sanction_in_effect),
                WideCell::Number(f64::from(p.facts.routine_poor)),
            ]
        })
        .collect();
    let header: Vec<String> = [
        "person_id",
        "warning_in_year",
        "sanction_in_effect",
        "routine_poor",
    ]
    .map(str::to_owned)
    .to_vec();
    kaohe_data::write_wide(out.join("people.csv"), &header, &facts)?;
    print(&format!(
        "wrote values.csv and people.csv of {people} people to {}\n",
        out.display()
    ))
}
