//! Identifiers in Amazon's formats (spec §4): `S01-5105180-3221187`,
//! `S01-5105180-3221187-C000001`, `S01-5105180-3221187-R000001`.
//!
//! Randomness comes from the caller; this module only formats and parses.

use std::fmt;

use crate::region::{Environment, Region};

/// A Charge Permission id: `S01-5105180-3221187`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChargePermissionId(String);

/// A Charge id: its permission's id, `-C` and six digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChargeId(String);

/// A Refund id: its permission's id, `-R` and six digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefundId(String);

/// Largest sequence number of a charge or refund within one permission: six digits.
pub const MAX_CHILD_SEQUENCE: u32 = 999_999;

fn is_permission_id(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 19
        && b[0].is_ascii_uppercase()
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b'-'
        && b[4..11].iter().all(u8::is_ascii_digit)
        && b[11] == b'-'
        && b[12..19].iter().all(u8::is_ascii_digit)
}

fn child_parts(text: &str, marker: u8) -> Option<(&str, u32)> {
    let b = text.as_bytes();
    if b.len() != 27 || b[19] != b'-' || b[20] != marker || !b[21..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let parent = &text[..19];
    if !is_permission_id(parent) {
        return None;
    }
    Some((parent, text[21..].parse().ok()?))
}

impl ChargePermissionId {
    /// A new id from two random 7-digit numbers (taken modulo 10^7). As Amazon's, sandbox ids
    /// start with `S` and live ones with `P`, followed by the region: `01` North America,
    /// `02` Europe, `03` Japan (`S02-...` is an EU sandbox permission in Amazon's own SDK
    /// tests and samples).
    pub fn generate(environment: Environment, region: Region, first: u32, second: u32) -> ChargePermissionId {
        let environment_letter = match environment {
            Environment::Sandbox => 'S',
            Environment::Live => 'P',
        };
        let region_number = match region {
            Region::Na => "01",
            Region::Eu => "02",
            Region::Jp => "03",
        };
        ChargePermissionId(format!(
            "{environment_letter}{region_number}-{:07}-{:07}",
            first % 10_000_000,
            second % 10_000_000
        ))
    }

    /// The id, if `text` has its shape.
    pub fn parse(text: &str) -> Option<ChargePermissionId> {
        is_permission_id(text).then(|| ChargePermissionId(text.to_owned()))
    }

    /// The id as Amazon writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `sequence`th charge of this permission.
    pub fn charge_id(&self, sequence: u32) -> ChargeId {
        debug_assert!(sequence <= MAX_CHILD_SEQUENCE);
        ChargeId(format!("{}-C{sequence:06}", self.0))
    }

    /// The `sequence`th refund of this permission.
    pub fn refund_id(&self, sequence: u32) -> RefundId {
        debug_assert!(sequence <= MAX_CHILD_SEQUENCE);
        RefundId(format!("{}-R{sequence:06}", self.0))
    }
}

impl ChargeId {
    /// The id, if `text` has its shape.
    pub fn parse(text: &str) -> Option<ChargeId> {
        child_parts(text, b'C').map(|_| ChargeId(text.to_owned()))
    }

    /// The id as Amazon writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The permission it belongs to.
    pub fn permission_id(&self) -> ChargePermissionId {
        ChargePermissionId(self.0[..19].to_owned())
    }
}

impl RefundId {
    /// The id, if `text` has its shape.
    pub fn parse(text: &str) -> Option<RefundId> {
        child_parts(text, b'R').map(|_| RefundId(text.to_owned()))
    }

    /// The id as Amazon writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The permission it belongs to.
    pub fn permission_id(&self) -> ChargePermissionId {
        ChargePermissionId(self.0[..19].to_owned())
    }
}

impl fmt::Display for ChargePermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for ChargeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for RefundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_amazons_shapes() {
        let permission = ChargePermissionId::generate(Environment::Sandbox, Region::Na, 5_105_180, 3_221_187);
        assert_eq!(permission.as_str(), "S01-5105180-3221187");
        assert_eq!(
            ChargePermissionId::generate(Environment::Live, Region::Na, 12, 123_456_789).as_str(),
            "P01-0000012-3456789"
        );
        let by_region = [
            (Environment::Sandbox, Region::Eu, "S02-0000001-0000002"),
            (Environment::Live, Region::Eu, "P02-0000001-0000002"),
            (Environment::Sandbox, Region::Jp, "S03-0000001-0000002"),
            (Environment::Live, Region::Jp, "P03-0000001-0000002"),
        ];
        for (environment, region, expected) in by_region {
            assert_eq!(ChargePermissionId::generate(environment, region, 1, 2).as_str(), expected);
        }
        let charge = permission.charge_id(56_351);
        assert_eq!(charge.as_str(), "S01-5105180-3221187-C056351");
        assert_eq!(charge.permission_id(), permission);
        assert_eq!(permission.refund_id(7).as_str(), "S01-5105180-3221187-R000007");
    }

    #[test]
    fn parsing_accepts_only_well_formed_ids() {
        assert!(ChargePermissionId::parse("P21-1111111-1111111").is_some());
        for bad in
            ["", "P21-1111111-111111", "p21-1111111-1111111", "P2X-1111111-1111111", "P21-1111111-1111111-C000001"]
        {
            assert!(ChargePermissionId::parse(bad).is_none(), "{bad}");
        }
        assert!(ChargeId::parse("P21-1111111-1111111-C111111").is_some());
        assert!(ChargeId::parse("P21-1111111-1111111-R111111").is_none());
        assert!(RefundId::parse("P21-1111111-1111111-R111111").is_some());
        assert!(RefundId::parse("P21-1111111-1111111-R11111").is_none());
    }
}
