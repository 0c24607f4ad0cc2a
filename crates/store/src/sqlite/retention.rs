//! Retention: deleting what has been kept long enough, a bounded batch at a time. Each
//! method deletes at most `limit` rows of one kind, oldest first, in the caller's write
//! job, so a large backlog is worked off in many small jobs between the others and never
//! holds the writer for long. What counts as "kept long enough" is the caller's cutoff, in
//! real time.

use amzpay_domain::Timestamp;
use rusqlite::params;

use super::tx::SqliteTx;
use crate::StoreError;

fn count(deleted: usize) -> u32 {
    u32::try_from(deleted).unwrap_or(u32::MAX)
}

impl SqliteTx<'_> {
    pub(super) fn delete_idempotency_records(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        let deleted = self
            .connection
            .prepare_cached(
                "DELETE FROM idempotency_records WHERE (merchant_id, environment, key, scope) IN \
                 (SELECT merchant_id, environment, key, scope FROM idempotency_records \
                  WHERE recorded_at < ?1 ORDER BY recorded_at LIMIT ?2)",
            )?
            .execute(params![before.unix_seconds(), limit])?;
        Ok(count(deleted))
    }

    /// Only `Delivered` notifications: pending, failed and never-sent ones stay (a merchant
    /// may still redeliver them).
    pub(super) fn delete_delivered_notifications(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        // The same rows twice in one transaction (a total order): their attempts, then them.
        const BATCH: &str = "SELECT notification_id FROM events WHERE status = 'Delivered' AND delivered_at < ?1 \
                             ORDER BY delivered_at, seq LIMIT ?2";
        self.connection
            .prepare_cached(&format!("DELETE FROM notification_attempts WHERE notification_id IN ({BATCH})"))?
            .execute(params![before.unix_seconds(), limit])?;
        let deleted = self
            .connection
            .prepare_cached(&format!("DELETE FROM events WHERE notification_id IN ({BATCH})"))?
            .execute(params![before.unix_seconds(), limit])?;
        Ok(count(deleted))
    }

    /// Only jobs that ran and succeeded: a job still due is never deleted, and a failed one
    /// is kept with its error for whoever looks into it (failures are rare: a bug or damaged
    /// data, never load).
    pub(super) fn delete_finished_jobs(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        let deleted = self
            .connection
            .prepare_cached(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
                 WHERE status = 'done' AND finished_at < ?1 ORDER BY finished_at LIMIT ?2)",
            )?
            .execute(params![before.unix_seconds(), limit])?;
        Ok(count(deleted))
    }
}
