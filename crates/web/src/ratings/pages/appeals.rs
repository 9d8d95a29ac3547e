//! Appeals (申诉复核): the unit appeals a review it holds mistaken or malicious, with an
//! optional evidence file; an assessor upholds (the review is excluded from the figures, never
//! deleted) or rejects it, with a reason.

use super::rectification::{load_record, refuse_step, render_case};
use super::{form_value, local_unix, redirect};
use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::auth::{now, token_hash_bytes};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::encode_component;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use kaohe_domain::audit::action;
use kaohe_domain::ratings::{AppealDecision, AppealGround, check_appeal_text};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use kaohe_store::Appeal;
use kaohe_store::StoreError;

/// `POST /service/rectifications/{id}/appeal` (multipart): the unit appeals the review, with
/// an optional evidence file (PDF, PNG or JPEG by content, at most 5 MiB).
pub(crate) async fn file_appeal(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::FileAppeal, &id).await?;
    let mut ground = String::new();
    let mut evidence = String::new();
    let mut files = Vec::new();
    let mut problem: Option<String> = None;
    match multipart {
        Err(e) => problem = Some(format!("form: {e}")),
        Ok(mut form) => loop {
            match form.next_field().await {
                Ok(None) => break,
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file_name = field.file_name().map(str::to_owned);
                    match field.bytes().await {
                        Err(e) => {
                            problem = Some(format!("{name}: {e}"));
                            break;
                        }
                        Ok(bytes) => match (name.as_str(), file_name) {
                            ("ground", _) => ground = String::from_utf8_lossy(&bytes).into_owned(),
                            ("evidence", _) => {
                                evidence = String::from_utf8_lossy(&bytes).into_owned();
                            }
                            ("file", Some(file_name))
                                if !(bytes.is_empty() && file_name.is_empty()) =>
                            {
                                match kaohe_domain::upload::check_upload(
                                    &file_name,
                                    &bytes,
                                    &kaohe_domain::upload::UploadPolicy::default(),
                                ) {
                                    Ok(accepted) => files.push(kaohe_store::NewFile {
                                        name: accepted.name,
                                        kind: accepted.kind,
                                        sha256: token_hash_bytes(&bytes),
                                        bytes: bytes.to_vec(),
                                    }),
                                    Err(e) => problem = Some(format!("file: {e}")),
                                }
                            }
                            _ => {}
                        },
                    }
                }
                Err(e) => {
                    problem = Some(format!("form: {e}"));
                    break;
                }
            }
        },
    }
    if files.len() > 1 {
        problem = Some("file: one evidence file per appeal".into());
    }
    let parsed = match problem {
        Some(p) => Err(p),
        None => ground
            .parse::<AppealGround>()
            .map_err(|e| format!("ground: {e}"))
            .and_then(|g| {
                check_appeal_text("evidence", &evidence)
                    .map(|t| (g, t))
                    .map_err(|e| e.to_string())
            }),
    };
    let (ground, evidence) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return refuse_step(&state, ctx, &caller, r, e).await;
        }
    };
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let appeal = Appeal {
        rating_id: r.rating.id,
        ground,
        evidence: evidence.clone(),
        filed_by: actor.clone(),
        filed_at: now(),
        decision: None,
    };
    let listed: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_json::json!({"name": f.name, "kind": f.kind.code(), "size": f.bytes.len(), "sha256": f.sha256}))
        .collect();
    let audit = NewAuditEntry::new(
        &actor,
        action::APPEAL_FILE,
        format!("rating:{}", r.rating.id),
    )
    .after(
        serde_json::json!({"ground": ground.code(), "evidence": evidence, "files": listed})
            .to_string(),
    );
    if !state
        .store
        .file_appeal_with(&appeal, &files, &audit)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        let fresh = load_record(&state, &ctx, &caller, Permission::FileAppeal, &id).await?;
        return render_case(
            &state,
            ctx.clone(),
            &caller,
            fresh,
            Some(ctx.t("appeal.exists").to_owned()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(redirect(&format!(
        "/service/rectifications/{}",
        r.rating.id
    )))
}

/// `GET /service/rectifications/{id}/files/{file}`: an evidence file, as an attachment.
pub(crate) async fn appeal_file(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
    let not_found = || ctx.fail(ApiError::not_found("file", file.as_str()));
    let file_id: i64 = file.parse().map_err(|_| not_found())?;
    let (info, bytes) = state
        .store
        .appeal_file(r.rating.id, file_id)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(info.kind.content_type()),
    );
    let disposition = format!(
        "attachment; filename=\"evidence-{}.{}\"; filename*=UTF-8''{}",
        info.id,
        info.kind.code(),
        encode_component(&info.name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug)]
struct AppealRow {
    href: String,
    case_id: String,
    item: String,
    unit: String,
    level: &'static str,
    ground: &'static str,
    filed: String,
    decision: String,
}

#[derive(Template)]
#[template(path = "ratings/appeals.html")]
struct AppealsPage {
    ctx: PageCtx,
    /// Pending, then decided.
    sections: Vec<(&'static str, Vec<AppealRow>)>,
}

pub(crate) async fn appeals(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let store = state.store.as_ref();
    let scope: std::collections::HashMap<Code, String> =
        units_in_scope(store, &caller, Permission::DecideAppeal)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
    let mut pending = Vec::new();
    let mut decided = Vec::new();
    for a in store.appeals(false).await.map_err(|e| ctx.fail(e))? {
        let Some(r) = store
            .rectification(a.rating_id)
            .await
            .map_err(|e| ctx.fail(e))?
        else {
            continue;
        };
        let Some(unit) = scope.get(&r.unit) else {
            continue;
        };
        let row = AppealRow {
            href: format!("/service/rectifications/{}", a.rating_id),
            case_id: r.case.case.id.to_string(),
            item: r.case.case.item.clone(),
            unit: unit.clone(),
            level: ctx.label(r.rating.rating.level),
            ground: ctx.label(a.ground),
            filed: format!("{} · {}", a.filed_by, local_unix(&state, a.filed_at)),
            decision: a
                .decision
                .as_ref()
                .map(|(d, reason, _, _)| format!("{}：{reason}", ctx.label(*d)))
                .unwrap_or_default(),
        };
        if a.decision.is_some() {
            decided.push(row);
        } else {
            pending.push(row);
        }
    }
    let sections = vec![
        (ctx.t("appeal.pending_list"), pending),
        (ctx.t("appeal.decided_list"), decided),
    ];
    Ok(render(StatusCode::OK, &AppealsPage { ctx, sections }))
}

/// `POST /service/appeals/{id}`: an assessor upholds or rejects an appeal, with a reason.
pub(crate) async fn decide_appeal(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::DecideAppeal, &id).await?;
    let get = |k: &str| form_value(&form, k);
    let parsed = get("decision")
        .parse::<AppealDecision>()
        .map_err(|e| format!("decision: {e}"))
        .and_then(|d| {
            check_appeal_text("reason", get("reason"))
                .map(|t| (d, t))
                .map_err(|e| e.to_string())
        });
    let (decision, reason) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return refuse_step(&state, ctx, &caller, r, e).await;
        }
    };
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let audit = NewAuditEntry::new(
        &actor,
        action::APPEAL_DECIDE,
        format!("rating:{}", r.rating.id),
    )
    .before(serde_json::json!({"excluded": r.rating.excluded}).to_string())
    .after(
        serde_json::json!({
            "decision": decision.code(),
            "reason": reason,
            "excluded": r.rating.excluded || decision == AppealDecision::Upheld,
        })
        .to_string(),
    );
    let done = match state
        .store
        .decide_appeal(r.rating.id, decision, &reason, &actor, now(), &audit)
        .await
    {
        Err(StoreError::FourEyes(_)) => {
            return render_case(
                &state,
                ctx.clone(),
                &caller,
                r,
                Some(ctx.t("appeal.four_eyes").to_owned()),
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        done => done.map_err(|e| ctx.fail(e))?,
    };
    if !done {
        let fresh = load_record(&state, &ctx, &caller, Permission::DecideAppeal, &id).await?;
        return render_case(
            &state,
            ctx.clone(),
            &caller,
            fresh,
            Some(ctx.t("appeal.not_pending").to_owned()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(redirect(&format!(
        "/service/rectifications/{}",
        r.rating.id
    )))
}
