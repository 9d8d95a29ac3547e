//! The JSON API under `/api/v1`, documented with OpenAPI: the document's fixed parts (title,
//! the tags of every capability, the token scheme of service systems) and the API routes of the
//! shell and of every capability.
//!
//! Enumerations are exchanged as their stable codes (`"kind": "county"`), each beside a
//! `…_label` object with the Chinese and English labels. Dates are `YYYY-MM-DD`.

use crate::shell::AppState;
use crate::{cycles, org, polls, ratings, records, shell};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The OpenAPI document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kaohe API",
        description = "JSON API of kaohe (考核), a self-hosted system for assessing the performance of public officials. Errors are `{\"error\": {\"code\", \"message\", \"parameter\"?}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "units", description = "Units (单位) and their leadership teams (领导班子)"),
        (name = "cadres", description = "Cadres (干部), their appointment history and sanctions"),
        (name = "calendar", description = "Working-day calendar (工作日历)"),
        (name = "meta", description = "Health and statistics"),
        (name = "ratings", description = "Public ratings of services (好差评): cases and ratings pushed by service systems with a token, satisfaction figures"),
        (name = "records", description = "Work records (全程纪实): dated facts of officials' work with their source and evidence, verified by a second assessor (four eyes), corrected by amendment, never edited or deleted"),
        (name = "polls", description = "Democratic evaluation and recommendation polls (民主测评、民主推荐): definitions, codes issued and used per group, closing, results after the close with a quorum. Codes and ballots are never readable"),
        (name = "cycles", description = "Assessment cycles (考核周期): framework versions, cycles from draft to final, values, computing, the assessment committee (考核委员会), amendments, results"),
    ),
    modifiers(&TokenScheme)
)]
struct ApiDoc;

/// Declares the bearer token of service systems (`kaohe token issue`).
struct TokenScheme;

impl utoipa::Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API token of a service system account, issued by `kaohe token issue`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The API routes, with their OpenAPI description.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(org::api_router())
        .merge(ratings::api_router())
        .merge(cycles::api_router())
        .merge(records::api_router())
        .merge(polls::api_router())
        .merge(shell::api::router());
    document_json_only(router.get_openapi_mut());
    router
}

/// Adds the answer of a body that is not JSON (415 `unsupported_media_type`, from
/// `shell::json::JsonBody` or axum's `Json`) to every operation that takes a JSON body.
fn document_json_only(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let refused = ResponseBuilder::new()
        .description("The body is not JSON (`Content-Type` is not `application/json`)")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let takes_json = operation
                .request_body
                .as_ref()
                .is_some_and(|body| body.content.contains_key("application/json"));
            if takes_json {
                operation
                    .responses
                    .responses
                    .entry("415".to_owned())
                    .or_insert_with(|| refused.clone().into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_documents_every_route() {
        let doc = router().into_openapi();
        let paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        for p in [
            "/healthz",
            "/api/v1/units",
            "/api/v1/units/{code}",
            "/api/v1/cadres",
            "/api/v1/cadres/{id}",
            "/api/v1/calendar",
            "/api/v1/calendar/working-days",
            "/api/v1/stats",
            "/api/v1/frameworks",
            "/api/v1/cycles",
            "/api/v1/cycles/{id}",
            "/api/v1/cycles/{id}/values",
            "/api/v1/cycles/{id}/committee",
            "/api/v1/cycles/{id}/results",
            "/api/v1/cadres/{id}/results",
            "/api/v1/units/{code}/results",
            "/api/v1/records",
            "/api/v1/records/upload",
            "/api/v1/records/{id}",
            "/api/v1/records/{id}/review",
            "/api/v1/records/{id}/amend",
            "/api/v1/records/{id}/files/{file}",
            "/api/v1/polls",
            "/api/v1/polls/{id}",
            "/api/v1/polls/{id}/close",
            "/api/v1/polls/{id}/results",
        ] {
            assert!(paths.contains(&p), "{p} missing from {paths:?}");
        }
        let json = serde_json::to_value(&doc).expect("serializes");
        let mut json_bodies = 0;
        for (path, item) in json["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let body = &operation["requestBody"]["content"];
                let multipart = body.get("multipart/form-data").is_some();
                let answers_415 = operation["responses"].get("415").is_some();
                if body.get("application/json").is_some() {
                    json_bodies += 1;
                    assert!(answers_415, "{method} {path}: no 415 documented");
                } else if multipart {
                    assert!(!answers_415, "{method} {path}: 415 for a multipart body");
                }
            }
        }
        assert!(json_bodies >= 5, "only {json_bodies} JSON bodies");
        for schema in [
            "UnitPage",
            "UnitDetailOut",
            "CadrePage",
            "CadreDetailOut",
            "ErrorBody",
            "Label",
        ] {
            assert!(
                json["components"]["schemas"].get(schema).is_some(),
                "{schema}"
            );
        }
    }
}
