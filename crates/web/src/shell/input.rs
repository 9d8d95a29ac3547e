//! Text received on any route, checked once before any handler sees it: a character no text
//! may hold (`kaohe_domain::text::check_text`: NUL and other control characters, bidirectional
//! formatting and invisible characters) in a query parameter, a form field (urlencoded or a
//! text part of a multipart form) or any string or key of a JSON body is refused with 422
//! naming the field, so that it never reaches the store (PostgreSQL refuses NUL in text) nor a
//! page.
//!
//! Forms are read with axum's own `Form` and `Multipart` extractors (multer underneath); the
//! CSRF check reads its field through [`form_fields`] as well.

use super::page::error_response;
use super::{ApiError, AppState, MAX_BODY_BYTES};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kaohe_domain::text::{TextError, check_text, may_hold_forbidden};
use serde_json::Value;

/// The text fields of a urlencoded or multipart form body, in order; `None` when the body is
/// not a form or does not parse as one. File parts of a multipart form are left out.
pub(crate) async fn form_fields(
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Vec<(String, String)>> {
    let content_type = headers.get(CONTENT_TYPE)?.clone();
    let request = || {
        // POST: for GET, axum's `Form` reads the query string instead of the body.
        let mut r = Request::new(Body::from(body.clone()));
        *r.method_mut() = Method::POST;
        r.headers_mut().insert(CONTENT_TYPE, content_type.clone());
        r
    };
    let text = content_type.to_str().ok()?;
    if text.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request(), &())
            .await
            .ok()?;
        return Some(pairs);
    }
    if !text.starts_with("multipart/form-data") {
        return None;
    }
    let mut multipart = Multipart::from_request(request(), &()).await.ok()?;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.ok()? {
        if field.file_name().is_some() {
            continue;
        }
        let name = field.name().unwrap_or_default().to_owned();
        fields.push((name, field.text().await.ok()?));
    }
    Some(fields)
}

/// The first forbidden character in a JSON value, with the path of its field (`comment`,
/// `cases[3].applicant`, as the API's other field errors; a key is named by its own path).
fn check_json(path: &str, value: &Value) -> Result<(), TextError> {
    match value {
        Value::String(s) => check_text(if path.is_empty() { "body" } else { path }, s),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_json(&format!("{path}[{i}]"), v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_text(&field, k)?;
            check_json(&field, v)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// Middleware: refuses a request whose query, form or JSON body holds a forbidden character
/// (422, the field named: the API's `invalid_field` error, the error page elsewhere).
pub(crate) async fn text_guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let refuse = |request: &Request, e: TextError| {
        tracing::info!(path = %request.uri().path(), field = %e.field, "text refused");
        error_response(
            request.uri(),
            request.headers(),
            state.demo,
            ApiError::invalid_field(e.field.clone(), e.to_string()),
        )
    };
    if request.uri().query().is_some() {
        let pairs = Query::<Vec<(String, String)>>::try_from_uri(request.uri())
            .map(|q| q.0)
            .unwrap_or_default();
        if let Err(e) = pairs
            .iter()
            .try_for_each(|(k, v)| check_text(k, k).and_then(|()| check_text(k, v)))
        {
            return refuse(&request, e);
        }
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let checked = if is_json(&parts.headers) {
        if may_hold_forbidden(&bytes) {
            serde_json::from_slice::<Value>(&bytes).map_or(Ok(()), |value| check_json("", &value))
        } else {
            Ok(())
        }
    } else {
        form_fields(&parts.headers, &bytes)
            .await
            .unwrap_or_default()
            .iter()
            .try_for_each(|(k, v)| check_text(k, k).and_then(|()| check_text(k, v)))
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    match checked {
        Ok(()) => next.run(request).await,
        Err(e) => refuse(&request, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn form_fields_of_urlencoded_and_multipart_bodies() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let body = Bytes::from_static(b"username=a&csrf=x%2By");
        assert_eq!(
            form_fields(&h, &body).await,
            Some(vec![
                ("username".to_owned(), "a".to_owned()),
                ("csrf".to_owned(), "x+y".to_owned())
            ])
        );
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let body = Bytes::from_static(b"--XyZ\r\nContent-Disposition: form-data; name=\"csrfx\"\r\n\r\nno\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok-1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n");
        assert_eq!(
            form_fields(&h, &body).await,
            Some(vec![
                ("csrfx".to_owned(), "no".to_owned()),
                ("csrf".to_owned(), "tok-1".to_owned())
            ])
        );
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(form_fields(&h, &body).await, None);
    }

    #[test]
    fn json_fields_are_named_by_their_path() {
        let value: Value =
            serde_json::from_str(r#"{"cases":[{"id":"BJ-1"},{"applicant":"赵\u0000"}]}"#)
                .expect("json");
        let e = check_json("", &value).expect_err("refused");
        assert_eq!(e.field, "cases[1].applicant");
        let value: Value = serde_json::from_str(r#"{"a\u202eb":1}"#).expect("json");
        assert_eq!(
            check_json("", &value).expect_err("refused").field,
            "a\u{202e}b"
        );
    }
}
