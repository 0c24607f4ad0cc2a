//! Row codecs: domain objects to and from SQLite columns. Every stored enum is written by
//! its name; a name that does not parse is a corrupt row, never a guess.

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
use rusqlite::{Connection, Row};

use crate::StoreError;
use crate::model::*;

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

/// A stored name read back with `parse`; a missing or unknown one is corrupt data.
pub(super) fn parsed<T>(what: &str, text: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let text = text.unwrap_or_default();
    parse(text).ok_or_else(|| corrupt(what, text))
}

pub(super) fn currency_of(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).ok_or_else(|| corrupt("currency", code))
}

pub(super) fn environment_of(text: &str) -> Result<Environment, StoreError> {
    Environment::from_path_segment(text).ok_or_else(|| corrupt("environment", text))
}

pub(super) fn region_of(text: &str) -> Result<Region, StoreError> {
    Region::from_alias(text).ok_or_else(|| corrupt("region", text))
}

/// How an idempotency record's reply is kept. A replay must answer the original body byte
/// for byte, and objects are stored as their current state only (no versions), so the
/// reply cannot be rebuilt from the object later: it is kept, compressed (lossless), which
/// makes a typical JSON reply about half its size: fewer pages for the writer to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyEncoding {
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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ReplyEncoding::Identity => "identity",
            ReplyEncoding::Deflate => "deflate",
            ReplyEncoding::Lz4 => "lz4",
        }
    }

    pub(super) fn parse(text: &str) -> Option<ReplyEncoding> {
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

pub(super) fn encode_reply(body: &[u8]) -> (Vec<u8>, ReplyEncoding) {
    let compressed = lz4_flex::block::compress_prepend_size(body);
    if compressed.len() < body.len() {
        (compressed, ReplyEncoding::Lz4)
    } else {
        (body.to_vec(), ReplyEncoding::Identity)
    }
}

pub(super) fn decode_reply(stored: Vec<u8>, encoding: ReplyEncoding) -> Result<Vec<u8>, StoreError> {
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

pub(super) fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

/// A row read by column name, the names read once. rusqlite finds a named column by
/// comparing the name with every column's, case-insensitively, measuring each C string
/// again, on every get: with thirty-odd columns a row that was a tenth of a Get Charge's
/// CPU time (docs/performance.md). The names here are ours, exact, in the schema's case.
pub(super) struct Named<'r, 's> {
    row: &'r Row<'s>,
    names: Vec<&'r str>,
}

impl<'r, 's> Named<'r, 's> {
    pub(super) fn new(row: &'r Row<'s>) -> rusqlite::Result<Named<'r, 's>> {
        let statement: &'r rusqlite::Statement<'s> = row.as_ref();
        let names = (0..statement.column_count()).map(|i| statement.column_name(i)).collect::<Result<_, _>>()?;
        Ok(Named { row, names })
    }

    /// The value of the column named `name` (exactly), as `Row::get` would convert it.
    pub(super) fn get<I: AsRef<str>, T: rusqlite::types::FromSql>(&self, name: I) -> rusqlite::Result<T> {
        let name = name.as_ref();
        match self.names.iter().position(|column| *column == name) {
            Some(index) => self.row.get(index),
            None => Err(rusqlite::Error::InvalidColumnName(name.to_owned())),
        }
    }
}

pub(super) fn merchant_metadata_from(row: &Named<'_, '_>) -> rusqlite::Result<Option<MerchantMetadata>> {
    if !row.get::<_, bool>("mm_present")? {
        return Ok(None);
    }
    Ok(Some(MerchantMetadata {
        merchant_reference_id: row.get("mm_reference_id")?,
        merchant_store_name: row.get("mm_store_name")?,
        note_to_buyer: row.get("mm_note_to_buyer")?,
        custom_information: row.get("mm_custom_information")?,
    }))
}

pub(super) fn buyer_from(row: &Named<'_, '_>) -> rusqlite::Result<Option<Buyer>> {
    let Some(buyer_id) = row.get::<_, Option<String>>("buyer_id")? else { return Ok(None) };
    Ok(Some(Buyer {
        buyer_id,
        name: row.get("buyer_name")?,
        email: row.get("buyer_email")?,
        phone_number: row.get("buyer_phone")?,
    }))
}

pub(super) fn permission_state_from(
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

pub(super) fn permission_state_columns(state: &PermissionState) -> (&'static str, Option<&'static str>, Option<&str>) {
    match state {
        PermissionState::Chargeable => ("Chargeable", None, None),
        PermissionState::NonChargeable(reason) => ("NonChargeable", Some(reason.as_str()), None),
        PermissionState::Closed { reason, description } => {
            ("Closed", reason.map(|r| r.as_str()), description.as_deref())
        }
    }
}

pub(super) fn charge_state_from(name: &str, reason: Option<String>) -> Result<ChargeState, StoreError> {
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

pub(super) fn pending_resolution_text(resolution: Option<PendingResolution>) -> Option<&'static str> {
    resolution.map(|r| match r {
        PendingResolution::Succeeds => "Succeeds",
        PendingResolution::Declines(reason) => reason.as_str(),
    })
}

pub(super) fn pending_resolution_from(text: Option<String>) -> Result<Option<PendingResolution>, StoreError> {
    match text.as_deref() {
        None => Ok(None),
        Some("Succeeds") => Ok(Some(PendingResolution::Succeeds)),
        Some(other) => DeclineReason::parse(other)
            .map(|reason| Some(PendingResolution::Declines(reason)))
            .ok_or_else(|| corrupt("pending resolution", other)),
    }
}

pub(super) fn permission_from(row: &Row<'_>) -> Result<ChargePermission, StoreError> {
    let row = &Named::new(row)?;
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.get(column)?, currency)) };
    let id_text: String = row.get("id")?;
    let kind_text: String = row.get("kind")?;
    let card_text: String = row.get("payment_method")?;
    let recurring_metadata = if row.get::<_, bool>("rm_present")? {
        let unit: Option<String> = row.get("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.get::<_, u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = row.get::<_, Option<i64>>("rm_amount")?.map(|minor| Money::from_minor(minor, currency));
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    Ok(ChargePermission {
        id: ChargePermissionId::parse(&id_text).ok_or_else(|| corrupt("permission id", &id_text))?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        region: region_of(&row.get::<_, String>("region")?)?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        currency,
        amount_limit: money("amount_limit")?,
        captured: money("captured")?,
        open_authorized: money("open_authorized")?,
        period_start: ts(row.get("period_start")?),
        period_used: money("period_used")?,
        charges_created: row.get("charges_created")?,
        charge_sequence: row.get("charge_sequence")?,
        refund_sequence: row.get("refund_sequence")?,
        state: permission_state_from(
            &row.get::<_, String>("state")?,
            row.get("state_reason")?,
            row.get("state_description")?,
        )?,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        expires_at: row.get::<_, Option<i64>>("expires_at")?.map(ts),
        merchant_metadata: merchant_metadata_from(row)?,
        merchant_metadata_locked: row.get("mm_locked")?,
        recurring_metadata,
        buyer,
        shipping_address: address_from(row.get("shipping_address")?)?,
        billing_address: address_from(row.get("billing_address")?)?,
        payment_method: SandboxCard::parse(&card_text).ok_or_else(|| corrupt("payment method", &card_text))?,
        platform_id: row.get("platform_id")?,
        setup_only: row.get("setup_only")?,
    })
}

pub(super) fn charge_from(row: &Row<'_>) -> Result<Charge, StoreError> {
    let row = &Named::new(row)?;
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.get(column)?, currency)) };
    let id_text: String = row.get("id")?;
    let id = ChargeId::parse(&id_text).ok_or_else(|| corrupt("charge id", &id_text))?;
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let initiator = row.get::<_, Option<String>>("charge_initiator")?;
    let channel = row.get::<_, Option<String>>("channel")?;
    Ok(Charge {
        permission_id: id.permission_id(),
        id,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        amount: money("amount")?,
        capture_amount: row.get::<_, Option<i64>>("capture_amount")?.map(|m| Money::from_minor(m, currency)),
        refunded: money("refunded")?,
        refund_pending: money("refund_pending")?,
        refund_count: row.get("refund_count")?,
        soft_descriptor,
        merchant_metadata: merchant_metadata_from(row)?,
        provider_reference_id: row.get("provider_reference_id")?,
        platform_id: row.get("platform_id")?,
        charge_initiator: initiator
            .map(|t| ChargeInitiator::parse(&t).ok_or_else(|| corrupt("charge initiator", &t)))
            .transpose()?,
        channel: channel.map(|t| Channel::parse(&t).ok_or_else(|| corrupt("channel", &t))).transpose()?,
        capture_now: row.get("capture_now")?,
        can_handle_pending_authorization: row.get("can_handle_pending")?,
        state: charge_state_from(&row.get::<_, String>("state")?, row.get("state_reason")?)?,
        reason_description: row.get("reason_description")?,
        pending_resolution: pending_resolution_from(row.get("pending_resolution")?)?,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        authorized_at: row.get::<_, Option<i64>>("authorized_at")?.map(ts),
        expires_at: ts(row.get("expires_at")?),
        period_start: ts(row.get("period_start")?),
        web_checkout_details: if row.get::<_, bool>("wcd_present")? {
            Some(WebCheckoutDetails {
                checkout_review_return_url: row.get("wcd_review_url")?,
                checkout_result_return_url: row.get("wcd_result_url")?,
                checkout_cancel_url: row.get("wcd_cancel_url")?,
            })
        } else {
            None
        },
        atypical_activity: row.get("atypical_activity")?,
    })
}

pub(super) fn refund_from(row: &Row<'_>) -> Result<Refund, StoreError> {
    let row = &Named::new(row)?;
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let id_text: String = row.get("id")?;
    let charge_text: String = row.get("charge_id")?;
    let state_text: String = row.get("state")?;
    let state = match state_text.as_str() {
        "RefundInitiated" => RefundState::RefundInitiated,
        "Refunded" => RefundState::Refunded,
        "Declined" => {
            let reason: Option<String> = row.get("state_reason")?;
            RefundState::Declined(parsed("refund decline reason", reason.as_deref(), RefundDeclineReason::parse)?)
        }
        other => return Err(corrupt("refund state", other)),
    };
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let pending_decline = match row.get::<_, Option<String>>("pending_decline")? {
        Some(text) => Some(RefundDeclineReason::parse(&text).ok_or_else(|| corrupt("refund decline reason", &text))?),
        None => None,
    };
    Ok(Refund {
        pending_decline,
        id: RefundId::parse(&id_text).ok_or_else(|| corrupt("refund id", &id_text))?,
        charge_id: ChargeId::parse(&charge_text).ok_or_else(|| corrupt("charge id", &charge_text))?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        amount: Money::from_minor(row.get("amount")?, currency),
        soft_descriptor,
        state,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
    })
}

/// Addresses are stored as one text: their fields joined by the ASCII unit separator, each
/// absent field empty. A field never contains the separator (it is a control character).
const ADDRESS_SEPARATOR: char = '\u{1f}';

pub(super) fn address_text(address: &Address) -> String {
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

pub(super) fn address_from(text: Option<String>) -> Result<Option<Address>, StoreError> {
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

pub(super) fn session_from(row: &Row<'_>) -> Result<CheckoutSession, StoreError> {
    let row = &Named::new(row)?;
    let amount_currency = row.get::<_, Option<String>>("amount_currency")?.map(|c| currency_of(&c)).transpose()?;
    let money = |column: &str| -> Result<Option<Money>, StoreError> {
        let minor: Option<i64> = row.get(column)?;
        Ok(match (minor, amount_currency) {
            (Some(minor), Some(currency)) => Some(Money::from_minor(minor, currency)),
            _ => None,
        })
    };
    let kind_text: String = row.get("kind")?;
    let recurring_metadata = if row.get::<_, bool>("rm_present")? {
        let unit: Option<String> = row.get("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.get::<_, u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = match (row.get::<_, Option<i64>>("rm_amount")?, row.get::<_, Option<String>>("rm_currency")?) {
            (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
            _ => None,
        };
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    let state_text: String = row.get("state")?;
    let state = match state_text.as_str() {
        "Open" => SessionState::Open,
        "Completed" => SessionState::Completed,
        "Canceled" => {
            let reason: Option<String> = row.get("state_reason")?;
            SessionState::Canceled(parsed("session cancel reason", reason.as_deref(), SessionCancelReason::parse)?)
        }
        other => return Err(corrupt("session state", other)),
    };
    let payment_method = row
        .get::<_, Option<String>>("payment_method")?
        .map(|c| SandboxCard::parse(&c).ok_or_else(|| corrupt("card", &c)))
        .transpose()?;
    let intent = row
        .get::<_, Option<String>>("payment_intent")?
        .map(|t| PaymentIntent::parse(&t).ok_or_else(|| corrupt("payment intent", &t)))
        .transpose()?;
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    Ok(CheckoutSession {
        id: row.get("id")?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        region: region_of(&row.get::<_, String>("region")?)?,
        store_id: row.get("store_id")?,
        checkout_review_return_url: row.get("review_url")?,
        checkout_result_return_url: row.get("result_url")?,
        checkout_cancel_url: row.get("cancel_url")?,
        process_order: row.get("process_order")?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        recurring_metadata,
        payment: PaymentDetails {
            payment_intent: intent,
            charge_amount: money("charge_amount")?,
            total_order_amount: money("total_order_amount")?,
            can_handle_pending_authorization: row.get("can_handle_pending")?,
            soft_descriptor,
            presentment_currency: row
                .get::<_, Option<String>>("presentment_currency")?
                .map(|c| currency_of(&c))
                .transpose()?,
            allow_overcharge: row.get("allow_overcharge")?,
            extend_expiration: row.get("extend_expiration")?,
            estimate_order_total: match (
                row.get::<_, Option<i64>>("estimate_order_total")?,
                row.get::<_, Option<String>>("estimate_currency")?,
            ) {
                (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
                _ => None,
            },
        },
        merchant_metadata: merchant_metadata_from(row)?,
        platform_id: row.get("platform_id")?,
        buyer,
        shipping_address: address_from(row.get("shipping_address")?)?,
        billing_address: address_from(row.get("billing_address")?)?,
        payment_method,
        buyer_confirmed: row.get("buyer_confirmed")?,
        state,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        expires_at: ts(row.get("expires_at")?),
        charge_permission_id: row
            .get::<_, Option<String>>("charge_permission_id")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        charge_id: row
            .get::<_, Option<String>>("charge_id")?
            .map(|t| ChargeId::parse(&t).ok_or_else(|| corrupt("charge id", &t)))
            .transpose()?,
        supplementary_data: row.get("supplementary_data")?,
        provider_reference_id: row.get("provider_reference_id")?,
        setup_only: row.get("setup_only")?,
        delivery_specifications: row.get::<_, Option<String>>("delivery_specifications")?.map(OpaqueJson::new),
        address_details: address_from(row.get("address_details")?)?,
        renews_permission: row
            .get::<_, Option<String>>("renews_permission")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        checkout_button_text: row.get("checkout_button_text")?,
    })
}

pub(super) fn job_from(row: &Row<'_>) -> Result<Job, StoreError> {
    let kind: String = row.get(3)?;
    Ok(Job {
        id: row.get(0)?,
        merchant_id: row.get(1)?,
        environment: environment_of(&row.get::<_, String>(2)?)?,
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind", &kind))?,
        object_id: row.get(4)?,
        due_at: ts(row.get(5)?),
    })
}

pub(super) fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
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
    fn named_reads_each_column_by_its_exact_name_and_refuses_others() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let read = |sql: &str, name: &str| -> rusqlite::Result<i64> {
            connection.query_row(sql, [], |row| Named::new(row)?.get(name))
        };
        let sql = "SELECT 1 AS first, 2 AS second, 3 AS third";
        assert_eq!([read(sql, "first"), read(sql, "second"), read(sql, "third")].map(Result::unwrap), [1, 2, 3]);
        assert!(matches!(read(sql, "fourth"), Err(rusqlite::Error::InvalidColumnName(name)) if name == "fourth"));
        assert!(read(sql, "FIRST").is_err(), "names are the schema's, exactly");
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
