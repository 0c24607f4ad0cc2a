//! The checkpointer: copies committed pages from the write-ahead log back into the database
//! file on a thread of its own, so that the writer thread, which every write of the process
//! waits for, only appends to the log and syncs it.
//!
//! Without it SQLite checkpoints inside the commit that crosses its threshold, on the
//! writer thread: a tenth of that thread's time under `amzpay bench --scenario
//! create-charge` (docs/performance.md). A checkpoint never affects durability: a commit is
//! durable once its frames are synced in the log, and a checkpoint only moves them.
//!
//! Invariants:
//! - The writer keeps a backstop (`WRITER_AUTOCHECKPOINT_PAGES`): if this thread falls
//!   behind or stops, the writer checkpoints itself once the log is that long, so the log
//!   stays bounded whatever happens here.
//! - Checkpoints are PASSIVE: they never wait for, nor block, the writer or a reader.
//! - At most one checkpoint per `CHECKPOINT_INTERVAL`, and none while nothing was committed:
//!   each one syncs the database file, and pages changed by many commits are copied once.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The least time between two checkpoints. Long enough that the pages many commits change
/// (index roots, the newest leaves) are copied and synced once for all of them; short
/// enough that the log stays a few megabytes at the highest write rates seen here.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The writer checkpoints on its own thread only past this many pages in the log (4 KiB
/// each: 64 MiB), ten times the checkpointer's usual lag at thousands of writes a second.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// Runs until every sender of `commits` is dropped (the store closed), checkpointing after
/// commits, at most once per `CHECKPOINT_INTERVAL`; one last checkpoint on the way out.
pub(super) fn checkpoint_loop(connection: Connection, commits: Receiver<()>) {
    let mut last = Instant::now();
    while commits.recv().is_ok() {
        // Rate limit: let the commits of the rest of the interval accumulate first (a
        // signal arriving meanwhile is covered by the checkpoint about to run).
        let due = last + CHECKPOINT_INTERVAL;
        loop {
            let wait = due.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                break;
            }
            match commits.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    checkpoint(&connection);
                    return;
                }
            }
        }
        checkpoint(&connection);
        last = Instant::now();
    }
    checkpoint(&connection);
}

fn checkpoint(connection: &Connection) {
    // A failed checkpoint loses nothing (the frames stay in the log, durable); the next one,
    // or the writer's backstop, copies them.
    if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "a checkpoint of the write-ahead log failed");
    }
}
