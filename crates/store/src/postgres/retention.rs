//! Retention: deleting what has been kept long enough, a bounded batch at a time (as
//! SQLite's `retention`). Each method deletes at most `limit` rows of one kind, oldest
//! first, in the caller's write job. What counts as "kept long enough" is the caller's
//! cutoff, in real time.

use amzpay_domain::Timestamp;

use super::tx::PgTx;
use crate::StoreError;

fn count(deleted: u64) -> u32 {
    u32::try_from(deleted).unwrap_or(u32::MAX)
}

impl PgTx<'_> {
    pub(super) fn delete_idempotency_records(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        let deleted = self.conn.execute(
            "DELETE FROM idempotency_records WHERE (merchant_id, environment, key, scope) IN \
             (SELECT merchant_id, environment, key, scope FROM idempotency_records \
              WHERE recorded_at < $1 ORDER BY recorded_at LIMIT $2)",
            &[&before.unix_seconds(), &i64::from(limit)],
        )?;
        Ok(count(deleted))
    }

    /// Only `Delivered` notifications: pending, failed and never-sent ones stay (a merchant
    /// may still redeliver them).
    pub(super) fn delete_delivered_notifications(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        // One statement: the batch's attempts go with it.
        let deleted = self.conn.query_opt(
            "WITH batch AS (SELECT notification_id FROM events WHERE status = 'Delivered' AND delivered_at < $1 \
                            ORDER BY delivered_at, seq LIMIT $2), \
                  attempts AS (DELETE FROM notification_attempts WHERE notification_id IN (SELECT notification_id FROM batch)), \
                  gone AS (DELETE FROM events WHERE notification_id IN (SELECT notification_id FROM batch) RETURNING 1) \
             SELECT COUNT(*) FROM gone",
            &[&before.unix_seconds(), &i64::from(limit)],
        )?;
        let deleted: i64 = match deleted {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        Ok(count(deleted.max(0) as u64))
    }

    /// Only jobs that ran and succeeded: a job still due is never deleted, and a failed one
    /// is kept with its error.
    pub(super) fn delete_finished_jobs(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        let deleted = self.conn.execute(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
             WHERE status = 'done' AND finished_at < $1 ORDER BY finished_at LIMIT $2)",
            &[&before.unix_seconds(), &i64::from(limit)],
        )?;
        Ok(count(deleted))
    }
}
