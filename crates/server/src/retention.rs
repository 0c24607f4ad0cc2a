//! Retention: a background task deletes what has been kept long enough (`Retention`):
//! delivered notifications with their attempts, jobs that ran, and, only if an operator
//! asks for it, idempotency records (kept forever by default, as Amazon keeps keys).
//!
//! Every deletion is an ordinary write job of at most `RETENTION_BATCH_ROWS` rows, queued
//! like any request's, so the writer interleaves it with requests and never stalls on it; a
//! pass runs at most `RETENTION_MAX_BATCHES_PER_PASS` batches of each kind, and the next
//! pass takes up the rest. The cutoff is computed from the `real_now` passed in (tests pass
//! their own).

use std::time::Duration;

use amzpay_domain::Timestamp;
use amzpay_store::{Store, StoreError, WriteTx};

use crate::AppState;
use crate::config::{RETENTION_BATCH_ROWS, RETENTION_INTERVAL_MS, RETENTION_MAX_BATCHES_PER_PASS, Retention};

/// How many rows of each kind one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub idempotency_records: u32,
    pub delivered_notifications: u32,
    pub finished_jobs: u32,
}

type Deletion = fn(&mut dyn WriteTx, Timestamp, u32) -> Result<u32, StoreError>;

/// One pass: deletes what `retention` says has been kept long enough at `real_now`.
pub async fn prune(store: &dyn Store, retention: &Retention, real_now: Timestamp) -> Result<Pruned, StoreError> {
    let cutoff = |seconds: i64| Timestamp::from_unix_seconds(real_now.unix_seconds().saturating_sub(seconds.max(0)));
    let mut pruned = Pruned::default();
    if let Some(seconds) = retention.idempotency_seconds {
        pruned.idempotency_records =
            prune_kind(store, cutoff(seconds), |tx, before, limit| tx.prune_idempotency_records(before, limit)).await?;
    }
    pruned.delivered_notifications =
        prune_kind(store, cutoff(retention.delivered_notifications_seconds), |tx, before, limit| {
            tx.prune_delivered_notifications(before, limit)
        })
        .await?;
    pruned.finished_jobs = prune_kind(store, cutoff(retention.finished_jobs_seconds), |tx, before, limit| {
        tx.prune_finished_jobs(before, limit)
    })
    .await?;
    Ok(pruned)
}

/// Batches of one kind until one comes back short, each its own write job.
async fn prune_kind(store: &dyn Store, before: Timestamp, delete: Deletion) -> Result<u32, StoreError> {
    let mut total = 0u32;
    for _ in 0..RETENTION_MAX_BATCHES_PER_PASS {
        let deleted = store.write(move |tx| delete(tx, before, RETENTION_BATCH_ROWS)).await?;
        total = total.saturating_add(deleted);
        if deleted < RETENTION_BATCH_ROWS {
            break;
        }
    }
    Ok(total)
}

/// Runs a pass every `RETENTION_INTERVAL_MS` until `stop`.
pub async fn worker(
    state: std::sync::Arc<AppState>,
    retention: Retention,
    mut stop: tokio::sync::broadcast::Receiver<()>,
) {
    let mut interval = tokio::time::interval(Duration::from_millis(RETENTION_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.recv() => return,
            _ = interval.tick() => {}
        }
        match prune(state.store.as_ref(), &retention, crate::system_now()).await {
            Ok(pruned) if pruned != Pruned::default() => {
                tracing::info!(?pruned, "retention deleted what was kept long enough")
            }
            Ok(_) => {}
            // A full queue: requests come first; the next pass tries again.
            Err(StoreError::QueueFull) => tracing::debug!("retention skipped a pass: the write queue is full"),
            Err(error) => tracing::warn!(%error, "retention pass failed; the next one tries again"),
        }
    }
}
