//! The demo county of `kaohe serve --demo`: the generated dataset with its service cases and
//! ratings, rectifications advanced to every status, two appeals, and cases closed in the last
//! days, open for rating at once.
//!
//! The old rectifications left open are overdue: the server's first escalation sweep, run once
//! the demo accounts exist (`serve.rs`), escalates them (督办) to `demo_unit_leader` and
//! `demo_assessor`, whose home pages then show the notice.

use super::data;
use anyhow::Context;
use kaohe_data::synth::{Dataset, GenSpec};
use kaohe_domain::audit::action;
use kaohe_domain::polls::BallotKey;
use kaohe_domain::ratings::rectification::{
    Rectification, RectificationPolicy, Step, StepKind, Verdict,
};
use kaohe_domain::ratings::{
    AppealDecision, AppealGround, Channel, NewRating, RatingLevel, RatingPolicy, ReasonTag,
};
use kaohe_domain::{NewAuditEntry, WorkCalendar};
use kaohe_store::{Appeal, IntakeOutcome, RatingIntake, RectificationState, Store};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

/// Seed and size of the demo county: fixed, so every newcomer sees the same county.
const DEMO_SEED: u64 = 2025;
const DEMO_CADRES: usize = 800;
/// Days before today on which the generated year of service cases ends: the demo's queue then
/// holds bad reviews overdue by days and weeks, not by years, and the newest are within their
/// deadline.
const CASES_END_BEFORE: i64 = 14;

/// Recent cases added on every demo start, the first three of them rated on the first.
const RECENT_CASES: usize = 12;

/// Account the demo's rectification steps and appeals are recorded under.
const UNIT_LEADER: &str = "demo_unit_leader";
/// Account that decides the demo's appeal.
const ASSESSOR: &str = "demo_assessor";
/// The second demo assessor: records made by one are reviewed by the other, and the committee's
/// decisions on a cycle the first computed are recorded by the second (four eyes).
const SECOND_ASSESSOR: &str = "demo_assessor2";

/// Fills an empty database with the demo county, and on every start adds cases closed in the
/// last days. Returns the rating code of a recent case nobody rated yet.
pub(crate) async fn prepare(
    store: &dyn Store,
    settings: &crate::settings::Settings,
    ballot_key: &Arc<BallotKey>,
) -> anyhow::Result<Option<String>> {
    let offset = settings.server.utc_offset.0;
    let dataset = dataset(OffsetDateTime::now_utc().to_offset(offset).date());
    let first_start = store.counts().await?.units == 0;
    if first_start {
        data::load(store, &dataset, action::DEMO_LOAD, offset)
            .await
            .context("loading demo data")?;
        tracing::info!(
            units = dataset.units.len(),
            cadres = dataset.cadres.len(),
            cases = dataset.cases.len(),
            ratings = dataset.ratings.len(),
            "demo data generated"
        );
    }
    let now = OffsetDateTime::now_utc();
    let recent = kaohe_data::synth::recent_cases(&dataset.cases, now, RECENT_CASES);
    // A restart on the same day finds today's recent cases stored, some rated: they stay as
    // they are (a rated case keeps its closing time).
    let ids: Vec<kaohe_domain::Code> = recent.iter().map(|c| c.id.clone()).collect();
    let stored: std::collections::HashSet<kaohe_domain::Code> = store
        .cases_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| c.case.id)
        .collect();
    let recent: Vec<_> = recent
        .into_iter()
        .filter(|c| !stored.contains(&c.id))
        .collect();
    let recent = data::with_rating_codes(recent)?;
    store
        .upsert_cases(
            &recent,
            &NewAuditEntry::new(super::audit::actor(), action::DEMO_LOAD, "service_cases")
                .after(serde_json::json!({ "recent": recent.len() }).to_string()),
        )
        .await
        .context("adding recent service cases")?;
    let calendar = WorkCalendar::new(&store.calendar().await?);
    if first_start {
        rate_recent(store, &recent, now, offset, &calendar).await?;
        advance_rectifications(store, &calendar, now.to_offset(offset).date()).await?;
        appeals(store).await?;
        cycles(
            store,
            &dataset,
            settings,
            ballot_key,
            now.to_offset(offset).date(),
        )
        .await
        .context("demo assessment cycles")?;
    }
    // A case stored by an earlier start today kept its code: read the codes back.
    let ids: Vec<kaohe_domain::Code> = recent.iter().map(|c| c.case.id.clone()).collect();
    let mut stored = store.cases_by_ids(&ids).await?;
    stored.sort_by_key(|c| std::cmp::Reverse(c.case.closed_at));
    for case in stored {
        if store.rating_of_case(&case.case.id).await?.is_none() {
            return Ok(Some(case.rating_code));
        }
    }
    Ok(None)
}

/// The demo's work records and assessment cycles, dated from today:
/// - about twenty work records (纪实) a cadre a year since the start of last year, of every
///   source, recorded by one demo assessor and reviewed by the other (some rejected), the last
///   two weeks awaiting review;
/// - each past quarter's routine assessment (平时考核) from the records and the unit leader's
///   judgement, final; this quarter's open, awaiting the unit leaders' judgement;
/// - last year's political quality review (政治素质考察) from the year's records, final;
/// - last year's annual assessment, computed, decided by the committee and final; this year's,
///   with its values imported and computed, ready for the assessor to hand to the committee.
async fn cycles(
    store: &dyn Store,
    dataset: &Dataset,
    settings: &crate::settings::Settings,
    ballot_key: &Arc<BallotKey>,
    today: Date,
) -> anyhow::Result<()> {
    use kaohe_domain::cycles::{CycleKind, Period};
    use kaohe_store::cycles::work;
    let county = dataset
        .units
        .iter()
        .find(|u| u.parent.is_none())
        .context("the demo county has no top unit")?
        .code
        .clone();
    let sources = crate::sources::all(settings, Arc::clone(ballot_key));
    let opts = settings.cycles.options(&settings.rules);
    work::store_presets(store, "system").await?;
    let first = Date::from_calendar_date(today.year() - 1, time::Month::January, 1)?;
    let years = (today - first).whole_days() as f64 / 365.0;
    let cadres: Vec<kaohe_domain::Code> = dataset.cadres.iter().map(|c| c.id.clone()).collect();
    let spec = kaohe_data::synth::RecordSpec {
        seed: DEMO_SEED,
        per_cadre: (20.0 * years).round() as usize,
        from: first,
        to: today,
        pending_days: 14,
    };
    super::records::load(store, &spec, &cadres, [ASSESSOR, SECOND_ASSESSOR]).await?;
    let spec_of =
        |name: String, kind: CycleKind, period: Period, framework: &str| work::CycleSpec {
            name,
            kind,
            start: period.start,
            end: period.end,
            framework_id: framework.to_owned(),
            framework_version: None,
            units: vec![county.clone()],
        };
    for year in [today.year() - 1, today.year()] {
        for q in 1..=4u8 {
            let period = Period::quarter(year, q).context("a quarter")?;
            if period.start > today {
                break;
            }
            let spec = spec_of(
                format!("{year}年第{q}季度平时考核"),
                CycleKind::Routine,
                period,
                "routine_quarterly",
            );
            let id = work::create(store, &spec, ASSESSOR).await?;
            work::advance(store, id, work::StateStep::Open, ASSESSOR).await?;
            if period.end >= today {
                // This quarter: open, the unit leaders' judgement still to come.
                continue;
            }
            judge_all(store, id, DEMO_SEED + u64::from(q) + year as u64).await?;
            work::compute(store, id, &sources, &opts, ASSESSOR).await?;
            finish(store, id).await?;
        }
        if year < today.year() {
            let spec = spec_of(
                format!("{year}年度领导干部政治素质考察"),
                CycleKind::Special,
                Period::year(year).context("a year")?,
                "political_quality_review",
            );
            let id = work::create(store, &spec, ASSESSOR).await?;
            work::advance(store, id, work::StateStep::Open, ASSESSOR).await?;
            work::compute(store, id, &sources, &opts, ASSESSOR).await?;
            finish(store, id).await?;
        }
        let spec = spec_of(
            format!("{year}年度考核"),
            CycleKind::Annual,
            Period::year(year).context("a year")?,
            "civil_servant_annual",
        );
        let id = work::create(store, &spec, ASSESSOR).await?;
        work::advance(store, id, work::StateStep::Open, ASSESSOR).await?;
        data::fill_cycle(store, id, DEMO_SEED + year as u64, settings, ASSESSOR).await?;
        work::compute(store, id, &sources, &opts, ASSESSOR).await?;
        if year < today.year() {
            finish(store, id).await?;
        }
    }
    Ok(())
}

/// The unit leaders' judgement of everyone in routine cycle `id`: mostly 较好, some 好, a few
/// 一般 and 较差, drawn from `seed`.
async fn judge_all(store: &dyn Store, id: i64, seed: u64) -> anyhow::Result<()> {
    use kaohe_domain::RoutineGrade;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let judgements: Vec<(kaohe_domain::Code, RoutineGrade)> = store
        .cycle_people(id)
        .await?
        .into_iter()
        .map(|p| {
            let grade = match rng.random_range(0..100) {
                0..=29 => RoutineGrade::Good,
                30..=84 => RoutineGrade::FairlyGood,
                85..=97 => RoutineGrade::Fair,
                _ => RoutineGrade::Poor,
            };
            (p.cadre, grade)
        })
        .collect();
    kaohe_store::cycles::work::judge(store, id, &judgements, UNIT_LEADER).await?;
    Ok(())
}

/// Hands computed cycle `id` to the committee, which awards the open places at each quota line
/// to the best-ranked of those tied, in id order; the second assessor records the decisions
/// and finalizes it (four eyes: not the one who computed).
async fn finish(store: &dyn Store, id: i64) -> anyhow::Result<()> {
    use kaohe_domain::cycles::Decision;
    use kaohe_store::cycles::work;
    work::advance(store, id, work::StateStep::SubmitReview, ASSESSOR).await?;
    let cycle = store.cycle(id).await?.context("the cycle just computed")?;
    let rows = store.results(id, cycle.revision).await?;
    let revision = store
        .revisions(id)
        .await?
        .pop()
        .context("the revision just computed")?;
    let (_, fw) =
        work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    for tie in work::ties_of(&rows, &revision.summary, fw.quota_scope()) {
        let open = tie.k.saturating_sub(tie.awarded) as usize;
        for (i, person) in tie.tied.iter().enumerate() {
            let (decision, reason) = if i < open {
                (
                    Decision::AwardTop,
                    "并列者中重点任务完成更突出，经考核委员会研究确定为最高等次",
                )
            } else {
                (Decision::KeepNext, "名额已满，经考核委员会研究维持次一等次")
            };
            work::decide(store, id, person, decision, reason, SECOND_ASSESSOR).await?;
        }
    }
    work::finalize(store, id, SECOND_ASSESSOR).await?;
    Ok(())
}

fn audit(action: &str, target: &str) -> NewAuditEntry {
    NewAuditEntry::new(UNIT_LEADER, action, target)
}

/// Rates the first three recent cases: two bad reviews (one real-name) and a good one.
async fn rate_recent(
    store: &dyn Store,
    recent: &[kaohe_store::StoredCase],
    now: OffsetDateTime,
    offset: UtcOffset,
    calendar: &WorkCalendar,
) -> anyhow::Result<()> {
    let given = [
        (
            RatingLevel::VeryDissatisfied,
            vec![ReasonTag::RepeatVisits],
            true,
        ),
        (RatingLevel::Dissatisfied, vec![ReasonTag::Overdue], false),
        (
            RatingLevel::VerySatisfied,
            vec![ReasonTag::Efficient],
            false,
        ),
    ];
    let mut batch = Vec::new();
    for (case, (level, tags, real_name)) in recent.iter().zip(given) {
        let rated_at = (case.case.closed_at + Duration::minutes(20)).min(now);
        let rating = NewRating {
            case_id: case.case.id.clone(),
            level,
            tags,
            comment: level
                .is_bad()
                .then(|| "材料要求前后不一致，跑了两趟".to_owned()),
            channel: Channel::QrCode,
            real_name,
            contact: None,
        };
        batch.push(
            RatingIntake::prepare(
                case,
                rating,
                rated_at,
                offset,
                &RatingPolicy::default(),
                calendar,
                &RectificationPolicy::default(),
            )
            .with_context(|| format!("rating demo case {}", case.case.id))?,
        );
    }
    for outcome in store.insert_ratings(&batch).await? {
        anyhow::ensure!(
            matches!(outcome, IntakeOutcome::Stored(_)),
            "a recent demo case was rated already"
        );
    }
    Ok(())
}

/// How far a demo rectification goes.
#[derive(Clone, Copy)]
enum Progress {
    Open,
    Verified,
    Handled,
    CalledBack,
    ClosedOnTime,
    ClosedLate,
    AnotherRound,
}

/// Takes the bad reviews through their steps so that the queue shows every status: open
/// (overdue for the old ones), verified, handled, called back, closed on time and late, and
/// one sent back for another round by the rater's verdict.
async fn advance_rectifications(
    store: &dyn Store,
    calendar: &WorkCalendar,
    today: Date,
) -> anyhow::Result<()> {
    use Progress::*;
    const PLAN: [Progress; 8] = [
        ClosedOnTime,
        Open,
        Verified,
        ClosedOnTime,
        Handled,
        CalledBack,
        ClosedLate,
        AnotherRound,
    ];
    let queue = store.rectification_queue(None, true, 10_000).await?;
    // The newest two (the recent bad reviews) stay open and verified, within their deadline.
    let (old, recent) = queue.split_at(queue.len().saturating_sub(2));
    let plans = old
        .iter()
        .enumerate()
        .map(|(i, q)| (q, PLAN[i % PLAN.len()]))
        .chain(recent.iter().zip([Open, Verified]));
    for (item, progress) in plans {
        let record = store
            .rectification(item.rating_id)
            .await?
            .context("a queued rectification without its record")?;
        let mut r = Rectification::open(
            record.real_name,
            record.opened_on,
            calendar,
            &RectificationPolicy::default(),
        )?;
        // Days after the review on which each step is taken, capped at today.
        let late = matches!(progress, ClosedLate);
        let day =
            |n: i64| (record.opened_on + Duration::days(if late { 3 * n } else { n })).min(today);
        let step = |kind, note: &str, on| Step {
            kind,
            note: note.to_owned(),
            reached: None,
            verdict: None,
            on,
        };
        let callback = |verdict, on| Step {
            reached: Some(true),
            verdict: Some(verdict),
            ..step(StepKind::Callback, "已电话回访评价人", on)
        };
        let mut steps = Vec::new();
        if !matches!(progress, Open) {
            steps.push(step(StepKind::Verify, "经核实，评价反映情况属实", day(1)));
        }
        if matches!(
            progress,
            Handled | CalledBack | ClosedOnTime | ClosedLate | AnotherRound
        ) {
            steps.push(step(
                StepKind::Rectify,
                "已对窗口人员批评教育，并在窗口公示一次性告知清单",
                day(2),
            ));
        }
        if matches!(progress, CalledBack | ClosedOnTime | ClosedLate) {
            steps.push(callback(Verdict::Satisfied, day(3)));
        }
        if matches!(progress, AnotherRound) {
            steps.push(callback(Verdict::Dissatisfied, day(3)));
        }
        if matches!(progress, ClosedOnTime | ClosedLate) {
            steps.push(step(StepKind::Close, "整改完成，评价人满意", day(4)));
        }
        for (seq, s) in steps.iter().enumerate() {
            r.apply(s)
                .with_context(|| format!("demo step {seq} of rating {}", item.rating_id))?;
            let state = RectificationState {
                status: r.status,
                closed_on: r.closed_on,
                called_back: r.callbacks_reached > 0,
            };
            let at = s.on.with_time(Time::from_hms(10, 0, 0)?).assume_utc();
            let added = store
                .add_step(
                    item.rating_id,
                    u32::try_from(seq + 1)?,
                    s,
                    state,
                    UNIT_LEADER,
                    at.unix_timestamp(),
                    &audit(action::RECTIFICATION_STEP, &item.rating_id.to_string()),
                )
                .await?;
            anyhow::ensure!(added, "demo step {seq} of rating {} exists", item.rating_id);
        }
    }
    Ok(())
}

/// Two appeals on bad reviews from the one phone that rated many cases: one upheld, one
/// pending.
async fn appeals(store: &dyn Store) -> anyhow::Result<()> {
    let facts = store.rating_facts(i64::MIN, i64::MAX).await?;
    let mut per_contact: HashMap<&str, usize> = HashMap::new();
    for f in &facts {
        if let Some(c) = &f.rating.rating.contact {
            *per_contact.entry(c.reveal()).or_default() += 1;
        }
    }
    let mut suspects = facts.iter().filter(|f| {
        f.rating.rating.level.is_bad()
            && f.rating
                .rating
                .contact
                .as_ref()
                .is_some_and(|c| per_contact.get(c.reveal()).is_some_and(|n| *n > 5))
    });
    let grounds = [
        (
            AppealGround::Malicious,
            "同一号码一个月内对多个办件给出差评，且所述情况与窗口录像不符",
        ),
        (AppealGround::Mistaken, "评价人来电说明误选了评价等级"),
    ];
    for (i, (ground, evidence)) in grounds.into_iter().enumerate() {
        let Some(f) = suspects.next() else { break };
        let filed_at = f.rating.rated_at.unix_timestamp() + 86_400;
        let appeal = Appeal {
            rating_id: f.rating.id,
            ground,
            evidence: evidence.to_owned(),
            filed_by: UNIT_LEADER.to_owned(),
            filed_at,
            decision: None,
        };
        let target = f.rating.id.to_string();
        store
            .file_appeal(&appeal, &audit(action::APPEAL_FILE, &target))
            .await?;
        if i == 0 {
            store
                .decide_appeal(
                    f.rating.id,
                    AppealDecision::Upheld,
                    "经调取录像核实，差评与事实不符，申诉成立",
                    ASSESSOR,
                    filed_at + 2 * 86_400,
                    &NewAuditEntry::new(ASSESSOR, action::APPEAL_DECIDE, target),
                )
                .await?;
        }
    }
    Ok(())
}

/// The demo county's generated dataset.
/// The demo county, its service cases and ratings dated relative to `today`: the generator
/// dates a calendar year of them (the year holding most of the twelve months before
/// `today`); they are moved by whole weeks, so that every weekday stays a weekday, until the
/// last ends [`CASES_END_BEFORE`] days before `today`.
fn dataset(today: Date) -> Dataset {
    let end = today - Duration::days(CASES_END_BEFORE);
    let year = (end - Duration::days(182)).year();
    let mut data = kaohe_data::synth::generate(&GenSpec {
        seed: DEMO_SEED,
        cadres: DEMO_CADRES,
        year,
        cases: None,
    });
    let last = Date::from_ordinal_date(year, time::util::days_in_year(year)).unwrap_or(end);
    let shift = Duration::weeks((end - last).whole_weeks());
    for c in &mut data.cases {
        c.accepted_at += shift;
        c.closed_at += shift;
    }
    for r in &mut data.ratings {
        r.rated_at += shift;
    }
    data
}
