//! The writer: one thread per process owns the write connection and runs every write job.
//!
//! Invariants, in the order they matter:
//! - All writes are serialized across every process on the database: a batch's transaction
//!   first takes the transaction-level advisory lock `WRITE_LOCK_KEY`, held until it commits
//!   or rolls back. So at any moment one transaction of the whole service writes, as with
//!   SQLite (one writer thread, `BEGIN IMMEDIATE` between processes): concurrent requests on
//!   one permission cannot exceed its limits whichever nodes they reach; the loser of two
//!   requests with one idempotency key finds the winner's record and replays it; a job or a
//!   notification is claimed or leased once; a sandbox clock moves once. The transaction is
//!   READ COMMITTED, so every statement after the lock sees all that the previous holder
//!   committed (a snapshot taken before the lock would not). There are no deadlocks between
//!   writers and no serialization failures to retry: writers never wait on each other's row
//!   locks, only on this one lock, always taken first.
//! - Group commit: the jobs waiting in the queue (at most `MAX_GROUP_COMMIT_JOBS`) run in
//!   one transaction and share one WAL flush; each runs inside its own savepoint, so a job
//!   that fails, refuses or panics rolls back its own writes only (`catch_unwind`), and the
//!   writer goes on with the next job.
//! - A job's result is delivered only after its batch committed with `synchronous_commit`
//!   on and `fsync` on (checked at connect): an answer the server sends is on disk. If the
//!   commit fails (or the connection is lost), every job of the batch learns it and nothing
//!   of the batch was written; the next batch reconnects.
//! - The queue is bounded (`WRITE_QUEUE_CAPACITY`): a full queue refuses new jobs (the server
//!   answers 503) rather than growing without bound.

use std::time::Instant;

use super::connection::Connection;
use super::tx::PgTx;
use super::{MAX_GROUP_COMMIT_JOBS, RECONNECT_PAUSE, WRITE_LOCK_KEY};
use crate::queue::Incoming;
use crate::{Deliver, StoreError, WriteJob};

/// `incoming` is the store's queue (`crate::queue`), whose batch metrics are SQLite's
/// writer's too.
pub(super) fn write_loop(mut connection: Connection, config: postgres::Config, incoming: Incoming<WriteJob>) {
    let metrics = incoming.metrics();
    while let Some(batch) = incoming.batch(MAX_GROUP_COMMIT_JOBS) {
        metrics.took(batch.len());
        let started = Instant::now();
        if connection.is_closed() {
            match Connection::open(&config) {
                Ok(fresh) => connection = fresh,
                Err(error) => {
                    // Dropping the jobs drops their result channels: each requester answers
                    // 500; nothing was written. Pause so a down server is not hammered.
                    tracing::error!(%error, jobs = batch.len(), "could not reconnect the writer to PostgreSQL");
                    std::thread::sleep(RECONNECT_PAUSE);
                    continue;
                }
            }
        }
        run_batch(&mut connection, batch);
        metrics.settled(started);
    }
}

fn run_batch(connection: &mut Connection, batch: Vec<WriteJob>) {
    let begun = connection
        .batch("BEGIN ISOLATION LEVEL READ COMMITTED")
        .and_then(|()| connection.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY]).map(|_| ()));
    if let Err(error) = begun {
        tracing::error!(%error, jobs = batch.len(), "could not begin a write transaction");
        let _ = connection.batch("ROLLBACK");
        return;
    }
    // Each job's result callback, and whether its own savepoint ended well.
    let mut delivers: Vec<(Deliver, Result<(), String>)> = Vec::with_capacity(batch.len());
    let mut lost = None;
    for job in batch {
        if lost.is_some() {
            // Dropping the job drops its result channel: its requester answers 500.
            continue;
        }
        if let Err(error) = connection.batch("SAVEPOINT job") {
            tracing::error!(%error, "could not open a savepoint");
            lost = Some(format!("could not open a savepoint: {error}"));
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut PgTx::new(connection))));
        let keep = match &outcome {
            Ok((keep, _)) => *keep,
            Err(payload) => {
                let message = crate::panic_message(payload.as_ref());
                tracing::error!(panic = %message, "a write job panicked; its writes are rolled back");
                false
            }
        };
        if connection.is_closed() {
            tracing::error!("the connection to PostgreSQL was lost during a write transaction; its batch failed");
            lost = Some("the connection to the database was lost".to_owned());
            if let Ok((_, deliver)) = outcome {
                delivers.push((deliver, Ok(())));
            }
            continue;
        }
        // A job that kept its writes after one of its statements failed (and so left the
        // transaction aborted) cannot release: it is rolled back and told so.
        let ended = if keep {
            match connection.batch("RELEASE job") {
                Ok(()) => Ok(()),
                Err(error) => {
                    let _ = connection.batch("ROLLBACK TO job; RELEASE job");
                    Err(format!("a write of the job failed: {error}"))
                }
            }
        } else {
            connection.batch("ROLLBACK TO job; RELEASE job").map_err(|error| error.to_string())
        };
        if let Err(error) = &ended {
            tracing::error!(%error, "could not end a savepoint");
        }
        if let Ok((_, deliver)) = outcome {
            delivers.push((deliver, ended));
        }
    }
    let committed = match lost {
        Some(reason) => {
            let _ = connection.batch("ROLLBACK");
            Err(reason)
        }
        None => connection.batch("COMMIT").map_err(|e| e.to_string()),
    };
    if committed.is_err() && !connection.is_closed() {
        let _ = connection.batch("ROLLBACK");
    }
    for (deliver, ended) in delivers {
        let result = committed.clone().and(ended).map_err(StoreError::CommitFailed);
        // A result callback that panics costs its own answer, never the writer.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| deliver(result))).is_err() {
            tracing::error!("a write job's result callback panicked");
        }
    }
}
