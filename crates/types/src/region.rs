//! Regions and environments (spec §1, §4).

use crate::money::Currency;

/// An Amazon Pay region: North America, Europe (and the UK), Japan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Region {
    /// North America (`pay-api.amazon.com`).
    Na,
    /// Europe and the UK (`pay-api.amazon.eu`).
    Eu,
    /// Japan (`pay-api.amazon.jp`).
    Jp,
}

impl Region {
    /// The region's code: `na`, `eu`, `jp`.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// The region an `x-amz-pay-region` alias names, in any case (`us`, `NA`, `de`, `uk`...).
    pub fn from_alias(alias: &str) -> Option<Region> {
        match alias.to_ascii_lowercase().as_str() {
            "na" | "us" => Some(Region::Na),
            "eu" | "de" | "uk" => Some(Region::Eu),
            "jp" => Some(Region::Jp),
            _ => None,
        }
    }

    /// The API host of the region.
    pub fn host(self) -> &'static str {
        match self {
            Region::Na => "pay-api.amazon.com",
            Region::Eu => "pay-api.amazon.eu",
            Region::Jp => "pay-api.amazon.jp",
        }
    }

    /// The region's ledger currency when none is given.
    pub fn default_currency(self) -> Currency {
        match self {
            Region::Na => Currency::Usd,
            Region::Eu => Currency::Eur,
            Region::Jp => Currency::Jpy,
        }
    }

    /// Whether a permission of this region may be in this currency: its ledger currencies,
    /// and in the EU the multi-currency presentment currencies (spec §4).
    pub fn accepts(self, currency: Currency) -> bool {
        match self {
            Region::Na => currency == Currency::Usd,
            Region::Jp => currency == Currency::Jpy,
            Region::Eu => !matches!(currency, Currency::Jpy),
        }
    }

    /// Whether the currency is a ledger currency of this region (not a presentment one).
    pub fn is_ledger(self, currency: Currency) -> bool {
        match self {
            Region::Na => currency == Currency::Usd,
            Region::Eu => matches!(currency, Currency::Eur | Currency::Gbp),
            Region::Jp => currency == Currency::Jpy,
        }
    }
}

/// Sandbox and live are isolated worlds (product.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Amazon's test environment: test buyers, sandbox cards, simulations.
    Sandbox,
    /// Real money.
    Live,
}

impl Environment {
    /// As `releaseEnvironment` spells it.
    pub fn release_name(self) -> &'static str {
        match self {
            Environment::Sandbox => "Sandbox",
            Environment::Live => "Live",
        }
    }

    /// As the path segment spells it.
    pub fn path_segment(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Live => "live",
        }
    }

    /// The environment a public key id names (spec §1): ids that, upper-cased, start with
    /// `SANDBOX` or `LIVE` pick their environment; older ids name none (the path does).
    pub fn of_public_key_id(public_key_id: &str) -> Option<Environment> {
        let upper = public_key_id.to_ascii_uppercase();
        if upper.starts_with("SANDBOX") {
            Some(Environment::Sandbox)
        } else if upper.starts_with("LIVE") {
            Some(Environment::Live)
        } else {
            None
        }
    }

    /// The environment a path segment (`sandbox`, `live`) names.
    pub fn from_path_segment(segment: &str) -> Option<Environment> {
        match segment {
            "sandbox" => Some(Environment::Sandbox),
            "live" => Some(Environment::Live),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_aliases_work_in_any_case() {
        for (alias, region) in [
            ("na", Region::Na),
            ("US", Region::Na),
            ("Eu", Region::Eu),
            ("de", Region::Eu),
            ("UK", Region::Eu),
            ("jp", Region::Jp),
            ("JP", Region::Jp),
        ] {
            assert_eq!(Region::from_alias(alias), Some(region), "{alias}");
        }
        assert_eq!(Region::from_alias("fe"), None);
    }

    #[test]
    fn key_ids_name_their_environment_by_prefix_in_any_case() {
        assert_eq!(Environment::of_public_key_id("SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B"), Some(Environment::Sandbox));
        assert_eq!(Environment::of_public_key_id("sandbox-abc"), Some(Environment::Sandbox));
        assert_eq!(Environment::of_public_key_id("LIVE-abc"), Some(Environment::Live));
        assert_eq!(Environment::of_public_key_id("AFVX7ULWSGBZ5535PCUQOY7B"), None);
    }

    #[test]
    fn currencies_belong_to_their_regions() {
        assert!(Region::Na.accepts(Currency::Usd));
        assert!(!Region::Na.accepts(Currency::Eur));
        assert!(Region::Eu.accepts(Currency::Aud));
        assert!(Region::Eu.accepts(Currency::Usd));
        assert!(!Region::Eu.is_ledger(Currency::Usd));
        assert!(!Region::Eu.accepts(Currency::Jpy));
        assert!(Region::Jp.accepts(Currency::Jpy));
    }
}
