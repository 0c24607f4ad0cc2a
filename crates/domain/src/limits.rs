//! Every limit and duration of the charge lifecycle, each with its source.
//!
//! Sources: "seeds" are the Amazon Pay pages in `shared/seeds/`; "spec" is
//! `shared/spec/amazon-pay-v2.md`; "product" is `shared/spec/product.md` (our choice where
//! Amazon is silent, also listed in `docs/defaults.md`).

use crate::money::Currency;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Create Charge calls allowed on one one-time Charge Permission (seeds 000: "up to 25 Charges").
pub const MAX_CHARGES_PER_ONE_TIME_PERMISSION: u32 = 25;

/// A Checkout Session not completed within this expires (spec §5.5, §12: 24 hours).
pub const CHECKOUT_SESSION_LIFETIME_SECONDS: i64 = SECONDS_PER_DAY;

/// `allowOvercharge`: the limit becomes the larger of this percentage of the order...
/// (spec §12: 900%).
pub const OVERCHARGE_PERCENT: i64 = 900;

/// Refunds per Charge (spec §12 (unconfirmed), product: 10).
pub const MAX_REFUNDS_PER_CHARGE: u32 = 10;

/// `softDescriptor` length in bytes (seeds 000/003: "Max length: 16 characters/bytes").
pub const SOFT_DESCRIPTOR_MAX_BYTES: usize = 16;

/// An authorization not captured within this many seconds expires (seeds 000/003: 30 days).
pub const AUTHORIZATION_LIFETIME_SECONDS: i64 = 30 * SECONDS_PER_DAY;

/// A capture later than this after authorization is processed asynchronously (seeds 000: 7 days).
pub const SYNCHRONOUS_CAPTURE_WINDOW_SECONDS: i64 = 7 * SECONDS_PER_DAY;

/// A Chargeable one-time permission expires after this (seeds 000: 180 days).
pub const ONE_TIME_PERMISSION_LIFETIME_SECONDS: i64 = 180 * SECONDS_PER_DAY;

/// One-time permissions with `extendExpiration`, and recurring permissions without a
/// charge, last this many calendar months (spec §6.2, §12).
pub const EXTENDED_LIFETIME_MONTHS: u8 = 13;

/// Buyer details stay visible this long: after creation for one-time permissions, after
/// closing for recurring ones (spec §5.3).
pub const BUYER_DETAILS_VISIBLE_SECONDS: i64 = 30 * SECONDS_PER_DAY;

/// Refunds may exceed the captured amount by this percentage of it... (spec §6.3, §12)
pub const REFUND_OVERAGE_PERCENT: i64 = 15;

/// Merchant metadata field lengths (spec §5.1 (unconfirmed)).
pub const MERCHANT_REFERENCE_ID_MAX_CHARS: usize = 256;
pub const MERCHANT_STORE_NAME_MAX_CHARS: usize = 50;
pub const NOTE_TO_BUYER_MAX_CHARS: usize = 255;
pub const CUSTOM_INFORMATION_MAX_CHARS: usize = 4096;

/// Closing and cancellation reasons are free text from the merchant; bounded so a row
/// stays small (ours).
pub const REASON_TEXT_MAX_CHARS: usize = 1024;

/// Merchant text amzpay only stores and echoes (`supplementaryData`, `checkoutButtonText`):
/// Amazon documents no length, so the bound is ours, to keep a row small.
pub const ECHOED_TEXT_MAX_CHARS: usize = 16_384;

/// ...but by no more than this fixed amount, in minor units (spec §12: 75 USD/GBP/EUR,
/// 8,400 JPY). Other currencies: 75 units, our choice.
pub fn refund_overage_cap_minor(currency: Currency) -> i64 {
    match currency {
        Currency::Jpy => 8_400,
        _ => 75 * currency.minor_per_unit(),
    }
}

/// Largest `chargeAmount` of one Charge, in minor units (seeds 003, spec §5.2: 150,000
/// USD/GBP/EUR, 10,000,000 JPY). For the other EU presentment currencies we take 150,000
/// units, and 1,500,000 for the currencies whose Saved Wallet limit is ten times larger
/// (DKK, HKD, NOK, SEK, ZAR), our choice.
pub fn max_charge_amount_minor(currency: Currency) -> i64 {
    match currency {
        Currency::Jpy => 10_000_000,
        Currency::Dkk | Currency::Hkd | Currency::Nok | Currency::Sek | Currency::Zar => {
            1_500_000 * currency.minor_per_unit()
        }
        Currency::Usd | Currency::Eur | Currency::Gbp | Currency::Aud | Currency::Nzd | Currency::Chf => {
            150_000 * currency.minor_per_unit()
        }
    }
}

/// Monthly limit of a Recurring permission, in minor units (spec §12: USD 1,000, JPY
/// 100,000, EUR/GBP 1,000 (unconfirmed)). Recurring permissions exist only in ledger currencies.
pub fn recurring_monthly_limit_minor(currency: Currency) -> Option<i64> {
    match currency {
        Currency::Usd | Currency::Eur | Currency::Gbp => Some(1_000 * currency.minor_per_unit()),
        Currency::Jpy => Some(100_000),
        _ => None,
    }
}

/// Monthly limit of a Saved Wallet (PaymentMethodOnFile) permission, in minor units
/// (spec §12).
pub fn saved_wallet_monthly_limit_minor(currency: Currency) -> i64 {
    match currency {
        Currency::Jpy => 2_000_000,
        Currency::Dkk | Currency::Hkd | Currency::Nok | Currency::Sek | Currency::Zar => {
            150_000 * currency.minor_per_unit()
        }
        Currency::Usd | Currency::Eur | Currency::Gbp | Currency::Aud | Currency::Nzd | Currency::Chf => {
            15_000 * currency.minor_per_unit()
        }
    }
}

/// ...and this floor, in minor units (spec §12: 500 USD/GBP/EUR, 70,000 JPY; other
/// currencies 500 units, our choice).
pub fn overcharge_floor_minor(currency: Currency) -> i64 {
    match currency {
        Currency::Jpy => 70_000,
        _ => 500 * currency.minor_per_unit(),
    }
}
