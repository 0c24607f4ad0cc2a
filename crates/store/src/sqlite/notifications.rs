//! IPN rows: notifications (the `events` outbox, with each one's delivery state), their
//! attempts, the merchants' endpoints and the SNS signing key.
//!
//! A notification is leased to one deliverer at a time (`lease_until_ms`), so processes
//! sharing a database never send it concurrently; a lease that outlives a crash simply
//! expires. Nothing here sends anything or reads a clock: times come in.

use amzpay_domain::Environment;
use rusqlite::{OptionalExtension, Row, params};

use super::codec::*;
use super::tx::SqliteTx;
use crate::StoreError;
use crate::columns::*;
use crate::model::*;

fn notification_from(row: &Row<'_>) -> Result<Notification, StoreError> {
    let object_type: String = row.get(4)?;
    let notification_type: String = row.get(7)?;
    let status: String = row.get(9)?;
    Ok(Notification {
        event: Event {
            notification_id: row.get(0)?,
            message_id: row.get(1)?,
            merchant_id: row.get(2)?,
            environment: environment_of(&row.get::<_, String>(3)?)?,
            object_type: ObjectType::parse(&object_type).ok_or_else(|| corrupt("object type", &object_type))?,
            object_id: row.get(5)?,
            charge_permission_id: row.get(6)?,
            notification_type: NotificationType::parse(&notification_type)
                .ok_or_else(|| corrupt("notification type", &notification_type))?,
            created_at: ts(row.get(8)?),
        },
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status", &status))?,
        next_attempt_ms: row.get(10)?,
        first_attempt_ms: row.get(11)?,
        round_attempts: row.get(12)?,
        published_ms: row.get(13)?,
        attempts: Vec::new(),
    })
}

impl SqliteTx<'_> {
    /// A merchant without an endpoint in that environment gets its notification as
    /// `NoEndpoint` at once, as the delivery worker would mark it: the backlog the worker
    /// scans holds only what can be sent (under write load, a backlog of unsendable rows
    /// cost the worker's every poll a sort of all of them).
    pub(super) fn insert_notification(&mut self, e: &Event) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO events (notification_id, message_id, merchant_id, environment, object_type, object_id, \
                 charge_permission_id, notification_type, created_at, status, next_attempt_ms) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
                 CASE WHEN endpoint THEN 'Pending' ELSE 'NoEndpoint' END, CASE WHEN endpoint THEN 0 END \
                 FROM (SELECT EXISTS (SELECT 1 FROM ipn_endpoints WHERE merchant_id = ?3 AND environment = ?4) \
                 AS endpoint)",
            )?
            .execute(params![
                e.notification_id,
                e.message_id,
                e.merchant_id,
                e.environment.path_segment(),
                e.object_type.as_str(),
                e.object_id,
                e.charge_permission_id,
                e.notification_type.as_str(),
                e.created_at.unix_seconds(),
            ])?;
        Ok(())
    }

    /// Each notification with its attempts.
    fn with_attempts(&self, mut notifications: Vec<Notification>) -> Result<Vec<Notification>, StoreError> {
        for notification in &mut notifications {
            notification.attempts = self.attempts(&notification.event.notification_id)?;
        }
        Ok(notifications)
    }

    fn attempts(&self, notification_id: &str) -> Result<Vec<Attempt>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT at_ms, url, status_code, error, latency_ms FROM notification_attempts \
             WHERE notification_id = ?1 ORDER BY at_ms, rowid",
        )?;
        let rows = statement.query_map(params![notification_id], |row| {
            Ok(Attempt {
                at_ms: row.get(0)?,
                url: row.get(1)?,
                status_code: row.get(2)?,
                error: row.get(3)?,
                latency_ms: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(super) fn read_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .connection
            .prepare_cached("SELECT url FROM ipn_endpoints WHERE merchant_id = ?1 AND environment = ?2")?
            .query_row(params![merchant_id, environment.path_segment()], |row| row.get(0))
            .optional()?)
    }

    pub(super) fn read_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM events WHERE merchant_id = ?1 AND environment = ?2 \
             ORDER BY seq DESC LIMIT ?3"
        ))?;
        let mut rows = statement.query(params![merchant_id, environment.path_segment(), limit])?;
        let mut notifications = Vec::new();
        while let Some(row) = rows.next()? {
            notifications.push(notification_from(row)?);
        }
        self.with_attempts(notifications)
    }

    pub(super) fn read_object_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        scanned: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM (SELECT * FROM events WHERE merchant_id = ?1 AND environment = ?2 \
             ORDER BY seq DESC LIMIT ?4) WHERE object_id = ?3 ORDER BY seq DESC"
        ))?;
        let mut rows = statement.query(params![merchant_id, environment.path_segment(), object_id, scanned])?;
        let mut notifications = Vec::new();
        while let Some(row) = rows.next()? {
            notifications.push(notification_from(row)?);
        }
        self.with_attempts(notifications)
    }

    pub(super) fn read_notification(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
    ) -> Result<Option<Notification>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM events \
             WHERE notification_id = ?1 AND merchant_id = ?2 AND environment = ?3"
        ))?;
        let mut rows = statement.query(params![notification_id, merchant_id, environment.path_segment()])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        let mut notification = notification_from(row)?;
        notification.attempts = self.attempts(notification_id)?;
        Ok(Some(notification))
    }

    pub(super) fn read_due_notifications(
        &mut self,
        real_now_ms: i64,
        per_merchant: u32,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        // The partial index `events_due` holds only pending rows, so this scans the backlog,
        // not the history.
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM ( \
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY merchant_id, environment ORDER BY next_attempt_ms, seq) AS nth \
                 FROM events WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?1 AND lease_until_ms <= ?1 \
             ) WHERE nth <= ?2 ORDER BY next_attempt_ms, seq LIMIT ?3"
        ))?;
        let mut rows = statement.query(params![real_now_ms, per_merchant, limit])?;
        let mut notifications = Vec::new();
        while let Some(row) = rows.next()? {
            notifications.push(notification_from(row)?);
        }
        Ok(notifications)
    }

    pub(super) fn read_sns_signing_key(&mut self) -> Result<Option<SnsSigningKey>, StoreError> {
        Ok(self
            .connection
            .prepare_cached("SELECT private_key_pem, certificate_pem, created_at FROM sns_signing_key WHERE id = 1")?
            .query_row([], |row| {
                Ok(SnsSigningKey {
                    private_key_pem: row.get(0)?,
                    certificate_pem: row.get(1)?,
                    created_at: ts(row.get(2)?),
                })
            })
            .optional()?)
    }

    pub(super) fn write_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        url: Option<&str>,
    ) -> Result<(), StoreError> {
        let environment = environment.path_segment();
        match url {
            Some(url) => self
                .connection
                .prepare_cached(
                    "INSERT INTO ipn_endpoints (merchant_id, environment, url) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (merchant_id, environment) DO UPDATE SET url = excluded.url",
                )?
                .execute(params![merchant_id, environment, url])?,
            None => self
                .connection
                .prepare_cached("DELETE FROM ipn_endpoints WHERE merchant_id = ?1 AND environment = ?2")?
                .execute(params![merchant_id, environment])?,
        };
        Ok(())
    }

    pub(super) fn write_lease(
        &mut self,
        notification_id: &str,
        real_now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE events SET lease_until_ms = ?3, published_ms = COALESCE(published_ms, ?2) \
                 WHERE notification_id = ?1 AND status = 'Pending' \
                 AND next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?2 AND lease_until_ms <= ?2",
            )?
            .execute(params![notification_id, real_now_ms, lease_until_ms])?;
        Ok(changed == 1)
    }

    pub(super) fn write_release(&mut self, notification_id: &str) -> Result<(), StoreError> {
        self.connection
            .prepare_cached("UPDATE events SET lease_until_ms = 0 WHERE notification_id = ?1 AND status = 'Pending'")?
            .execute(params![notification_id])?;
        Ok(())
    }

    pub(super) fn write_attempt(&mut self, notification_id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError> {
        if let Some(a) = &outcome.attempt {
            self.connection
                .prepare_cached(
                    "INSERT INTO notification_attempts (notification_id, at_ms, url, status_code, error, latency_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![notification_id, a.at_ms, a.url, a.status_code, a.error, a.latency_ms])?;
        }
        let first_attempt = outcome.attempt.as_ref().map(|a| a.at_ms);
        let delivered_at = (outcome.status == DeliveryStatus::Delivered).then_some(first_attempt).flatten();
        self.connection
            .prepare_cached(
                "UPDATE events SET status = ?2, next_attempt_ms = ?3, lease_until_ms = 0, \
                 first_attempt_ms = COALESCE(first_attempt_ms, ?4), delivered_at = COALESCE(?5 / 1000, delivered_at), \
                 round_attempts = round_attempts + (?4 IS NOT NULL) \
                 WHERE notification_id = ?1",
            )?
            .execute(params![
                notification_id,
                outcome.status.as_str(),
                outcome.next_attempt_ms,
                first_attempt,
                delivered_at
            ])?;
        Ok(())
    }

    pub(super) fn write_redelivery(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
        real_now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE events SET status = 'Pending', next_attempt_ms = ?4, lease_until_ms = 0, first_attempt_ms = NULL, \
                 round_attempts = 0 \
                 WHERE notification_id = ?1 AND merchant_id = ?2 AND environment = ?3",
            )?
            .execute(params![notification_id, merchant_id, environment.path_segment(), real_now_ms])?;
        Ok(changed == 1)
    }

    pub(super) fn write_sns_signing_key(&mut self, key: &SnsSigningKey) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO sns_signing_key (id, private_key_pem, certificate_pem, created_at) VALUES (1, ?1, ?2, ?3) \
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![key.private_key_pem, key.certificate_pem, key.created_at.unix_seconds()])?;
        Ok(())
    }
}
