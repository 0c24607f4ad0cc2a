//! The writer: one thread owns the write connection and is the only place that writes.
//!
//! Invariants, in the order they matter:
//! - One writer per process: every write of this process is serialized here, which is what
//!   makes concurrent requests on one permission unable to exceed its limits. SQLite's own
//!   lock (`BEGIN IMMEDIATE`) serializes the writers of several processes on one file.
//! - Group commit: the jobs waiting in the queue (at most `MAX_GROUP_COMMIT_JOBS`) run in
//!   one transaction and share one `fsync`; each runs inside its own savepoint, so a job that
//!   fails, refuses or panics rolls back its own writes only (`catch_unwind`), and the writer
//!   goes on with the next job: a panic never stops the writer. `Store::write` catches a
//!   panic of its work itself, so that its caller is answered `StoreError::Panicked` once
//!   the batch is settled; a raw job that panics loses its result channel (its caller sees
//!   an error). Result callbacks run under `catch_unwind` too.
//! - If SQLite rolls the whole transaction back by itself (an I/O error, a full disk), the
//!   batch stops there and fails as a whole: nothing after it runs in autocommit.
//! - A job's result is delivered only after its batch committed with `synchronous=FULL` in
//!   WAL mode: an answer the server sends is durable, whatever happens next. If the commit
//!   fails, every job of the batch learns it and nothing of the batch was written.
//! - The queue is bounded (`WRITE_QUEUE_CAPACITY`): a full queue refuses new jobs (the server
//!   answers 503) rather than growing without bound.
//!
//! Metrics (`crate::metric_names`): each batch records its size, its duration up to the
//! commit, and the jobs still queued behind it, through handles taken once when the writer
//! starts: nothing per job.

use std::sync::mpsc::SyncSender;
use std::time::Instant;

use rusqlite::Connection;

/// What the writer thread is sent: a write job, or (diagnostics) a look at its connection
/// between two batches.
pub(super) enum Message {
    Job(WriteJob),
    Inspect(Box<dyn FnOnce(&Connection) + Send>),
}

use super::MAX_GROUP_COMMIT_JOBS;
use super::tx::SqliteTx;
use crate::queue::Incoming;
use crate::{StoreError, WriteJob};

/// `incoming` is the store's queue (`crate::queue`); `commits` signals the checkpointer
/// after each commit.
pub(super) fn write_loop(connection: Connection, incoming: Incoming<Message>, commits: SyncSender<()>) {
    let metrics = incoming.metrics();
    while let Some(messages) = incoming.batch(MAX_GROUP_COMMIT_JOBS) {
        let mut batch = Vec::with_capacity(messages.len());
        for message in messages {
            match message {
                Message::Job(job) => batch.push(job),
                Message::Inspect(look) => look(&connection),
            }
        }
        if batch.is_empty() {
            continue;
        }
        metrics.took(batch.len());
        let started = Instant::now();
        if let Err(error) = run(&connection, "BEGIN IMMEDIATE") {
            // Dropping the jobs drops their result channels: each requester sees the writer
            // failed and answers 500; nothing was written.
            tracing::error!(%error, jobs = batch.len(), "could not begin a write transaction");
            continue;
        }
        let mut delivers = Vec::with_capacity(batch.len());
        let mut lost = None;
        for job in batch {
            if lost.is_some() {
                // Dropping the job drops its result channel: its requester answers 500.
                continue;
            }
            if let Err(error) = run(&connection, "SAVEPOINT job") {
                tracing::error!(%error, "could not open a savepoint");
                continue;
            }
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job(&mut SqliteTx { connection: &connection })
            }));
            let keep = match &outcome {
                Ok((keep, _)) => *keep,
                Err(payload) => {
                    let message = crate::panic_message(payload.as_ref());
                    tracing::error!(panic = %message, "a write job panicked; its writes are rolled back");
                    false
                }
            };
            if let Ok((_, deliver)) = outcome {
                delivers.push(deliver);
            }
            if connection.is_autocommit() {
                // SQLite rolled the whole transaction back (an I/O error, a full disk): what
                // would follow would commit statement by statement. Stop here; the batch
                // failed as a whole.
                tracing::error!("the database rolled a write transaction back; its batch failed");
                lost = Some("the database rolled the transaction back".to_owned());
                continue;
            }
            let end = if keep {
                run(&connection, "RELEASE job")
            } else {
                connection.execute_batch("ROLLBACK TO job; RELEASE job")
            };
            if let Err(error) = end {
                tracing::error!(%error, "could not end a savepoint");
            }
        }
        let committed = match lost {
            Some(reason) => Err(reason),
            None => run(&connection, "COMMIT").map_err(|e| e.to_string()),
        };
        if committed.is_err() && !connection.is_autocommit() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        metrics.settled(started);
        if committed.is_ok() {
            // Full means a checkpoint is already due; a stopped checkpointer leaves the
            // writer's own backstop (checkpointer.rs).
            let _ = commits.try_send(());
        }
        for deliver in delivers {
            // A result callback that panics costs its own answer, never the writer.
            let result = committed.clone().map_err(StoreError::CommitFailed);
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| deliver(result))).is_err() {
                tracing::error!("a write job's result callback panicked");
            }
        }
    }
}

/// Runs one statement without parameters through the prepared-statement cache: the writer
/// runs these few several times a batch, and `execute_batch` would parse them each time.
fn run(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(drop)
}
