//! The SQL of the store, written once for both backends.
//!
//! SQLite and PostgreSQL accept the same statements here (`$N` parameters, `ON CONFLICT … DO
//! UPDATE`, `LIMIT/OFFSET`), so [`impl_store!`] expands one body into the `Store` impl of each
//! backend. Only connection set-up and migrations differ, in `sqlite.rs` and `postgres.rs`.

use crate::StoreError;
use kaohe_domain::{Appointment, Cadre, CalendarEntry, Code, Labeled, Sanction, Unit};
use time::Date;

/// Rows per multi-row INSERT: keeps each statement under SQLite's and PostgreSQL's limits on
/// bound parameters (32,766 and 65,535) for the widest table (10 columns).
pub(crate) const BATCH_ROWS: usize = 1000;

/// `%text%` for LIKE, with LIKE's wildcards in the text escaped by `\`.
pub(crate) fn like_pattern(search: Option<&str>) -> Option<String> {
    let s = search.map(str::trim).filter(|s| !s.is_empty())?;
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    Some(p)
}

/// Parses a stored identifier, naming the column when the database holds a bad one.
pub(crate) fn parse_code(
    table: &'static str,
    column: &'static str,
    s: &str,
) -> Result<Code, StoreError> {
    Code::parse(s).map_err(|e| StoreError::Corrupt {
        table,
        column,
        reason: e.to_string(),
    })
}

pub(crate) fn label<T: Labeled>(
    table: &'static str,
    column: &'static str,
    s: &str,
) -> Result<T, StoreError> {
    T::parse_label(s).map_err(|e| StoreError::Corrupt {
        table,
        column,
        reason: e.to_string(),
    })
}

fn count(table: &'static str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|e| StoreError::Corrupt {
        table,
        column: "count",
        reason: e.to_string(),
    })
}

/// A unit as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct UnitRow {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
}

impl UnitRow {
    pub(crate) fn into_domain(self) -> Result<Unit, StoreError> {
        Ok(Unit {
            code: parse_code("units", "code", &self.code)?,
            name: self.name,
            kind: label("units", "kind", &self.kind)?,
            parent: self
                .parent
                .as_deref()
                .map(|p| parse_code("units", "parent", p))
                .transpose()?,
        })
    }
}

/// A unit with its listing extras, as queried.
#[derive(sqlx::FromRow)]
pub(crate) struct UnitSummaryRow {
    #[sqlx(flatten)]
    unit: UnitRow,
    parent_name: Option<String>,
    cadres: i64,
    leaders: i64,
}

impl UnitSummaryRow {
    pub(crate) fn into_domain(self) -> Result<crate::UnitSummary, StoreError> {
        Ok(crate::UnitSummary {
            unit: self.unit.into_domain()?,
            parent_name: self.parent_name,
            cadres: count("cadres", self.cadres)?,
            leaders: count("cadres", self.leaders)?,
        })
    }
}

/// A cadre as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct CadreRow {
    id: String,
    name: String,
    gender: String,
    ethnicity: String,
    birth_date: Date,
    unit: String,
    post: String,
    rank: String,
    is_leader: bool,
    status: String,
}

impl CadreRow {
    pub(crate) fn into_domain(self) -> Result<Cadre, StoreError> {
        Ok(Cadre {
            id: parse_code("cadres", "id", &self.id)?,
            name: self.name,
            gender: label("cadres", "gender", &self.gender)?,
            ethnicity: self.ethnicity,
            birth_date: self.birth_date,
            unit: parse_code("cadres", "unit", &self.unit)?,
            post: self.post,
            rank: label("cadres", "rank", &self.rank)?,
            is_leader: self.is_leader,
            status: label("cadres", "status", &self.status)?,
        })
    }
}

/// An appointment as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AppointmentRow {
    cadre: String,
    unit: String,
    post: String,
    rank: String,
    start_date: Date,
    end_date: Option<Date>,
}

impl AppointmentRow {
    pub(crate) fn into_domain(self) -> Result<Appointment, StoreError> {
        Ok(Appointment {
            cadre: parse_code("appointments", "cadre", &self.cadre)?,
            unit: parse_code("appointments", "unit", &self.unit)?,
            post: self.post,
            rank: label("appointments", "rank", &self.rank)?,
            start_date: self.start_date,
            end_date: self.end_date,
        })
    }
}

/// A sanction as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct SanctionRow {
    id: String,
    cadre: String,
    kind: String,
    start_date: Date,
    end_date: Option<Date>,
    reason: String,
}

impl SanctionRow {
    pub(crate) fn into_domain(self) -> Result<Sanction, StoreError> {
        Ok(Sanction {
            id: parse_code("sanctions", "id", &self.id)?,
            cadre: parse_code("sanctions", "cadre", &self.cadre)?,
            kind: label("sanctions", "kind", &self.kind)?,
            start_date: self.start_date,
            end_date: self.end_date,
            reason: self.reason,
        })
    }
}

/// A calendar entry as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct CalendarRow {
    day: Date,
    kind: String,
    name: String,
}

impl CalendarRow {
    pub(crate) fn into_domain(self) -> Result<CalendarEntry, StoreError> {
        Ok(CalendarEntry {
            date: self.day,
            kind: label("calendar", "kind", &self.kind)?,
            name: self.name,
        })
    }
}

/// An audit entry as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at_us: i64,
    actor: String,
    action: String,
    target: String,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    pub(crate) fn into_domain(self) -> Result<kaohe_domain::AuditEntry, StoreError> {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at_us) * 1000)
            .map_err(|e| StoreError::Corrupt {
                table: "audit_log",
                column: "at_us",
                reason: format!("entry {}: {e}", self.seq),
            })?;
        Ok(kaohe_domain::AuditEntry {
            seq: self.seq,
            at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            before: self.before_json,
            after: self.after_json,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

pub(crate) const AUDIT_COLS: &str =
    "seq, at_us, actor, action, target, before_json, after_json, prev_hash, hash";
/// Advances the head, returning the new entry's seq and the previous entry's hash. Being the
/// first write of the transaction, it takes the head's row lock (PostgreSQL) or the database's
/// write lock (SQLite): concurrent appends queue here.
pub(crate) const AUDIT_ADVANCE_HEAD: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log \
    (seq, at_us, actor, action, target, before_json, after_json, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(crate) const AUDIT_SET_HEAD_HASH: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";

pub(crate) const UNIT_COLS: &str = "code, name, kind, parent";
pub(crate) const CADRE_COLS: &str =
    "id, name, gender, ethnicity, birth_date, unit, post, rank, is_leader, status";
pub(crate) const APPOINTMENT_COLS: &str = "cadre, unit, post, rank, start_date, end_date";
pub(crate) const SANCTION_COLS: &str = "id, cadre, kind, start_date, end_date, reason";

pub(crate) const UNIT_SUMMARY_SELECT: &str = "SELECT u.code, u.name, u.kind, u.parent, \
    p.name AS parent_name, \
    (SELECT COUNT(*) FROM cadres c WHERE c.unit = u.code) AS cadres, \
    (SELECT COUNT(*) FROM cadres c WHERE c.unit = u.code AND c.is_leader) AS leaders \
    FROM units u LEFT JOIN units p ON p.code = u.parent";
pub(crate) const UNIT_FILTER: &str = " WHERE ($1 IS NULL OR LOWER(u.code) LIKE $1 ESCAPE '\\' \
    OR LOWER(u.name) LIKE $1 ESCAPE '\\') \
    AND ($2 IS NULL OR u.parent = $2) AND ($3 IS NULL OR u.kind = $3) \
    AND ($4 = FALSE OR u.parent IS NULL)";
pub(crate) const CADRE_FILTER: &str = " WHERE ($1 IS NULL OR LOWER(id) LIKE $1 ESCAPE '\\' \
    OR LOWER(name) LIKE $1 ESCAPE '\\' OR LOWER(post) LIKE $1 ESCAPE '\\') \
    AND ($2 IS NULL OR unit = $2) AND ($3 = FALSE OR is_leader)";

/// Expands the backend-independent `Store` implementation for one backend.
///
/// `$store` is the store type (with a `pool` field and inherent `backend_kind()` and
/// `run_migrations()`), `$db` the sqlx database type.
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Appends an audit entry inside `tx`: the entry commits or rolls back with the
            /// change it records.
            pub(crate) async fn append_audit_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                new: &kaohe_domain::NewAuditEntry,
            ) -> Result<kaohe_domain::AuditEntry, $crate::StoreError> {
                let (seq, prev_hash): (i64, String) = sqlx::query_as($crate::sql::AUDIT_ADVANCE_HEAD)
                    .fetch_one(&mut **tx)
                    .await?;
                let entry = kaohe_domain::AuditEntry::seal(new, seq, time::OffsetDateTime::now_utc(), &prev_hash);
                sqlx::query($crate::sql::AUDIT_INSERT)
                    .bind(entry.seq)
                    .bind(kaohe_domain::audit::unix_micros(entry.at))
                    .bind(entry.actor.as_str())
                    .bind(entry.action.as_str())
                    .bind(entry.target.as_str())
                    .bind(entry.before.as_deref())
                    .bind(entry.after.as_deref())
                    .bind(entry.prev_hash.as_str())
                    .bind(entry.hash.as_str())
                    .execute(&mut **tx)
                    .await?;
                sqlx::query($crate::sql::AUDIT_SET_HEAD_HASH)
                    .bind(entry.hash.as_str())
                    .execute(&mut **tx)
                    .await?;
                Ok(entry)
            }

            /// With [`crate::LastHolder::Keep`], refuses the change in `tx` when it leaves an
            /// administrator role of `lost` without an enabled holder. Called after the
            /// change's audit entry is appended: the audit head serializes account changes, so
            /// the count sees every concurrent change that committed first.
            pub(crate) async fn keep_last_holders(
                tx: &mut sqlx::Transaction<'_, $db>,
                last_holder: $crate::LastHolder,
                lost: &std::collections::BTreeSet<kaohe_domain::Role>,
            ) -> Result<(), $crate::StoreError> {
                if last_holder == $crate::LastHolder::MayLeave || lost.is_empty() {
                    return Ok(());
                }
                let enabled: Vec<(String,)> = sqlx::query_as("SELECT roles FROM users WHERE NOT disabled")
                    .fetch_all(&mut **tx)
                    .await?;
                $crate::accounts::check_last_holder(lost, &enabled)
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn append_audit(&self, entry: &kaohe_domain::NewAuditEntry) -> Result<kaohe_domain::AuditEntry, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let sealed = Self::append_audit_in(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(sealed)
            }

            async fn audit_entries(&self, from_seq: i64, limit: u32) -> Result<Vec<kaohe_domain::AuditEntry>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2", $crate::sql::AUDIT_COLS);
                sqlx::query_as::<_, $crate::sql::AuditRow>(&sql)
                    .bind(from_seq)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::AuditRow::into_domain)
                    .collect()
            }

            async fn last_audit_of(&self, action: &str) -> Result<Option<kaohe_domain::AuditEntry>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1", $crate::sql::AUDIT_COLS);
                sqlx::query_as::<_, $crate::sql::AuditRow>(&sql)
                    .bind(action)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::sql::AuditRow::into_domain)
                    .transpose()
            }

            async fn audit_head(&self) -> Result<kaohe_domain::AuditHead, $crate::StoreError> {
                let (seq, hash): (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(kaohe_domain::AuditHead { seq, hash })
            }

            fn backend(&self) -> $crate::Backend {
                Self::BACKEND
            }

            async fn migrate(&self) -> Result<(), $crate::StoreError> {
                self.run_migrations().await
            }

            async fn ping(&self) -> Result<(), $crate::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn counts(&self) -> Result<$crate::Counts, $crate::StoreError> {
                let (units, cadres, appointments, sanctions, calendar): (i64, i64, i64, i64, i64) =
                    sqlx::query_as(
                        "SELECT (SELECT COUNT(*) FROM units), (SELECT COUNT(*) FROM cadres), \
                         (SELECT COUNT(*) FROM appointments), (SELECT COUNT(*) FROM sanctions), \
                         (SELECT COUNT(*) FROM calendar)",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                let n = |v: i64| u64::try_from(v).unwrap_or_default();
                Ok($crate::Counts {
                    units: n(units),
                    cadres: n(cadres),
                    appointments: n(appointments),
                    sanctions: n(sanctions),
                    calendar: n(calendar),
                })
            }

            async fn upsert_units(&self, units: &[kaohe_domain::Unit], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in units.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO units ({}) ", $crate::sql::UNIT_COLS));
                    q.push_values(chunk, |mut b, u| {
                        b.push_bind(u.code.as_str())
                            .push_bind(u.name.as_str())
                            .push_bind(u.kind.code())
                            .push_bind(u.parent.as_ref().map(|p| p.as_str()));
                    });
                    q.push(" ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, parent = excluded.parent");
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_unit(&self, code: &kaohe_domain::Code) -> Result<Option<kaohe_domain::Unit>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM units WHERE code = $1", $crate::sql::UNIT_COLS);
                sqlx::query_as::<_, $crate::sql::UnitRow>(&sql)
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::sql::UnitRow::into_domain)
                    .transpose()
            }

            async fn list_units(&self, query: &$crate::UnitQuery) -> Result<$crate::Page<$crate::UnitSummary>, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let (page, per_page, limit, offset) = $crate::model::limit_offset(query.page, query.per_page);
                let pattern = $crate::sql::like_pattern(query.search.as_deref());
                let parent = query.parent.as_ref().map(|p| p.as_str().to_owned());
                let kind = query.kind.map(|k| k.code().to_owned());
                let count_sql = format!("SELECT COUNT(*) FROM units u{}", $crate::sql::UNIT_FILTER);
                let (total,): (i64,) = sqlx::query_as(&count_sql)
                    .bind(&pattern)
                    .bind(&parent)
                    .bind(&kind)
                    .bind(query.roots_only)
                    .fetch_one(&self.pool)
                    .await?;
                let sql = format!(
                    "{}{} ORDER BY u.code LIMIT $5 OFFSET $6",
                    $crate::sql::UNIT_SUMMARY_SELECT,
                    $crate::sql::UNIT_FILTER
                );
                let rows = sqlx::query_as::<_, $crate::sql::UnitSummaryRow>(&sql)
                    .bind(&pattern)
                    .bind(&parent)
                    .bind(&kind)
                    .bind(query.roots_only)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                Ok($crate::Page {
                    items: rows.into_iter().map($crate::sql::UnitSummaryRow::into_domain).collect::<Result<_, _>>()?,
                    total: u64::try_from(total).unwrap_or_default(),
                    page,
                    per_page,
                })
            }

            async fn all_units(&self) -> Result<Vec<kaohe_domain::Unit>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM units ORDER BY code", $crate::sql::UNIT_COLS);
                sqlx::query_as::<_, $crate::sql::UnitRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::UnitRow::into_domain)
                    .collect()
            }

            async fn upsert_cadres(&self, cadres: &[kaohe_domain::Cadre], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in cadres.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO cadres ({}) ", $crate::sql::CADRE_COLS));
                    q.push_values(chunk, |mut b, c| {
                        b.push_bind(c.id.as_str())
                            .push_bind(c.name.as_str())
                            .push_bind(c.gender.code())
                            .push_bind(c.ethnicity.as_str())
                            .push_bind(c.birth_date)
                            .push_bind(c.unit.as_str())
                            .push_bind(c.post.as_str())
                            .push_bind(c.rank.code())
                            .push_bind(c.is_leader)
                            .push_bind(c.status.code());
                    });
                    q.push(
                        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, gender = excluded.gender, \
                         ethnicity = excluded.ethnicity, birth_date = excluded.birth_date, unit = excluded.unit, \
                         post = excluded.post, rank = excluded.rank, is_leader = excluded.is_leader, \
                         status = excluded.status",
                    );
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_cadre(&self, id: &kaohe_domain::Code) -> Result<Option<kaohe_domain::Cadre>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cadres WHERE id = $1", $crate::sql::CADRE_COLS);
                sqlx::query_as::<_, $crate::sql::CadreRow>(&sql)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::sql::CadreRow::into_domain)
                    .transpose()
            }

            async fn list_cadres(&self, query: &$crate::CadreQuery) -> Result<$crate::Page<kaohe_domain::Cadre>, $crate::StoreError> {
                let (page, per_page, limit, offset) = $crate::model::limit_offset(query.page, query.per_page);
                let pattern = $crate::sql::like_pattern(query.search.as_deref());
                let unit = query.unit.as_ref().map(|u| u.as_str().to_owned());
                let count_sql = format!("SELECT COUNT(*) FROM cadres{}", $crate::sql::CADRE_FILTER);
                let (total,): (i64,) = sqlx::query_as(&count_sql)
                    .bind(&pattern)
                    .bind(&unit)
                    .bind(query.leaders_only)
                    .fetch_one(&self.pool)
                    .await?;
                let sql = format!(
                    "SELECT {} FROM cadres{} ORDER BY id LIMIT $4 OFFSET $5",
                    $crate::sql::CADRE_COLS,
                    $crate::sql::CADRE_FILTER
                );
                let rows = sqlx::query_as::<_, $crate::sql::CadreRow>(&sql)
                    .bind(&pattern)
                    .bind(&unit)
                    .bind(query.leaders_only)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                Ok($crate::Page {
                    items: rows.into_iter().map($crate::sql::CadreRow::into_domain).collect::<Result<_, _>>()?,
                    total: u64::try_from(total).unwrap_or_default(),
                    page,
                    per_page,
                })
            }

            async fn all_cadres(&self) -> Result<Vec<kaohe_domain::Cadre>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cadres ORDER BY id", $crate::sql::CADRE_COLS);
                sqlx::query_as::<_, $crate::sql::CadreRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::CadreRow::into_domain)
                    .collect()
            }

            async fn cadre_ids(&self) -> Result<Vec<kaohe_domain::Code>, $crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM cadres ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|(id,)| $crate::sql::parse_code("cadres", "id", &id)).collect()
            }

            async fn upsert_appointments(&self, appointments: &[kaohe_domain::Appointment], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in appointments.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO appointments ({}) ", $crate::sql::APPOINTMENT_COLS));
                    q.push_values(chunk, |mut b, a| {
                        b.push_bind(a.cadre.as_str())
                            .push_bind(a.unit.as_str())
                            .push_bind(a.post.as_str())
                            .push_bind(a.rank.code())
                            .push_bind(a.start_date)
                            .push_bind(a.end_date);
                    });
                    q.push(" ON CONFLICT (cadre, unit, post, start_date) DO UPDATE SET rank = excluded.rank, end_date = excluded.end_date");
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn appointments_of(&self, cadre: &kaohe_domain::Code) -> Result<Vec<kaohe_domain::Appointment>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM appointments WHERE cadre = $1 ORDER BY start_date, id",
                    $crate::sql::APPOINTMENT_COLS
                );
                sqlx::query_as::<_, $crate::sql::AppointmentRow>(&sql)
                    .bind(cadre.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::AppointmentRow::into_domain)
                    .collect()
            }

            async fn all_appointments(&self) -> Result<Vec<kaohe_domain::Appointment>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM appointments ORDER BY cadre, start_date, id",
                    $crate::sql::APPOINTMENT_COLS
                );
                sqlx::query_as::<_, $crate::sql::AppointmentRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::AppointmentRow::into_domain)
                    .collect()
            }

            async fn upsert_sanctions(&self, sanctions: &[kaohe_domain::Sanction], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in sanctions.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO sanctions ({}) ", $crate::sql::SANCTION_COLS));
                    q.push_values(chunk, |mut b, s| {
                        b.push_bind(s.id.as_str())
                            .push_bind(s.cadre.as_str())
                            .push_bind(s.kind.code())
                            .push_bind(s.start_date)
                            .push_bind(s.end_date)
                            .push_bind(s.reason.as_str());
                    });
                    q.push(
                        " ON CONFLICT (id) DO UPDATE SET cadre = excluded.cadre, kind = excluded.kind, \
                         start_date = excluded.start_date, end_date = excluded.end_date, reason = excluded.reason",
                    );
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn sanctions_of(&self, cadre: &kaohe_domain::Code) -> Result<Vec<kaohe_domain::Sanction>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM sanctions WHERE cadre = $1 ORDER BY start_date, id",
                    $crate::sql::SANCTION_COLS
                );
                sqlx::query_as::<_, $crate::sql::SanctionRow>(&sql)
                    .bind(cadre.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::SanctionRow::into_domain)
                    .collect()
            }

            async fn all_sanctions(&self) -> Result<Vec<kaohe_domain::Sanction>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM sanctions ORDER BY id", $crate::sql::SANCTION_COLS);
                sqlx::query_as::<_, $crate::sql::SanctionRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::SanctionRow::into_domain)
                    .collect()
            }

            async fn upsert_calendar(&self, entries: &[kaohe_domain::CalendarEntry], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in entries.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO calendar (day, kind, name) ");
                    q.push_values(chunk, |mut b, e| {
                        b.push_bind(e.date).push_bind(e.kind.code()).push_bind(e.name.as_str());
                    });
                    q.push(" ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name");
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn calendar(&self) -> Result<Vec<kaohe_domain::CalendarEntry>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::sql::CalendarRow>("SELECT day, kind, name FROM calendar ORDER BY day")
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::sql::CalendarRow::into_domain)
                    .collect()
            }
        }
    };
}

pub(crate) use impl_store;
