//! Random sequences of operations never break the lifecycle's invariants, checked against
//! a simple model after every step.

use amzpay_domain::charge::{self, CaptureCharge, ChargeCreation, ClosePermission, CreateCharge};
use amzpay_domain::charge_permission::NewPermission;
use amzpay_domain::refund::{self, CreateRefund, RefundDeclineReason};
use amzpay_domain::sandbox::{AuthorizationOutcome, PendingResolution, SandboxCard};
use amzpay_domain::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Create {
        amount: i64,
        capture_now: bool,
        outcome: u8,
    },
    /// A charge of exactly what is left, so that boundaries (a balance held whole) are hit.
    CreateBalance {
        capture_now: bool,
        outcome: u8,
    },
    Capture {
        charge: usize,
        amount: i64,
    },
    Cancel {
        charge: usize,
    },
    Resolve {
        charge: usize,
    },
    CompleteCapture {
        charge: usize,
    },
    Refund {
        charge: usize,
        amount: i64,
    },
    SettleRefund {
        refund: usize,
        ok: bool,
    },
    Close {
        cancel_pending: bool,
    },
    CaptureDeclined {
        charge: usize,
        amazon_rejected: bool,
    },
    BuyerUpdate,
    BuyerClose,
    Amazon {
        charge: usize,
        cancel: bool,
    },
    Wait {
        seconds: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1i64..5_000, any::<bool>(), 0u8..8).prop_map(|(amount, capture_now, outcome)| Op::Create { amount, capture_now, outcome }),
        1 => (any::<bool>(), 0u8..8).prop_map(|(capture_now, outcome)| Op::CreateBalance { capture_now, outcome }),
        3 => (0usize..30, 1i64..5_000).prop_map(|(charge, amount)| Op::Capture { charge, amount }),
        1 => (0usize..30).prop_map(|charge| Op::Cancel { charge }),
        1 => (0usize..30).prop_map(|charge| Op::Resolve { charge }),
        1 => (0usize..30).prop_map(|charge| Op::CompleteCapture { charge }),
        2 => (0usize..30, 1i64..3_000).prop_map(|(charge, amount)| Op::Refund { charge, amount }),
        1 => (0usize..60, any::<bool>()).prop_map(|(refund, ok)| Op::SettleRefund { refund, ok }),
        1 => any::<bool>().prop_map(|cancel_pending| Op::Close { cancel_pending }),
        1 => (0usize..30, any::<bool>()).prop_map(|(charge, amazon_rejected)| Op::CaptureDeclined { charge, amazon_rejected }),
        1 => Just(Op::BuyerUpdate),
        1 => Just(Op::BuyerClose),
        1 => (0usize..30, any::<bool>()).prop_map(|(charge, cancel)| Op::Amazon { charge, cancel }),
        2 => prop_oneof![Just(60i64), Just(86_400), Just(8 * 86_400), Just(31 * 86_400)].prop_map(|seconds| Op::Wait { seconds }),
    ]
}

fn kind() -> impl Strategy<Value = PermissionType> {
    prop_oneof![
        Just(PermissionType::OneTime),
        Just(PermissionType::Recurring),
        Just(PermissionType::PaymentMethodOnFile)
    ]
}

fn outcome(code: u8) -> AuthorizationOutcome {
    match code {
        0 => AuthorizationOutcome::Declined(DeclineReason::SoftDeclined),
        1 => AuthorizationOutcome::Declined(DeclineReason::HardDeclined),
        2 => AuthorizationOutcome::Pending { then: PendingResolution::Succeeds },
        3 => AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) },
        _ => AuthorizationOutcome::Approved,
    }
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::Usd)
}

fn check_invariants(permission: &ChargePermission, charges: &[Charge], refunds: &[Refund]) {
    let open: i64 = charges.iter().filter(|c| c.state.is_open()).map(|c| c.amount.minor()).sum();
    assert_eq!(permission.open_authorized.minor(), open, "open authorizations match the open charges");
    let balance = permission.amount_balance();
    assert!(balance.minor() >= 0 && !balance.exceeds(permission.amount_limit));
    if permission.kind == PermissionType::OneTime {
        let captured: i64 = charges
            .iter()
            .filter(|c| c.state == ChargeState::Captured)
            .map(|c| c.capture_amount.unwrap().minor())
            .sum();
        assert_eq!(permission.captured.minor(), captured);
        assert!(
            permission.captured.minor() + permission.open_authorized.minor() <= permission.amount_limit.minor(),
            "captured + authorized <= limit"
        );
        assert!(permission.charges_created <= 25);
        if !permission.state.is_closed() {
            // product.md: open authorizations holding the whole balance read ChargeInProgress.
            let held = permission.open_authorized.is_positive() && !balance.is_positive();
            let expected = if held {
                PermissionState::NonChargeable(charge_permission::NonChargeableReason::ChargeInProgress)
            } else {
                PermissionState::Chargeable
            };
            assert_eq!(
                permission.state, expected,
                "a one-time permission is NonChargeable exactly while charges hold it"
            );
        }
    } else {
        assert!(permission.period_used.minor() <= permission.amount_limit.minor(), "monthly use <= monthly limit");
        assert!(permission.period_used.minor() >= 0);
    }
    for charge in charges {
        if let Some(captured) = charge.capture_amount {
            assert!(!captured.exceeds(charge.amount), "captured <= authorized");
            let limit = refund::refund_limit(captured).unwrap();
            assert!(
                !charge.refunded.checked_add(charge.refund_pending).unwrap().exceeds(limit),
                "refunded <= refund limit"
            );
        } else {
            assert_eq!(charge.refund_count, 0);
        }
        assert!(charge.refund_count <= 10);
        let settled: i64 = refunds
            .iter()
            .filter(|r| r.charge_id == charge.id && r.state == RefundState::Refunded)
            .map(|r| r.amount.minor())
            .sum();
        assert_eq!(charge.refunded.minor(), settled);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_operation_sequences_keep_every_invariant(kind in kind(), limit in 1_000i64..50_000, ops in proptest::collection::vec(op(), 1..80)) {
        let mut now = Timestamp::from_unix_seconds(1_705_320_000);
        let new = NewPermission {
            kind,
            amount_limit: (kind == PermissionType::OneTime).then_some(usd(limit)),
            currency: None,
            recurring_metadata: None,
            merchant_metadata: None,
            payment_method: SandboxCard::parse("1111").unwrap(),
            buyer: None,
            platform_id: None,
            extend_expiration: false,
            shipping_address: None,
            billing_address: None,
            setup_only: None,
        };
        let mut permission = ChargePermission::create(ChargePermissionId::generate(Environment::Sandbox, Region::Na, 7, 7), Environment::Sandbox, Region::Na, new, now).unwrap();
        let mut charges: Vec<Charge> = Vec::new();
        let mut refunds: Vec<Refund> = Vec::new();
        for op in ops {
            let before_states: Vec<ChargeState> = charges.iter().map(|c| c.state).collect();
            let permission_before = permission.clone();
            let was_closed = permission.state.is_closed();
            let charges_before = charges.clone();
            let refunds_before = refunds.clone();
            let result: Result<(), Refusal> = match op {
                Op::Create { amount, capture_now, outcome: code } => {
                    let request = CreateCharge { amount: usd(amount), capture_now, soft_descriptor: None, can_handle_pending_authorization: true, merchant_metadata: None, provider_reference_id: None, platform_id: None, charge_initiator: None, channel: None, web_checkout_details: None };
                    charge::create_charge(&mut permission, request, outcome(code), now).map(|created| {
                        if let ChargeCreation::Created(c) = created { charges.push(*c) }
                    })
                }
                Op::CreateBalance { capture_now, outcome: code } => {
                    let amount = permission.amount_balance();
                    let request = CreateCharge { amount, capture_now, soft_descriptor: None, can_handle_pending_authorization: true, merchant_metadata: None, provider_reference_id: None, platform_id: None, charge_initiator: None, channel: None, web_checkout_details: None };
                    charge::create_charge(&mut permission, request, outcome(code), now).map(|created| {
                        if let ChargeCreation::Created(c) = created { charges.push(*c) }
                    })
                }
                Op::Capture { charge, amount } if charge < charges.len() => charge::capture(&mut permission, &mut charges[charge], CaptureCharge { amount: usd(amount), soft_descriptor: None }, now),
                Op::Cancel { charge } if charge < charges.len() => charge::cancel(&mut permission, &mut charges[charge], "r".into(), now),
                Op::Resolve { charge } if charge < charges.len() => charge::resolve_authorization(&mut permission, &mut charges[charge], now),
                Op::CompleteCapture { charge } if charge < charges.len() => charge::complete_capture(&mut permission, &mut charges[charge], now),
                Op::Refund { charge, amount } if charge < charges.len() => refund::create_refund(&mut permission, &mut charges[charge], CreateRefund { amount: usd(amount), soft_descriptor: None, simulated_decline: None }, now).map(|r| refunds.push(r)),
                Op::SettleRefund { refund, ok } if refund < refunds.len() => {
                    let index = charges.iter().position(|c| c.id == refunds[refund].charge_id).unwrap();
                    let outcome = if ok { Ok(()) } else { Err(RefundDeclineReason::ProcessingFailure) };
                    refund::settle_refund(&mut charges[index], &mut refunds[refund], outcome, now)
                }
                Op::Close { cancel_pending } => charge::close_permission(&mut permission, &mut charges, ClosePermission { closure_reason: "r".into(), cancel_pending_charges: cancel_pending, amazon_closed: false }, now).map(|_| ()),
                Op::CaptureDeclined { charge, amazon_rejected } if charge < charges.len() => {
                    let reason = if amazon_rejected { DeclineReason::AmazonRejected } else { DeclineReason::ProcessingFailure };
                    let amount = charges[charge].amount;
                    charge::capture_simulated(&mut permission, &mut charges[charge], CaptureCharge { amount, soft_descriptor: None }, Some(reason), now).map(|_| ())
                }
                Op::BuyerUpdate => charge::buyer_update_payment_method(&mut permission, SandboxCard::parse("4444").unwrap(), now),
                Op::BuyerClose => charge::buyer_close(&mut permission, &mut charges, now).map(|_| ()),
                Op::Amazon { charge, cancel } if charge < charges.len() => {
                    let action = if cancel { charge::AmazonAction::Cancel } else { charge::AmazonAction::FlagAtypicalActivity };
                    charge::amazon_action(&mut permission, &mut charges[charge], action, now)
                }
                Op::Wait { seconds } => {
                    now = now.plus_seconds(seconds);
                    for c in charges.iter_mut() {
                        charge::expire_charge_if_due(&mut permission, c, now).unwrap();
                    }
                    Ok(())
                }
                _ => Ok(()),
            };
            if result.is_err() {
                // A refusal changes nothing but what time alone does (expiry, a new month):
                // the shell discards the whole transaction anyway, so restore and go on.
                permission = permission_before;
                charges = charges_before;
                refunds = refunds_before;
            }
            for (before, charge) in before_states.iter().zip(&charges) {
                if before.is_terminal() {
                    prop_assert_eq!(*before, charge.state, "terminal charge states stay terminal");
                }
            }
            if was_closed {
                prop_assert!(permission.state.is_closed(), "a Closed permission stays Closed");
            }
            check_invariants(&permission, &charges, &refunds);
        }
    }
}
