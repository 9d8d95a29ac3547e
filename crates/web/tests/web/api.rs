//! The JSON API and its OpenAPI document.

use crate::helpers::spawn_apps;
use serde_json::Value;

#[tokio::test]
async fn units_list_and_detail() {
    for app in spawn_apps().await {
        let r = app.get("/api/v1/units?per_page=2&page=3").await;
        assert_eq!(r.status, 200, "{}", app.name);
        let page = r.json();
        assert_eq!(
            (
                page["total"].as_u64(),
                page["page"].as_u64(),
                page["per_page"].as_u64()
            ),
            (Some(5), Some(3), Some(2))
        );
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

        let r = app
            .get("/api/v1/units?kind=county&q=%E7%91%B6")
            .await
            .json();
        let items = r["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["code"], "340102");
        assert_eq!(items[0]["kind"], "county");
        assert_eq!(items[0]["kind_label"]["zh"], "县");
        assert_eq!(items[0]["parent_name"], "合肥市");
        assert_eq!(
            (items[0]["cadres"].as_u64(), items[0]["leaders"].as_u64()),
            (Some(3), Some(2))
        );

        let d = app.get("/api/v1/units/340102").await.json();
        assert_eq!(d["unit"]["name"], "瑶海区");
        assert_eq!(d["parent"]["code"], "340100");
        assert_eq!(d["ancestors"].as_array().map(Vec::len), Some(2));
        assert_eq!(d["children_total"], 1);
        assert_eq!(d["cadres_total"], 3);
        let team: Vec<&str> = d["leadership_team"]
            .as_array()
            .expect("team")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(team, ["张三", "李四"]);

        let missing = app.get("/api/v1/units/NOPE").await;
        assert_eq!(missing.status, 404);
        assert!(
            missing
                .header("content-type")
                .starts_with("application/json")
        );
        let body = missing.json();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("NOPE"))
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn cadres_list_and_detail() {
    for app in spawn_apps().await {
        let r = app
            .get("/api/v1/cadres?leaders=true&unit=340102")
            .await
            .json();
        assert_eq!(r["total"], 2, "{}", app.name);
        assert_eq!(r["items"][0]["unit_name"], "瑶海区");
        assert_eq!(r["items"][0]["rank"], "division_principal");
        assert_eq!(r["items"][0]["birth_date"], "1975-03-01");

        let d = app.get("/api/v1/cadres/C002").await.json();
        let sanctions = d["sanctions"].as_array().expect("sanctions");
        let in_effect: Vec<(&str, bool)> = sanctions
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap_or_default(),
                    s["in_effect"].as_bool().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(in_effect, [("S-OLD", false), ("S-NOW", true)]);
        assert_eq!(sanctions[0]["effective_end"], "2020-04-30");

        let d = app.get("/api/v1/cadres/C001").await.json();
        assert_eq!(d["appointments"].as_array().map(Vec::len), Some(2));
        assert_eq!(d["appointments"][1]["end_date"], Value::Null);
        assert_eq!(d["appointments"][0]["unit_name"], "庐阳区");
        assert_eq!(app.get("/api/v1/cadres/NOPE").await.status, 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_query_parameters_are_422_json_naming_the_parameter() {
    for app in spawn_apps().await {
        for (path, param) in [
            ("/api/v1/cadres?page=abc", "page"),
            ("/api/v1/cadres?per_page=0", "per_page"),
            ("/api/v1/cadres?leaders=maybe", "leaders"),
            ("/api/v1/units?kind=planet", "kind"),
            ("/api/v1/calendar?year=soon", "year"),
            (
                "/api/v1/calendar/working-days?from=2025-02-30&days=1",
                "from",
            ),
        ] {
            let r = app.get(path).await;
            assert_eq!(r.status, 422, "{} {path}", app.name);
            assert!(
                r.header("content-type").starts_with("application/json"),
                "{path}"
            );
            let body = r.json();
            assert_eq!(body["error"]["code"], "invalid_parameter", "{path}");
            assert_eq!(body["error"]["parameter"], param, "{path}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(param)),
                "{path}"
            );
        }
        let r = app.get("/api/v1/no-such-thing").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json()["error"]["code"], "no_route");
        app.finish().await;
    }
}

#[tokio::test]
async fn calendar_stats() {
    for app in spawn_apps().await {
        let c = app.get("/api/v1/calendar?year=2025").await.json();
        let entries = c["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 10, "{}", app.name);
        assert_eq!(entries[0]["date"], "2025-09-28");
        assert_eq!(entries[0]["kind"], "workday");
        assert_eq!(
            app.get("/api/v1/calendar?year=2024").await.json()["entries"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );

        let w = app
            .get("/api/v1/calendar/working-days?from=2025-09-26&days=5")
            .await
            .json();
        assert_eq!(w["due"], "2025-10-10");

        let s = app.get("/api/v1/stats").await.json();
        assert_eq!(
            (
                s["units"].as_u64(),
                s["cadres"].as_u64(),
                s["leaders"].as_u64(),
                s["sanctions"].as_u64(),
                s["calendar"].as_u64()
            ),
            (Some(5), Some(4), Some(2), Some(2), Some(10))
        );
        app.finish().await;
    }
}

/// Every API route, with a URL that reaches it.
const API_ROUTES: &[(&str, &str)] = &[
    ("/api/v1/units", "/api/v1/units"),
    ("/api/v1/units/{code}", "/api/v1/units/340102"),
    ("/api/v1/cadres", "/api/v1/cadres"),
    ("/api/v1/cadres/{id}", "/api/v1/cadres/C001"),
    ("/api/v1/calendar", "/api/v1/calendar"),
    (
        "/api/v1/calendar/working-days",
        "/api/v1/calendar/working-days?from=2025-09-26&days=5",
    ),
    ("/api/v1/stats", "/api/v1/stats"),
    ("/api/v1/service/figures", "/api/v1/service/figures"),
    ("/api/v1/frameworks", "/api/v1/frameworks"),
    ("/api/v1/cycles", "/api/v1/cycles"),
    ("/api/v1/cadres/{id}/results", "/api/v1/cadres/C001/results"),
    (
        "/api/v1/units/{code}/results",
        "/api/v1/units/340102/results",
    ),
    ("/api/v1/records", "/api/v1/records"),
];

/// The routes of a record, which need one (and their POSTs a session): tested in
/// `records.rs`.
const RECORD_ROUTES: &[&str] = &[
    "/api/v1/records/upload",
    "/api/v1/records/{id}",
    "/api/v1/records/{id}/review",
    "/api/v1/records/{id}/amend",
    "/api/v1/records/{id}/files/{file}",
];

/// The routes of polls, which need a session: tested in `polls.rs`.
const POLL_ROUTES: &[&str] = &[
    "/api/v1/polls",
    "/api/v1/polls/{id}",
    "/api/v1/polls/{id}/close",
    "/api/v1/polls/{id}/results",
];

/// The routes of a cycle, which need a cycle (and their POSTs a session): tested in
/// `cycles.rs`.
const CYCLE_ROUTES: &[&str] = &[
    "/api/v1/cycles/{id}",
    "/api/v1/cycles/{id}/open",
    "/api/v1/cycles/{id}/values",
    "/api/v1/cycles/{id}/compute",
    "/api/v1/cycles/{id}/completeness",
    "/api/v1/cycles/{id}/review",
    "/api/v1/cycles/{id}/committee",
    "/api/v1/cycles/{id}/decisions",
    "/api/v1/cycles/{id}/finalize",
    "/api/v1/cycles/{id}/amendments",
    "/api/v1/cycles/{id}/results",
];

/// The API routes that take a POST, with the success status they document.
const API_POSTS: &[(&str, &str)] = &[("/api/v1/cases", "200"), ("/api/v1/ratings", "201")];

#[tokio::test]
async fn openapi_document_lists_every_route_and_swagger_ui_is_served() {
    for app in spawn_apps().await {
        let r = app.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, 200, "{}", app.name);
        let doc = r.json();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let paths = doc["paths"].as_object().expect("paths");
        let documented: Vec<&str> = paths
            .keys()
            .map(String::as_str)
            .filter(|p| p.starts_with("/api/v1"))
            .collect();
        let routed: Vec<&str> = API_ROUTES
            .iter()
            .map(|(p, _)| *p)
            .chain(API_POSTS.iter().map(|(p, _)| *p))
            .chain(CYCLE_ROUTES.iter().copied())
            .chain(RECORD_ROUTES.iter().copied())
            .chain(POLL_ROUTES.iter().copied())
            .collect();
        for (path, status) in API_POSTS {
            let post = &paths[*path]["post"];
            assert!(
                post["responses"][*status].is_object(),
                "{path} documents {status}"
            );
            assert!(post["requestBody"].is_object(), "{path} documents its body");
            assert_eq!(
                post["security"][0]["token"],
                serde_json::json!([]),
                "{path}"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
        let mut sorted = documented.clone();
        sorted.sort_unstable();
        let mut expected = routed.clone();
        expected.sort_unstable();
        assert_eq!(
            sorted, expected,
            "documented API paths differ from the routes"
        );
        assert!(paths.contains_key("/healthz"));

        for (template, url) in API_ROUTES {
            let get = &paths[*template]["get"];
            assert!(get.is_object(), "{template} documents GET");
            assert!(
                get["responses"]["200"].is_object(),
                "{template} documents 200"
            );
            let r = app.get(url).await;
            assert_eq!(r.status, 200, "{url}");
            assert!(
                r.header("content-type").starts_with("application/json"),
                "{url}"
            );
        }
        // Parameters are documented: path and query.
        let unit_params = &paths["/api/v1/units/{code}"]["get"]["parameters"];
        assert_eq!(unit_params[0]["name"], "code");
        assert_eq!(unit_params[0]["in"], "path");
        let list_params: Vec<&str> = paths["/api/v1/cadres"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for name in ["q", "unit", "leaders", "page", "per_page"] {
            assert!(list_params.contains(&name), "{name} in {list_params:?}");
        }
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for name in [
            "UnitPage",
            "UnitDetailOut",
            "CadrePage",
            "CadreDetailOut",
            "CalendarOut",
            "StatsOut",
            "ErrorBody",
        ] {
            assert!(schemas.contains_key(name), "schema {name}");
        }

        let ui = app.get("/api/docs/").await;
        assert_eq!(ui.status, 200);
        assert!(ui.body.to_lowercase().contains("swagger"));
        let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
        assert_eq!(bundle.status, 200, "Swagger UI is served from the binary");
        let redirect = app.get("/api/docs").await;
        assert!(
            matches!(redirect.status, 200 | 301 | 303 | 307 | 308),
            "{}",
            redirect.status
        );
        app.finish().await;
    }
}
