//! The simulated payment processor: what a sandbox card does to an authorization
//! (spec §11). In live, every card authorizes.

use crate::charge::DeclineReason;
use crate::error::{DomainError, ReasonCode};

/// The last four digits of a sandbox test card and what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxCard {
    /// 1111, 0005, 4444, 9424, 0000: authorizations succeed.
    Success(&'static str),
    /// 3064: the buyer cancels the checkout session.
    BuyerCancels,
    /// 3434: the checkout session is declined.
    CheckoutDeclined,
    /// 0701: authorization pends, then succeeds.
    PendingThenAuthorized,
    /// 4354: authorization pends, then is hard declined.
    PendingThenHardDeclined,
}

pub const SUCCESS_CARDS: [&str; 5] = ["1111", "0005", "4444", "9424", "0000"];
pub const DEFAULT_CARD: &str = "1111";

impl SandboxCard {
    pub fn parse(last_four: &str) -> Option<SandboxCard> {
        if let Some(card) = SUCCESS_CARDS.iter().find(|c| **c == last_four) {
            return Some(SandboxCard::Success(card));
        }
        match last_four {
            "3064" => Some(SandboxCard::BuyerCancels),
            "3434" => Some(SandboxCard::CheckoutDeclined),
            "0701" => Some(SandboxCard::PendingThenAuthorized),
            "4354" => Some(SandboxCard::PendingThenHardDeclined),
            _ => None,
        }
    }

    pub fn last_four(self) -> &'static str {
        match self {
            SandboxCard::Success(card) => card,
            SandboxCard::BuyerCancels => "3064",
            SandboxCard::CheckoutDeclined => "3434",
            SandboxCard::PendingThenAuthorized => "0701",
            SandboxCard::PendingThenHardDeclined => "4354",
        }
    }

    /// How the card shows in `paymentPreferences` (spec §5.1).
    pub fn payment_descriptor(self) -> String {
        format!("Visa ****{}", self.last_four())
    }

    /// Whether a charge permission can hold this card. 3064 and 3434 act during checkout
    /// only, so no permission ever carries them.
    pub fn usable_for_charges(self) -> bool {
        !matches!(self, SandboxCard::BuyerCancels | SandboxCard::CheckoutDeclined)
    }
}

/// What the processor answers to an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationOutcome {
    Approved,
    /// `AuthorizationInitiated` now; the final answer comes later.
    Pending {
        then: PendingResolution,
    },
    /// A synchronous decline: the call answers with the reason, no charge is usable.
    Declined(DeclineReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingResolution {
    Authorized,
    Declined(DeclineReason),
}

/// The sandbox processor's answer for a card. The pending cards need
/// `canHandlePendingAuthorization: true`; without it Amazon could not answer in time, so
/// the call is declined `TransactionTimedOut` (seeds 003).
pub fn authorize(card: SandboxCard, can_handle_pending: bool) -> Result<AuthorizationOutcome, DomainError> {
    match card {
        SandboxCard::Success(_) => Ok(AuthorizationOutcome::Approved),
        SandboxCard::PendingThenAuthorized | SandboxCard::PendingThenHardDeclined if !can_handle_pending => {
            Ok(AuthorizationOutcome::Declined(DeclineReason::TransactionTimedOut))
        }
        SandboxCard::PendingThenAuthorized => Ok(AuthorizationOutcome::Pending { then: PendingResolution::Authorized }),
        SandboxCard::PendingThenHardDeclined => {
            Ok(AuthorizationOutcome::Pending { then: PendingResolution::Declined(DeclineReason::HardDeclined) })
        }
        SandboxCard::BuyerCancels | SandboxCard::CheckoutDeclined => {
            Err(DomainError::new(ReasonCode::InvalidParameterValue, "cards 3064 and 3434 act during checkout only"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_card_authorizes_as_the_spec_says() {
        let table = [
            ("1111", false, AuthorizationOutcome::Approved),
            ("0000", true, AuthorizationOutcome::Approved),
            ("0701", true, AuthorizationOutcome::Pending { then: PendingResolution::Authorized }),
            (
                "4354",
                true,
                AuthorizationOutcome::Pending { then: PendingResolution::Declined(DeclineReason::HardDeclined) },
            ),
            ("0701", false, AuthorizationOutcome::Declined(DeclineReason::TransactionTimedOut)),
            ("4354", false, AuthorizationOutcome::Declined(DeclineReason::TransactionTimedOut)),
        ];
        for (card, pending_ok, expected) in table {
            let card = SandboxCard::parse(card).unwrap();
            assert_eq!(authorize(card, pending_ok), Ok(expected), "{card:?}");
        }
        assert!(SandboxCard::parse("1234").is_none());
        assert!(!SandboxCard::parse("3064").unwrap().usable_for_charges());
        assert_eq!(SandboxCard::parse("4444").unwrap().payment_descriptor(), "Visa ****4444");
    }
}
