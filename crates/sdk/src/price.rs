//! Amounts on the wire: `{"amount": "14.00", "currencyCode": "USD"}`, read and written
//! as integer minor units of `amzpay-types`' money.
//!
//! An amount never passes through a float here, and an amount with more decimals than its
//! currency has is refused rather than rounded.

use std::fmt;

use amzpay_types::money::AmountError;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

pub use amzpay_types::{Currency, Money};

/// A price: an amount of one currency, kept as integer minor units.
///
/// ```
/// use amzpay_sdk::{Currency, Price};
/// let price = Price::parse("14.00", Currency::Usd).unwrap();
/// assert_eq!(price.money().minor(), 1400);
/// assert_eq!(serde_json::to_string(&price).unwrap(), r#"{"amount":"14.00","currencyCode":"USD"}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Price(Money);

impl Price {
    /// A price of `minor` units (cents, yen) of `currency`.
    pub fn from_minor(minor: i64, currency: Currency) -> Price {
        Price(Money::from_minor(minor, currency))
    }

    /// Reads a decimal amount such as `"14.00"`; at most the currency's decimals.
    pub fn parse(amount: &str, currency: Currency) -> Result<Price, AmountError> {
        Money::parse_decimal(amount, currency).map(Price)
    }

    /// The amount as money.
    pub fn money(self) -> Money {
        self.0
    }

    /// The decimal text Amazon uses, e.g. `"14.00"` or JPY `"100000"`.
    pub fn amount(self) -> String {
        self.0.to_decimal_string()
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.0.currency()
    }
}

impl From<Money> for Price {
    fn from(money: Money) -> Price {
        Price(money)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Price", 2)?;
        state.serialize_field("amount", &self.0.to_decimal_string())?;
        state.serialize_field("currencyCode", self.0.currency().code())?;
        state.end()
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Price, D::Error> {
        struct PriceVisitor;
        impl<'de> Visitor<'de> for PriceVisitor {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with amount and currencyCode")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Price, A::Error> {
                let mut amount: Option<String> = None;
                let mut currency: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "amount" => {
                            // A string, or a JSON number whose exact text arbitrary_precision keeps.
                            let value: serde_json::Value = map.next_value()?;
                            amount = Some(match value {
                                serde_json::Value::String(text) => text,
                                serde_json::Value::Number(number) => number.to_string(),
                                other => {
                                    return Err(de::Error::custom(format!(
                                        "amount must be a string or a number, not {other}"
                                    )));
                                }
                            });
                        }
                        "currencyCode" => currency = Some(map.next_value()?),
                        _ => {
                            let _: de::IgnoredAny = map.next_value()?;
                        }
                    }
                }
                let amount = amount.ok_or_else(|| de::Error::missing_field("amount"))?;
                let code = currency.ok_or_else(|| de::Error::missing_field("currencyCode"))?;
                let currency =
                    Currency::from_code(&code).ok_or_else(|| de::Error::custom(format!("unknown currency {code}")))?;
                Price::parse(&amount, currency).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_map(PriceVisitor)
    }
}
