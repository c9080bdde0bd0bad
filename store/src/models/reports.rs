//! Rendered documents, scheduled job runs and the e-mail outbox (issue 9).

use crate::schema::{documents, email_outbox, job_runs};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A document to store.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = documents)]
pub struct NewDocument {
    pub kind: String,
    pub lot: Option<String>,
    pub period: String,
    pub cutoff: NaiveDateTime,
    pub file_name: String,
    pub sha256: String,
    pub pdf: Vec<u8>,
    pub created_at: NaiveDateTime,
}

/// A stored document without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocumentMeta {
    pub id: i64,
    pub kind: String,
    pub lot: Option<String>,
    pub period: String,
    pub cutoff: NaiveDateTime,
    pub file_name: String,
    pub sha256: String,
    pub created_at: NaiveDateTime,
}

impl NewDocument {
    /// Stores the document unless the same one (kind, lot, period, cut-off, file) is stored:
    /// `(id, newly stored)`.
    pub fn store(&self, conn: &mut DbConnection) -> Result<(i64, bool)> {
        conn.transaction(|c| {
            let mut q = documents::table
                .filter(documents::kind.eq(&self.kind))
                .filter(documents::period.eq(&self.period))
                .filter(documents::cutoff.eq(self.cutoff))
                .filter(documents::file_name.eq(&self.file_name))
                .select(documents::id)
                .into_boxed();
            q = match &self.lot {
                Some(l) => q.filter(documents::lot.eq(l)),
                None => q.filter(documents::lot.is_null()),
            };
            if let Some(id) = q.first::<i64>(c).optional()? {
                return Ok((id, false));
            }
            let id = insert_returning_id!(c, documents::table, documents::id, self)?;
            Ok((id, true))
        })
        .map_err(StoreError::query("storing a document"))
    }
}

impl DocumentMeta {
    /// Every stored document, newest first.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<DocumentMeta>> {
        documents::table
            .order(documents::id.desc())
            .select(DocumentMeta::as_select())
            .load(conn)
            .map_err(StoreError::query("reading documents"))
    }

    /// A document with its bytes.
    pub fn get(conn: &mut DbConnection, id: i64) -> Result<Option<(DocumentMeta, Vec<u8>)>> {
        documents::table
            .filter(documents::id.eq(id))
            .select((DocumentMeta::as_select(), documents::pdf))
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a document"))
    }
}

/// One run of a scheduled job for one period.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = job_runs)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub period: String,
    pub status: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub detail: String,
}

impl JobRun {
    /// Starts `job` for `period` unless it is done already: `Some(run id)` to go ahead, `None`
    /// when done. A run left `running` (the service stopped) is started again; a `failed` one
    /// too, once `retry_after` has passed since it failed (a down operator endpoint or SMTP
    /// relay is not hammered every minute).
    pub fn begin(
        conn: &mut DbConnection,
        job: &str,
        period: &str,
        now: NaiveDateTime,
        retry_after: chrono::Duration,
    ) -> Result<Option<i64>> {
        conn.transaction(|c| {
            let existing: Option<(i64, String, Option<NaiveDateTime>)> = job_runs::table
                .filter(job_runs::job.eq(job))
                .filter(job_runs::period.eq(period))
                .select((job_runs::id, job_runs::status, job_runs::finished_at))
                .first(c)
                .optional()?;
            match existing {
                Some((_, status, _)) if status == "done" => Ok(None),
                Some((_, status, Some(failed_at)))
                    if status == "failed" && now < failed_at + retry_after =>
                {
                    Ok(None)
                }
                Some((id, ..)) => {
                    diesel::update(job_runs::table.filter(job_runs::id.eq(id)))
                        .set((
                            job_runs::status.eq("running"),
                            job_runs::started_at.eq(now),
                            job_runs::finished_at.eq(None::<NaiveDateTime>),
                        ))
                        .execute(c)?;
                    Ok(Some(id))
                }
                None => {
                    let id = insert_returning_id!(
                        c,
                        job_runs::table,
                        job_runs::id,
                        (
                            job_runs::job.eq(job),
                            job_runs::period.eq(period),
                            job_runs::status.eq("running"),
                            job_runs::started_at.eq(now),
                            job_runs::detail.eq(""),
                        )
                    )?;
                    Ok(Some(id))
                }
            }
        })
        .map_err(StoreError::query("starting a job run"))
    }

    /// Ends a run: `done` or `failed`, with what it did or why it failed.
    pub fn finish(
        conn: &mut DbConnection,
        id: i64,
        done: bool,
        detail: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        diesel::update(job_runs::table.filter(job_runs::id.eq(id)))
            .set((
                job_runs::status.eq(if done { "done" } else { "failed" }),
                job_runs::finished_at.eq(Some(now)),
                job_runs::detail.eq(detail),
            ))
            .execute(conn)
            .map(|_| ())
            .map_err(StoreError::query("ending a job run"))
    }

    /// The (job, period) pairs done: what a tick need not try again.
    pub fn done(conn: &mut DbConnection) -> Result<std::collections::HashSet<(String, String)>> {
        job_runs::table
            .filter(job_runs::status.eq("done"))
            .select((job_runs::job, job_runs::period))
            .load::<(String, String)>(conn)
            .map(|v| v.into_iter().collect())
            .map_err(StoreError::query("reading the jobs done"))
    }

    pub fn all(conn: &mut DbConnection) -> Result<Vec<JobRun>> {
        job_runs::table
            .order(job_runs::id)
            .select(JobRun::as_select())
            .load(conn)
            .map_err(StoreError::query("reading job runs"))
    }
}

/// An e-mail of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = email_outbox)]
pub struct OutboxEmail {
    pub id: i64,
    pub document_id: i64,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl OutboxEmail {
    /// Queues the document for `recipient` unless it is queued already; true when queued now.
    pub fn enqueue(
        conn: &mut DbConnection,
        document_id: i64,
        recipient: &str,
        subject: &str,
        now: NaiveDateTime,
    ) -> Result<bool> {
        conn.transaction(|c| {
            let exists: Option<i64> = email_outbox::table
                .filter(email_outbox::document_id.eq(document_id))
                .filter(email_outbox::recipient.eq(recipient))
                .select(email_outbox::id)
                .first(c)
                .optional()?;
            if exists.is_some() {
                return Ok(false);
            }
            diesel::insert_into(email_outbox::table)
                .values((
                    email_outbox::document_id.eq(document_id),
                    email_outbox::recipient.eq(recipient),
                    email_outbox::subject.eq(subject),
                    email_outbox::status.eq("pending"),
                    email_outbox::attempts.eq(0),
                    email_outbox::next_attempt_at.eq(now),
                    email_outbox::created_at.eq(now),
                ))
                .execute(c)?;
            Ok(true)
        })
        .map_err(StoreError::query("queueing an e-mail"))
    }

    /// E-mails to try now: pending and due.
    pub fn due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<OutboxEmail>> {
        email_outbox::table
            .filter(email_outbox::status.eq("pending"))
            .filter(email_outbox::next_attempt_at.le(now))
            .order(email_outbox::id)
            .select(OutboxEmail::as_select())
            .load(conn)
            .map_err(StoreError::query("reading the e-mail outbox"))
    }

    /// Takes a pending e-mail for sending (false: another sender took it).
    pub fn claim(conn: &mut DbConnection, id: i64) -> Result<bool> {
        diesel::update(
            email_outbox::table
                .filter(email_outbox::id.eq(id))
                .filter(email_outbox::status.eq("pending")),
        )
        .set(email_outbox::status.eq("sending"))
        .execute(conn)
        .map(|n| n == 1)
        .map_err(StoreError::query("claiming an e-mail"))
    }

    pub fn mark_sent(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<()> {
        diesel::update(email_outbox::table.filter(email_outbox::id.eq(id)))
            .set((
                email_outbox::status.eq("sent"),
                email_outbox::sent_at.eq(Some(now)),
                email_outbox::attempts.eq(email_outbox::attempts + 1),
                email_outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .map(|_| ())
            .map_err(StoreError::query("marking an e-mail sent"))
    }

    /// A failed attempt: tried again at `next` (pending), or given up (`failed`).
    pub fn mark_failed(
        conn: &mut DbConnection,
        id: i64,
        error: &str,
        next: Option<NaiveDateTime>,
    ) -> Result<()> {
        let status = if next.is_some() { "pending" } else { "failed" };
        let mut q = diesel::update(email_outbox::table.filter(email_outbox::id.eq(id)))
            .set((
                email_outbox::status.eq(status),
                email_outbox::attempts.eq(email_outbox::attempts + 1),
                email_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)
            .map(|_| ());
        if let (Ok(()), Some(t)) = (&q, next) {
            q = diesel::update(email_outbox::table.filter(email_outbox::id.eq(id)))
                .set(email_outbox::next_attempt_at.eq(t))
                .execute(conn)
                .map(|_| ());
        }
        q.map_err(StoreError::query("recording a failed e-mail"))
    }

    /// After a crash: e-mails left `sending` are pending again (an e-mail the server had
    /// accepted just before the crash may then be sent twice; nothing is lost).
    pub fn release_stale(conn: &mut DbConnection) -> Result<usize> {
        diesel::update(email_outbox::table.filter(email_outbox::status.eq("sending")))
            .set(email_outbox::status.eq("pending"))
            .execute(conn)
            .map_err(StoreError::query("releasing e-mails left sending"))
    }

    pub fn all(conn: &mut DbConnection) -> Result<Vec<OutboxEmail>> {
        email_outbox::table
            .order(email_outbox::id.desc())
            .select(OutboxEmail::as_select())
            .load(conn)
            .map_err(StoreError::query("reading the e-mail outbox"))
    }
}
