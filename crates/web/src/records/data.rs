//! What the pages and the API of records share: who may read or act on a record, the records
//! in a caller's scope, the frameworks that name their indicators, the fields of a new record
//! as a form or a multipart request gives them, and the errors of the steps of records.

use crate::org::data::{ancestor_codes, units_in_scope};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::auth::token_hash_bytes;
use crate::shell::error::ApiError;
use crate::shell::params::{FromQuery, QueryParams};
use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use kaohe_domain::records::{RecordError, RecordKind, RecordSource};
use kaohe_domain::upload::{RECORD_KINDS, UploadPolicy, check_upload};
use kaohe_domain::{Cadre, Code, Labeled};
use kaohe_engine::Framework;
use kaohe_engine::framework::{Indicator, RecordRuleError};
use kaohe_store::files::VaultError;
use kaohe_store::records::work::{RecordInput, RecordWorkError};
use kaohe_store::records::{Record, RecordQuery};
use kaohe_store::{NewFile, Store, StoreError};
use std::collections::HashMap;
use time::Date;

/// The frameworks named by some records, by id and version, parsed once.
#[derive(Default)]
pub(super) struct Frameworks(HashMap<(String, String), Option<Framework>>);

impl Frameworks {
    /// Reads the frameworks of `records` not yet known.
    pub(super) async fn load(
        &mut self,
        store: &dyn Store,
        records: &[Record],
    ) -> Result<(), StoreError> {
        for r in records {
            let key = (r.framework_id.clone(), r.framework_version.clone());
            if self.0.contains_key(&key) {
                continue;
            }
            let parsed = store
                .framework(&key.0, &key.1)
                .await?
                .and_then(|f| Framework::from_toml_str(&f.source).ok());
            self.0.insert(key, parsed);
        }
        Ok(())
    }

    /// The framework of a record, when stored and valid.
    pub(super) fn of(&self, r: &Record) -> Option<&Framework> {
        self.0
            .get(&(r.framework_id.clone(), r.framework_version.clone()))
            .and_then(Option::as_ref)
    }

    /// The indicator of a record, when its framework has it.
    pub(super) fn indicator(&self, r: &Record) -> Option<&Indicator> {
        self.of(r)
            .and_then(|fw| fw.indicators().iter().find(|i| i.id == r.indicator))
    }
}

/// A cadre, when the caller holds `permission` on them; 404 for an unknown cadre.
pub(super) async fn cadre_for(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
    id: &Code,
) -> Result<Cadre, ApiError> {
    let cadre = store
        .get_cadre(id)
        .await?
        .ok_or_else(|| ApiError::not_found("cadre", id.as_str()))?;
    let ancestors = ancestor_codes(store, &cadre.unit).await?;
    caller.check(
        permission,
        Target::Cadre {
            id: &cadre.id,
            unit: &cadre.unit,
            unit_ancestors: &ancestors,
        },
    )?;
    Ok(cadre)
}

/// Whether the caller holds `permission` on the official of record `r`.
pub(super) async fn may_on(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
    r: &Record,
) -> Result<bool, StoreError> {
    let ancestors = ancestor_codes(store, &r.unit).await?;
    Ok(caller.0.may(
        permission,
        Target::Cadre {
            id: &r.cadre,
            unit: &r.unit,
            unit_ancestors: &ancestors,
        },
    ))
}

/// Record `id`, when the caller may read it: an assessor or unit leader those of the officials
/// in their scope (`ViewRecords`), an official their own (`ViewOwnRecords`).
pub(super) async fn readable(
    store: &dyn Store,
    caller: &Caller,
    id: &str,
) -> Result<Record, ApiError> {
    let not_found = || ApiError::not_found("record", id);
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let r = store.record(number).await?.ok_or_else(not_found)?;
    if may_on(store, caller, Permission::ViewRecords, &r).await?
        || may_on(store, caller, Permission::ViewOwnRecords, &r).await?
    {
        Ok(r)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Record `id`, when the caller holds `permission` on its official.
pub(super) async fn record_for(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
    id: &str,
) -> Result<Record, ApiError> {
    let not_found = || ApiError::not_found("record", id);
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let r = store.record(number).await?.ok_or_else(not_found)?;
    if may_on(store, caller, permission, &r).await? {
        Ok(r)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The query of the records the caller may read: an official their own, others those of the
/// officials of the units in their scope for `permission`.
pub(super) async fn scoped_query(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
    mut query: RecordQuery,
) -> Result<RecordQuery, ApiError> {
    if caller.0.holds(permission) {
        let units = units_in_scope(store, caller, permission).await?;
        query.units = Some(units.into_iter().map(|u| u.code).collect());
        return Ok(query);
    }
    let own = own_cadre(caller);
    let own = own.ok_or(ApiError::Forbidden)?;
    if query.cadre.as_ref().is_some_and(|c| *c != own) {
        return Err(ApiError::Forbidden);
    }
    query.cadre = Some(own);
    Ok(query)
}

/// The official's own cadre record, for an account that may read its own records.
pub(super) fn own_cadre(caller: &Caller) -> Option<Code> {
    match &caller.0 {
        kaohe_domain::access::Principal::User(u) if caller.0.holds(Permission::ViewOwnRecords) => {
            u.cadre.clone()
        }
        _ => None,
    }
}

/// Filters of the list.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// One official's records.
    #[param(value_type = Option<String>, example = "C001")]
    pub(super) cadre: Option<Code>,
    /// Facts on or after (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, example = "2026-01-01")]
    pub(super) from: Option<Date>,
    /// Facts on or before (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, example = "2026-12-31")]
    pub(super) to: Option<Date>,
    /// Only records awaiting verification.
    pub(super) pending: Option<bool>,
}

impl FromQuery for ListParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        Ok(Self {
            cadre: params.get("cadre")?,
            from: params.get("from")?,
            to: params.get("to")?,
            pending: params.get("pending")?,
        })
    }
}

/// A field of a new record refused, and why (English, for logs and the API).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// The field: `cadre`, `date`, `indicator`, `kind`, `points`, `source`, `description`,
    /// `files`, `reason`, `form`.
    pub(crate) field: &'static str,
    /// Why.
    pub(crate) reason: String,
    /// The message key of the page, when there is one for this refusal.
    pub(crate) key: Option<&'static str>,
}

impl FieldError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
            key: None,
        }
    }

    fn keyed(field: &'static str, key: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
            key: Some(key),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid_field(e.field, e.reason)
    }
}

/// The fields of a new record, as a person typed them: kept to show the form again.
#[derive(Debug, Clone, Default)]
pub(super) struct RecordFields {
    pub(super) cadre: String,
    pub(super) date: String,
    /// `framework/indicator`.
    pub(super) indicator: String,
    pub(super) kind: String,
    pub(super) points: String,
    pub(super) source: String,
    pub(super) description: String,
    pub(super) reason: String,
}

impl RecordFields {
    /// Sets field `name` (of a form or a multipart request); unknown names are ignored.
    pub(super) fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "cadre" => &mut self.cadre,
            "date" => &mut self.date,
            "indicator" => &mut self.indicator,
            "kind" => &mut self.kind,
            "points" => &mut self.points,
            "source" => &mut self.source,
            "description" => &mut self.description,
            "reason" => &mut self.reason,
            _ => return,
        };
        *slot = value;
    }

    /// The fields of a urlencoded form.
    pub(super) fn of_form(form: &[(String, String)]) -> Self {
        let mut fields = Self::default();
        for (k, v) in form {
            fields.set(k, v.clone());
        }
        fields
    }

    /// The record these fields give, with `files`; the first field at fault otherwise.
    pub(super) fn input(&self, files: Vec<NewFile>) -> Result<RecordInput, FieldError> {
        let cadre = Code::parse(self.cadre.trim())
            .map_err(|e| FieldError::keyed("cadre", "rec.err.cadre", e.to_string()))?;
        let date = parse_date(self.date.trim())
            .map_err(|e| FieldError::keyed("date", "rec.err.date", e))?;
        let (framework_id, indicator) = self
            .indicator
            .trim()
            .split_once('/')
            .filter(|(f, i)| !f.is_empty() && !i.is_empty())
            .ok_or_else(|| {
                FieldError::keyed(
                    "indicator",
                    "rec.err.indicator",
                    "choose an indicator (framework/indicator)",
                )
            })?;
        let kind = RecordKind::parse_label(self.kind.trim())
            .map_err(|e| FieldError::keyed("kind", "rec.err.kind", e.to_string()))?;
        let points: f64 = self
            .points
            .trim()
            .parse()
            .map_err(|_| FieldError::keyed("points", "rec.err.points", "not a number"))?;
        let source = RecordSource::parse_label(self.source.trim())
            .map_err(|e| FieldError::keyed("source", "rec.err.source", e.to_string()))?;
        Ok(RecordInput {
            cadre,
            date,
            kind,
            framework_id: framework_id.to_owned(),
            framework_version: None,
            indicator: indicator.to_owned(),
            points,
            description: self.description.clone(),
            source,
            files,
        })
    }
}

/// A date as `YYYY-MM-DD`.
pub(super) fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|e| format!("{e} (expected YYYY-MM-DD)"))
}

/// A multipart request of a new record: its fields, the evidence files (each checked by kind
/// and size) and the first problem met with the request itself or a file.
pub(super) async fn read_multipart(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
) -> (RecordFields, Vec<NewFile>, Option<FieldError>) {
    let mut fields = RecordFields::default();
    let mut files = Vec::new();
    let mut problem = None;
    let policy = UploadPolicy {
        max_bytes: state.record_upload_max_bytes,
        kinds: RECORD_KINDS,
    };
    let mut form = match multipart {
        Ok(form) => form,
        Err(e) => return (fields, files, Some(FieldError::new("form", e.to_string()))),
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                problem.get_or_insert(FieldError::new("form", e.to_string()));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                problem.get_or_insert(FieldError::new("form", e.to_string()));
                break;
            }
        };
        match (name.as_str(), file_name) {
            ("files", Some(file_name)) => {
                // A file input left empty sends an empty part without a name.
                if bytes.is_empty() && file_name.is_empty() {
                    continue;
                }
                match check_upload(&file_name, &bytes, &policy) {
                    Ok(accepted) => files.push(NewFile {
                        name: accepted.name,
                        kind: accepted.kind,
                        sha256: token_hash_bytes(&bytes),
                        bytes: bytes.to_vec(),
                    }),
                    Err(e) => {
                        problem.get_or_insert(FieldError::keyed(
                            "files",
                            "rec.err.file",
                            e.to_string(),
                        ));
                    }
                }
            }
            (_, _) => fields.set(&name, String::from_utf8_lossy(&bytes).into_owned()),
        }
    }
    (fields, files, problem)
}

/// The field a refused step of records is about, and the message key of the page.
pub(super) fn field_error(e: &RecordWorkError) -> Option<FieldError> {
    let reason = e.to_string();
    let (field, key) = match e {
        RecordWorkError::At { source, .. } => return field_error(source),
        RecordWorkError::Rule(rule) => match rule {
            RecordError::NoDescription => ("description", "rec.err.description"),
            RecordError::LongDescription => ("description", "rec.err.long"),
            RecordError::BadCharacter(f) => {
                return Some(FieldError::keyed(
                    if *f == "reason" {
                        "reason"
                    } else {
                        "description"
                    },
                    "rec.err.character",
                    reason,
                ));
            }
            RecordError::FutureDate { .. } => ("date", "rec.err.future"),
            RecordError::NoReason => ("reason", "rec.err.reason"),
            RecordError::LongReason => ("reason", "rec.err.long"),
            RecordError::BadPoints(_) => ("points", "rec.err.points"),
            RecordError::AlreadyReviewed(_) | RecordError::NotAmendable { .. } => return None,
        },
        RecordWorkError::Indicator(rule) => match rule {
            RecordRuleError::NoRecords(_) => ("indicator", "rec.err.indicator"),
            RecordRuleError::Kind { .. } => ("kind", "rec.err.kind_of_indicator"),
            RecordRuleError::Points { .. } => ("points", "rec.err.points_range"),
        },
        RecordWorkError::NoCadre(_) | RecordWorkError::OtherCadre { .. } => {
            ("cadre", "rec.err.cadre")
        }
        // The framework or indicator named is not one records can fill (the store says so
        // with a message naming the field); its other uses are not about a field.
        RecordWorkError::Framework(m)
            if m.starts_with("framework") || m.starts_with("indicator") =>
        {
            ("indicator", "rec.err.indicator")
        }
        _ => return None,
    };
    Some(FieldError::keyed(field, key, reason))
}

impl From<RecordWorkError> for ApiError {
    fn from(e: RecordWorkError) -> Self {
        if let Some(f) = field_error(&e) {
            return f.into();
        }
        match e {
            RecordWorkError::Store(StoreError::Conflict(reason)) => ApiError::Conflict {
                code: "conflict",
                reason,
            },
            RecordWorkError::Store(e) => ApiError::Store(e),
            RecordWorkError::NoRecord(id) => ApiError::not_found("record", id.to_string()),
            RecordWorkError::FourEyes(e) => ApiError::Refused {
                code: "four_eyes",
                reason: e.to_string(),
            },
            RecordWorkError::Rule(rule @ RecordError::AlreadyReviewed(_)) => ApiError::Conflict {
                code: "already_reviewed",
                reason: rule.to_string(),
            },
            RecordWorkError::Vault(v) => vault_error(&v),
            other => ApiError::Conflict {
                code: "wrong_state",
                reason: other.to_string(),
            },
        }
    }
}

/// An evidence file that cannot be given back: changed since it was stored (409, logged as an
/// integrity failure), missing (404), or the directory unreadable (503).
pub(super) fn vault_error(e: &VaultError) -> ApiError {
    match e {
        VaultError::Changed { .. } => {
            tracing::error!(error = %e, "evidence file fails its hash check");
            ApiError::Conflict {
                code: "evidence_changed",
                reason: e.to_string(),
            }
        }
        VaultError::Missing { id, .. } => ApiError::not_found("file", id.to_string()),
        VaultError::Io { .. } => {
            tracing::error!(error = %e, "evidence directory failed");
            ApiError::Unavailable
        }
    }
}
