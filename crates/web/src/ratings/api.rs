//! The JSON API of ratings: service systems push closed cases and ratings with a token
//! (`POST /api/v1/cases`, `POST /api/v1/ratings`); the satisfaction figures
//! (`GET /api/v1/service/figures`).

use super::figures::{figures, figures_params};
use super::intake::{Accepted, RatingWriter, new_rating_code, take_rating};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::json::{JsonBody, parse_body};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kaohe_domain::audit::action;
use kaohe_domain::ratings::{
    CaseError, Channel, NewRating, Phone, RatingLevel, ReasonTag, ServiceCase,
};
use kaohe_domain::{Code, NewAuditEntry};
use kaohe_store::{StoreError, StoredCase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Most cases one `POST /api/v1/cases` may carry.
const MAX_CASES_PER_REQUEST: usize = 1000;

/// A service case as a service system pushes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseIn {
    /// Case number (办件编号).
    #[schema(example = "BJ-2026-000123")]
    id: String,
    /// Service item (事项名称).
    #[schema(example = "不动产登记")]
    item: String,
    /// Code of the responsible unit.
    unit: String,
    /// Code of the service window.
    #[serde(default)]
    window: Option<String>,
    /// Cadre ids of the handling officials, main one first.
    #[serde(default)]
    officials: Vec<String>,
    /// Channel code: window, online, mobile, qr_code, hotline, sms, self_service.
    #[schema(value_type = String, example = "window")]
    channel: Channel,
    /// Accepted (受理), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, example = "2026-03-02T09:00:00+08:00")]
    accepted_at: OffsetDateTime,
    /// Closed (办结), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, example = "2026-03-04T15:00:00+08:00")]
    closed_at: OffsetDateTime,
    /// Applicant's name.
    #[serde(default)]
    applicant: Option<String>,
    /// Applicant's phone, for the callback.
    #[serde(default)]
    phone: Option<String>,
}

/// Cases pushed at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CasesIn {
    /// The cases, at most 1,000.
    cases: Vec<CaseIn>,
}

/// A stored case and where it is rated.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseOut {
    /// Case number.
    id: String,
    /// Path of its public rating page, for the receipt's QR code.
    #[schema(example = "/rate/k3q8d0x2m5v7b1c9")]
    rate_path: String,
}

fn field<T, E: std::fmt::Display>(
    name: impl FnOnce() -> String,
    r: Result<T, E>,
) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid_field(name(), e.to_string()))
}

/// `POST /api/v1/cases`: a service system reports closed cases (insert or update by id).
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "ratings",
    request_body = CasesIn,
    responses(
        (status = 200, description = "Stored; each case with the path of its rating page", body = [CaseOut]),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "A field is invalid, or names an unknown unit or official", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub(super) async fn push_cases(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Json<Vec<CaseOut>>, ApiError> {
    let input: CasesIn = parse_body(&body)?;
    if input.cases.len() > MAX_CASES_PER_REQUEST {
        return Err(ApiError::invalid_field(
            "cases",
            format!("at most {MAX_CASES_PER_REQUEST} cases per request"),
        ));
    }
    let store = state.store.as_ref();
    let mut known_units = HashMap::new();
    let mut known_cadres = HashMap::new();
    let mut seen = BTreeSet::new();
    let mut stored = Vec::with_capacity(input.cases.len());
    for (i, c) in input.cases.into_iter().enumerate() {
        let at = |f: &str| format!("cases[{i}].{f}");
        let id = field(|| at("id"), Code::parse(&c.id))?;
        if !seen.insert(id.clone()) {
            return Err(ApiError::invalid_field(at("id"), "the same case twice"));
        }
        let unit = field(|| at("unit"), Code::parse(&c.unit))?;
        if !*known_units
            .entry(unit.clone())
            .or_insert(store.get_unit(&unit).await?.is_some())
        {
            return Err(ApiError::invalid_field(
                at("unit"),
                format!("no unit {unit}"),
            ));
        }
        let mut officials = Vec::with_capacity(c.officials.len());
        for (j, o) in c.officials.iter().enumerate() {
            let o = field(|| at(&format!("officials[{j}]")), Code::parse(o))?;
            if !*known_cadres
                .entry(o.clone())
                .or_insert(store.get_cadre(&o).await?.is_some())
            {
                return Err(ApiError::invalid_field(
                    at(&format!("officials[{j}]")),
                    format!("no cadre {o}"),
                ));
            }
            officials.push(o);
        }
        let case = ServiceCase {
            id,
            item: c.item.trim().to_owned(),
            unit,
            window: c
                .window
                .as_deref()
                .filter(|w| !w.trim().is_empty())
                .map(|w| field(|| at("window"), Code::parse(w)))
                .transpose()?,
            officials,
            channel: c.channel,
            accepted_at: c.accepted_at,
            closed_at: c.closed_at,
            applicant: c.applicant.filter(|a| !a.trim().is_empty()),
            phone: c
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| field(|| at("phone"), Phone::parse(p)))
                .transpose()?,
        };
        case.check().map_err(|e| {
            let name = match e {
                CaseError::Empty(f) | CaseError::TooLong(f) => f,
                CaseError::ClosedBeforeAccepted => "closed_at",
                CaseError::DuplicateOfficial(_) => "officials",
            };
            ApiError::invalid_field(at(name), e.to_string())
        })?;
        stored.push(StoredCase {
            case,
            rating_code: new_rating_code(),
        });
    }
    let actor = caller.0.username().unwrap_or("api").to_owned();
    let audit = NewAuditEntry::new(&actor, action::CASES_PUSH, "service_cases")
        .after(format!(r#"{{"cases":{}}}"#, stored.len()));
    match store.upsert_cases(&stored, &audit).await {
        Err(StoreError::Conflict(reason)) => {
            return Err(ApiError::Conflict {
                code: "case_rated",
                reason,
            });
        }
        done => done?,
    }
    // A case pushed again keeps its first code: read back the codes in one query.
    let ids: Vec<Code> = stored.iter().map(|s| s.case.id.clone()).collect();
    let codes: HashMap<Code, String> = store
        .cases_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.case.id, c.rating_code))
        .collect();
    let out = ids
        .into_iter()
        .map(|id| CaseOut {
            rate_path: format!("/rate/{}", codes.get(&id).map_or("", String::as_str)),
            id: id.to_string(),
        })
        .collect();
    Ok(Json(out))
}

/// A rating as a service system sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatingIn {
    /// Case number.
    #[schema(example = "BJ-2026-000123")]
    case_id: String,
    /// Level: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    #[schema(minimum = 1, maximum = 5, example = 5)]
    level: u8,
    /// Reason tag codes.
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["efficient"]))]
    tags: Vec<ReasonTag>,
    /// Free comment.
    #[serde(default)]
    comment: Option<String>,
    /// Channel code of the rating.
    #[schema(value_type = String, example = "online")]
    channel: Channel,
    /// Given under the rater's name (a bad review then needs a callback).
    #[serde(default)]
    real_name: bool,
    /// Phone for the callback, if other than the applicant's.
    #[serde(default)]
    contact: Option<String>,
}

/// A stored rating.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingOut {
    /// Rating number.
    id: i64,
    /// Case number.
    case_id: String,
    /// Level, 1–5.
    level: u8,
    /// Received, RFC 3339.
    rated_at: String,
    /// For a bad review: the deadline of its rectification.
    #[serde(skip_serializing_if = "Option::is_none")]
    rectification_deadline: Option<String>,
}

/// `POST /api/v1/ratings`: a rating of a closed case, one per case.
#[utoipa::path(
    post,
    path = "/api/v1/ratings",
    tag = "ratings",
    request_body = RatingIn,
    responses(
        (status = 201, description = "Stored and committed", body = RatingOut),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case was rated already", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the rating window is closed", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub(super) async fn post_rating(
    State(state): State<AppState>,
    Extension(writer): Extension<RatingWriter>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: RatingIn = parse_body(&body)?;
    let case_id = field(|| "case_id".to_owned(), Code::parse(&input.case_id))?;
    let level = RatingLevel::from_value(input.level)
        .ok_or_else(|| ApiError::invalid_field("level", "a level is 1 to 5"))?;
    let contact = input
        .contact
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| field(|| "contact".to_owned(), Phone::parse(c)))
        .transpose()?;
    let rating = NewRating {
        case_id,
        level,
        tags: input.tags,
        comment: input.comment,
        channel: input.channel,
        real_name: input.real_name,
        contact,
    };
    let Accepted {
        rating: stored,
        deadline,
    } = take_rating(&state, &writer, rating).await?;
    let out = RatingOut {
        id: stored.id,
        case_id: stored.rating.case_id.to_string(),
        level: stored.rating.level.value(),
        rated_at: stored
            .rated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        rectification_deadline: deadline.map(|d| d.to_string()),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Query of the figures.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct FiguresQuery {
    /// Grouping: unit, official, window or item (default unit).
    by: Option<String>,
    /// First day, YYYY-MM-DD (default: the day after the same day a year ago: the last 12
    /// months).
    from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    to: Option<String>,
}

/// Figures of one group.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GroupOut {
    /// Unit code, cadre id, window code or service item.
    key: String,
    /// Ratings counted.
    ratings: u64,
    /// Ratings excluded by upheld appeals.
    excluded: u64,
    /// Satisfaction rate (levels 3–5), 0–1.
    satisfaction_rate: Option<f64>,
    /// Bad-review rate (levels 1–2), 0–1.
    bad_rate: Option<f64>,
    /// Bad reviews whose rectification closed, 0–1.
    rectification_rate: Option<f64>,
    /// Rectifications closed by their deadline, 0–1.
    on_time_rate: Option<f64>,
    /// Bad reviews called back, 0–1.
    callback_rate: Option<f64>,
    /// Satisfaction shrunk toward all groups' rate, for rankings, 0–1.
    shrunk_satisfaction: f64,
    /// 95% interval of the shrunk satisfaction.
    shrunk_interval: [f64; 2],
}

/// Figures of a period.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FiguresOut {
    /// Grouping.
    by: String,
    /// First day.
    from: String,
    /// Last day.
    to: String,
    /// Ratings counted in scope.
    ratings: u64,
    /// Per group.
    groups: Vec<GroupOut>,
    /// Ratings flagged for review: id, case, kinds (burst, repeat_contact, odd_hour).
    #[schema(value_type = Vec<Object>)]
    flagged: Vec<serde_json::Value>,
}

/// `GET /api/v1/service/figures`: satisfaction figures of the units in scope.
#[utoipa::path(
    get,
    path = "/api/v1/service/figures",
    tag = "ratings",
    params(FiguresQuery),
    responses(
        (status = 200, description = "Figures", body = FiguresOut),
        (status = 422, description = "Invalid parameter", body = ErrorBody),
    )
)]
pub(super) async fn get_figures(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<FiguresQuery>,
) -> Result<Json<FiguresOut>, ApiError> {
    let (by, from, to) =
        figures_params(&state, q.by.as_deref(), q.from.as_deref(), q.to.as_deref())?;
    let f = figures(&state, &caller, by, from, to).await?;
    Ok(Json(FiguresOut {
        by: by.code().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        ratings: f.all.ratings,
        groups: f
            .groups
            .into_iter()
            .map(|g| GroupOut {
                key: g.key,
                ratings: g.tally.ratings,
                excluded: g.tally.excluded,
                satisfaction_rate: g.figures.satisfaction_rate,
                bad_rate: g.figures.bad_rate,
                rectification_rate: g.figures.rectification_rate,
                on_time_rate: g.figures.on_time_rate,
                callback_rate: g.figures.callback_rate,
                shrunk_satisfaction: g.shrunk.value,
                shrunk_interval: [g.shrunk.low, g.shrunk.high],
            })
            .collect(),
        flagged: f
            .flagged
            .into_iter()
            .map(|(id, case, kinds)| serde_json::json!({"rating_id": id, "case_id": case, "kinds": kinds}))
            .collect(),
    }))
}
