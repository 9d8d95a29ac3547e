//! Bulk imports into SQLite (a whole file of ratings), on a connection of their own opened with
//! rusqlite over the same SQLite library as sqlx: prepared statements reused row after row, with
//! none of sqlx's per-row hand-over to a worker thread. Same database file, same SQL, same
//! audit chain as [`crate::SqliteStore`]; the functions here block and run on a blocking thread.
//!
//! Speed comes from order: the ratings go in by case id, so the one-rating-per-case key and the
//! foreign key's case lookups walk their indexes forward; when an import is at least as large
//! as what is stored, the other indexes of `ratings` are dropped and built again after the load
//! (SQLite sorts once instead of inserting at random), inside the same transaction.

use crate::ratings::{CASE_INSERT, CASE_UPSERT};
use crate::sql::{AUDIT_ADVANCE_HEAD, AUDIT_INSERT, AUDIT_SET_HEAD_HASH};
use crate::{CaseTerms, RatingIntake, StoreError, StoredCase};
use kaohe_domain::ratings::rectification::Status;
use kaohe_domain::{AuditEntry, Code, Labeled, NewAuditEntry};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use time::{Date, OffsetDateTime};

/// Page cache of a bulk connection, in KiB: an import's pages stay in memory until its commit.
/// The connection is closed when the import ends.
const BULK_CACHE_KIB: i64 = 1 << 20;

/// Opens the database file for a bulk import, with the settings of the store's own
/// connections: foreign keys on, `synchronous = FULL` (a commit survives power loss), and the
/// same wait for a busy database.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
    Ok(conn)
}

fn corrupt(column: &'static str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: "service_cases",
        column,
        reason: reason.to_string(),
    }
}

/// [`crate::RatingStore::case_terms`], in one read transaction (one snapshot). Sorted ids that
/// ask for a good part of the stored cases are answered by walking the cases and the rated ones
/// in key order beside them; others by a lookup each.
pub(crate) fn case_terms(path: &Path, ids: &[Code]) -> Result<Vec<Option<CaseTerms>>, StoreError> {
    let mut conn = open(path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    // Cases are never deleted, so the largest row id is about their number.
    let stored: i64 = tx.query_row(
        "SELECT COALESCE(MAX(rowid), 0) FROM service_cases",
        [],
        |r| r.get(0),
    )?;
    let sorted = ids.windows(2).all(|w| w[0] <= w[1]);
    let many = i64::try_from(ids.len())
        .unwrap_or(i64::MAX)
        .saturating_mul(4)
        >= stored;
    let mut units = Units::default();
    let out = match ids.first() {
        Some(first) if sorted && many => walk(&tx, ids, first, &mut units)?,
        _ => look_up(&tx, ids, &mut units)?,
    };
    tx.commit()?;
    Ok(out)
}

/// Unit codes as read, each parsed once (a county has a few hundred units).
#[derive(Default)]
struct Units(HashMap<String, Arc<Code>>);

impl Units {
    fn get(&mut self, unit: &str) -> Result<Arc<Code>, StoreError> {
        if let Some(code) = self.0.get(unit) {
            return Ok(Arc::clone(code));
        }
        let code = Arc::new(Code::parse(unit).map_err(|e| corrupt("unit", e))?);
        self.0.insert(unit.to_owned(), Arc::clone(&code));
        Ok(code)
    }
}

/// The terms of a case row `(unit, closed_at)` from columns `at` and `at + 1`.
fn terms_of(
    row: &rusqlite::Row<'_>,
    at: usize,
    units: &mut Units,
    rated: bool,
) -> Result<CaseTerms, StoreError> {
    let unit = row.get_ref(at)?.as_str().map_err(|e| corrupt("unit", e))?;
    Ok(CaseTerms {
        unit: units.get(unit)?,
        closed_at: OffsetDateTime::from_unix_timestamp(row.get(at + 1)?)
            .map_err(|e| corrupt("closed_at", e))?,
        rated,
    })
}

/// One lookup per id.
fn look_up(
    tx: &Transaction<'_>,
    ids: &[Code],
    units: &mut Units,
) -> Result<Vec<Option<CaseTerms>>, StoreError> {
    let mut stmt = tx.prepare(
        "SELECT EXISTS (SELECT 1 FROM ratings r WHERE r.case_id = c.id), c.unit, c.closed_at \
         FROM service_cases c WHERE c.id = ?1",
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mut rows = stmt.query([id.as_str()])?;
        out.push(match rows.next()? {
            Some(row) => Some(terms_of(row, 1, units, row.get(0)?)?),
            None => None,
        });
    }
    Ok(out)
}

/// The cases from `first` on and the rated ones, both in key order, merged with the sorted ids.
fn walk(
    tx: &Transaction<'_>,
    ids: &[Code],
    first: &Code,
    units: &mut Units,
) -> Result<Vec<Option<CaseTerms>>, StoreError> {
    let mut cases =
        tx.prepare("SELECT id, unit, closed_at FROM service_cases WHERE id >= ?1 ORDER BY id")?;
    let mut rated =
        tx.prepare("SELECT case_id FROM ratings WHERE case_id >= ?1 ORDER BY case_id")?;
    let mut cases = cases.query([first.as_str()])?;
    let mut rated = rated.query([first.as_str()])?;
    // The current row of each walk: its key (None once walked to the end).
    let mut case: Option<String> = None;
    let mut case_terms: Option<CaseTerms> = None;
    let mut case_started = false;
    let mut rated_key: Option<String> = None;
    let mut rated_started = false;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id.as_str();
        while !rated_started || rated_key.as_deref().is_some_and(|k| k < id) {
            rated_started = true;
            rated_key = match rated.next()? {
                Some(row) => Some(row.get(0)?),
                None => None,
            };
        }
        let is_rated = rated_key.as_deref() == Some(id);
        while !case_started || case.as_deref().is_some_and(|k| k < id) {
            case_started = true;
            match cases.next()? {
                Some(row) => {
                    let key = row.get_ref(0)?.as_str().map_err(|e| corrupt("id", e))?;
                    case = Some(key.to_owned());
                    if key >= id {
                        case_terms = Some(terms_of(row, 1, units, false)?);
                    }
                }
                None => case = None,
            }
        }
        out.push(match (&case, &case_terms) {
            (Some(key), Some(terms)) if key == id => Some(CaseTerms {
                rated: is_rated,
                ..terms.clone()
            }),
            _ => None,
        });
    }
    Ok(out)
}

/// [`crate::RatingStore::import_ratings`]: every rating and rectification through one prepared
/// statement each, in case-id order, in one write transaction with the audit entry.
pub(crate) fn import_ratings(
    path: &Path,
    batch: &[RatingIntake],
    audit: &NewAuditEntry,
) -> Result<Vec<usize>, StoreError> {
    let mut lap = std::time::Instant::now();
    let mut conn = open(path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // By case id: the one-rating-per-case key and the case lookups of the foreign key walk
    // forward.
    let order = kaohe_domain::code_order(batch.iter().map(|i| &i.rating.case_id));
    // Ratings are never deleted, so the largest id is at least their number.
    let stored: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM ratings", [], |r| r.get(0))?;
    let rebuilt = if i64::try_from(batch.len()).unwrap_or(i64::MAX) >= stored {
        drop_indexes(&tx, "ratings")?
    } else {
        Vec::new()
    };
    // A case given twice in the batch: the later ratings are refused.
    let mut refused: Vec<usize> = order
        .windows(2)
        .filter(|w| batch[w[0]].rating.case_id == batch[w[1]].rating.case_id)
        .map(|w| w[0].max(w[1]))
        .collect();
    if refused.is_empty() {
        match insert_all(&tx, batch, &order) {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                // A case was rated since the caller's lookup (by the live server, say): name
                // every such rating, store nothing.
                tx.rollback()?;
                return rated_meanwhile(path, batch);
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::debug!(rows = batch.len(), took = ?lap.elapsed(), "ratings inserted");
    lap = std::time::Instant::now();
    if !refused.is_empty() {
        tx.rollback()?;
        refused.sort_unstable();
        return Ok(refused);
    }
    rebuild_indexes(&tx, &rebuilt)?;
    tracing::debug!(took = ?lap.elapsed(), "indexes built");
    lap = std::time::Instant::now();
    seal_since(&tx, stored)?;
    append_audit(&tx, audit)?;
    tx.commit()?;
    tracing::debug!(took = ?lap.elapsed(), "committed");
    Ok(refused)
}

/// Seals the ratings with an id above `stored`: those this write transaction inserted, since
/// it holds SQLite's write lock ([`crate::ratings::seal_entry`]).
fn seal_since(tx: &Transaction<'_>, stored: i64) -> Result<(), StoreError> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {} FROM ratings WHERE id > ?1 ORDER BY id",
        crate::ratings::SEAL_COLS
    ))?;
    let mut rows = stmt
        .query_map([stored], |r| {
            Ok(crate::ratings::sealed((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            )))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !rows.is_empty() {
        append_audit(
            tx,
            &crate::ratings::seal_entry(crate::ratings::RATINGS_SEALED, &mut rows, false),
        )?;
    }
    Ok(())
}

/// Ratings per insert statement: 8 parameters each.
const ROWS_PER_INSERT: usize = 64;

/// The statement inserting `rows` ratings.
fn insert_ratings_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO ratings (case_id, level, tags, comment, channel, real_name, contact, rated_at) VALUES ",
    );
    for k in 0..rows {
        sql.push_str(if k == 0 { "" } else { ", " });
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql
}

/// Inserts every rating of `batch` in the given `order`, several per statement, and the
/// rectification of each bad review.
fn insert_all(
    tx: &Transaction<'_>,
    batch: &[RatingIntake],
    order: &[usize],
) -> rusqlite::Result<()> {
    let mut rectification = tx.prepare(
        "INSERT INTO rectifications (rating_id, unit, real_name, opened_on, deadline, status) \
         SELECT id, ?2, ?3, ?4, ?5, ?6 FROM ratings WHERE case_id = ?1",
    )?;
    let open = Status::Open.code();
    let mut tags = String::new();
    in_chunks(
        tx,
        order,
        ROWS_PER_INSERT,
        insert_ratings_sql,
        |stmt, chunk| {
            for (k, &i) in chunk.iter().enumerate() {
                let item = &batch[i];
                let r = &item.rating;
                tags.clear();
                for (j, t) in r.tags.iter().enumerate() {
                    if j > 0 {
                        tags.push(' ');
                    }
                    tags.push_str(t.code());
                }
                let p = k * 8;
                // Text is copied by SQLite when bound, so the buffer is reused.
                stmt.raw_bind_parameter(p + 1, r.case_id.as_str())?;
                stmt.raw_bind_parameter(p + 2, r.level.value())?;
                stmt.raw_bind_parameter(p + 3, tags.as_str())?;
                stmt.raw_bind_parameter(p + 4, r.comment.as_deref())?;
                stmt.raw_bind_parameter(p + 5, r.channel.code())?;
                stmt.raw_bind_parameter(p + 6, r.real_name)?;
                stmt.raw_bind_parameter(p + 7, r.contact.as_ref().map(|c| c.reveal()))?;
                stmt.raw_bind_parameter(p + 8, item.rated_at.unix_timestamp())?;
            }
            if stmt.raw_execute()? != chunk.len() {
                // A case rated already: the trigger `ratings_one_per_case` skipped its rating.
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE),
                    Some("a case was rated already".into()),
                ));
            }
            for &i in chunk {
                let item = &batch[i];
                if let Some(rect) = &item.rectification {
                    rectification.execute(params![
                        item.rating.case_id.as_str(),
                        rect.unit.as_str(),
                        rect.real_name,
                        day(rect.opened_on),
                        day(rect.deadline),
                        open,
                    ])?;
                }
            }
            Ok(())
        },
    )
}

/// Runs `f` on each chunk of `order` (up to `per` positions) with the statement `sql` makes for
/// that many rows, prepared once for the full chunks.
fn in_chunks(
    tx: &Transaction<'_>,
    order: &[usize],
    per: usize,
    sql: fn(usize) -> String,
    mut f: impl FnMut(&mut rusqlite::Statement<'_>, &[usize]) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut full = tx.prepare(&sql(per))?;
    for chunk in order.chunks(per) {
        if chunk.len() == per {
            f(&mut full, chunk)?;
        } else {
            f(&mut tx.prepare(&sql(chunk.len()))?, chunk)?;
        }
    }
    Ok(())
}

/// The positions in `batch` of the ratings whose case has a rating stored, in order.
fn rated_meanwhile(path: &Path, batch: &[RatingIntake]) -> Result<Vec<usize>, StoreError> {
    let conn = open(path)?;
    let mut stmt = conn.prepare("SELECT EXISTS (SELECT 1 FROM ratings WHERE case_id = ?1)")?;
    let mut refused = Vec::new();
    for (i, item) in batch.iter().enumerate() {
        if stmt.query_row([item.rating.case_id.as_str()], |r| r.get::<_, bool>(0))? {
            refused.push(i);
        }
    }
    Ok(refused)
}

/// Cases from which [`crate::SqliteStore`] upserts through [`upsert_cases`].
pub(crate) const BULK_CASES: usize = 10_000;

/// Cases per insert statement: 10 parameters each.
const CASES_PER_INSERT: usize = 32;

/// The statement upserting `rows` cases.
fn upsert_cases_sql(rows: usize) -> String {
    let mut sql = String::from(CASE_INSERT);
    sql.push_str("VALUES ");
    for k in 0..rows {
        sql.push_str(if k == 0 { "" } else { ", " });
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(CASE_UPSERT);
    sql
}

/// [`crate::RatingStore::upsert_cases`] for a file: in id order, several cases per statement,
/// each case's officials replaced, in one write transaction with the audit entry. When the
/// batch is at least as large as what is stored, the named indexes of the cases and their
/// officials are built again after the load.
pub(crate) fn upsert_cases(
    path: &Path,
    cases: &[StoredCase],
    audit: &NewAuditEntry,
) -> Result<(), StoreError> {
    let mut conn = open(path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let order = kaohe_domain::code_order(cases.iter().map(|c| &c.case.id));
    // Cases are never deleted, so the largest row id is at least their number.
    let stored: i64 = tx.query_row(
        "SELECT COALESCE(MAX(rowid), 0) FROM service_cases",
        [],
        |r| r.get(0),
    )?;
    let mut rebuilt = Vec::new();
    if i64::try_from(cases.len()).unwrap_or(i64::MAX) >= stored {
        rebuilt.extend(drop_indexes(&tx, "service_cases")?);
        rebuilt.extend(drop_indexes(&tx, "case_officials")?);
    }
    {
        // Nothing to replace in a database without cases.
        let mut unlink = (stored > 0)
            .then(|| tx.prepare("DELETE FROM case_officials WHERE case_id = ?1"))
            .transpose()?;
        let mut link = tx
            .prepare("INSERT INTO case_officials (case_id, cadre, position) VALUES (?1, ?2, ?3)")?;
        in_chunks(
            &tx,
            &order,
            CASES_PER_INSERT,
            upsert_cases_sql,
            |stmt, chunk| {
                for (k, &i) in chunk.iter().enumerate() {
                    let (c, p) = (&cases[i].case, k * 10);
                    stmt.raw_bind_parameter(p + 1, c.id.as_str())?;
                    stmt.raw_bind_parameter(p + 2, c.item.as_str())?;
                    stmt.raw_bind_parameter(p + 3, c.unit.as_str())?;
                    stmt.raw_bind_parameter(p + 4, c.window.as_ref().map(Code::as_str))?;
                    stmt.raw_bind_parameter(p + 5, c.channel.code())?;
                    stmt.raw_bind_parameter(p + 6, c.accepted_at.unix_timestamp())?;
                    stmt.raw_bind_parameter(p + 7, c.closed_at.unix_timestamp())?;
                    stmt.raw_bind_parameter(p + 8, c.applicant.as_deref())?;
                    stmt.raw_bind_parameter(p + 9, c.phone.as_ref().map(|p| p.reveal()))?;
                    stmt.raw_bind_parameter(p + 10, cases[i].rating_code.as_str())?;
                }
                stmt.raw_execute()?;
                for &i in chunk {
                    let c = &cases[i].case;
                    if let Some(unlink) = unlink.as_mut() {
                        unlink.execute([c.id.as_str()])?;
                    }
                    for (position, official) in c.officials.iter().enumerate() {
                        link.execute(params![
                            c.id.as_str(),
                            official.as_str(),
                            i64::try_from(position).unwrap_or(i64::MAX)
                        ])?;
                    }
                }
                Ok(())
            },
        )?;
    }
    rebuild_indexes(&tx, &rebuilt)?;
    append_audit(&tx, audit)?;
    tx.commit()?;
    Ok(())
}

/// Page cache while indexes are built again, in KiB (SQLite's default): the sorter of `CREATE
/// INDEX` sizes its in-memory runs by the cache, and sorts millions of keys about four times
/// faster in small runs merged than in one run of a gigabyte.
const SORT_CACHE_KIB: i64 = 2_000;

/// Builds the indexes dropped by [`drop_indexes`] again.
fn rebuild_indexes(tx: &Transaction<'_>, statements: &[String]) -> Result<(), StoreError> {
    if statements.is_empty() {
        return Ok(());
    }
    tx.pragma_update(None, "cache_size", -SORT_CACHE_KIB)?;
    for sql in statements {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
    Ok(())
}

/// Drops the indexes of `table` that were created by name (not its keys) and returns the
/// statements that create them again.
fn drop_indexes(tx: &Transaction<'_>, table: &str) -> Result<Vec<String>, StoreError> {
    let indexes: Vec<(String, String)> = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// A day as sqlx stores a `time::Date` in SQLite (`YYYY-MM-DD`), so that both read it alike.
fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Seals `new` onto the audit chain inside `tx`, by the statements of the store's own append.
fn append_audit(tx: &Transaction<'_>, new: &NewAuditEntry) -> Result<(), StoreError> {
    let (seq, prev_hash): (i64, String) =
        tx.query_row(AUDIT_ADVANCE_HEAD, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let entry = AuditEntry::seal(new, seq, OffsetDateTime::now_utc(), &prev_hash);
    tx.execute(
        AUDIT_INSERT,
        params![
            entry.seq,
            kaohe_domain::audit::unix_micros(entry.at),
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.target.as_str(),
            entry.before,
            entry.after,
            entry.prev_hash,
            entry.hash,
        ],
    )?;
    tx.execute(AUDIT_SET_HEAD_HASH, [entry.hash.as_str()])?;
    Ok(())
}
