//! The column lists of the object, notification and fault tables, shared by both backends:
//! their statements name these columns in this order (a write's parameters follow it) and
//! the shared decoders (`codec`) read them by name, so the two cannot list them apart. And
//! the statements that write objects, built once per backend from these lists
//! (`ObjectStatements`): they are the keys of each connection's prepared-statement cache, and
//! building them on every write was a twentieth of SQLite's writer thread's time
//! (docs/performance.md).

use std::sync::LazyLock;

pub(crate) const CHARGE_COLUMNS: &str = "id, permission_id, merchant_id, environment, currency, amount, capture_amount, refunded, refund_pending, refund_count, soft_descriptor, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, provider_reference_id, platform_id, charge_initiator, channel, capture_now, can_handle_pending, state, state_reason, reason_description, pending_resolution, state_updated_at, created_at, authorized_at, expires_at, period_start, wcd_present, wcd_review_url, wcd_result_url, wcd_cancel_url, atypical_activity";

pub(crate) const REFUND_COLUMNS: &str = "id, charge_id, merchant_id, environment, currency, amount, soft_descriptor, state, state_reason, state_updated_at, created_at, pending_decline";

pub(crate) const SESSION_COLUMNS: &str = "id, merchant_id, environment, region, store_id, review_url, result_url, cancel_url, process_order, kind, rm_present, rm_unit, rm_value, rm_amount, rm_currency, payment_intent, charge_amount, total_order_amount, amount_currency, can_handle_pending, soft_descriptor, presentment_currency, allow_overcharge, extend_expiration, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, platform_id, buyer_id, buyer_name, buyer_email, buyer_phone, shipping_address, billing_address, payment_method, buyer_confirmed, state, state_reason, state_updated_at, created_at, expires_at, charge_permission_id, charge_id, supplementary_data, setup_only, delivery_specifications, address_details, renews_permission, checkout_button_text, estimate_order_total, estimate_currency, provider_reference_id";

pub(crate) const PERMISSION_COLUMNS: &str = "id, merchant_id, environment, region, kind, currency, amount_limit, captured, open_authorized, period_start, period_used, charges_created, charge_sequence, refund_sequence, state, state_reason, state_description, state_updated_at, created_at, expires_at, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, mm_locked, rm_present, rm_unit, rm_value, rm_amount, buyer_id, buyer_name, buyer_email, buyer_phone, payment_method, platform_id, shipping_address, billing_address, setup_only";

pub(crate) const NOTIFICATION_COLUMNS: &str = "notification_id, message_id, merchant_id, environment, object_type, object_id, \
     charge_permission_id, notification_type, created_at, status, next_attempt_ms, first_attempt_ms, round_attempts, published_ms";

pub(crate) const FAULT_COLUMNS: &str =
    "fault_id, merchant_id, environment, reason_code, count, remaining, operations, delay_ms, created_at";

/// How a backend numbers its statements' parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Numbered {
    /// SQLite's `?1, ?2, ...`.
    Question,
    /// PostgreSQL's `$1, $2, ...`.
    Dollar,
}

impl Numbered {
    fn param(self, n: usize) -> String {
        match self {
            Numbered::Question => format!("?{n}"),
            Numbered::Dollar => format!("${n}"),
        }
    }

    /// One numbered parameter per column.
    fn placeholders(self, columns: &str) -> String {
        (1..=columns.split(", ").count()).map(|n| self.param(n)).collect::<Vec<_>>().join(", ")
    }
}

/// The columns an update or upsert sets, numbered by their place in `columns`: all but
/// what an object never changes (its id, merchant, environment, creation instant). SQLite
/// rewrites the entries of every index whose columns an UPDATE names, changed or not, and the
/// dashboard's lists index merchant, environment and creation: naming them would rewrite
/// those entries on every change of every object.
fn mutable(columns: &str) -> impl Iterator<Item = (usize, &str)> {
    const IMMUTABLE: [&str; 4] = ["id", "merchant_id", "environment", "created_at"];
    columns.split(", ").enumerate().map(|(i, c)| (i + 1, c)).filter(|(_, c)| !IMMUTABLE.contains(c))
}

/// Inserts a new object: fails if its id exists (in any scope).
fn insert_sql(table: &str, columns: &str, numbered: Numbered) -> String {
    format!("INSERT INTO {table} ({columns}) VALUES ({})", numbered.placeholders(columns))
}

/// Updates an object only where it has the id AND the merchant AND the environment given
/// (the first three parameters, as the first three columns of a permission): another
/// scope's object with that id is not touched, and no row changes.
fn scoped_update_sql(table: &str, columns: &str, numbered: Numbered) -> String {
    let set = match numbered {
        Numbered::Question => {
            mutable(columns).map(|(n, c)| format!("{c} = {}", numbered.param(n))).collect::<Vec<_>>().join(", ")
        }
        // PostgreSQL must see every parameter to know its type (an immutable column's would go
        // unused), and it tells which indexes an update touches by the values, not by the
        // columns named: it sets them all.
        Numbered::Dollar => format!("({columns}) = ({})", numbered.placeholders(columns)),
    };
    let (id, merchant, environment) = (numbered.param(1), numbered.param(2), numbered.param(3));
    format!("UPDATE {table} SET {set} WHERE id = {id} AND merchant_id = {merchant} AND environment = {environment}")
}

/// Inserts an object, or updates it if its id exists in the same merchant and environment;
/// an object of the same id in another scope is left as it was and no row changes. A save
/// names its merchant and environment, so it cannot overwrite another's object even if a
/// caller forgot the scoped load before it.
fn scoped_upsert_sql(table: &str, columns: &str, numbered: Numbered) -> String {
    let set = mutable(columns).map(|(_, c)| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "INSERT INTO {table} ({columns}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {set} \
         WHERE {table}.merchant_id = excluded.merchant_id AND {table}.environment = excluded.environment",
        numbered.placeholders(columns)
    )
}

/// The statements that write objects, for one backend.
pub(crate) struct ObjectStatements {
    pub(crate) permission_insert: String,
    pub(crate) permission_update: String,
    pub(crate) charge_upsert: String,
    pub(crate) refund_upsert: String,
    pub(crate) session_upsert: String,
}

impl ObjectStatements {
    fn new(numbered: Numbered) -> ObjectStatements {
        ObjectStatements {
            permission_insert: insert_sql("charge_permissions", PERMISSION_COLUMNS, numbered),
            permission_update: scoped_update_sql("charge_permissions", PERMISSION_COLUMNS, numbered),
            charge_upsert: scoped_upsert_sql("charges", CHARGE_COLUMNS, numbered),
            refund_upsert: scoped_upsert_sql("refunds", REFUND_COLUMNS, numbered),
            session_upsert: scoped_upsert_sql("checkout_sessions", SESSION_COLUMNS, numbered),
        }
    }
}

pub(crate) static SQLITE_STATEMENTS: LazyLock<ObjectStatements> =
    LazyLock::new(|| ObjectStatements::new(Numbered::Question));
pub(crate) static POSTGRES_STATEMENTS: LazyLock<ObjectStatements> =
    LazyLock::new(|| ObjectStatements::new(Numbered::Dollar));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_set_what_changes_and_are_scoped_in_each_dialect() {
        // Updates are of permissions, whose first three columns are id, merchant, environment.
        assert!(PERMISSION_COLUMNS.starts_with("id, merchant_id, environment, region,"));
        let sqlite = scoped_update_sql("charge_permissions", PERMISSION_COLUMNS, Numbered::Question);
        assert!(sqlite.starts_with("UPDATE charge_permissions SET region = ?4, kind = ?5,"), "{sqlite}");
        assert!(sqlite.ends_with("WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3"), "{sqlite}");
        assert!(!sqlite.contains("created_at = "), "{sqlite}");
        let postgres = scoped_update_sql("charge_permissions", PERMISSION_COLUMNS, Numbered::Dollar);
        assert!(postgres.contains("setup_only) = ($1, $2,"), "every parameter is used: {postgres}");
        let postgres = scoped_upsert_sql("refunds", REFUND_COLUMNS, Numbered::Dollar);
        assert!(postgres.contains("VALUES ($1, $2, $3, $4,"), "{postgres}");
        assert!(postgres.contains("DO UPDATE SET charge_id = excluded.charge_id, currency = excluded.currency"));
        assert!(!postgres.contains("merchant_id = excluded.merchant_id,"), "{postgres}");
    }
}
