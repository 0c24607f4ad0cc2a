//! Row codecs: domain objects to and from columns, shared by both backends. Every stored
//! enum is written by its name; a name that does not parse is a corrupt row, never a guess.
//!
//! A backend's row type implements [`Columns`] (a typed value by column name), so each
//! object is decoded by one function whichever database it came from: the two backends
//! cannot drift apart in how they read an object back.

use amzpay_domain::charge::{CancelReason, ChargeState, DeclineReason};
use amzpay_domain::charge_permission::{ClosureReason, NonChargeableReason};
use amzpay_domain::checkout_session::{
    Address, CheckoutSession, PaymentDetails, PaymentIntent, SessionCancelReason, SessionState,
};
use amzpay_domain::metadata::{
    Buyer, Channel, ChargeInitiator, FrequencyUnit, MerchantMetadata, OpaqueJson, RecurringMetadata, SoftDescriptor,
    WebCheckoutDetails,
};
use amzpay_domain::refund::RefundDeclineReason;
use amzpay_domain::sandbox::{PendingResolution, SandboxCard};
use amzpay_domain::*;

use crate::StoreError;
use crate::model::*;

/// A row of either backend, read by column name. Integers are 64-bit in both databases;
/// a narrower Rust type is converted with a range check (out of range is corrupt data).
pub(crate) trait Columns {
    fn column<T: Column>(&self, name: &str) -> Result<T, StoreError>;
}

/// A Rust type a column is read as, from either backend's row.
pub(crate) trait Column: Sized {
    /// The value of the column at `index` (SQLite's side finds it by name once per row:
    /// `sqlite::codec::Named`).
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, StoreError>;
    fn from_postgres(row: &postgres::Row, name: &str) -> Result<Self, StoreError>;
}

impl Columns for rusqlite::Row<'_> {
    fn column<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        let statement: &rusqlite::Statement<'_> = self.as_ref();
        T::from_sqlite(self, statement.column_index(name)?)
    }
}

impl Columns for postgres::Row {
    fn column<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        T::from_postgres(self, name)
    }
}

/// Types both drivers read directly.
macro_rules! direct_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, StoreError> {
                Ok(row.get(index)?)
            }
            fn from_postgres(row: &postgres::Row, name: &str) -> Result<Self, StoreError> {
                Ok(row.try_get(name)?)
            }
        }
    )*};
}
direct_column!(String, Option<String>, i64, Option<i64>, bool, Option<bool>, Vec<u8>);

/// Types PostgreSQL keeps as `BIGINT`, read back with a range check.
macro_rules! narrow_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, StoreError> {
                Ok(row.get(index)?)
            }
            fn from_postgres(row: &postgres::Row, name: &str) -> Result<Self, StoreError> {
                let wide: i64 = row.try_get(name)?;
                <$t>::try_from(wide).map_err(|_| corrupt(name, &wide.to_string()))
            }
        }
        impl Column for Option<$t> {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, StoreError> {
                Ok(row.get(index)?)
            }
            fn from_postgres(row: &postgres::Row, name: &str) -> Result<Self, StoreError> {
                let wide: Option<i64> = row.try_get(name)?;
                wide.map(|wide| <$t>::try_from(wide).map_err(|_| corrupt(name, &wide.to_string()))).transpose()
            }
        }
    )*};
}
narrow_column!(u32, u16);

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

/// A stored name read back with `parse`; a missing or unknown one is corrupt data.
pub(crate) fn parsed<T>(what: &str, text: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let text = text.unwrap_or_default();
    parse(text).ok_or_else(|| corrupt(what, text))
}

pub(crate) fn currency_of(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).ok_or_else(|| corrupt("currency", code))
}

pub(crate) fn environment_of(text: &str) -> Result<Environment, StoreError> {
    Environment::from_path_segment(text).ok_or_else(|| corrupt("environment", text))
}

pub(crate) fn region_of(text: &str) -> Result<Region, StoreError> {
    Region::from_alias(text).ok_or_else(|| corrupt("region", text))
}

/// How an idempotency record's reply is kept. A replay must answer the original body byte
/// for byte, and objects are stored as their current state only (no versions), so the
/// reply cannot be rebuilt from the object later: it is kept, compressed (lossless), which
/// makes a typical JSON reply about half its size: fewer pages for the writer to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyEncoding {
    /// As sent: records from before, and replies compression would not shrink.
    Identity,
    /// Raw deflate (RFC 1951): what records were kept in before LZ4; still read.
    Deflate,
    /// An LZ4 block after its uncompressed length (4 bytes, little-endian). LZ4 rather than
    /// deflate because this runs on the writer thread, which every write of the process
    /// waits for: deflating a reply took a tenth of that thread's time, LZ4 a small fraction
    /// of it, for a little less saving (docs/performance.md).
    Lz4,
}

impl ReplyEncoding {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReplyEncoding::Identity => "identity",
            ReplyEncoding::Deflate => "deflate",
            ReplyEncoding::Lz4 => "lz4",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<ReplyEncoding> {
        match text {
            "identity" => Some(ReplyEncoding::Identity),
            "deflate" => Some(ReplyEncoding::Deflate),
            "lz4" => Some(ReplyEncoding::Lz4),
            _ => None,
        }
    }
}

/// The largest reply a stored record may inflate to: far above any reply amzpay sends (a
/// few kilobytes), so a damaged row cannot make a replay allocate without bound.
const MAX_STORED_REPLY_BYTES: u64 = 4 * 1024 * 1024;

pub(crate) fn encode_reply(body: &[u8]) -> (Vec<u8>, ReplyEncoding) {
    let compressed = lz4_flex::block::compress_prepend_size(body);
    if compressed.len() < body.len() {
        (compressed, ReplyEncoding::Lz4)
    } else {
        (body.to_vec(), ReplyEncoding::Identity)
    }
}

pub(crate) fn decode_reply(stored: Vec<u8>, encoding: ReplyEncoding) -> Result<Vec<u8>, StoreError> {
    use std::io::Read;
    match encoding {
        ReplyEncoding::Identity => Ok(stored),
        ReplyEncoding::Deflate => {
            let mut body = Vec::new();
            flate2::read::DeflateDecoder::new(stored.as_slice())
                .take(MAX_STORED_REPLY_BYTES + 1)
                .read_to_end(&mut body)
                .map_err(|e| StoreError::Corrupt(format!("a stored reply does not inflate: {e}")))?;
            if body.len() as u64 > MAX_STORED_REPLY_BYTES {
                return Err(StoreError::Corrupt("a stored reply inflates past its bound".into()));
            }
            Ok(body)
        }
        ReplyEncoding::Lz4 => {
            let corrupt = |why: &str| StoreError::Corrupt(format!("a stored reply does not decompress: {why}"));
            let (length, block) = stored.split_first_chunk::<4>().ok_or_else(|| corrupt("no length"))?;
            let length = u32::from_le_bytes(*length);
            if u64::from(length) > MAX_STORED_REPLY_BYTES {
                return Err(StoreError::Corrupt("a stored reply inflates past its bound".into()));
            }
            lz4_flex::block::decompress(block, length as usize).map_err(|e| corrupt(&e.to_string()))
        }
    }
}

pub(crate) fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

pub(crate) fn merchant_metadata_from(row: &impl Columns) -> Result<Option<MerchantMetadata>, StoreError> {
    if !row.column::<bool>("mm_present")? {
        return Ok(None);
    }
    Ok(Some(MerchantMetadata {
        merchant_reference_id: row.column("mm_reference_id")?,
        merchant_store_name: row.column("mm_store_name")?,
        note_to_buyer: row.column("mm_note_to_buyer")?,
        custom_information: row.column("mm_custom_information")?,
    }))
}

pub(crate) fn buyer_from(row: &impl Columns) -> Result<Option<Buyer>, StoreError> {
    let Some(buyer_id) = row.column::<Option<String>>("buyer_id")? else { return Ok(None) };
    Ok(Some(Buyer {
        buyer_id,
        name: row.column("buyer_name")?,
        email: row.column("buyer_email")?,
        phone_number: row.column("buyer_phone")?,
    }))
}

pub(crate) fn permission_state_from(
    name: &str,
    reason: Option<String>,
    description: Option<String>,
) -> Result<PermissionState, StoreError> {
    match name {
        "Chargeable" => Ok(PermissionState::Chargeable),
        "NonChargeable" => Ok(PermissionState::NonChargeable(parsed(
            "non-chargeable reason",
            reason.as_deref(),
            NonChargeableReason::parse,
        )?)),
        "Closed" => {
            let reason = match reason {
                None => None,
                Some(text) => Some(ClosureReason::parse(&text).ok_or_else(|| corrupt("closure reason", &text))?),
            };
            Ok(PermissionState::Closed { reason, description })
        }
        other => Err(corrupt("permission state", other)),
    }
}

pub(crate) fn permission_state_columns(state: &PermissionState) -> (&'static str, Option<&'static str>, Option<&str>) {
    match state {
        PermissionState::Chargeable => ("Chargeable", None, None),
        PermissionState::NonChargeable(reason) => ("NonChargeable", Some(reason.as_str()), None),
        PermissionState::Closed { reason, description } => {
            ("Closed", reason.map(|r| r.as_str()), description.as_deref())
        }
    }
}

pub(crate) fn charge_state_from(name: &str, reason: Option<String>) -> Result<ChargeState, StoreError> {
    match name {
        "AuthorizationInitiated" => Ok(ChargeState::AuthorizationInitiated),
        "Authorized" => Ok(ChargeState::Authorized),
        "CaptureInitiated" => Ok(ChargeState::CaptureInitiated),
        "Captured" => Ok(ChargeState::Captured),
        "Canceled" => parsed("cancel reason", reason.as_deref(), CancelReason::parse).map(ChargeState::Canceled),
        "Declined" => parsed("decline reason", reason.as_deref(), DeclineReason::parse).map(ChargeState::Declined),
        other => Err(corrupt("charge state", other)),
    }
}

pub(crate) fn pending_resolution_text(resolution: Option<PendingResolution>) -> Option<&'static str> {
    resolution.map(|r| match r {
        PendingResolution::Succeeds => "Succeeds",
        PendingResolution::Declines(reason) => reason.as_str(),
    })
}

pub(crate) fn pending_resolution_from(text: Option<String>) -> Result<Option<PendingResolution>, StoreError> {
    match text.as_deref() {
        None => Ok(None),
        Some("Succeeds") => Ok(Some(PendingResolution::Succeeds)),
        Some(other) => DeclineReason::parse(other)
            .map(|reason| Some(PendingResolution::Declines(reason)))
            .ok_or_else(|| corrupt("pending resolution", other)),
    }
}

pub(crate) fn permission_from(row: &impl Columns) -> Result<ChargePermission, StoreError> {
    let currency = currency_of(&row.column::<String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.column(column)?, currency)) };
    let id_text: String = row.column("id")?;
    let kind_text: String = row.column("kind")?;
    let card_text: String = row.column("payment_method")?;
    let recurring_metadata = if row.column::<bool>("rm_present")? {
        let unit: Option<String> = row.column("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.column::<u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = row.column::<Option<i64>>("rm_amount")?.map(|minor| Money::from_minor(minor, currency));
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    Ok(ChargePermission {
        id: ChargePermissionId::parse(&id_text).ok_or_else(|| corrupt("permission id", &id_text))?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        region: region_of(&row.column::<String>("region")?)?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        currency,
        amount_limit: money("amount_limit")?,
        captured: money("captured")?,
        open_authorized: money("open_authorized")?,
        period_start: ts(row.column("period_start")?),
        period_used: money("period_used")?,
        charges_created: row.column("charges_created")?,
        charge_sequence: row.column("charge_sequence")?,
        refund_sequence: row.column("refund_sequence")?,
        state: permission_state_from(
            &row.column::<String>("state")?,
            row.column("state_reason")?,
            row.column("state_description")?,
        )?,
        state_updated_at: ts(row.column("state_updated_at")?),
        created_at: ts(row.column("created_at")?),
        expires_at: row.column::<Option<i64>>("expires_at")?.map(ts),
        merchant_metadata: merchant_metadata_from(row)?,
        merchant_metadata_locked: row.column("mm_locked")?,
        recurring_metadata,
        buyer,
        shipping_address: address_from(row.column("shipping_address")?)?,
        billing_address: address_from(row.column("billing_address")?)?,
        payment_method: SandboxCard::parse(&card_text).ok_or_else(|| corrupt("payment method", &card_text))?,
        platform_id: row.column("platform_id")?,
        setup_only: row.column("setup_only")?,
    })
}

pub(crate) fn charge_from(row: &impl Columns) -> Result<Charge, StoreError> {
    let currency = currency_of(&row.column::<String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.column(column)?, currency)) };
    let id_text: String = row.column("id")?;
    let id = ChargeId::parse(&id_text).ok_or_else(|| corrupt("charge id", &id_text))?;
    let soft_descriptor = match row.column::<Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let initiator = row.column::<Option<String>>("charge_initiator")?;
    let channel = row.column::<Option<String>>("channel")?;
    Ok(Charge {
        permission_id: id.permission_id(),
        id,
        environment: environment_of(&row.column::<String>("environment")?)?,
        amount: money("amount")?,
        capture_amount: row.column::<Option<i64>>("capture_amount")?.map(|m| Money::from_minor(m, currency)),
        refunded: money("refunded")?,
        refund_pending: money("refund_pending")?,
        refund_count: row.column("refund_count")?,
        soft_descriptor,
        merchant_metadata: merchant_metadata_from(row)?,
        provider_reference_id: row.column("provider_reference_id")?,
        platform_id: row.column("platform_id")?,
        charge_initiator: initiator
            .map(|t| ChargeInitiator::parse(&t).ok_or_else(|| corrupt("charge initiator", &t)))
            .transpose()?,
        channel: channel.map(|t| Channel::parse(&t).ok_or_else(|| corrupt("channel", &t))).transpose()?,
        capture_now: row.column("capture_now")?,
        can_handle_pending_authorization: row.column("can_handle_pending")?,
        state: charge_state_from(&row.column::<String>("state")?, row.column("state_reason")?)?,
        reason_description: row.column("reason_description")?,
        pending_resolution: pending_resolution_from(row.column("pending_resolution")?)?,
        state_updated_at: ts(row.column("state_updated_at")?),
        created_at: ts(row.column("created_at")?),
        authorized_at: row.column::<Option<i64>>("authorized_at")?.map(ts),
        expires_at: ts(row.column("expires_at")?),
        period_start: ts(row.column("period_start")?),
        web_checkout_details: if row.column::<bool>("wcd_present")? {
            Some(WebCheckoutDetails {
                checkout_review_return_url: row.column("wcd_review_url")?,
                checkout_result_return_url: row.column("wcd_result_url")?,
                checkout_cancel_url: row.column("wcd_cancel_url")?,
            })
        } else {
            None
        },
        atypical_activity: row.column("atypical_activity")?,
    })
}

pub(crate) fn refund_from(row: &impl Columns) -> Result<Refund, StoreError> {
    let currency = currency_of(&row.column::<String>("currency")?)?;
    let id_text: String = row.column("id")?;
    let charge_text: String = row.column("charge_id")?;
    let state_text: String = row.column("state")?;
    let state = match state_text.as_str() {
        "RefundInitiated" => RefundState::RefundInitiated,
        "Refunded" => RefundState::Refunded,
        "Declined" => {
            let reason: Option<String> = row.column("state_reason")?;
            RefundState::Declined(parsed("refund decline reason", reason.as_deref(), RefundDeclineReason::parse)?)
        }
        other => return Err(corrupt("refund state", other)),
    };
    let soft_descriptor = match row.column::<Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let pending_decline = match row.column::<Option<String>>("pending_decline")? {
        Some(text) => Some(RefundDeclineReason::parse(&text).ok_or_else(|| corrupt("refund decline reason", &text))?),
        None => None,
    };
    Ok(Refund {
        pending_decline,
        id: RefundId::parse(&id_text).ok_or_else(|| corrupt("refund id", &id_text))?,
        charge_id: ChargeId::parse(&charge_text).ok_or_else(|| corrupt("charge id", &charge_text))?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        amount: Money::from_minor(row.column("amount")?, currency),
        soft_descriptor,
        state,
        state_updated_at: ts(row.column("state_updated_at")?),
        created_at: ts(row.column("created_at")?),
    })
}

/// Addresses are stored as one text: their fields joined by the ASCII unit separator, each
/// absent field empty. A field never contains the separator (it is a control character).
const ADDRESS_SEPARATOR: char = '\u{1f}';

pub(crate) fn address_text(address: &Address) -> String {
    [
        &address.name,
        &address.address_line1,
        &address.address_line2,
        &address.address_line3,
        &address.city,
        &address.county,
        &address.district,
        &address.state_or_region,
        &address.postal_code,
        &address.country_code,
        &address.phone_number,
    ]
    .iter()
    .map(|field| field.as_deref().unwrap_or("").replace(ADDRESS_SEPARATOR, " "))
    .collect::<Vec<_>>()
    .join(&ADDRESS_SEPARATOR.to_string())
}

pub(crate) fn address_from(text: Option<String>) -> Result<Option<Address>, StoreError> {
    let Some(text) = text else { return Ok(None) };
    let fields: Vec<Option<String>> =
        text.split(ADDRESS_SEPARATOR).map(|f| (!f.is_empty()).then(|| f.to_owned())).collect();
    let [
        name,
        address_line1,
        address_line2,
        address_line3,
        city,
        county,
        district,
        state_or_region,
        postal_code,
        country_code,
        phone_number,
    ] = <[Option<String>; 11]>::try_from(fields).map_err(|_| corrupt("address", &text))?;
    Ok(Some(Address {
        name,
        address_line1,
        address_line2,
        address_line3,
        city,
        county,
        district,
        state_or_region,
        postal_code,
        country_code,
        phone_number,
    }))
}

pub(crate) fn session_from(row: &impl Columns) -> Result<CheckoutSession, StoreError> {
    let amount_currency = row.column::<Option<String>>("amount_currency")?.map(|c| currency_of(&c)).transpose()?;
    let money = |column: &str| -> Result<Option<Money>, StoreError> {
        let minor: Option<i64> = row.column(column)?;
        Ok(match (minor, amount_currency) {
            (Some(minor), Some(currency)) => Some(Money::from_minor(minor, currency)),
            _ => None,
        })
    };
    let kind_text: String = row.column("kind")?;
    let recurring_metadata = if row.column::<bool>("rm_present")? {
        let unit: Option<String> = row.column("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.column::<u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = match (row.column::<Option<i64>>("rm_amount")?, row.column::<Option<String>>("rm_currency")?) {
            (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
            _ => None,
        };
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    let state_text: String = row.column("state")?;
    let state = match state_text.as_str() {
        "Open" => SessionState::Open,
        "Completed" => SessionState::Completed,
        "Canceled" => {
            let reason: Option<String> = row.column("state_reason")?;
            SessionState::Canceled(parsed("session cancel reason", reason.as_deref(), SessionCancelReason::parse)?)
        }
        other => return Err(corrupt("session state", other)),
    };
    let payment_method = row
        .column::<Option<String>>("payment_method")?
        .map(|c| SandboxCard::parse(&c).ok_or_else(|| corrupt("card", &c)))
        .transpose()?;
    let intent = row
        .column::<Option<String>>("payment_intent")?
        .map(|t| PaymentIntent::parse(&t).ok_or_else(|| corrupt("payment intent", &t)))
        .transpose()?;
    let soft_descriptor = match row.column::<Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    Ok(CheckoutSession {
        id: row.column("id")?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        region: region_of(&row.column::<String>("region")?)?,
        store_id: row.column("store_id")?,
        checkout_review_return_url: row.column("review_url")?,
        checkout_result_return_url: row.column("result_url")?,
        checkout_cancel_url: row.column("cancel_url")?,
        process_order: row.column("process_order")?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        recurring_metadata,
        payment: PaymentDetails {
            payment_intent: intent,
            charge_amount: money("charge_amount")?,
            total_order_amount: money("total_order_amount")?,
            can_handle_pending_authorization: row.column("can_handle_pending")?,
            soft_descriptor,
            presentment_currency: row
                .column::<Option<String>>("presentment_currency")?
                .map(|c| currency_of(&c))
                .transpose()?,
            allow_overcharge: row.column("allow_overcharge")?,
            extend_expiration: row.column("extend_expiration")?,
            estimate_order_total: match (
                row.column::<Option<i64>>("estimate_order_total")?,
                row.column::<Option<String>>("estimate_currency")?,
            ) {
                (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
                _ => None,
            },
        },
        merchant_metadata: merchant_metadata_from(row)?,
        platform_id: row.column("platform_id")?,
        buyer,
        shipping_address: address_from(row.column("shipping_address")?)?,
        billing_address: address_from(row.column("billing_address")?)?,
        payment_method,
        buyer_confirmed: row.column("buyer_confirmed")?,
        state,
        state_updated_at: ts(row.column("state_updated_at")?),
        created_at: ts(row.column("created_at")?),
        expires_at: ts(row.column("expires_at")?),
        charge_permission_id: row
            .column::<Option<String>>("charge_permission_id")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        charge_id: row
            .column::<Option<String>>("charge_id")?
            .map(|t| ChargeId::parse(&t).ok_or_else(|| corrupt("charge id", &t)))
            .transpose()?,
        supplementary_data: row.column("supplementary_data")?,
        provider_reference_id: row.column("provider_reference_id")?,
        setup_only: row.column("setup_only")?,
        delivery_specifications: row.column::<Option<String>>("delivery_specifications")?.map(OpaqueJson::new),
        address_details: address_from(row.column("address_details")?)?,
        renews_permission: row
            .column::<Option<String>>("renews_permission")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        checkout_button_text: row.column("checkout_button_text")?,
    })
}

pub(crate) fn job_from(row: &impl Columns) -> Result<Job, StoreError> {
    let kind: String = row.column("kind")?;
    Ok(Job {
        id: row.column("id")?,
        merchant_id: row.column("merchant_id")?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind", &kind))?,
        object_id: row.column("object_id")?,
        due_at: ts(row.column("due_at")?),
    })
}

pub(crate) fn merchant_from(row: &impl Columns) -> Result<MerchantRecord, StoreError> {
    Ok(MerchantRecord {
        merchant_id: row.column("merchant_id")?,
        region: region_of(&row.column::<String>("region")?)?,
        store_id: row.column("store_id")?,
        created_at: ts(row.column("created_at")?),
    })
}

pub(crate) fn state_change_from(row: &impl Columns) -> Result<StateChange, StoreError> {
    let kind: String = row.column("object_kind")?;
    let cause: String = row.column("cause")?;
    Ok(StateChange {
        merchant_id: row.column("merchant_id")?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        object_kind: ObjectKind::parse(&kind).ok_or_else(|| corrupt("object kind", &kind))?,
        object_id: row.column("object_id")?,
        state: row.column("state")?,
        reason_code: row.column("reason_code")?,
        at: ts(row.column("at")?),
        cause: Cause::parse(&cause).ok_or_else(|| corrupt("cause", &cause))?,
        detail: row.column("detail")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Create Charge answer as amzpay sends it (one of the larger replies).
    const CHARGE_REPLY: &str = r#"{"chargeId":"S01-5105180-3221187-C033712","chargePermissionId":"S01-5105180-3221187","chargeAmount":{"amount":"14.00","currencyCode":"USD"},"captureAmount":{"amount":"14.00","currencyCode":"USD"},"refundedAmount":{"amount":"0.00","currencyCode":"USD"},"convertedAmount":"14.00","conversionRate":"1.0","softDescriptor":"Descriptor","merchantMetadata":{"merchantReferenceId":"order-1","merchantStoreName":"Shop","noteToBuyer":"Thank you","customInformation":null},"providerMetadata":{"providerReferenceId":null},"statusDetails":{"state":"Captured","reasonCode":null,"reasonDescription":null,"lastUpdatedTimestamp":"20190714T155300Z"},"creationTimestamp":"20190714T155300Z","expirationTimestamp":"20190813T155300Z","releaseEnvironment":"Sandbox","channel":null,"platformId":null,"webCheckoutDetails":null}"#;

    #[test]
    fn a_reply_is_kept_compressed_and_comes_back_byte_for_byte() {
        let (stored, encoding) = encode_reply(CHARGE_REPLY.as_bytes());
        assert_eq!(encoding, ReplyEncoding::Lz4);
        assert!(stored.len() * 10 < CHARGE_REPLY.len() * 7, "{} bytes of {}", stored.len(), CHARGE_REPLY.len());
        assert_eq!(decode_reply(stored, encoding).unwrap(), CHARGE_REPLY.as_bytes());
    }

    #[test]
    fn a_reply_deflated_before_lz4_still_comes_back_byte_for_byte() {
        use std::io::Write;
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(CHARGE_REPLY.as_bytes()).unwrap();
        let stored = encoder.finish().unwrap();
        assert_eq!(decode_reply(stored, ReplyEncoding::Deflate).unwrap(), CHARGE_REPLY.as_bytes());
    }

    #[test]
    fn a_reply_compression_would_not_shrink_is_kept_as_it_is() {
        let (stored, encoding) = encode_reply(b"{}");
        assert_eq!((stored.as_slice(), encoding), (&b"{}"[..], ReplyEncoding::Identity));
        assert_eq!(decode_reply(stored, encoding).unwrap(), b"{}");
    }

    #[test]
    fn a_damaged_stored_reply_is_corrupt_not_a_panic() {
        let (mut lz4, _) = encode_reply(CHARGE_REPLY.as_bytes());
        lz4.truncate(lz4.len() / 2);
        let huge = [u32::MAX.to_le_bytes().as_slice(), &[0; 12]].concat();
        for (stored, encoding) in [
            (vec![0xff; 16], ReplyEncoding::Deflate),
            (vec![0xff; 16], ReplyEncoding::Lz4),
            (vec![1, 2], ReplyEncoding::Lz4),
            (lz4, ReplyEncoding::Lz4),
            (huge, ReplyEncoding::Lz4),
        ] {
            let result = decode_reply(stored, encoding);
            assert!(matches!(result, Err(StoreError::Corrupt(_))), "{encoding:?}: {result:?}");
        }
    }
}
