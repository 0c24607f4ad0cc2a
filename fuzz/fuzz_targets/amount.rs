//! The amount parser (`Money::parse_decimal`): never panics; accepts exactly the plain
//! decimals (`14`, `14.5`, `0014.50`) with at most the currency's significant fraction
//! digits (JPY: no decimal point at all) that fit in an `i64` of minor units, reads them as
//! the value written, and formats them back to themselves; every valid amount round-trips
//! (`parse(format(x)) == x`).
//!
//! Input: the first byte picks the currency, the rest is the amount text. The eight bytes
//! after the currency byte are also read as an amount in minor units for the round-trip.

#![no_main]

use amzpay_types::{Currency, Money};
use libfuzzer_sys::fuzz_target;

/// An oracle written apart from the parser: the minor units a text means in a currency, or
/// `None` where Amazon refuses it.
fn expected_minor(text: &str, currency: Currency) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let decimals = currency.decimals() as usize;
    let significant = fraction.trim_end_matches('0');
    if significant.len() > decimals || (decimals == 0 && text.contains('.')) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 20 {
        return None;
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: u128 = format!("{significant:0<decimals$}").parse().unwrap_or(0);
    let minor = whole * 10u128.pow(decimals as u32) + fraction;
    i64::try_from(minor).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let currency = Currency::ALL[usize::from(selector) % Currency::ALL.len()];

    if let Some(bytes) = rest.get(..8) {
        let minor = (u64::from_le_bytes(bytes.try_into().expect("eight bytes")) >> 1) as i64;
        let money = Money::from_minor(minor, currency);
        assert_eq!(Money::parse_decimal(&money.to_decimal_string(), currency), Ok(money), "{minor} {currency}");
    }

    let text = String::from_utf8_lossy(rest);
    let parsed = Money::parse_decimal(&text, currency);
    assert_eq!(parsed.as_ref().ok().map(|m| m.minor()), expected_minor(&text, currency), "{text:?} in {currency}");
    if let Ok(money) = parsed {
        assert_eq!(money.currency(), currency);
        let printed = money.to_decimal_string();
        assert_eq!(Money::parse_decimal(&printed, currency), Ok(money), "{text:?} printed as {printed}");
    }
});
