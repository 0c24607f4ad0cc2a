//! The transactions jobs see: `ReadTx` and `WriteTx` over one SQLite connection. Every
//! object read is scoped by merchant and environment (the two sandbox lookups by id that the
//! hosted pages need are named so); nothing here begins or commits a transaction (the
//! writer and the reader pool do).

use amzpay_domain::checkout_session::{CheckoutSession, PaymentIntent};
use amzpay_domain::metadata::{Channel, ChargeInitiator, OpaqueJson, SoftDescriptor};
use amzpay_domain::refund::RefundDeclineReason;
use amzpay_domain::sandbox::SandboxCard;
use amzpay_domain::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::LazyLock;

use super::codec::*;
use crate::columns::*;
use crate::model::*;
use crate::{ReadTx, StoreError, WriteTx};

/// A job's view of its transaction.
pub(super) struct SqliteTx<'c> {
    pub(super) connection: &'c Connection,
}

impl SqliteTx<'_> {
    /// Diagnostics: an object's jobs and when each ran.
    pub(super) fn jobs_for_object(&mut self, object_id: &str) -> Result<Vec<(Job, Option<Timestamp>)>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, merchant_id, environment, kind, object_id, due_at, done_at FROM jobs WHERE object_id = ?1 ORDER BY id",
        )?;
        let mut rows = statement.query(params![object_id])?;
        let mut jobs = Vec::new();
        while let Some(row) = rows.next()? {
            jobs.push((job_from(row)?, row.get::<_, Option<i64>>(6)?.map(ts)));
        }
        Ok(jobs)
    }

    /// Writes a permission with `sql`, whose parameters are [`PERMISSION_COLUMNS`] in order
    /// (`?1` the id, `?2` the merchant, `?3` the environment); the number of rows it changed.
    fn write_permission(&self, sql: &str, merchant_id: &str, p: &ChargePermission) -> Result<usize, StoreError> {
        let (state, reason, description) = permission_state_columns(&p.state);
        let mm = p.merchant_metadata.as_ref();
        let rm = p.recurring_metadata.as_ref();
        let buyer = p.buyer.as_ref();
        let mut statement = self.connection.prepare_cached(sql)?;
        Ok(statement.execute(params![
            p.id.as_str(),
            merchant_id,
            p.environment.path_segment(),
            p.region.code(),
            p.kind.as_str(),
            p.currency.code(),
            p.amount_limit.minor(),
            p.captured.minor(),
            p.open_authorized.minor(),
            p.period_start.unix_seconds(),
            p.period_used.minor(),
            p.charges_created,
            p.charge_sequence,
            p.refund_sequence,
            state,
            reason,
            description,
            p.state_updated_at.unix_seconds(),
            p.created_at.unix_seconds(),
            p.expires_at.map(Timestamp::unix_seconds),
            mm.is_some(),
            mm.and_then(|m| m.merchant_reference_id.as_deref()),
            mm.and_then(|m| m.merchant_store_name.as_deref()),
            mm.and_then(|m| m.note_to_buyer.as_deref()),
            mm.and_then(|m| m.custom_information.as_deref()),
            p.merchant_metadata_locked,
            rm.is_some(),
            rm.and_then(|m| m.frequency).map(|(unit, _)| unit.as_str()),
            rm.and_then(|m| m.frequency).map(|(_, value)| value),
            rm.and_then(|m| m.amount).map(Money::minor),
            buyer.map(|b| b.buyer_id.as_str()),
            buyer.map(|b| b.name.as_str()),
            buyer.map(|b| b.email.as_str()),
            buyer.and_then(|b| b.phone_number.as_deref()),
            p.payment_method.last_four(),
            p.platform_id.as_deref(),
            p.shipping_address.as_ref().map(address_text),
            p.billing_address.as_ref().map(address_text),
            p.setup_only,
        ])?)
    }
}

/// A scoped write changed one row, or the id is another merchant's or environment's (or,
/// for an update, absent): `OutOfScope`, and the job's writes roll back.
fn in_scope(
    changed: usize,
    what: &str,
    id: &str,
    merchant_id: &str,
    environment: Environment,
) -> Result<(), StoreError> {
    match changed {
        1 => Ok(()),
        _ => Err(StoreError::OutOfScope(format!(
            "{what} {id} is not merchant {merchant_id}'s in {}",
            environment.path_segment()
        ))),
    }
}

impl ReadTx for SqliteTx<'_> {
    fn merchant(&mut self, merchant_id: &str) -> Result<Option<MerchantRecord>, StoreError> {
        query_one(
            self.connection,
            "SELECT merchant_id, region, store_id, created_at FROM merchants WHERE merchant_id = ?1",
            &[&merchant_id],
            |row| {
                Ok(MerchantRecord {
                    merchant_id: row.get(0)?,
                    region: region_of(&row.get::<_, String>(1)?)?,
                    store_id: row.get(2)?,
                    created_at: ts(row.get(3)?),
                })
            },
        )
    }

    fn key(&mut self, public_key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        query_one(
            self.connection,
            "SELECT public_key_id, merchant_id, environment, public_key_pem, created_at FROM keys WHERE public_key_id = ?1",
            &[&public_key_id],
            |row| {
                Ok(KeyRecord {
                    public_key_id: row.get(0)?,
                    merchant_id: row.get(1)?,
                    environment: row.get::<_, Option<String>>(2)?.map(|e| environment_of(&e)).transpose()?,
                    public_key_pem: row.get(3)?,
                    created_at: ts(row.get(4)?),
                })
            },
        )
    }

    fn permission(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargePermissionId,
    ) -> Result<Option<ChargePermission>, StoreError> {
        let sql = format!(
            "SELECT {PERMISSION_COLUMNS} FROM charge_permissions WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3"
        );
        query_one(self.connection, &sql, &[&id.as_str(), &merchant_id, &environment.path_segment()], |row| {
            permission_from(&Named::new(row)?)
        })
    }

    fn charge(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargeId,
    ) -> Result<Option<Charge>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM charges WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id.as_str(), &merchant_id, &environment.path_segment()],
            |row| charge_from(&Named::new(row)?),
        )
    }

    fn refund(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &RefundId,
    ) -> Result<Option<Refund>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM refunds WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id.as_str(), &merchant_id, &environment.path_segment()],
            |row| refund_from(&Named::new(row)?),
        )
    }

    fn open_charges(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        permission_id: &ChargePermissionId,
    ) -> Result<Vec<Charge>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT * FROM charges WHERE permission_id = ?1 AND merchant_id = ?2 AND environment = ?3 \
             AND state IN ('AuthorizationInitiated', 'Authorized', 'CaptureInitiated') ORDER BY id",
        )?;
        let mut rows = statement.query(params![permission_id.as_str(), merchant_id, environment.path_segment()])?;
        let mut charges = Vec::new();
        while let Some(row) = rows.next()? {
            charges.push(charge_from(&Named::new(row)?)?);
        }
        Ok(charges)
    }

    fn idempotency(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        // A record of this scope, else one from before scopes existed (empty scope).
        query_one(
            self.connection,
            "SELECT scope, fingerprint, status, body, created_at, body_encoding FROM idempotency_records \
             WHERE merchant_id = ?1 AND environment = ?2 AND key = ?3 AND scope IN (?4, '') ORDER BY scope DESC LIMIT 1",
            &[&merchant_id, &environment.path_segment(), &key, &scope],
            |row| {
                let encoding: String = row.get(5)?;
                let encoding = ReplyEncoding::parse(&encoding).ok_or_else(|| corrupt("reply encoding", &encoding))?;
                Ok(IdempotencyRecord {
                    merchant_id: merchant_id.to_owned(),
                    environment,
                    key: key.to_owned(),
                    scope: row.get(0)?,
                    fingerprint: row.get(1)?,
                    status: row.get(2)?,
                    body: decode_reply(row.get(3)?, encoding)?,
                    created_at: ts(row.get(4)?),
                })
            },
        )
    }

    fn ipn_endpoint(&mut self, merchant_id: &str, environment: Environment) -> Result<Option<String>, StoreError> {
        self.read_ipn_endpoint(merchant_id, environment)
    }

    fn notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_notifications(merchant_id, environment, limit)
    }

    fn object_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        scanned: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_object_notifications(merchant_id, environment, object_id, scanned)
    }

    fn notification(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
    ) -> Result<Option<Notification>, StoreError> {
        self.read_notification(merchant_id, environment, notification_id)
    }

    fn due_notifications(
        &mut self,
        real_now_ms: i64,
        per_merchant: u32,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_due_notifications(real_now_ms, per_merchant, limit)
    }

    fn sns_signing_key(&mut self) -> Result<Option<SnsSigningKey>, StoreError> {
        self.read_sns_signing_key()
    }

    fn sandbox_permission_by_id(
        &mut self,
        id: &ChargePermissionId,
    ) -> Result<Option<(String, ChargePermission)>, StoreError> {
        let sql =
            format!("SELECT {PERMISSION_COLUMNS} FROM charge_permissions WHERE id = ?1 AND environment = 'sandbox'");
        query_one(self.connection, &sql, &[&id.as_str()], |row| {
            Ok((row.get::<_, String>("merchant_id")?, permission_from(&Named::new(row)?)?))
        })
    }

    fn checkout_session(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &str,
    ) -> Result<Option<CheckoutSession>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM checkout_sessions WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id, &merchant_id, &environment.path_segment()],
            |row| session_from(&Named::new(row)?),
        )
    }

    fn sandbox_checkout_session_by_id(&mut self, id: &str) -> Result<Option<(String, CheckoutSession)>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM checkout_sessions WHERE id = ?1 AND environment = 'sandbox'",
            &[&id],
            |row| Ok((row.get::<_, String>("merchant_id")?, session_from(&Named::new(row)?)?)),
        )
    }

    fn development_merchant(&mut self) -> Result<Option<(String, String)>, StoreError> {
        query_one(self.connection, "SELECT merchant_id, public_key_id FROM development_merchant", &[], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
    }

    fn clock(&mut self, merchant_id: &str) -> Result<SandboxClock, StoreError> {
        let found = query_one(
            self.connection,
            "SELECT offset_seconds, frozen_at FROM clocks WHERE merchant_id = ?1",
            &[&merchant_id],
            |row| Ok(SandboxClock { offset_seconds: row.get(0)?, frozen_at: row.get::<_, Option<i64>>(1)?.map(ts) }),
        )?;
        Ok(found.unwrap_or(SandboxClock { offset_seconds: 0, frozen_at: None }))
    }

    fn due_jobs(&mut self, real_now: Timestamp, merchant: Option<&str>, limit: u32) -> Result<Vec<DueJob>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT j.id, j.merchant_id, j.environment, j.kind, j.object_id, j.due_at FROM jobs j \
             LEFT JOIN clocks c ON c.merchant_id = j.merchant_id AND j.environment = 'sandbox' \
             WHERE j.done_at IS NULL AND j.due_at <= COALESCE(c.frozen_at, ?1 + COALESCE(c.offset_seconds, 0)) \
             AND (?2 IS NULL OR (j.merchant_id = ?2 AND j.environment = 'sandbox')) \
             ORDER BY j.due_at, j.id LIMIT ?3",
        )?;
        let rows = statement.query(params![real_now.unix_seconds(), merchant, limit])?;
        due_jobs_from(rows)
    }

    fn due_sandbox_jobs_until(
        &mut self,
        merchant_id: &str,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueJob>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, merchant_id, environment, kind, object_id, due_at FROM jobs \
             WHERE done_at IS NULL AND merchant_id = ?1 AND environment = 'sandbox' AND due_at <= ?2 \
             ORDER BY due_at, id LIMIT ?3",
        )?;
        let rows = statement.query(params![merchant_id, until.unix_seconds(), limit])?;
        due_jobs_from(rows)
    }

    fn failed_jobs(&mut self, merchant_id: Option<&str>, limit: u32) -> Result<Vec<FailedJob>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, merchant_id, environment, kind, object_id, due_at, done_at, attempts, last_error FROM jobs \
             WHERE status = 'failed' AND (?1 IS NULL OR merchant_id = ?1) ORDER BY due_at DESC, id DESC LIMIT ?2",
        )?;
        let mut rows = statement.query(params![merchant_id, limit])?;
        let mut failed = Vec::new();
        while let Some(row) = rows.next()? {
            failed.push(FailedJob {
                id: row.get(0)?,
                merchant_id: row.get(1)?,
                environment: row.get(2)?,
                kind: row.get(3)?,
                object_id: row.get(4)?,
                due_at: ts(row.get(5)?),
                finished_at: ts(row.get::<_, Option<i64>>(6)?.unwrap_or_default()),
                attempts: row.get(7)?,
                error: row.get::<_, Option<String>>(8)?.unwrap_or_default(),
            });
        }
        Ok(failed)
    }

    fn faults(&mut self, merchant_id: &str, environment: Environment) -> Result<Vec<Fault>, StoreError> {
        self.read_faults(merchant_id, environment)
    }

    fn merchants_with_faults(&mut self, environment: Environment) -> Result<Vec<String>, StoreError> {
        self.read_merchants_with_faults(environment)
    }

    fn merchants(&mut self, limit: u32) -> Result<Vec<MerchantRecord>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT merchant_id, region, store_id, created_at FROM merchants ORDER BY created_at, merchant_id LIMIT ?1",
        )?;
        let mut rows = statement.query(params![limit])?;
        let mut merchants = Vec::new();
        while let Some(row) = rows.next()? {
            merchants.push(merchant_from(&Named::new(row)?)?);
        }
        Ok(merchants)
    }

    fn list_checkout_sessions(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<CheckoutSession>, StoreError> {
        self.list(&LIST_SESSIONS, merchant_id, environment, filter, |row| session_from(row))
    }

    fn list_permissions(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<ChargePermission>, StoreError> {
        self.list(&LIST_PERMISSIONS, merchant_id, environment, filter, |row| permission_from(row))
    }

    fn list_charges(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<Charge>, StoreError> {
        self.list(&LIST_CHARGES, merchant_id, environment, filter, |row| charge_from(row))
    }

    fn list_refunds(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<Refund>, StoreError> {
        self.list(&LIST_REFUNDS, merchant_id, environment, filter, |row| refund_from(row))
    }

    fn state_changes(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        limit: u32,
    ) -> Result<Vec<StateChange>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT merchant_id, environment, object_kind, object_id, state, reason_code, at, cause, detail \
             FROM state_changes WHERE object_id = ?1 AND merchant_id = ?2 AND environment = ?3 ORDER BY seq LIMIT ?4",
        )?;
        let mut rows = statement.query(params![object_id, merchant_id, environment.path_segment(), limit])?;
        let mut changes = Vec::new();
        while let Some(row) = rows.next()? {
            changes.push(state_change_from(&Named::new(row)?)?);
        }
        Ok(changes)
    }
}

/// A dashboard list of one table, newest first: `?1` the merchant, `?2` the environment,
/// `?3` a state or NULL, `?4` text the id contains or NULL, `?5` the limit.
fn list_sql(table: &str, columns: &str) -> String {
    format!(
        "SELECT {columns} FROM {table} WHERE merchant_id = ?1 AND environment = ?2 AND (?3 IS NULL OR state = ?3) \
         AND (?4 IS NULL OR instr(id, ?4) > 0) ORDER BY created_at DESC, id DESC LIMIT ?5"
    )
}

static LIST_SESSIONS: LazyLock<String> = LazyLock::new(|| list_sql("checkout_sessions", "*"));
static LIST_PERMISSIONS: LazyLock<String> = LazyLock::new(|| list_sql("charge_permissions", PERMISSION_COLUMNS));
static LIST_CHARGES: LazyLock<String> = LazyLock::new(|| list_sql("charges", "*"));
static LIST_REFUNDS: LazyLock<String> = LazyLock::new(|| list_sql("refunds", "*"));

impl SqliteTx<'_> {
    fn list<T>(
        &self,
        sql: &str,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
        decode: impl Fn(&Named<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let mut rows = statement.query(params![
            merchant_id,
            environment.path_segment(),
            filter.state,
            filter.id_contains,
            filter.limit
        ])?;
        let mut objects = Vec::new();
        while let Some(row) = rows.next()? {
            objects.push(decode(&Named::new(row)?)?);
        }
        Ok(objects)
    }
}

/// Due job rows, each read on its own: one that cannot be read is returned as such.
fn due_jobs_from(mut rows: rusqlite::Rows<'_>) -> Result<Vec<DueJob>, StoreError> {
    let mut jobs = Vec::new();
    while let Some(row) = rows.next()? {
        jobs.push(match job_from(row) {
            Ok(job) => Ok(job),
            Err(StoreError::Corrupt(error)) => Err(UndecodableJob {
                id: row.get(0)?,
                merchant_id: row.get(1)?,
                due_at: ts(row.get(5)?),
                error: format!("stored data is not valid: {error}"),
            }),
            Err(other) => return Err(other),
        });
    }
    Ok(jobs)
}

impl WriteTx for SqliteTx<'_> {
    fn insert_merchant(&mut self, m: &MerchantRecord) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO merchants (merchant_id, region, store_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![m.merchant_id, m.region.code(), m.store_id, m.created_at.unix_seconds()])?;
        Ok(())
    }

    fn insert_key(&mut self, k: &KeyRecord) -> Result<(), StoreError> {
        self.connection
            .prepare_cached("INSERT INTO keys (public_key_id, merchant_id, environment, public_key_pem, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![k.public_key_id, k.merchant_id, k.environment.map(Environment::path_segment), k.public_key_pem, k.created_at.unix_seconds()])?;
        Ok(())
    }

    fn set_development_merchant(&mut self, merchant_id: &str, public_key_id: &str) -> Result<(), StoreError> {
        let inserted = self
            .connection
            .prepare_cached(
                "INSERT INTO development_merchant (id, merchant_id, public_key_id) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![merchant_id, public_key_id])?;
        match inserted {
            1 => Ok(()),
            _ => Err(StoreError::IdTaken("the development merchant".into())),
        }
    }

    fn insert_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError> {
        let exists: Option<i64> = self
            .connection
            .prepare_cached("SELECT 1 FROM charge_permissions WHERE id = ?1")?
            .query_row([permission.id.as_str()], |row| row.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::IdTaken(format!("charge permission {}", permission.id)));
        }
        self.write_permission(&SQLITE_STATEMENTS.permission_insert, merchant_id, permission)?;
        Ok(())
    }

    fn update_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError> {
        let changed = self.write_permission(&SQLITE_STATEMENTS.permission_update, merchant_id, permission)?;
        in_scope(changed, "charge permission", permission.id.as_str(), merchant_id, permission.environment)
    }

    fn save_charge(&mut self, merchant_id: &str, c: &Charge) -> Result<(), StoreError> {
        let mm = c.merchant_metadata.as_ref();
        let changed = self.connection.prepare_cached(&SQLITE_STATEMENTS.charge_upsert)?.execute(params![
            c.id.as_str(),
            c.permission_id.as_str(),
            merchant_id,
            c.environment.path_segment(),
            c.amount.currency().code(),
            c.amount.minor(),
            c.capture_amount.map(Money::minor),
            c.refunded.minor(),
            c.refund_pending.minor(),
            c.refund_count,
            c.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
            mm.is_some(),
            mm.and_then(|m| m.merchant_reference_id.as_deref()),
            mm.and_then(|m| m.merchant_store_name.as_deref()),
            mm.and_then(|m| m.note_to_buyer.as_deref()),
            mm.and_then(|m| m.custom_information.as_deref()),
            c.provider_reference_id.as_deref(),
            c.platform_id.as_deref(),
            c.charge_initiator.map(ChargeInitiator::as_str),
            c.channel.map(Channel::as_str),
            c.capture_now,
            c.can_handle_pending_authorization,
            c.state.name(),
            c.state.reason_code(),
            c.reason_description.as_deref(),
            pending_resolution_text(c.pending_resolution),
            c.state_updated_at.unix_seconds(),
            c.created_at.unix_seconds(),
            c.authorized_at.map(Timestamp::unix_seconds),
            c.expires_at.unix_seconds(),
            c.period_start.unix_seconds(),
            c.web_checkout_details.is_some(),
            c.web_checkout_details.as_ref().and_then(|w| w.checkout_review_return_url.as_deref()),
            c.web_checkout_details.as_ref().and_then(|w| w.checkout_result_return_url.as_deref()),
            c.web_checkout_details.as_ref().and_then(|w| w.checkout_cancel_url.as_deref()),
            c.atypical_activity,
        ])?;
        in_scope(changed, "charge", c.id.as_str(), merchant_id, c.environment)
    }

    fn save_refund(&mut self, merchant_id: &str, r: &Refund) -> Result<(), StoreError> {
        let changed = self.connection.prepare_cached(&SQLITE_STATEMENTS.refund_upsert)?.execute(params![
            r.id.as_str(),
            r.charge_id.as_str(),
            merchant_id,
            r.environment.path_segment(),
            r.amount.currency().code(),
            r.amount.minor(),
            r.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
            r.state.name(),
            r.state.reason_code(),
            r.state_updated_at.unix_seconds(),
            r.created_at.unix_seconds(),
            r.pending_decline.map(RefundDeclineReason::as_str),
        ])?;
        in_scope(changed, "refund", r.id.as_str(), merchant_id, r.environment)
    }

    fn insert_event(&mut self, e: &Event) -> Result<(), StoreError> {
        self.insert_notification(e)
    }

    fn insert_state_change(&mut self, c: &StateChange) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO state_changes (merchant_id, environment, object_kind, object_id, state, reason_code, at, \
                 cause, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                c.merchant_id,
                c.environment.path_segment(),
                c.object_kind.as_str(),
                c.object_id,
                c.state,
                c.reason_code,
                c.at.unix_seconds(),
                c.cause.as_str(),
                c.detail,
            ])?;
        Ok(())
    }

    fn save_checkout_session(&mut self, merchant_id: &str, c: &CheckoutSession) -> Result<(), StoreError> {
        let mm = c.merchant_metadata.as_ref();
        let rm = c.recurring_metadata.as_ref();
        let buyer = c.buyer.as_ref();
        let p = &c.payment;
        let amount_currency = p.charge_amount.or(p.total_order_amount).map(|m| m.currency().code());
        let changed = self.connection.prepare_cached(&SQLITE_STATEMENTS.session_upsert)?.execute(params![
            c.id,
            merchant_id,
            c.environment.path_segment(),
            c.region.code(),
            c.store_id,
            c.checkout_review_return_url,
            c.checkout_result_return_url,
            c.checkout_cancel_url,
            c.process_order,
            c.kind.as_str(),
            rm.is_some(),
            rm.and_then(|m| m.frequency).map(|(unit, _)| unit.as_str()),
            rm.and_then(|m| m.frequency).map(|(_, value)| value),
            rm.and_then(|m| m.amount).map(Money::minor),
            rm.and_then(|m| m.amount).map(|m| m.currency().code()),
            p.payment_intent.map(PaymentIntent::as_str),
            p.charge_amount.map(Money::minor),
            p.total_order_amount.map(Money::minor),
            amount_currency,
            p.can_handle_pending_authorization,
            p.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
            p.presentment_currency.map(|c| c.code()),
            p.allow_overcharge,
            p.extend_expiration,
            mm.is_some(),
            mm.and_then(|m| m.merchant_reference_id.as_deref()),
            mm.and_then(|m| m.merchant_store_name.as_deref()),
            mm.and_then(|m| m.note_to_buyer.as_deref()),
            mm.and_then(|m| m.custom_information.as_deref()),
            c.platform_id,
            buyer.map(|b| b.buyer_id.as_str()),
            buyer.map(|b| b.name.as_str()),
            buyer.map(|b| b.email.as_str()),
            buyer.and_then(|b| b.phone_number.as_deref()),
            c.shipping_address.as_ref().map(address_text),
            c.billing_address.as_ref().map(address_text),
            c.payment_method.map(SandboxCard::last_four),
            c.buyer_confirmed,
            c.state.name(),
            c.state.reason_code(),
            c.state_updated_at.unix_seconds(),
            c.created_at.unix_seconds(),
            c.expires_at.unix_seconds(),
            c.charge_permission_id.as_ref().map(ChargePermissionId::as_str),
            c.charge_id.as_ref().map(ChargeId::as_str),
            c.supplementary_data,
            c.setup_only,
            c.delivery_specifications.as_ref().map(OpaqueJson::as_str),
            c.address_details.as_ref().map(address_text),
            c.renews_permission.as_ref().map(ChargePermissionId::as_str),
            c.checkout_button_text,
            p.estimate_order_total.map(Money::minor),
            p.estimate_order_total.map(|m| m.currency().code()),
            c.provider_reference_id,
        ])?;
        in_scope(changed, "checkout session", &c.id, merchant_id, c.environment)
    }

    fn insert_job(&mut self, job: &Job) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO jobs (merchant_id, environment, kind, object_id, due_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                job.merchant_id,
                job.environment.path_segment(),
                job.kind.as_str(),
                job.object_id,
                job.due_at.unix_seconds()
            ])?;
        Ok(())
    }

    fn claim_job(&mut self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE jobs SET done_at = ?2, status = 'done', attempts = attempts + 1 WHERE id = ?1 AND done_at IS NULL",
            )?
            .execute(params![id, at.unix_seconds()])?;
        Ok(changed == 1)
    }

    fn fail_job(&mut self, id: i64, at: Timestamp, error: &str) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE jobs SET done_at = ?2, status = 'failed', attempts = attempts + 1, last_error = ?3 \
                 WHERE id = ?1 AND done_at IS NULL",
            )?
            .execute(params![id, at.unix_seconds(), error])?;
        Ok(changed == 1)
    }

    fn isolated(&mut self, work: &mut dyn FnMut(&mut dyn WriteTx) -> bool) -> Result<Isolated, StoreError> {
        self.connection.execute_batch("SAVEPOINT isolated")?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        let isolated = match outcome {
            Ok(true) => Isolated::Kept,
            Ok(false) => Isolated::RolledBack,
            Err(payload) => Isolated::Panicked(crate::panic_message(payload.as_ref())),
        };
        if self.connection.is_autocommit() {
            // SQLite rolled the whole transaction back (an I/O error, a full disk): the
            // savepoint went with it, and nothing of the transaction will commit.
            return Err(StoreError::CommitFailed("the transaction was rolled back by the database".into()));
        }
        let end =
            if isolated == Isolated::Kept { "RELEASE isolated" } else { "ROLLBACK TO isolated; RELEASE isolated" };
        self.connection.execute_batch(end)?;
        Ok(isolated)
    }

    fn set_clock(&mut self, merchant_id: &str, clock: SandboxClock) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO clocks (merchant_id, offset_seconds, frozen_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (merchant_id) DO UPDATE SET offset_seconds = excluded.offset_seconds, frozen_at = excluded.frozen_at",
            )?
            .execute(params![merchant_id, clock.offset_seconds, clock.frozen_at.map(Timestamp::unix_seconds)])?;
        Ok(())
    }

    fn insert_idempotency(&mut self, r: &IdempotencyRecord) -> Result<(), StoreError> {
        // `recorded_at`: when it was written, in real time (SQLite's clock), for retention.
        let (body, encoding) = encode_reply(&r.body);
        self.connection
            .prepare_cached(
                "INSERT INTO idempotency_records (merchant_id, environment, key, scope, fingerprint, status, body, body_encoding, created_at, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, unixepoch())",
            )?
            .execute(params![
                r.merchant_id,
                r.environment.path_segment(),
                r.key,
                r.scope,
                r.fingerprint,
                r.status,
                body,
                encoding.as_str(),
                r.created_at.unix_seconds()
            ])?;
        Ok(())
    }

    fn set_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        url: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write_ipn_endpoint(merchant_id, environment, url)
    }

    fn lease_notification(
        &mut self,
        notification_id: &str,
        real_now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.write_lease(notification_id, real_now_ms, lease_until_ms)
    }

    fn release_notification(&mut self, notification_id: &str) -> Result<(), StoreError> {
        self.write_release(notification_id)
    }

    fn finish_attempt(&mut self, notification_id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError> {
        self.write_attempt(notification_id, outcome)
    }

    fn redeliver(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
        real_now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.write_redelivery(merchant_id, environment, notification_id, real_now_ms)
    }

    fn prune_idempotency_records(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        self.delete_idempotency_records(before, limit)
    }

    fn prune_delivered_notifications(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        self.delete_delivered_notifications(before, limit)
    }

    fn prune_finished_jobs(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError> {
        self.delete_finished_jobs(before, limit)
    }

    fn insert_sns_signing_key(&mut self, key: &SnsSigningKey) -> Result<(), StoreError> {
        self.write_sns_signing_key(key)
    }

    fn insert_fault(&mut self, fault: &Fault) -> Result<(), StoreError> {
        self.write_fault(fault)
    }

    fn consume_fault(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        fault_id: &str,
    ) -> Result<bool, StoreError> {
        self.write_consumption(merchant_id, environment, fault_id)
    }

    fn clear_faults(&mut self, merchant_id: &str, environment: Environment) -> Result<usize, StoreError> {
        self.delete_faults(merchant_id, environment)
    }
}
