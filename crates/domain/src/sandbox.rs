//! The simulated payment processor: what a sandbox card does to an authorization
//! (spec §11). In live, every card authorizes.

use crate::charge::DeclineReason;
use crate::error::{ReasonCode, Refusal};

/// The last four digits of a sandbox test card and what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxCard {
    /// 1111, 0005, 4444, 9424, 0000: authorizations succeed.
    Success(&'static str),
    /// 3064: the buyer cancels the checkout session (when they return to the merchant).
    BuyerCancels,
    /// 3434: the checkout session is declined (when the buyer returns to the merchant).
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

    /// Whether authorizations on this card pend (0701, 4354).
    pub fn pends(self) -> bool {
        matches!(self, SandboxCard::PendingThenAuthorized | SandboxCard::PendingThenHardDeclined)
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
    /// Refused before any authorization (an amzpay-only simulation): the call answers the
    /// error, no charge exists and the permission is as it was.
    Refused(AmzpaySimulation),
}

/// How something pending (an authorization, an asynchronous capture) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingResolution {
    Succeeds,
    Declines(DeclineReason),
}

/// The sandbox processor's answer for a card. The pending cards need
/// `canHandlePendingAuthorization: true`; without it Amazon could not answer in time, so
/// the call is declined `TransactionTimedOut` (seeds 003).
pub fn authorize(card: SandboxCard, can_handle_pending: bool) -> Result<AuthorizationOutcome, Refusal> {
    authorize_simulated(card, None, can_handle_pending)
}

/// The sandbox processor's answer when a simulation code forces a decline: synchronous
/// (`422`, or `500 ProcessingFailure`) without `canHandlePendingAuthorization`, else
/// `AuthorizationInitiated` now and `Declined` later (spec §11). The code overrides the card.
pub fn authorize_simulated(
    card: SandboxCard,
    decline: Option<DeclineReason>,
    can_handle_pending: bool,
) -> Result<AuthorizationOutcome, Refusal> {
    authorize_with(card, decline.map(Forced::Decline), can_handle_pending)
}

/// What a simulation code forces on an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    Decline(DeclineReason),
    Refusal(AmzpaySimulation),
}

/// The sandbox processor's answer for a card, with what a simulation code forces.
pub fn authorize_with(
    card: SandboxCard,
    forced: Option<Forced>,
    can_handle_pending: bool,
) -> Result<AuthorizationOutcome, Refusal> {
    let decline = match forced {
        Some(Forced::Refusal(refusal)) => return Ok(AuthorizationOutcome::Refused(refusal)),
        Some(Forced::Decline(reason)) => Some(reason),
        None => None,
    };
    if let Some(reason) = decline {
        return Ok(if can_handle_pending {
            AuthorizationOutcome::Pending { then: PendingResolution::Declines(reason) }
        } else {
            AuthorizationOutcome::Declined(reason)
        });
    }
    match card {
        SandboxCard::Success(_) => Ok(AuthorizationOutcome::Approved),
        SandboxCard::PendingThenAuthorized | SandboxCard::PendingThenHardDeclined if !can_handle_pending => {
            Ok(AuthorizationOutcome::Declined(DeclineReason::TransactionTimedOut))
        }
        SandboxCard::PendingThenAuthorized => Ok(AuthorizationOutcome::Pending { then: PendingResolution::Succeeds }),
        SandboxCard::PendingThenHardDeclined => {
            Ok(AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) })
        }
        SandboxCard::BuyerCancels | SandboxCard::CheckoutDeclined => {
            Err(Refusal::new(ReasonCode::InvalidParameterValue, "cards 3064 and 3434 act during checkout only"))
        }
    }
}

/// The operations a simulation code can apply to (spec §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatedOperation {
    CreateCharge,
    CaptureCharge,
    CancelCharge,
    CreateRefund,
    CloseChargePermission,
    UpdateCheckoutSession,
    CompleteCheckoutSession,
}

/// amzpay's own simulation codes, for outcomes Amazon documents but gives no simulation code
/// for (seeds 003; docs/defaults.md). Named `Amzpay...` so that none can be mistaken for one
/// of Amazon's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmzpaySimulation {
    /// Create Charge: `422 PaymentMethodNotAllowed`.
    PaymentMethodNotAllowed,
    /// Create Charge: `422 MFANotCompleted`.
    MfaNotCompleted,
    /// Capture Charge and Cancel Charge: `422 InvalidChargePermissionStatus`.
    InvalidChargePermissionStatus,
}

impl AmzpaySimulation {
    pub const ALL: [AmzpaySimulation; 3] = [
        AmzpaySimulation::PaymentMethodNotAllowed,
        AmzpaySimulation::MfaNotCompleted,
        AmzpaySimulation::InvalidChargePermissionStatus,
    ];

    /// The code as sent in `x-amz-pay-simulation-code`.
    pub fn code(self) -> &'static str {
        match self {
            AmzpaySimulation::PaymentMethodNotAllowed => "AmzpayPaymentMethodNotAllowed",
            AmzpaySimulation::MfaNotCompleted => "AmzpayMFANotCompleted",
            AmzpaySimulation::InvalidChargePermissionStatus => "AmzpayInvalidChargePermissionStatus",
        }
    }

    /// The error it forces.
    pub fn error(self) -> Refusal {
        let (code, message) = match self {
            AmzpaySimulation::PaymentMethodNotAllowed => (
                ReasonCode::PaymentMethodNotAllowed,
                "The payment method selected by the buyer is not allowed for this Charge (simulated).",
            ),
            AmzpaySimulation::MfaNotCompleted => (
                ReasonCode::MFANotCompleted,
                "Multi-factor authentication is required to be completed by the buyer for this transaction (simulated).",
            ),
            AmzpaySimulation::InvalidChargePermissionStatus => (
                ReasonCode::InvalidChargePermissionStatus,
                "The charge permission is in a state where this operation cannot be called (simulated).",
            ),
        };
        Refusal::new(code, message)
    }

    fn operations(self) -> &'static [SimulatedOperation] {
        match self {
            AmzpaySimulation::PaymentMethodNotAllowed | AmzpaySimulation::MfaNotCompleted => {
                &[SimulatedOperation::CreateCharge]
            }
            AmzpaySimulation::InvalidChargePermissionStatus => {
                &[SimulatedOperation::CaptureCharge, SimulatedOperation::CancelCharge]
            }
        }
    }
}

/// A simulation code of `x-amz-pay-simulation-code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulationCode {
    /// A decline of an authorization, a capture or (AmazonRejected, ProcessingFailure) a refund.
    Decline(DeclineReason),
    /// Amazon closes the charge permission.
    AmazonClosed,
    /// The checkout session is canceled by the buyer, by Amazon, or declined.
    BuyerCanceled,
    AmazonCanceled,
    Declined,
    /// One of amzpay's own codes.
    Amzpay(AmzpaySimulation),
}

impl SimulationCode {
    /// The code as sent in `x-amz-pay-simulation-code`.
    pub fn code(self) -> &'static str {
        match self {
            SimulationCode::Decline(reason) => reason.as_str(),
            SimulationCode::AmazonClosed => "AmazonClosed",
            SimulationCode::BuyerCanceled => "BuyerCanceled",
            SimulationCode::AmazonCanceled => "AmazonCanceled",
            SimulationCode::Declined => "Declined",
            SimulationCode::Amzpay(ours) => ours.code(),
        }
    }

    fn parse(text: &str) -> Option<SimulationCode> {
        if let Some(reason) = DeclineReason::parse(text) {
            return Some(SimulationCode::Decline(reason));
        }
        if let Some(ours) = AmzpaySimulation::ALL.into_iter().find(|s| s.code() == text) {
            return Some(SimulationCode::Amzpay(ours));
        }
        match text {
            "AmazonClosed" => Some(SimulationCode::AmazonClosed),
            "BuyerCanceled" => Some(SimulationCode::BuyerCanceled),
            "AmazonCanceled" => Some(SimulationCode::AmazonCanceled),
            "Declined" => Some(SimulationCode::Declined),
            _ => None,
        }
    }

    /// Whether the code means something on this operation (spec §11).
    fn applies_to(self, operation: SimulatedOperation) -> bool {
        use DeclineReason as D;
        match (operation, self) {
            (SimulatedOperation::CreateCharge, SimulationCode::Decline(_)) => true,
            (SimulatedOperation::CaptureCharge | SimulatedOperation::CreateRefund, SimulationCode::Decline(reason)) => {
                matches!(reason, D::AmazonRejected | D::ProcessingFailure)
            }
            (SimulatedOperation::CloseChargePermission, SimulationCode::AmazonClosed) => true,
            (
                SimulatedOperation::UpdateCheckoutSession | SimulatedOperation::CompleteCheckoutSession,
                SimulationCode::BuyerCanceled | SimulationCode::AmazonCanceled | SimulationCode::Declined,
            ) => true,
            (operation, SimulationCode::Amzpay(ours)) => ours.operations().contains(&operation),
            _ => false,
        }
    }
}

/// Reads `x-amz-pay-simulation-code` for an operation: a code that is unknown, means nothing
/// on this operation (`operation` is `None` for operations without simulations), or is sent
/// in live is `400 InvalidSandboxSimulationSpecified` (spec §11, product.md).
pub fn simulation(
    operation: Option<SimulatedOperation>,
    code: &str,
    environment: crate::region::Environment,
) -> Result<SimulationCode, Refusal> {
    let refuse = |why: String| Err(Refusal::new(ReasonCode::InvalidSandboxSimulationSpecified, why));
    if environment == crate::region::Environment::Live {
        return refuse("simulation codes exist only in the sandbox".into());
    }
    let Some(parsed) = SimulationCode::parse(code) else {
        return refuse(format!("'{code}' is not a simulation code"));
    };
    match operation {
        Some(operation) if parsed.applies_to(operation) => Ok(parsed),
        _ => refuse(format!("simulation code '{code}' does not apply to this operation")),
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
            ("0701", true, AuthorizationOutcome::Pending { then: PendingResolution::Succeeds }),
            (
                "4354",
                true,
                AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) },
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

    #[test]
    fn a_simulation_code_is_named_as_it_was_sent() {
        let codes = ["HardDeclined", "SoftDeclined", "AmazonRejected", "ProcessingFailure", "TransactionTimedOut"]
            .into_iter()
            .chain(["AmazonClosed", "BuyerCanceled", "AmazonCanceled", "Declined"])
            .chain(AmzpaySimulation::ALL.map(AmzpaySimulation::code));
        for code in codes {
            assert_eq!(SimulationCode::parse(code).map(SimulationCode::code), Some(code));
        }
    }

    #[test]
    fn simulation_codes_apply_where_the_spec_says() {
        use crate::region::Environment::{Live, Sandbox};
        use SimulatedOperation::*;
        let table: &[(SimulatedOperation, &[&str])] = &[
            (
                CreateCharge,
                &[
                    "SoftDeclined",
                    "HardDeclined",
                    "AmazonRejected",
                    "TransactionTimedOut",
                    "ProcessingFailure",
                    "AmzpayPaymentMethodNotAllowed",
                    "AmzpayMFANotCompleted",
                ],
            ),
            (CaptureCharge, &["AmazonRejected", "ProcessingFailure", "AmzpayInvalidChargePermissionStatus"]),
            (CancelCharge, &["AmzpayInvalidChargePermissionStatus"]),
            (CreateRefund, &["AmazonRejected", "ProcessingFailure"]),
            (CloseChargePermission, &["AmazonClosed"]),
            (UpdateCheckoutSession, &["BuyerCanceled", "AmazonCanceled", "Declined"]),
            (CompleteCheckoutSession, &["BuyerCanceled", "AmazonCanceled", "Declined"]),
        ];
        let every = [
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "TransactionTimedOut",
            "ProcessingFailure",
            "AmazonClosed",
            "BuyerCanceled",
            "AmazonCanceled",
            "Declined",
            "AmzpayPaymentMethodNotAllowed",
            "AmzpayMFANotCompleted",
            "AmzpayInvalidChargePermissionStatus",
        ];
        for (operation, allowed) in table {
            for code in every {
                let result = simulation(Some(*operation), code, Sandbox);
                assert_eq!(result.is_ok(), allowed.contains(&code), "{operation:?} {code}");
            }
            assert_eq!(
                simulation(Some(*operation), allowed[0], Live).unwrap_err().code,
                ReasonCode::InvalidSandboxSimulationSpecified
            );
        }
        assert!(simulation(None, "HardDeclined", Sandbox).is_err());
        assert!(simulation(Some(CreateCharge), "Bogus", Sandbox).is_err());
        let forced = authorize_simulated(SandboxCard::parse("1111").unwrap(), Some(DeclineReason::SoftDeclined), false);
        assert_eq!(forced, Ok(AuthorizationOutcome::Declined(DeclineReason::SoftDeclined)));
        let pending = authorize_simulated(SandboxCard::parse("0701").unwrap(), Some(DeclineReason::HardDeclined), true);
        assert_eq!(
            pending,
            Ok(AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) })
        );
    }
}
