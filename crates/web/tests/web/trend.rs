//! The home page's ratings of the caller's own unit month by month (本单位好差评（近十二个月）):
//! the months, counts and rates as the figures page counts them, the unit's own ratings only,
//! and no such section for an account without a unit of its own.

use crate::helpers::TestApp;
use crate::helpers::spawn_apps;
use kaohe_domain::ratings::rectification::RectificationPolicy;
use kaohe_domain::ratings::{Channel, NewRating, RatingLevel, RatingPolicy, ServiceCase};
use kaohe_domain::{Cadre, CadreStatus, Code, Gender, RankLevel, WorkCalendar, YearMonth};
use kaohe_store::{IntakeOutcome, RatingIntake, StoredCase};
use time::{Date, Duration, OffsetDateTime, Time};

fn code(s: &str) -> Code {
    Code::parse(s).expect("a code")
}

/// The unit of the test's ratings: 瑶海区发展和改革委员会, without ratings in the seed.
const UNIT: &str = "340102-FGW";

/// Day `day` of `month` at 10:00 in China (02:00 UTC).
fn on(month: YearMonth, day: u8) -> OffsetDateTime {
    let first = month.first_day().expect("a month");
    first
        .replace_day(day)
        .expect("a day")
        .with_time(Time::from_hms(2, 0, 0).expect("a time"))
        .assume_utc()
}

/// A cadre of [`UNIT`], C005, and ratings of its cases: two months ago 非常满意 ×2, 满意 and
/// 非常不满意 (a bad review whose rectification is overdue by now); last month 非常满意 and
/// 基本满意.
async fn seed_unit(app: &TestApp, two_ago: YearMonth, last: YearMonth) {
    let store = app.db.store.as_ref();
    let cadre = Cadre {
        id: code("C005"),
        name: "孙七".into(),
        gender: Gender::Female,
        ethnicity: "汉族".into(),
        birth_date: Date::from_calendar_date(1985, time::Month::May, 6).expect("a date"),
        unit: code(UNIT),
        post: "科长".into(),
        rank: RankLevel::SectionPrincipal,
        is_leader: false,
        status: CadreStatus::Active,
    };
    let audit = |t: &str| kaohe_domain::NewAuditEntry::new("test", "test.seed", t);
    store
        .upsert_cadres(&[cadre], &audit("cadres"))
        .await
        .expect("cadre");
    let given = [
        (two_ago, 3, RatingLevel::VerySatisfied),
        (two_ago, 4, RatingLevel::VerySatisfied),
        (two_ago, 5, RatingLevel::Satisfied),
        (two_ago, 6, RatingLevel::VeryDissatisfied),
        (last, 7, RatingLevel::VerySatisfied),
        (last, 8, RatingLevel::FairlySatisfied),
    ];
    let cases: Vec<StoredCase> = given
        .iter()
        .enumerate()
        .map(|(i, (month, day, _))| {
            let closed = on(*month, *day);
            StoredCase {
                case: ServiceCase {
                    id: code(&format!("FGW-{i}")),
                    item: "企业投资项目备案".into(),
                    unit: code(UNIT),
                    window: None,
                    officials: vec![code("C005")],
                    channel: Channel::Online,
                    accepted_at: closed - Duration::hours(3),
                    closed_at: closed,
                    applicant: None,
                    phone: None,
                },
                rating_code: format!("rate-fgw-{i}"),
            }
        })
        .collect();
    store
        .upsert_cases(&cases, &audit("service_cases"))
        .await
        .expect("cases");
    let calendar = WorkCalendar::new(&store.calendar().await.expect("calendar"));
    let intakes: Vec<RatingIntake> = cases
        .iter()
        .zip(given)
        .map(|(case, (_, _, level))| {
            let rating = NewRating {
                case_id: case.case.id.clone(),
                level,
                tags: Vec::new(),
                comment: None,
                channel: Channel::Online,
                real_name: false,
                contact: None,
            };
            RatingIntake::prepare(
                case,
                rating,
                case.case.closed_at + Duration::hours(1),
                kaohe_web::CHINA_STANDARD_TIME,
                &RatingPolicy::default(),
                &calendar,
                &RectificationPolicy::default(),
            )
            .expect("a rating")
        })
        .collect();
    let out = store.insert_ratings(&intakes).await.expect("ratings");
    assert!(out.iter().all(|o| matches!(o, IntakeOutcome::Stored(_))));
}

/// The month of a row of the trend table and its cells' text.
fn cells(row: &str) -> Vec<String> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let text = &c[c.find('>').expect("a cell") + 1..];
            text[..text.find("</td>").expect("closed")].to_owned()
        })
        .collect()
}

/// The rows of the trend table of a home page, as cell texts.
fn trend_rows(page: &crate::helpers::Fetched) -> Vec<Vec<String>> {
    page.table_rows("home-trend-table")
        .into_iter()
        .map(cells)
        .collect()
}

fn month_label(m: YearMonth) -> String {
    format!("{}年{}月", m.year, m.month)
}

#[tokio::test]
async fn an_official_sees_the_ratings_of_their_own_unit_month_by_month() {
    for app in spawn_apps().await {
        let today = OffsetDateTime::now_utc()
            .to_offset(kaohe_web::CHINA_STANDARD_TIME)
            .date();
        let this = YearMonth::of(today);
        let last = this.previous();
        let two_ago = last.previous();
        seed_unit(&app, two_ago, last).await;

        let official = app
            .sign_in_as("fgw_official", &["official"], &[], Some("C005"))
            .await;
        let page = app.get_as(Some(&official), "/").await;
        assert_eq!(page.status, 200, "{}: {}", app.name, page.body);
        assert!(
            page.body.contains("本单位好差评（近十二个月）"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("瑶海区发展和改革委员会近十二个月共 6 条评价，满意率 83.3%。"),
            "{}",
            page.body
        );
        let rows = trend_rows(&page);
        let months: Vec<String> = this.last(12).into_iter().map(month_label).collect();
        assert_eq!(
            rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            months,
            "twelve months, oldest first, ending with this one"
        );
        // Month, ratings, satisfaction rate, bad reviews, of them overdue.
        assert_eq!(
            rows[9],
            [
                month_label(two_ago),
                "4".into(),
                "75.0%".into(),
                "1".into(),
                "1".into()
            ],
            "{}",
            app.name
        );
        assert_eq!(
            rows[10],
            [
                month_label(last),
                "2".into(),
                "100.0%".into(),
                "0".into(),
                "0".into()
            ]
        );
        // Months without ratings are empty, not 0%.
        for row in rows[..9].iter().chain([&rows[11]]) {
            assert_eq!(row[1..], ["0", "—", "0", "0"], "{row:?}");
        }
        let table = page.table_rows("home-trend-table");
        assert!(table[9].contains("data-value=\"75\""), "{}", table[9]);
        assert!(table[11].contains("data-value=\"\""), "{}", table[11]);
        for needed in [
            "data-chart=\"line\"",
            "data-chart-title=\"瑶海区发展和改革委员会各月好差评\"",
            // 75% and 100%: the rate axis starts at 70, and says so.
            "data-chart-min=\"70\"",
            "data-chart-subtitle=\"数值轴从 70% 起，不从 0 起。\"",
            "data-chart-label=\"组合图：",
            "/static/charts.js",
        ] {
            assert!(page.body.contains(needed), "{needed}: {}", page.body);
        }

        // The unit's leader sees the same months of the unit they lead.
        let leader = app
            .sign_in_as("fgw_leader", &["unit_leader"], &[UNIT], None)
            .await;
        let page = app.get_as(Some(&leader), "/").await;
        assert_eq!(trend_rows(&page), rows, "{}", app.name);

        // An official of 庐阳区 sees their own unit's one rating (the seed's bad review, this
        // month or the last), none of the other unit's.
        let other = app
            .sign_in_as("luyang_official", &["official"], &[], Some("C004"))
            .await;
        let page = app.get_as(Some(&other), "/").await;
        assert!(
            page.body
                .contains("庐阳区近十二个月共 1 条评价，满意率 0.0%。"),
            "{}",
            page.body
        );
        let rows = trend_rows(&page);
        assert_eq!(rows.len(), 12);
        let rated: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] != "0").collect();
        assert_eq!(rated.len(), 1, "{rows:?}");
        assert_eq!(rated[0][1..3], ["1", "0.0%"], "{rows:?}");
        assert!(
            !page.body.contains("瑶海区发展和改革委员会"),
            "{}",
            page.body
        );

        // Accounts without a unit of their own see no such section: an assessor, an official
        // without a cadre record.
        for (name, roles, units) in [
            ("county_assessor", ["assessor"], vec!["340000"]),
            ("no_cadre", ["official"], vec![]),
        ] {
            let session = app.sign_in_as(name, &roles, &units, None).await;
            let page = app.get_as(Some(&session), "/").await;
            assert_eq!(page.status, 200, "{name}: {}", page.body);
            assert!(!page.body.contains("home-trend"), "{name}: {}", page.body);
            assert!(!page.body.contains("本单位好差评"), "{name}: {}", page.body);
        }

        // In English.
        let page = app.get_as(Some(&official), "/?lang=en").await;
        for needed in [
            "ratings, last 12 months</h2>",
            "data-chart-title=\"瑶海区发展和改革委员会: ratings by month\"",
            "The value axis starts at 70%, not at 0.",
        ] {
            assert!(page.body.contains(needed), "{needed}: {}", page.body);
        }
        app.finish().await;
    }
}

/// An official's open deadlines: the open rectifications of bad reviews of the cases they
/// handled, with the deadline and the working days left; nothing of other officials' cases.
#[tokio::test]
async fn an_official_sees_the_deadlines_of_bad_reviews_of_their_own_cases() {
    for app in spawn_apps().await {
        // The seed: BJ-1 (瑶海区, handled by C003) has an open rectification; BJ-2 (庐阳区,
        // C004) is appealed, its rectification still open.
        let queue = app
            .db
            .store
            .rectification_queue(None, true, 10)
            .await
            .expect("queue");
        let bj1 = queue
            .iter()
            .find(|q| q.case_id.as_str() == "BJ-1")
            .expect("BJ-1 open");
        let official = app
            .sign_in_as("wangwu", &["official"], &[], Some("C003"))
            .await;
        let page = app.get_as(Some(&official), "/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("我的待办期限"), "{}", page.body);
        let rows = page.table_rows("due");
        assert_eq!(rows.len(), 1, "{}", page.body);
        assert!(rows[0].contains(">BJ-1<"), "{}", rows[0]);
        assert!(rows[0].contains(&bj1.deadline.to_string()), "{}", rows[0]);
        assert!(
            rows[0].contains("个工作日"),
            "working days left or overdue: {}",
            rows[0]
        );
        assert!(!page.body.contains("BJ-2"), "another's case: {}", page.body);
        assert!(
            !page.body.contains("13812345678"),
            "no contact: {}",
            page.body
        );

        let other = app
            .sign_in_as("lisi", &["official"], &[], Some("C002"))
            .await;
        let page = app.get_as(Some(&other), "/").await;
        assert!(page.body.contains("id=\"due-empty\""), "{}", page.body);
        assert!(!page.body.contains("BJ-1"), "{}", page.body);

        // Not a section of those who are not officials.
        let assessor = app
            .sign_in_as("county_assessor", &["assessor"], &["340000"], None)
            .await;
        let page = app.get_as(Some(&assessor), "/").await;
        assert!(!page.body.contains("home-deadlines"), "{}", page.body);

        let page = app.get_as(Some(&official), "/?lang=en").await;
        assert!(page.body.contains("My open deadlines"), "{}", page.body);
        app.finish().await;
    }
}
