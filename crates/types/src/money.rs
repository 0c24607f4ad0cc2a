//! Money as integer minor units with checked arithmetic. No floats anywhere.

use std::fmt;

/// The currencies Amazon Pay v2 handles: the ledger currencies (USD, EUR, GBP, JPY) and
/// the EU presentment currencies (spec §4). Each is written as its ISO 4217 code.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Eur,
    Gbp,
    Jpy,
    Aud,
    Dkk,
    Hkd,
    Nok,
    Nzd,
    Sek,
    Chf,
    Zar,
}

impl Currency {
    /// Every currency.
    pub const ALL: &'static [Currency] = <Currency as strum::VariantArray>::VARIANTS;

    /// ISO 4217 code.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// The currency of an ISO 4217 code (upper case, as Amazon writes it).
    pub fn from_code(code: &str) -> Option<Currency> {
        code.parse().ok()
    }

    /// Digits after the decimal point.
    pub fn decimals(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// Minor units in one unit (100, or 1 for JPY).
    pub fn minor_per_unit(self) -> i64 {
        10_i64.pow(self.decimals())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of one currency, in minor units (cents; yen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why a decimal amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum AmountError {
    #[error("'{0}' is not a decimal amount")]
    NotDecimal(String),
    #[error("'{text}' has more than {decimals} decimal places for {currency}")]
    TooManyDecimals { text: String, decimals: u32, currency: Currency },
    #[error("'{0}' is too large")]
    TooLarge(String),
    #[error("'{0}' is negative")]
    Negative(String),
}

/// Overflow in money arithmetic, or two currencies mixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum MoneyArithmeticError {
    #[error("amount overflow")]
    Overflow,
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl Money {
    /// An amount in minor units (cents; yen).
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Nothing, in a currency.
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// Its currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// Whether it is more than nothing.
    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    /// Reads a non-negative decimal as Amazon writes it (`"14.00"`, `"14"`, `"14.5"`), at
    /// most the currency's decimals, no exponent, no sign.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let not_decimal = || AmountError::NotDecimal(text.to_owned());
        if text.starts_with('-') {
            return Err(AmountError::Negative(text.to_owned()));
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_decimal());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(not_decimal());
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_decimal());
        }
        let decimals = currency.decimals();
        // A currency without minor units takes no decimal point at all: Amazon refuses even
        // "705.00" JPY (InvalidParameterValue, seen in public reports), which is why the
        // official .NET SDK strips fractions "for Japanese Yen" (docs/defaults.md).
        if decimals == 0 && text.contains('.') {
            return Err(AmountError::TooManyDecimals { text: text.to_owned(), decimals, currency });
        }
        // Trailing zeros beyond the currency's precision are harmless elsewhere ("12.990" USD).
        let significant = fraction.trim_end_matches('0');
        if significant.len() > decimals as usize {
            return Err(AmountError::TooManyDecimals { text: text.to_owned(), decimals, currency });
        }
        let too_large = || AmountError::TooLarge(text.to_owned());
        let whole_value: i64 = whole
            .trim_start_matches('0')
            .parse()
            .or_else(|_| if whole.trim_start_matches('0').is_empty() { Ok(0) } else { Err(too_large()) })?;
        let mut fraction_value: i64 = 0;
        for position in 0..decimals as usize {
            let digit = significant.as_bytes().get(position).map_or(0, |b| i64::from(b - b'0'));
            fraction_value = fraction_value * 10 + digit;
        }
        let minor = whole_value
            .checked_mul(currency.minor_per_unit())
            .and_then(|m| m.checked_add(fraction_value))
            .ok_or_else(too_large)?;
        Ok(Money { minor, currency })
    }

    /// The amount with exactly the currency's decimals: `"14.00"`, JPY `"100000"`.
    pub fn to_decimal_string(self) -> String {
        let decimals = self.currency.decimals();
        if decimals == 0 {
            return self.minor.to_string();
        }
        let per_unit = self.currency.minor_per_unit();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let per_unit = per_unit.unsigned_abs();
        format!("{sign}{}.{:0width$}", abs / per_unit, abs % per_unit, width = decimals as usize)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyArithmeticError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyArithmeticError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    /// The sum, refused on overflow or across currencies.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyArithmeticError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyArithmeticError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// The difference, refused on overflow or across currencies.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyArithmeticError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyArithmeticError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// `self * percent / 100`, rounded down.
    pub fn checked_percent(self, percent: i64) -> Result<Money, MoneyArithmeticError> {
        let minor = self.minor.checked_mul(percent).ok_or(MoneyArithmeticError::Overflow)? / 100;
        Ok(Money { minor, currency: self.currency })
    }

    /// The smaller of two amounts of one currency.
    pub fn min(self, other: Money) -> Money {
        debug_assert_eq!(self.currency, other.currency);
        if other.minor < self.minor { other } else { self }
    }

    /// Compares two amounts of one currency.
    pub fn exceeds(self, other: Money) -> bool {
        debug_assert_eq!(self.currency, other.currency);
        self.minor > other.minor
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_amazon_decimals() {
        let ok = [
            ("14.00", Currency::Usd, 1400),
            ("14", Currency::Usd, 1400),
            ("14.5", Currency::Usd, 1450),
            ("0.01", Currency::Eur, 1),
            ("000.10", Currency::Gbp, 10),
            ("100000", Currency::Jpy, 100_000),
            ("12.990", Currency::Usd, 1299),
            ("0", Currency::Usd, 0),
        ];
        for (text, currency, minor) in ok {
            assert_eq!(Money::parse_decimal(text, currency), Ok(Money::from_minor(minor, currency)), "{text}");
        }
        let bad = ["", ".5", "5.", "1e3", "1,00", " 1", "abc", "1.2.3", "+1"];
        for text in bad {
            assert!(matches!(Money::parse_decimal(text, Currency::Usd), Err(AmountError::NotDecimal(_))), "{text}");
        }
        assert!(matches!(Money::parse_decimal("1.001", Currency::Usd), Err(AmountError::TooManyDecimals { .. })));
        for jpy in ["100.5", "100.00", "100.0"] {
            assert!(
                matches!(Money::parse_decimal(jpy, Currency::Jpy), Err(AmountError::TooManyDecimals { .. })),
                "{jpy}"
            );
        }
        assert!(matches!(Money::parse_decimal("-1.00", Currency::Usd), Err(AmountError::Negative(_))));
        assert!(matches!(Money::parse_decimal("99999999999999999999", Currency::Usd), Err(AmountError::TooLarge(_))));
    }

    #[test]
    fn formats_with_the_currency_decimals() {
        assert_eq!(Money::from_minor(1400, Currency::Usd).to_decimal_string(), "14.00");
        assert_eq!(Money::from_minor(5, Currency::Eur).to_decimal_string(), "0.05");
        assert_eq!(Money::from_minor(100_000, Currency::Jpy).to_decimal_string(), "100000");
        assert_eq!(Money::from_minor(-250, Currency::Usd).to_decimal_string(), "-2.50");
    }

    #[test]
    fn arithmetic_is_checked_and_refuses_mixed_currencies() {
        let usd = Money::from_minor(i64::MAX, Currency::Usd);
        assert_eq!(usd.checked_add(Money::from_minor(1, Currency::Usd)), Err(MoneyArithmeticError::Overflow));
        assert_eq!(
            Money::zero(Currency::Usd).checked_add(Money::zero(Currency::Eur)),
            Err(MoneyArithmeticError::CurrencyMismatch(Currency::Usd, Currency::Eur))
        );
        assert_eq!(
            Money::from_minor(1999, Currency::Usd).checked_percent(15),
            Ok(Money::from_minor(299, Currency::Usd))
        );
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_is_the_identity(minor in 0i64..=i64::MAX / 100, jpy in proptest::bool::ANY) {
            let currency = if jpy { Currency::Jpy } else { Currency::Usd };
            let money = Money::from_minor(minor, currency);
            prop_assert_eq!(Money::parse_decimal(&money.to_decimal_string(), currency), Ok(money));
        }
    }
}
