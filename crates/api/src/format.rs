//! Amounts and timestamps as Amazon writes them.

use amzpay_domain::{Currency, Money, ReasonCode, Refusal, Timestamp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;
use utoipa::ToSchema;

/// `yyyyMMdd'T'HHmmss'Z'`, e.g. `20190714T155300Z` (spec §4).
pub fn format_timestamp(timestamp: Timestamp) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(timestamp.unix_seconds()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(format_description!("[year][month][day]T[hour][minute][second]Z")).expect("formatting a valid date")
}

/// Reads an `x-amz-pay-date` header: the compact form (`20180524T223710Z`, Java/.NET/PHP/
/// Ruby) or ISO 8601 without fractions (`2018-05-24T22:37:10Z`, Node.js).
pub fn parse_amz_date(text: &str) -> Option<Timestamp> {
    let compact = format_description!("[year][month][day]T[hour][minute][second]Z");
    let iso = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let parsed =
        time::PrimitiveDateTime::parse(text, compact).or_else(|_| time::PrimitiveDateTime::parse(text, iso)).ok()?;
    Some(Timestamp::from_unix_seconds(parsed.assume_utc().unix_timestamp()))
}

/// An amount in a request: a string (`"14.00"`) or a JSON number (`14`, `12.99`), as the
/// .NET SDK sends numbers. With serde_json's `arbitrary_precision` a number keeps its exact
/// text, so no float is ever involved.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AmountIn {
    Text(String),
    Number(serde_json::Number),
}

/// Written by hand: a `serde_json::Number` has no schema of its own, and the text form is
/// held to the decimal syntax `Money::parse_decimal` reads.
impl utoipa::PartialSchema for AmountIn {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(DECIMAL_PATTERN)))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("A decimal amount: a string (\"14.00\") or a JSON number (14, 12.99)."))
            .into()
    }
}

impl ToSchema for AmountIn {}

/// The syntax of an amount's text (the OpenAPI document's pattern): digits, then at most one
/// decimal point with digits after it. Whether the currency allows that many decimals is
/// checked when the amount is read.
pub const DECIMAL_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

impl AmountIn {
    fn text(&self) -> String {
        match self {
            AmountIn::Text(text) => text.clone(),
            AmountIn::Number(number) => number.to_string(),
        }
    }
}

/// A price in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriceIn {
    #[schema(required, value_type = AmountIn)]
    pub amount: Option<AmountIn>,
    #[schema(required, value_type = CurrencyCode)]
    pub currency_code: Option<String>,
}

/// The schema of a currency field: one of the codes of [`Currency::ALL`] (any other is
/// refused with `InvalidParameterValue`, and none other is ever answered).
pub struct CurrencyCode;

impl utoipa::PartialSchema for CurrencyCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Currency::ALL.iter().map(|currency| currency.code())))
            .into()
    }
}

impl ToSchema for CurrencyCode {}

pub fn parse_currency(field: &str, code: &str) -> Result<Currency, Refusal> {
    Currency::from_code(code).ok_or_else(|| {
        Refusal::new(ReasonCode::InvalidParameterValue, format!("{field} '{code}' is not a supported currency"))
    })
}

impl PriceIn {
    /// The price as money; `field` names it in messages (`chargeAmount`).
    pub fn to_money(&self, field: &str) -> Result<Money, Refusal> {
        let code = self.currency_code.as_deref().ok_or_else(|| {
            Refusal::new(ReasonCode::MissingParameterValue, format!("{field}.currencyCode is required"))
        })?;
        let currency = parse_currency(&format!("{field}.currencyCode"), code)?;
        let amount = self
            .amount
            .as_ref()
            .ok_or_else(|| Refusal::new(ReasonCode::MissingParameterValue, format!("{field}.amount is required")))?;
        let text = amount.text();
        // Amazon's wording ("The value '705.00' provided for 'chargeAmount.Amount' is
        // invalid."), followed by why.
        Money::parse_decimal(&text, currency).map_err(|e| {
            Refusal::new(
                ReasonCode::InvalidParameterValue,
                format!("The value '{text}' provided for '{field}.amount' is invalid: {e}"),
            )
        })
    }
}

/// The schema of a key Amazon always sends as `null` (an `Option<()>` field).
pub fn always_null() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null).build()
}

/// A price in a response: always a string with the currency's decimals.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub amount: String,
    #[schema(value_type = CurrencyCode)]
    pub currency_code: &'static str,
}

impl From<Money> for Price {
    fn from(money: Money) -> Price {
        Price { amount: money.to_decimal_string(), currency_code: money.currency().code() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_compact_and_both_header_forms_parse() {
        let t = Timestamp::from_unix_seconds(1_563_119_580);
        assert_eq!(format_timestamp(t), "20190714T155300Z");
        assert_eq!(parse_amz_date("20190714T155300Z"), Some(t));
        assert_eq!(parse_amz_date("2019-07-14T15:53:00Z"), Some(t));
        assert_eq!(parse_amz_date("2019-07-14T15:53:00.000Z"), None);
        assert_eq!(parse_amz_date("yesterday"), None);
    }

    #[test]
    fn amounts_arrive_as_strings_or_exact_numbers() {
        let cases = [
            (r#"{"amount":"14.00","currencyCode":"USD"}"#, Ok(1400)),
            (r#"{"amount":12.99,"currencyCode":"USD"}"#, Ok(1299)),
            (r#"{"amount":50,"currencyCode":"USD"}"#, Ok(5000)),
            (r#"{"amount":100000,"currencyCode":"JPY"}"#, Ok(100_000)),
            (r#"{"amount":12.999999999999999999,"currencyCode":"USD"}"#, Err(ReasonCode::InvalidParameterValue)),
            (r#"{"amount":1e3,"currencyCode":"USD"}"#, Err(ReasonCode::InvalidParameterValue)),
            (r#"{"amount":"-1","currencyCode":"USD"}"#, Err(ReasonCode::InvalidParameterValue)),
            (r#"{"amount":"1","currencyCode":"XXX"}"#, Err(ReasonCode::InvalidParameterValue)),
            // JPY has no minor units: Amazon refuses any decimal point, even "705.00".
            (r#"{"amount":"705.00","currencyCode":"JPY"}"#, Err(ReasonCode::InvalidParameterValue)),
            (r#"{"amount":705.0,"currencyCode":"JPY"}"#, Err(ReasonCode::InvalidParameterValue)),
            (r#"{"amount":705,"currencyCode":"JPY"}"#, Ok(705)),
            (r#"{"amount":"1"}"#, Err(ReasonCode::MissingParameterValue)),
            (r#"{"currencyCode":"USD"}"#, Err(ReasonCode::MissingParameterValue)),
        ];
        for (json, expected) in cases {
            let price: PriceIn = serde_json::from_str(json).unwrap();
            let result = price.to_money("chargeAmount").map(|m| m.minor()).map_err(|e| e.code);
            assert_eq!(result, expected, "{json}");
        }
    }

    #[test]
    fn prices_go_out_as_strings() {
        let json = serde_json::to_string(&Price::from(Money::from_minor(1400, Currency::Usd))).unwrap();
        assert_eq!(json, r#"{"amount":"14.00","currencyCode":"USD"}"#);
        let json = serde_json::to_string(&Price::from(Money::from_minor(100_000, Currency::Jpy))).unwrap();
        assert_eq!(json, r#"{"amount":"100000","currencyCode":"JPY"}"#);
    }
}
