//! IPN rows, as SQLite's `notifications`: notifications (the `events` outbox, with each
//! one's delivery state), their attempts, the merchants' endpoints and the SNS signing key.
//!
//! A notification is leased to one deliverer at a time (`lease_until_ms`), so nodes sharing
//! the database never send it concurrently (leases are taken in write transactions, which
//! are serialized across nodes); a lease that outlives a crashed node simply expires.
//! Nothing here sends anything or reads a clock: times come in.

use amzpay_domain::Environment;
use postgres::Row;

use super::tx::PgTx;
use crate::StoreError;
use crate::codec::*;
use crate::columns::*;
use crate::model::*;

fn notification_from(row: &Row) -> Result<Notification, StoreError> {
    let object_type: String = row.column("object_type")?;
    let notification_type: String = row.column("notification_type")?;
    let status: String = row.column("status")?;
    Ok(Notification {
        event: Event {
            notification_id: row.column("notification_id")?,
            message_id: row.column("message_id")?,
            merchant_id: row.column("merchant_id")?,
            environment: environment_of(&row.column::<String>("environment")?)?,
            object_type: ObjectType::parse(&object_type).ok_or_else(|| corrupt("object type", &object_type))?,
            object_id: row.column("object_id")?,
            charge_permission_id: row.column("charge_permission_id")?,
            notification_type: NotificationType::parse(&notification_type)
                .ok_or_else(|| corrupt("notification type", &notification_type))?,
            created_at: ts(row.column("created_at")?),
        },
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status", &status))?,
        next_attempt_ms: row.column("next_attempt_ms")?,
        first_attempt_ms: row.column("first_attempt_ms")?,
        round_attempts: row.column("round_attempts")?,
        published_ms: row.column("published_ms")?,
        attempts: Vec::new(),
    })
}

impl PgTx<'_> {
    /// A merchant without an endpoint in that environment gets its notification as
    /// `NoEndpoint` at once, as the delivery worker would mark it (as SQLite's).
    pub(super) fn insert_notification(&mut self, e: &Event) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO events (notification_id, message_id, merchant_id, environment, object_type, object_id, \
             charge_permission_id, notification_type, created_at, status, next_attempt_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             CASE WHEN EXISTS (SELECT 1 FROM ipn_endpoints WHERE merchant_id = $3 AND environment = $4) \
             THEN 'Pending' ELSE 'NoEndpoint' END, \
             CASE WHEN EXISTS (SELECT 1 FROM ipn_endpoints WHERE merchant_id = $3 AND environment = $4) THEN 0 END)",
            &[
                &e.notification_id,
                &e.message_id,
                &e.merchant_id,
                &e.environment.path_segment(),
                &e.object_type.as_str(),
                &e.object_id,
                &e.charge_permission_id,
                &e.notification_type.as_str(),
                &e.created_at.unix_seconds(),
            ],
        )?;
        Ok(())
    }

    /// Each notification with its attempts.
    fn with_attempts(&mut self, mut notifications: Vec<Notification>) -> Result<Vec<Notification>, StoreError> {
        for notification in &mut notifications {
            notification.attempts = self.attempts(&notification.event.notification_id)?;
        }
        Ok(notifications)
    }

    fn attempts(&mut self, notification_id: &str) -> Result<Vec<Attempt>, StoreError> {
        let rows = self.conn.query(
            "SELECT at_ms, url, status_code, error, latency_ms FROM notification_attempts \
             WHERE notification_id = $1 ORDER BY at_ms, seq",
            &[&notification_id],
        )?;
        rows.iter()
            .map(|row| {
                Ok(Attempt {
                    at_ms: row.column("at_ms")?,
                    url: row.column("url")?,
                    status_code: row.column("status_code")?,
                    error: row.column("error")?,
                    latency_ms: row.column("latency_ms")?,
                })
            })
            .collect()
    }

    pub(super) fn read_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
    ) -> Result<Option<String>, StoreError> {
        let row = self.conn.query_opt(
            "SELECT url FROM ipn_endpoints WHERE merchant_id = $1 AND environment = $2",
            &[&merchant_id, &environment.path_segment()],
        )?;
        row.map(|row| row.column::<String>("url")).transpose()
    }

    pub(super) fn read_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = self.conn.query(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM events WHERE merchant_id = $1 AND environment = $2 \
                 ORDER BY seq DESC LIMIT $3"
            ),
            &[&merchant_id, &environment.path_segment(), &i64::from(limit)],
        )?;
        let notifications = rows.iter().map(notification_from).collect::<Result<Vec<_>, _>>()?;
        self.with_attempts(notifications)
    }

    pub(super) fn read_object_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        scanned: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = self.conn.query(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM (SELECT seq, {NOTIFICATION_COLUMNS} FROM events \
                 WHERE merchant_id = $1 AND environment = $2 ORDER BY seq DESC LIMIT $4) AS latest \
                 WHERE object_id = $3 ORDER BY seq DESC"
            ),
            &[&merchant_id, &environment.path_segment(), &object_id, &i64::from(scanned)],
        )?;
        let notifications = rows.iter().map(notification_from).collect::<Result<Vec<_>, _>>()?;
        self.with_attempts(notifications)
    }

    pub(super) fn read_notification(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
    ) -> Result<Option<Notification>, StoreError> {
        let row = self.conn.query_opt(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM events \
                 WHERE notification_id = $1 AND merchant_id = $2 AND environment = $3"
            ),
            &[&notification_id, &merchant_id, &environment.path_segment()],
        )?;
        let Some(row) = row else { return Ok(None) };
        let mut notification = notification_from(&row)?;
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
        let rows = self.conn.query(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM ( \
                     SELECT {NOTIFICATION_COLUMNS}, seq, ROW_NUMBER() OVER (PARTITION BY merchant_id, environment ORDER BY next_attempt_ms, seq) AS nth \
                     FROM events WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= $1 AND lease_until_ms <= $1 \
                 ) AS due WHERE nth <= $2 ORDER BY next_attempt_ms, seq LIMIT $3"
            ),
            &[&real_now_ms, &i64::from(per_merchant), &i64::from(limit)],
        )?;
        rows.iter().map(notification_from).collect()
    }

    pub(super) fn read_sns_signing_key(&mut self) -> Result<Option<SnsSigningKey>, StoreError> {
        let row = self
            .conn
            .query_opt("SELECT private_key_pem, certificate_pem, created_at FROM sns_signing_key WHERE id = 1", &[])?;
        row.map(|row| {
            Ok(SnsSigningKey {
                private_key_pem: row.column("private_key_pem")?,
                certificate_pem: row.column("certificate_pem")?,
                created_at: ts(row.column("created_at")?),
            })
        })
        .transpose()
    }

    pub(super) fn write_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        url: Option<&str>,
    ) -> Result<(), StoreError> {
        let environment = environment.path_segment();
        match url {
            Some(url) => self.conn.execute(
                "INSERT INTO ipn_endpoints (merchant_id, environment, url) VALUES ($1, $2, $3) \
                 ON CONFLICT (merchant_id, environment) DO UPDATE SET url = excluded.url",
                &[&merchant_id, &environment, &url],
            )?,
            None => self.conn.execute(
                "DELETE FROM ipn_endpoints WHERE merchant_id = $1 AND environment = $2",
                &[&merchant_id, &environment],
            )?,
        };
        Ok(())
    }

    pub(super) fn write_lease(
        &mut self,
        notification_id: &str,
        real_now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE events SET lease_until_ms = $3, published_ms = COALESCE(published_ms, $2) \
             WHERE notification_id = $1 AND status = 'Pending' \
             AND next_attempt_ms IS NOT NULL AND next_attempt_ms <= $2 AND lease_until_ms <= $2",
            &[&notification_id, &real_now_ms, &lease_until_ms],
        )?;
        Ok(changed == 1)
    }

    pub(super) fn write_release(&mut self, notification_id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE events SET lease_until_ms = 0 WHERE notification_id = $1 AND status = 'Pending'",
            &[&notification_id],
        )?;
        Ok(())
    }

    pub(super) fn write_attempt(&mut self, notification_id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError> {
        if let Some(a) = &outcome.attempt {
            self.conn.execute(
                "INSERT INTO notification_attempts (notification_id, at_ms, url, status_code, error, latency_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&notification_id, &a.at_ms, &a.url, &a.status_code.map(i64::from), &a.error, &a.latency_ms],
            )?;
        }
        let first_attempt = outcome.attempt.as_ref().map(|a| a.at_ms);
        let delivered_at = (outcome.status == DeliveryStatus::Delivered).then_some(first_attempt).flatten();
        self.conn.execute(
            "UPDATE events SET status = $2, next_attempt_ms = $3, lease_until_ms = 0, \
             first_attempt_ms = COALESCE(first_attempt_ms, $4), delivered_at = COALESCE($5::bigint / 1000, delivered_at), \
             round_attempts = round_attempts + (CASE WHEN $4::bigint IS NOT NULL THEN 1 ELSE 0 END) \
             WHERE notification_id = $1",
            &[&notification_id, &outcome.status.as_str(), &outcome.next_attempt_ms, &first_attempt, &delivered_at],
        )?;
        Ok(())
    }

    pub(super) fn write_redelivery(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
        real_now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE events SET status = 'Pending', next_attempt_ms = $4, lease_until_ms = 0, first_attempt_ms = NULL, \
             round_attempts = 0 \
             WHERE notification_id = $1 AND merchant_id = $2 AND environment = $3",
            &[&notification_id, &merchant_id, &environment.path_segment(), &real_now_ms],
        )?;
        Ok(changed == 1)
    }

    pub(super) fn write_sns_signing_key(&mut self, key: &SnsSigningKey) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sns_signing_key (id, private_key_pem, certificate_pem, created_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
            &[&key.private_key_pem, &key.certificate_pem, &key.created_at.unix_seconds()],
        )?;
        Ok(())
    }
}
