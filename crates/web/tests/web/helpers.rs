//! `spawn_apps`: one running server per backend under test, seeded with a small organization.

use kaohe_domain::WorkCalendar;
use kaohe_domain::ratings::RatingSettings;
use kaohe_domain::ratings::rectification::RectificationPolicy;
use kaohe_domain::ratings::{
    Channel, NewRating, Phone, RatingLevel, RatingPolicy, ReasonTag, ServiceCase,
};
use kaohe_domain::{
    Appointment, Cadre, CadreStatus, CalendarEntry, Code, DayKind, Gender, RankLevel, Sanction,
    SanctionKind, Unit, UnitKind,
};
use kaohe_store::files::Vault;
use kaohe_store::testing::TestDatabase;
use kaohe_store::{IntakeOutcome, RatingIntake, Store, StoredCase};
use kaohe_web::AppState;
use kaohe_web::shell::auth::AuthSettings;
use std::sync::Arc;
use time::{Date, Duration, Month, OffsetDateTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The ballot key of the test servers (pooled ballots are encrypted under it).
pub(crate) fn ballot_key() -> Arc<kaohe_domain::polls::BallotKey> {
    Arc::new(kaohe_domain::polls::BallotKey::from_bytes([42; 32]))
}

/// A cadre whose name tries to inject a script.
pub(crate) const XSS_NAME: &str = "<script>alert(\"x\")</script>赵六";

/// A server running on one backend.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// Client that does not follow redirects.
    pub(crate) client: reqwest::Client,
    /// Backend name, for assertion messages.
    pub(crate) name: &'static str,
    /// Session cookie value sent with every `get`, when signed in (see `accounts.rs`).
    pub(crate) session: Option<String>,
    pub(crate) db: TestDatabase,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

/// A response read whole.
pub(crate) struct Fetched {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Fetched {
    /// Reads a response whole.
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        Self {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Rows of the body of the table with this `id`.
    pub(crate) fn table_rows(&self, id: &str) -> Vec<&str> {
        let marker = format!("id=\"{id}\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no table {id}"));
        let table = &self.body[start..];
        let table = &table[..table.find("</table>").expect("table closes")];
        let tbody = &table[table.find("<tbody>").expect("tbody")..];
        tbody.split("<tr").skip(1).collect()
    }
}

impl TestApp {
    pub(crate) async fn get(&self, path: &str) -> Fetched {
        self.get_with(path, &[]).await
    }

    pub(crate) async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Fetched {
        let mut request = self.client.get(format!("{}{path}", self.base));
        let mut cookies: Vec<String> = self
            .session
            .iter()
            .map(|s| format!("{}={s}", kaohe_web::shell::auth::SESSION_COOKIE))
            .collect();
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("cookie") {
                cookies.push((*v).to_owned());
            } else {
                request = request.header(*k, *v);
            }
        }
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: GET {path}: {e}", self.name));
        Fetched::read(response).await
    }

    /// Stops the server and drops the database.
    pub(crate) async fn finish(self) {
        let _ = self.shutdown.send(());
        self.server.await.expect("server task").expect("server ran");
        self.db.finish().await.expect("database dropped");
    }
}

/// One seeded server per backend under test (SQLite, and PostgreSQL when configured; under
/// `CI=true` a missing PostgreSQL URL fails).
pub(crate) async fn spawn_apps() -> Vec<TestApp> {
    spawn_apps_with(AuthSettings::default()).await
}

/// [`spawn_apps`] with other account settings (e.g. a larger login burst for tests that sign
/// in as many accounts).
pub(crate) async fn spawn_apps_with(auth: AuthSettings) -> Vec<TestApp> {
    spawn_apps_with_settings(auth, RatingSettings::default()).await
}

/// [`spawn_apps`] with other rating settings (e.g. a small public rate limit).
pub(crate) async fn spawn_apps_with_ratings(ratings: RatingSettings) -> Vec<TestApp> {
    spawn_apps_with_settings(AuthSettings::default(), ratings).await
}

/// [`spawn_apps`] with other account and rating settings.
pub(crate) async fn spawn_apps_with_settings(
    auth: AuthSettings,
    ratings: RatingSettings,
) -> Vec<TestApp> {
    spawn_apps_with_records(auth, ratings, |_| (Vault::Database, None)).await
}

/// [`spawn_apps`] with another rate limit of the voting page of polls (e.g. a small one, or
/// one large enough for many ballots from one address).
pub(crate) async fn spawn_apps_with_votes(votes: kaohe_web::VoteLimit) -> Vec<TestApp> {
    spawn_apps_full(
        AuthSettings::default(),
        RatingSettings::default(),
        votes,
        |_| (Vault::Database, None),
    )
    .await
}

/// [`spawn_apps_with`] keeping evidence files where `records` says for each backend (e.g. a
/// directory per backend), with the largest evidence file it gives (`None`: the default).
pub(crate) async fn spawn_apps_with_evidence(
    auth: AuthSettings,
    records: impl Fn(&str) -> (Vault, Option<usize>),
) -> Vec<TestApp> {
    spawn_apps_with_records(auth, RatingSettings::default(), records).await
}

async fn spawn_apps_with_records(
    auth: AuthSettings,
    ratings: RatingSettings,
    records: impl Fn(&str) -> (Vault, Option<usize>),
) -> Vec<TestApp> {
    spawn_apps_full(auth, ratings, kaohe_web::VoteLimit::default(), records).await
}

async fn spawn_apps_full(
    auth: AuthSettings,
    ratings: RatingSettings,
    votes: kaohe_web::VoteLimit,
    records: impl Fn(&str) -> (Vault, Option<usize>),
) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in TestDatabase::all().await.expect("test databases") {
        seed(db.store.as_ref()).await;
        let evidence = records(db.name);
        let mut app = spawn(db, true, (auth, ratings, votes), evidence).await;
        // Organization data needs an account: an assessor of the whole province.
        app.session = Some(
            app.sign_in_as("tester", &["assessor"], &["340000"], None)
                .await,
        );
        apps.push(app);
    }
    apps
}

async fn spawn(
    db: TestDatabase,
    demo: bool,
    (auth, ratings, votes): (AuthSettings, RatingSettings, kaohe_web::VoteLimit),
    (evidence, max_upload): (Vault, Option<usize>),
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let state = AppState {
        demo,
        auth,
        ratings,
        votes,
        evidence,
        record_upload_max_bytes: max_upload.unwrap_or(kaohe_web::DEFAULT_RECORD_UPLOAD_BYTES),
        ..AppState::new(Arc::clone(&db.store), ballot_key())
    };
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(kaohe_web::serve(listener, state, async {
        let _ = stop.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base: format!("http://{addr}"),
        client,
        name: db.name,
        session: None,
        db,
        shutdown,
        server,
    }
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("valid code")
}

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).expect("month"), d).expect("date")
}

fn unit(c: &str, name: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
    Unit {
        code: code(c),
        name: name.into(),
        kind,
        parent: parent.map(code),
    }
}

pub(crate) fn cadre(
    id: &str,
    name: &str,
    unit: &str,
    post: &str,
    rank: RankLevel,
    is_leader: bool,
) -> Cadre {
    Cadre {
        id: code(id),
        name: name.into(),
        gender: Gender::Female,
        ethnicity: "汉族".into(),
        birth_date: date(1975, 3, 1),
        unit: code(unit),
        post: post.into(),
        rank,
        is_leader,
        status: CadreStatus::Active,
    }
}

/// Five units (province → city → two counties, and a department), four cadres, history,
/// sanctions, and the 2025 National Day calendar.
/// The audit entry each seeding write appends.
pub(crate) fn seed_audit(table: &str) -> kaohe_domain::NewAuditEntry {
    kaohe_domain::NewAuditEntry::new("test", format!("seed.{table}"), "helpers.rs")
}

async fn seed(store: &dyn Store) {
    store
        .upsert_units(
            &[
                unit("340000", "安徽省", UnitKind::Province, None),
                unit("340100", "合肥市", UnitKind::City, Some("340000")),
                unit("340102", "瑶海区", UnitKind::County, Some("340100")),
                unit("340103", "庐阳区", UnitKind::County, Some("340100")),
                unit(
                    "340102-FGW",
                    "瑶海区发展和改革委员会",
                    UnitKind::Department,
                    Some("340102"),
                ),
            ],
            &seed_audit("units"),
        )
        .await
        .expect("units");
    store
        .upsert_cadres(
            &[
                cadre(
                    "C001",
                    "张三",
                    "340102",
                    "区长",
                    RankLevel::DivisionPrincipal,
                    true,
                ),
                cadre(
                    "C002",
                    "李四",
                    "340102",
                    "副区长",
                    RankLevel::DivisionDeputy,
                    true,
                ),
                cadre(
                    "C003",
                    "王五",
                    "340102",
                    "一级科员",
                    RankLevel::Staff1,
                    false,
                ),
                cadre("C004", XSS_NAME, "340103", "科员", RankLevel::Staff2, false),
            ],
            &seed_audit("cadres"),
        )
        .await
        .expect("cadres");
    store
        .upsert_appointments(
            &[
                Appointment {
                    cadre: code("C001"),
                    unit: code("340103"),
                    post: "副区长".into(),
                    rank: RankLevel::DivisionDeputy,
                    start_date: date(2016, 1, 4),
                    end_date: Some(date(2021, 6, 30)),
                },
                Appointment {
                    cadre: code("C001"),
                    unit: code("340102"),
                    post: "区长".into(),
                    rank: RankLevel::DivisionPrincipal,
                    start_date: date(2021, 7, 1),
                    end_date: None,
                },
            ],
            &seed_audit("appointments"),
        )
        .await
        .expect("appointments");
    let today = OffsetDateTime::now_utc().date();
    store
        .upsert_sanctions(
            &[
                Sanction {
                    id: code("S-OLD"),
                    cadre: code("C002"),
                    kind: SanctionKind::Demerit,
                    start_date: date(2019, 5, 1),
                    end_date: None,
                    reason: "违反工作纪律".into(),
                },
                Sanction {
                    id: code("S-NOW"),
                    cadre: code("C002"),
                    kind: SanctionKind::Warning,
                    start_date: today - Duration::days(30),
                    end_date: None,
                    reason: "形式主义问题".into(),
                },
            ],
            &seed_audit("sanctions"),
        )
        .await
        .expect("sanctions");
    let mut calendar: Vec<CalendarEntry> = (1..=8)
        .map(|d| CalendarEntry {
            date: date(2025, 10, d),
            kind: DayKind::Holiday,
            name: "国庆节、中秋节".into(),
        })
        .collect();
    for d in [date(2025, 9, 28), date(2025, 10, 11)] {
        calendar.push(CalendarEntry {
            date: d,
            kind: DayKind::Workday,
            name: "国庆节调休".into(),
        });
    }
    store
        .upsert_calendar(&calendar, &seed_audit("calendar"))
        .await
        .expect("calendar");
    seed_ratings(store).await;
}

/// A service case of the seed, closed `closed_days_ago`, rated at `/rate/{code}`.
fn case(id: &str, unit: &str, official: &str, phone: &str, closed_days_ago: i64) -> StoredCase {
    let closed = OffsetDateTime::now_utc() - Duration::days(closed_days_ago);
    StoredCase {
        case: ServiceCase {
            id: code(id),
            item: "不动产登记".into(),
            unit: code(unit),
            window: Some(code("W-01")),
            officials: vec![code(official)],
            channel: Channel::Window,
            accepted_at: closed - Duration::hours(30),
            closed_at: closed,
            applicant: Some("赵晓梅".into()),
            phone: Some(Phone::parse(phone).expect("phone")),
        },
        rating_code: format!("rate-{}", id.to_lowercase()),
    }
}

/// Service cases: BJ-1 (瑶海区, C003) and BJ-2 (庐阳区, C004) with bad reviews, so rating 1 is
/// a real-name bad review of 瑶海区 and rating 2 an anonymous one of 庐阳区; BJ-3 (瑶海区)
/// unrated; BJ-OLD closed 40 days ago, past the rating window.
async fn seed_ratings(store: &dyn Store) {
    let cases = [
        case("BJ-1", "340102", "C003", "13812345678", 2),
        case("BJ-2", "340103", "C004", "13900001111", 2),
        case("BJ-3", "340102", "C003", "13700002222", 1),
        case("BJ-OLD", "340102", "C003", "13600003333", 40),
    ];
    store
        .upsert_cases(&cases, &seed_audit("service_cases"))
        .await
        .expect("cases");
    let calendar = WorkCalendar::new(&store.calendar().await.expect("calendar"));
    let mut intakes = Vec::new();
    for (case, level, real_name) in [
        (&cases[0], RatingLevel::VeryDissatisfied, true),
        (&cases[1], RatingLevel::Dissatisfied, false),
    ] {
        let rating = NewRating {
            case_id: case.case.id.clone(),
            level,
            tags: vec![ReasonTag::Attitude],
            comment: Some("窗口人员态度冷淡".into()),
            channel: Channel::QrCode,
            real_name,
            contact: None,
        };
        let at = case.case.closed_at + Duration::hours(2);
        intakes.push(
            RatingIntake::prepare(
                case,
                rating,
                at,
                kaohe_web::CHINA_STANDARD_TIME,
                &RatingPolicy::default(),
                &calendar,
                &RectificationPolicy::default(),
            )
            .expect("rating"),
        );
    }
    let out = store.insert_ratings(&intakes).await.expect("ratings");
    assert!(out.iter().all(|o| matches!(o, IntakeOutcome::Stored(_))));
    // 庐阳区 appeals its bad review (rating 2) with a screenshot: file 1.
    let appeal = kaohe_store::Appeal {
        rating_id: 2,
        ground: kaohe_domain::ratings::AppealGround::NotResponsible,
        evidence: "系统故障导致超时".into(),
        filed_by: "seed".into(),
        filed_at: 1,
        decision: None,
    };
    let file = kaohe_store::NewFile {
        name: "截图.png".into(),
        kind: kaohe_domain::upload::FileKind::Png,
        sha256: "0".repeat(64),
        bytes: PNG_EVIDENCE.to_vec(),
    };
    assert!(
        store
            .file_appeal_with(&appeal, &[file], &seed_audit("appeals"))
            .await
            .expect("appeal")
    );
}

/// The content of the seeded evidence file: a PNG signature and a little more.
pub(crate) const PNG_EVIDENCE: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-seed";
