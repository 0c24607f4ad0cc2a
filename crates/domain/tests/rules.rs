//! Table tests: every rule of the charge lifecycle and every reason code it can answer.

// Amounts are written dollars_cents (`150_000_01` is 150,000.01 USD): easier to check by eye.
#![allow(clippy::inconsistent_digit_grouping)]

use amzpay_domain::charge::{self, CaptureCharge, ChargeCreation, ClosePermission, CreateCharge};
use amzpay_domain::charge_permission::{NewPermission, NonChargeableReason, PermissionUpdate};
use amzpay_domain::metadata::{FrequencyUnit, MerchantMetadata, RecurringMetadata, SoftDescriptor};
use amzpay_domain::refund::{self, CreateRefund, RefundDeclineReason};
use amzpay_domain::sandbox::{AuthorizationOutcome, PendingResolution, SandboxCard};
use amzpay_domain::*;

const DAY: i64 = 86_400;
/// 2024-01-15T12:00:00Z
const T0: Timestamp = Timestamp::from_unix_seconds(1_705_320_000);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::Usd)
}

fn new_permission(kind: PermissionType, limit: Option<Money>) -> NewPermission {
    NewPermission {
        kind,
        amount_limit: limit,
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
    }
}

fn permission_in(region: Region, kind: PermissionType, limit: Option<Money>) -> ChargePermission {
    ChargePermission::create(
        ChargePermissionId::generate(Environment::Sandbox, Region::Na, 1, 2),
        Environment::Sandbox,
        region,
        new_permission(kind, limit),
        T0,
    )
    .unwrap()
}

fn one_time(limit_minor: i64) -> ChargePermission {
    permission_in(Region::Na, PermissionType::OneTime, Some(usd(limit_minor)))
}

fn request(amount: Money) -> CreateCharge {
    CreateCharge {
        amount,
        capture_now: false,
        soft_descriptor: None,
        can_handle_pending_authorization: false,
        merchant_metadata: None,
        provider_reference_id: None,
        platform_id: None,
        charge_initiator: None,
        channel: None,
        web_checkout_details: None,
    }
}

fn authorize(permission: &mut ChargePermission, amount: Money, now: Timestamp) -> Charge {
    match charge::create_charge(permission, request(amount), AuthorizationOutcome::Approved, now).unwrap() {
        ChargeCreation::Created(charge) => *charge,
        ChargeCreation::Declined(e) => panic!("declined: {e}"),
    }
}

fn code_of<T: std::fmt::Debug>(result: Result<T, Refusal>) -> ReasonCode {
    result.expect_err("expected a refusal").code
}

#[test]
fn create_charge_refusals_come_in_precedence_order() {
    struct Case {
        name: &'static str,
        setup: fn(&mut ChargePermission),
        request: CreateCharge,
        expected: ReasonCode,
    }
    let soft = Some(SoftDescriptor::parse("Descriptor").unwrap());
    let cases = [
        Case {
            name: "soft descriptor without captureNow",
            setup: |_| {},
            request: CreateCharge { soft_descriptor: soft.clone(), ..request(usd(100)) },
            expected: ReasonCode::InvalidParameterCombination,
        },
        Case {
            name: "other currency",
            setup: |_| {},
            request: request(Money::from_minor(100, Currency::Eur)),
            expected: ReasonCode::CurrencyMismatch,
        },
        Case {
            name: "zero amount",
            setup: |_| {},
            request: request(usd(0)),
            expected: ReasonCode::InvalidParameterValue,
        },
        Case {
            name: "above the per-charge maximum",
            setup: |p| p.amount_limit = usd(200_000_00),
            request: request(usd(150_000_01)),
            expected: ReasonCode::TransactionAmountExceeded,
        },
        Case {
            name: "closed permission",
            setup: |p| {
                charge::close_permission(
                    p,
                    &mut [],
                    ClosePermission { closure_reason: "x".into(), cancel_pending_charges: false, amazon_closed: false },
                    T0,
                )
                .unwrap();
            },
            request: request(usd(100)),
            expected: ReasonCode::InvalidChargePermissionStatus,
        },
        Case {
            name: "non-chargeable permission",
            setup: |p| p.state = PermissionState::NonChargeable(NonChargeableReason::PaymentMethodInvalid),
            request: request(usd(100)),
            expected: ReasonCode::InvalidChargePermissionStatus,
        },
        Case {
            name: "26th charge",
            setup: |p| p.charges_created = 25,
            request: request(usd(100)),
            expected: ReasonCode::TransactionCountExceeded,
        },
        Case {
            name: "above the balance",
            setup: |_| {},
            request: request(usd(10_001)),
            expected: ReasonCode::TransactionAmountExceeded,
        },
    ];
    for case in cases {
        let mut permission = one_time(10_000);
        (case.setup)(&mut permission);
        let before = permission.clone();
        let result = charge::create_charge(&mut permission, case.request, AuthorizationOutcome::Approved, T0);
        assert_eq!(code_of(result), case.expected, "{}", case.name);
        assert_eq!(permission, before, "{}: a refusal changes nothing", case.name);
    }
}

#[test]
fn the_per_charge_maximum_is_per_currency() {
    let mut jp = permission_in(Region::Jp, PermissionType::OneTime, Some(Money::from_minor(20_000_000, Currency::Jpy)));
    let over = request(Money::from_minor(10_000_001, Currency::Jpy));
    assert_eq!(
        code_of(charge::create_charge(&mut jp, over, AuthorizationOutcome::Approved, T0)),
        ReasonCode::TransactionAmountExceeded
    );
    let at = request(Money::from_minor(10_000_000, Currency::Jpy));
    assert!(charge::create_charge(&mut jp, at, AuthorizationOutcome::Approved, T0).is_ok());
    let mut eu =
        permission_in(Region::Eu, PermissionType::OneTime, Some(Money::from_minor(100_000_000, Currency::Eur)));
    let at = request(Money::from_minor(15_000_000, Currency::Eur));
    assert!(charge::create_charge(&mut eu, at, AuthorizationOutcome::Approved, T0).is_ok());
}

#[test]
fn soft_descriptors_need_capture_now_and_are_refused_in_japan() {
    let soft = Some(SoftDescriptor::parse("Descriptor").unwrap());
    let mut na = one_time(10_000);
    let with = CreateCharge { capture_now: true, soft_descriptor: soft.clone(), ..request(usd(100)) };
    let ChargeCreation::Created(created) =
        charge::create_charge(&mut na, with, AuthorizationOutcome::Approved, T0).unwrap()
    else {
        panic!()
    };
    assert_eq!(created.soft_descriptor.unwrap().as_str(), "Descriptor");
    let mut jp = permission_in(Region::Jp, PermissionType::OneTime, Some(Money::from_minor(10_000, Currency::Jpy)));
    let with =
        CreateCharge { capture_now: true, soft_descriptor: soft, ..request(Money::from_minor(100, Currency::Jpy)) };
    assert_eq!(
        code_of(charge::create_charge(&mut jp, with, AuthorizationOutcome::Approved, T0)),
        ReasonCode::InvalidParameterValue
    );
}

#[test]
fn a_one_time_permission_allows_25_charges() {
    let mut permission = one_time(1_000_000);
    for _ in 0..25 {
        let charge = authorize(&mut permission, usd(100), T0);
        assert_eq!(charge.state, ChargeState::Authorized);
    }
    assert_eq!(
        code_of(charge::create_charge(&mut permission, request(usd(100)), AuthorizationOutcome::Approved, T0)),
        ReasonCode::TransactionCountExceeded
    );
    assert_eq!(permission.charges_created, 25);
    // Recurring permissions have no count limit.
    let mut recurring = permission_in(Region::Na, PermissionType::Recurring, None);
    for _ in 0..30 {
        authorize(&mut recurring, usd(1), T0);
    }
}

#[test]
fn balance_counts_captures_and_open_authorizations_and_the_permission_closes_when_all_is_captured() {
    let mut permission = one_time(10_000);
    let mut first = authorize(&mut permission, usd(6_000), T0);
    assert_eq!(permission.amount_balance(), usd(4_000));
    assert_eq!(
        code_of(charge::create_charge(&mut permission, request(usd(4_001)), AuthorizationOutcome::Approved, T0)),
        ReasonCode::TransactionAmountExceeded
    );
    let mut second = authorize(&mut permission, usd(4_000), T0);
    assert_eq!(permission.amount_balance(), usd(0));
    assert_eq!(
        permission.state,
        PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress),
        "open authorizations holding the whole balance do not close it; they keep it busy"
    );
    assert_eq!(
        code_of(charge::create_charge(&mut permission, request(usd(1)), AuthorizationOutcome::Approved, T0)),
        ReasonCode::InvalidChargePermissionStatus
    );
    // Capturing less than authorized releases the rest.
    charge::capture(&mut permission, &mut first, CaptureCharge { amount: usd(5_000), soft_descriptor: None }, T0)
        .unwrap();
    assert_eq!(permission.amount_balance(), usd(1_000));
    assert_eq!(permission.state, PermissionState::Chargeable);
    assert_eq!(permission.captured, usd(5_000));
    charge::capture(&mut permission, &mut second, CaptureCharge { amount: usd(4_000), soft_descriptor: None }, T0)
        .unwrap();
    assert_eq!(permission.state, PermissionState::Chargeable);
    let mut third = authorize(&mut permission, usd(1_000), T0);
    charge::capture(&mut permission, &mut third, CaptureCharge { amount: usd(1_000), soft_descriptor: None }, T0)
        .unwrap();
    assert_eq!(permission.state, PermissionState::Closed { reason: None, description: None });
    assert_eq!(permission.amount_balance(), usd(0));
}

#[test]
fn a_charge_in_progress_frees_the_permission_whenever_it_ends_and_leaves_balance() {
    type End = fn(&mut ChargePermission, &mut Charge) -> Result<(), Refusal>;
    let later = T0.plus_seconds(60);
    let ends: [(&str, End, &str); 6] = [
        ("canceled", |p, c| charge::cancel(p, c, "r".into(), T0.plus_seconds(60)), "Chargeable"),
        ("expired", |p, c| charge::expire_charge_if_due(p, c, T0.plus_seconds(30 * DAY)).map(|_| ()), "Chargeable"),
        (
            "captured below its amount",
            |p, c| {
                charge::capture(p, c, CaptureCharge { amount: usd(600), soft_descriptor: None }, T0.plus_seconds(60))
            },
            "Chargeable",
        ),
        (
            "captured whole",
            |p, c| {
                charge::capture(p, c, CaptureCharge { amount: usd(1_000), soft_descriptor: None }, T0.plus_seconds(60))
            },
            "Closed",
        ),
        (
            "declined at capture",
            |p, c| {
                let capture = CaptureCharge { amount: usd(1_000), soft_descriptor: None };
                charge::capture_simulated(p, c, capture, Some(DeclineReason::AmazonRejected), T0.plus_seconds(60))
                    .map(|_| ())
            },
            "Closed",
        ),
        (
            "canceled by the merchant closing the permission",
            |p, c| {
                let close =
                    ClosePermission { closure_reason: "r".into(), cancel_pending_charges: true, amazon_closed: false };
                charge::close_permission(p, std::slice::from_mut(c), close, T0.plus_seconds(60)).map(|_| ())
            },
            "Closed",
        ),
    ];
    for (how, end, state) in ends {
        let mut permission = one_time(1_000);
        let mut charge = authorize(&mut permission, usd(1_000), T0);
        assert_eq!(permission.state, PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress), "{how}");
        // A new payment method does not end a charge in progress.
        charge::buyer_update_payment_method(&mut permission, SandboxCard::parse("4444").unwrap(), T0).unwrap();
        assert_eq!(permission.state.name(), "NonChargeable", "{how}");
        end(&mut permission, &mut charge).unwrap();
        assert_eq!(permission.state.name(), state, "{how}");
        assert_eq!(permission.state_updated_at, charge.state_updated_at, "it changes when the charge ends: {how}");
    }
    // A pending authorization holds the balance the same way; its decline frees it.
    let mut permission = one_time(1_000);
    let ChargeCreation::Created(mut pending) = charge::create_charge(
        &mut permission,
        CreateCharge { can_handle_pending_authorization: true, ..request(usd(1_000)) },
        AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) },
        T0,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(permission.state, PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress));
    charge::resolve_authorization(&mut permission, &mut pending, later).unwrap();
    assert_eq!((permission.state.clone(), permission.state_updated_at), (PermissionState::Chargeable, later));
    // Recurring permissions have monthly limits, not a balance held by one order.
    let mut recurring = permission_in(Region::Na, PermissionType::Recurring, None);
    authorize(&mut recurring, usd(100_000), T0);
    assert_eq!(recurring.state, PermissionState::Chargeable);
}

#[test]
fn capture_now_captures_and_closes_a_fully_used_one_time_permission() {
    let mut permission = one_time(1_400);
    let ChargeCreation::Created(charge) = charge::create_charge(
        &mut permission,
        CreateCharge { capture_now: true, ..request(usd(1_400)) },
        AuthorizationOutcome::Approved,
        T0,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(charge.state, ChargeState::Captured);
    assert_eq!(charge.capture_amount, Some(usd(1_400)));
    assert!(permission.state.is_closed());
}

#[test]
fn capture_rules() {
    struct Case {
        name: &'static str,
        prepare: fn(&mut ChargePermission, &mut Charge),
        amount: Money,
        at: Timestamp,
        expected: Result<ChargeState, ReasonCode>,
    }
    let cases = [
        Case {
            name: "full capture",
            prepare: |_, _| {},
            amount: usd(1_000),
            at: T0,
            expected: Ok(ChargeState::Captured),
        },
        Case {
            name: "partial capture",
            prepare: |_, _| {},
            amount: usd(1),
            at: T0,
            expected: Ok(ChargeState::Captured),
        },
        Case {
            name: "above the authorization",
            prepare: |_, _| {},
            amount: usd(1_001),
            at: T0,
            expected: Err(ReasonCode::TransactionAmountExceeded),
        },
        Case {
            name: "other currency",
            prepare: |_, _| {},
            amount: Money::from_minor(1_000, Currency::Eur),
            at: T0,
            expected: Err(ReasonCode::CurrencyMismatch),
        },
        Case {
            name: "zero",
            prepare: |_, _| {},
            amount: usd(0),
            at: T0,
            expected: Err(ReasonCode::InvalidParameterValue),
        },
        Case {
            name: "second capture",
            prepare: |p, c| {
                charge::capture(p, c, CaptureCharge { amount: usd(10), soft_descriptor: None }, T0).unwrap()
            },
            amount: usd(10),
            at: T0,
            expected: Err(ReasonCode::InvalidChargeStatus),
        },
        Case {
            name: "canceled charge",
            prepare: |p, c| charge::cancel(p, c, "r".into(), T0).unwrap(),
            amount: usd(10),
            at: T0,
            expected: Err(ReasonCode::InvalidChargeStatus),
        },
        Case {
            name: "7 days exactly is synchronous",
            prepare: |_, _| {},
            amount: usd(10),
            at: T0.plus_seconds(7 * DAY),
            expected: Ok(ChargeState::Captured),
        },
        Case {
            name: "7 days and a second is asynchronous",
            prepare: |_, _| {},
            amount: usd(10),
            at: T0.plus_seconds(7 * DAY + 1),
            expected: Ok(ChargeState::CaptureInitiated),
        },
        Case {
            name: "30 days less a second still captures",
            prepare: |_, _| {},
            amount: usd(10),
            at: T0.plus_seconds(30 * DAY - 1),
            expected: Ok(ChargeState::CaptureInitiated),
        },
        Case {
            name: "30 days is expired",
            prepare: |_, _| {},
            amount: usd(10),
            at: T0.plus_seconds(30 * DAY),
            expected: Err(ReasonCode::InvalidChargeStatus),
        },
    ];
    for case in cases {
        let mut permission = one_time(100_000);
        let mut charge = authorize(&mut permission, usd(1_000), T0);
        (case.prepare)(&mut permission, &mut charge);
        let result = charge::capture(
            &mut permission,
            &mut charge,
            CaptureCharge { amount: case.amount, soft_descriptor: None },
            case.at,
        );
        match case.expected {
            Ok(state) => {
                result.unwrap_or_else(|e| panic!("{}: {e}", case.name));
                assert_eq!(charge.state, state, "{}", case.name);
            }
            Err(code) => assert_eq!(code_of(result), code, "{}", case.name),
        }
    }
}

#[test]
fn an_asynchronous_capture_holds_the_balance_until_it_completes() {
    let mut permission = one_time(1_000);
    let mut charge = authorize(&mut permission, usd(1_000), T0);
    let later = T0.plus_seconds(8 * DAY);
    charge::capture(&mut permission, &mut charge, CaptureCharge { amount: usd(1_000), soft_descriptor: None }, later)
        .unwrap();
    assert_eq!(charge.state, ChargeState::CaptureInitiated);
    assert_eq!(permission.captured, usd(0));
    assert_eq!(
        code_of(charge::cancel(&mut permission, &mut charge, "r".into(), later)),
        ReasonCode::InvalidChargeStatus
    );
    charge::complete_capture(&mut permission, &mut charge, later.plus_seconds(30)).unwrap();
    assert_eq!(charge.state, ChargeState::Captured);
    assert_eq!(permission.captured, usd(1_000));
    assert!(permission.state.is_closed());
}

#[test]
fn authorizations_expire_unused_after_30_days_and_release_the_balance() {
    let mut permission = one_time(1_000);
    let mut charge = authorize(&mut permission, usd(1_000), T0);
    assert!(!charge::expire_charge_if_due(&mut permission, &mut charge, T0.plus_seconds(30 * DAY - 1)).unwrap());
    assert!(charge::expire_charge_if_due(&mut permission, &mut charge, T0.plus_seconds(30 * DAY)).unwrap());
    assert_eq!(charge.state, ChargeState::Canceled(CancelReason::ExpiredUnused));
    assert_eq!(permission.amount_balance(), usd(1_000));
    assert_eq!(charge.expires_at, T0.plus_seconds(30 * DAY));
}

#[test]
fn cancel_is_allowed_from_authorization_initiated_and_authorized_only() {
    let mut permission = one_time(10_000);
    let mut pending = match charge::create_charge(
        &mut permission,
        CreateCharge { can_handle_pending_authorization: true, ..request(usd(100)) },
        AuthorizationOutcome::Pending { then: PendingResolution::Succeeds },
        T0,
    )
    .unwrap()
    {
        ChargeCreation::Created(c) => *c,
        ChargeCreation::Declined(e) => panic!("{e}"),
    };
    assert_eq!(pending.state, ChargeState::AuthorizationInitiated);
    charge::cancel(&mut permission, &mut pending, "out of stock".into(), T0).unwrap();
    assert_eq!(pending.state, ChargeState::Canceled(CancelReason::MerchantCanceled));
    assert_eq!(pending.reason_description.as_deref(), Some("out of stock"));
    assert_eq!(
        code_of(charge::cancel(&mut permission, &mut pending, "again".into(), T0)),
        ReasonCode::InvalidChargeStatus
    );
    let mut captured = authorize(&mut permission, usd(100), T0);
    charge::capture(&mut permission, &mut captured, CaptureCharge { amount: usd(100), soft_descriptor: None }, T0)
        .unwrap();
    assert_eq!(
        code_of(charge::cancel(&mut permission, &mut captured, "r".into(), T0)),
        ReasonCode::InvalidChargeStatus
    );
    assert_eq!(permission.amount_balance(), usd(9_900));
}

#[test]
fn pending_authorizations_resolve_to_authorized_or_declined() {
    let mut permission = permission_in(Region::Na, PermissionType::Recurring, None);
    let pending = CreateCharge { can_handle_pending_authorization: true, ..request(usd(100)) };
    let ChargeCreation::Created(mut ok) = charge::create_charge(
        &mut permission,
        pending.clone(),
        AuthorizationOutcome::Pending { then: PendingResolution::Succeeds },
        T0,
    )
    .unwrap() else {
        panic!()
    };
    charge::resolve_authorization(&mut permission, &mut ok, T0.plus_seconds(30)).unwrap();
    assert_eq!(ok.state, ChargeState::Authorized);
    let ChargeCreation::Created(mut bad) = charge::create_charge(
        &mut permission,
        pending,
        AuthorizationOutcome::Pending { then: PendingResolution::Declines(DeclineReason::HardDeclined) },
        T0,
    )
    .unwrap() else {
        panic!()
    };
    charge::resolve_authorization(&mut permission, &mut bad, T0.plus_seconds(30)).unwrap();
    assert_eq!(bad.state, ChargeState::Declined(DeclineReason::HardDeclined));
    assert_eq!(permission.state, PermissionState::NonChargeable(NonChargeableReason::PaymentMethodInvalid));
    assert_eq!(permission.period_used, usd(100), "the declined amount is released");
}

#[test]
fn synchronous_declines_create_no_charge_and_have_their_consequences() {
    let cases = [
        (PermissionType::Recurring, DeclineReason::HardDeclined, ReasonCode::HardDeclined, "NonChargeable"),
        (PermissionType::PaymentMethodOnFile, DeclineReason::HardDeclined, ReasonCode::HardDeclined, "NonChargeable"),
        (PermissionType::OneTime, DeclineReason::HardDeclined, ReasonCode::HardDeclined, "Chargeable"),
        (PermissionType::Recurring, DeclineReason::SoftDeclined, ReasonCode::SoftDeclined, "Chargeable"),
        (PermissionType::Recurring, DeclineReason::TransactionTimedOut, ReasonCode::TransactionTimedOut, "Chargeable"),
        (PermissionType::Recurring, DeclineReason::ProcessingFailure, ReasonCode::ProcessingFailure, "Chargeable"),
        (PermissionType::OneTime, DeclineReason::AmazonRejected, ReasonCode::AmazonRejected, "Closed"),
    ];
    for (kind, reason, code, state) in cases {
        let limit = (kind == PermissionType::OneTime).then_some(usd(10_000));
        let mut permission = permission_in(Region::Na, kind, limit);
        let outcome =
            charge::create_charge(&mut permission, request(usd(100)), AuthorizationOutcome::Declined(reason), T0)
                .unwrap();
        let ChargeCreation::Declined(error) = outcome else { panic!("{reason:?} created a charge") };
        assert_eq!(error.code, code);
        assert_eq!(permission.state.name(), state, "{kind:?} {reason:?}");
        assert_eq!(permission.charges_created, 0);
        assert_eq!(permission.amount_balance(), permission.amount_limit);
    }
}

#[test]
fn monthly_limits_hold_for_recurring_and_saved_wallet_and_reset_on_the_first() {
    let cases = [(PermissionType::Recurring, 1_000_00), (PermissionType::PaymentMethodOnFile, 15_000_00)];
    for (kind, limit) in cases {
        let mut permission = permission_in(Region::Na, kind, None);
        assert_eq!(permission.amount_limit, usd(limit));
        authorize(&mut permission, usd(limit - 100), T0);
        assert_eq!(
            code_of(charge::create_charge(&mut permission, request(usd(101)), AuthorizationOutcome::Approved, T0)),
            ReasonCode::PeriodicAmountExceeded
        );
        authorize(&mut permission, usd(100), T0);
        // 2024-02-01T00:00:00Z is the next month.
        let february = Timestamp::from_unix_seconds(1_706_745_600);
        assert_eq!(
            code_of(charge::create_charge(
                &mut permission,
                request(usd(1)),
                AuthorizationOutcome::Approved,
                february.plus_seconds(-1)
            )),
            ReasonCode::PeriodicAmountExceeded
        );
        authorize(&mut permission, usd(limit), february);
    }
    let jp = permission_in(Region::Jp, PermissionType::Recurring, None);
    assert_eq!(jp.amount_limit, Money::from_minor(100_000, Currency::Jpy));
    let jp_wallet = permission_in(Region::Jp, PermissionType::PaymentMethodOnFile, None);
    assert_eq!(jp_wallet.amount_limit, Money::from_minor(2_000_000, Currency::Jpy));
}

#[test]
fn permissions_expire_by_type() {
    let one_time = one_time(100);
    assert_eq!(one_time.expires_at, Some(T0.plus_seconds(180 * DAY)));
    let mut expiring = one_time.clone();
    assert!(!expiring.advance_to(T0.plus_seconds(180 * DAY - 1)));
    assert!(expiring.advance_to(T0.plus_seconds(180 * DAY)));
    assert_eq!(expiring.state, PermissionState::Closed { reason: Some(ClosureReason::Expired), description: None });
    let wallet = permission_in(Region::Na, PermissionType::PaymentMethodOnFile, None);
    assert_eq!(wallet.expires_at, None);
    let mut recurring = permission_in(Region::Na, PermissionType::Recurring, None);
    assert_eq!(recurring.expires_at, T0.plus_months(13));
    let later = T0.plus_seconds(100 * DAY);
    authorize(&mut recurring, usd(1), later);
    assert_eq!(recurring.expires_at, later.plus_months(13), "a charge keeps a recurring permission alive");
    let mut extended = new_permission(PermissionType::OneTime, Some(usd(1)));
    extended.extend_expiration = true;
    let extended = ChargePermission::create(
        ChargePermissionId::generate(Environment::Sandbox, Region::Na, 3, 4),
        Environment::Sandbox,
        Region::Na,
        extended,
        T0,
    )
    .unwrap();
    assert_eq!(extended.expires_at, T0.plus_months(13));
}

/// Near the end of the calendar Amazon's timestamps can write, a rule whose new instant would
/// pass year 9999 refuses (it once panicked in `plus_months`); one that stays inside works.
#[test]
fn rules_refuse_cleanly_when_a_new_instant_would_pass_year_9999() {
    // 9999-01-01T00:00:00Z
    let late = Timestamp::from_unix_seconds(253_370_764_800);
    let create = |kind: PermissionType, limit: Option<Money>, extend: bool| {
        let mut new = new_permission(kind, limit);
        new.extend_expiration = extend;
        ChargePermission::create(
            ChargePermissionId::generate(Environment::Sandbox, Region::Na, 5, 6),
            Environment::Sandbox,
            Region::Na,
            new,
            late,
        )
    };
    for (kind, limit, extend) in
        [(PermissionType::Recurring, None, false), (PermissionType::OneTime, Some(usd(100)), true)]
    {
        let refused = create(kind, limit, extend).expect_err("13 months after 9999-01-01 is past 9999");
        assert_eq!(refused.code, ReasonCode::InvalidParameterValue, "{kind:?}: {refused:?}");
        assert!(refused.message.contains("99991231T235959Z"), "{}", refused.message);
    }
    let one_time = create(PermissionType::OneTime, Some(usd(100)), false).expect("180 days fit in 9999");
    assert_eq!(one_time.expires_at, late.checked_plus_seconds(180 * DAY));
}

#[test]
fn creating_permissions_checks_type_currency_and_card() {
    let make = |region: Region, new: NewPermission| {
        ChargePermission::create(
            ChargePermissionId::generate(Environment::Sandbox, Region::Na, 1, 1),
            Environment::Sandbox,
            region,
            new,
            T0,
        )
        .map(|_| ())
    };
    assert_eq!(
        make(Region::Na, new_permission(PermissionType::OneTime, None)).unwrap_err().code,
        ReasonCode::MissingParameterValue
    );
    assert_eq!(
        make(Region::Na, new_permission(PermissionType::OneTime, Some(usd(0)))).unwrap_err().code,
        ReasonCode::InvalidParameterValue
    );
    assert_eq!(
        make(Region::Na, new_permission(PermissionType::OneTime, Some(Money::from_minor(1, Currency::Eur))))
            .unwrap_err()
            .code,
        ReasonCode::InvalidParameterValue
    );
    assert_eq!(
        make(Region::Na, new_permission(PermissionType::Recurring, Some(usd(1)))).unwrap_err().code,
        ReasonCode::InvalidParameterCombination
    );
    let mut aud_recurring = new_permission(PermissionType::Recurring, None);
    aud_recurring.currency = Some(Currency::Aud);
    assert_eq!(make(Region::Eu, aud_recurring).unwrap_err().code, ReasonCode::InvalidParameterValue);
    let mut aud_wallet = new_permission(PermissionType::PaymentMethodOnFile, None);
    aud_wallet.currency = Some(Currency::Aud);
    assert!(make(Region::Eu, aud_wallet).is_ok());
    let mut checkout_card = new_permission(PermissionType::OneTime, Some(usd(1)));
    checkout_card.payment_method = SandboxCard::parse("3064").unwrap();
    assert_eq!(make(Region::Na, checkout_card).unwrap_err().code, ReasonCode::InvalidParameterValue);
    let mut recurring_on_one_time = new_permission(PermissionType::OneTime, Some(usd(1)));
    recurring_on_one_time.recurring_metadata =
        Some(RecurringMetadata { frequency: Some((FrequencyUnit::Month, 1)), amount: None });
    assert_eq!(make(Region::Na, recurring_on_one_time).unwrap_err().code, ReasonCode::InvalidParameterCombination);
}

#[test]
fn merchant_metadata_can_be_changed_once() {
    let mut permission = one_time(100);
    let first = MerchantMetadata { merchant_reference_id: Some("order-1".into()), ..Default::default() };
    let second = MerchantMetadata { merchant_reference_id: Some("order-2".into()), ..Default::default() };
    permission
        .update(PermissionUpdate { merchant_metadata: Some(first.clone()), recurring_metadata: None }, T0)
        .unwrap();
    permission
        .update(PermissionUpdate { merchant_metadata: Some(first.clone()), recurring_metadata: None }, T0)
        .unwrap();
    let before = permission.clone();
    assert_eq!(
        code_of(permission.update(PermissionUpdate { merchant_metadata: Some(second), recurring_metadata: None }, T0)),
        ReasonCode::ChargePermissionNotModifiable
    );
    assert_eq!(permission, before);
    let recurring = RecurringMetadata { frequency: Some((FrequencyUnit::Month, 1)), amount: Some(usd(999)) };
    assert_eq!(
        code_of(
            permission
                .update(PermissionUpdate { merchant_metadata: None, recurring_metadata: Some(recurring.clone()) }, T0)
        ),
        ReasonCode::InvalidParameterCombination
    );
    let mut subscription = permission_in(Region::Na, PermissionType::Recurring, None);
    subscription
        .update(PermissionUpdate { merchant_metadata: None, recurring_metadata: Some(recurring.clone()) }, T0)
        .unwrap();
    assert_eq!(subscription.recurring_metadata, Some(recurring));
    let too_long = MerchantMetadata { merchant_store_name: Some("x".repeat(51)), ..Default::default() };
    assert_eq!(
        code_of(
            subscription.update(PermissionUpdate { merchant_metadata: Some(too_long), recurring_metadata: None }, T0)
        ),
        ReasonCode::InvalidParameterValue
    );
    charge::close_permission(
        &mut subscription,
        &mut [],
        ClosePermission { closure_reason: "bye".into(), cancel_pending_charges: false, amazon_closed: false },
        T0,
    )
    .unwrap();
    assert_eq!(
        code_of(subscription.update(PermissionUpdate::default(), T0)),
        ReasonCode::InvalidChargePermissionStatus
    );
}

#[test]
fn closing_cancels_pending_charges_only_when_asked() {
    for cancel_pending_charges in [false, true] {
        let mut permission = one_time(10_000);
        let authorized = authorize(&mut permission, usd(100), T0);
        let mut captured = authorize(&mut permission, usd(100), T0);
        charge::capture(&mut permission, &mut captured, CaptureCharge { amount: usd(100), soft_descriptor: None }, T0)
            .unwrap();
        let mut charges = [authorized, captured];
        let changed = charge::close_permission(
            &mut permission,
            &mut charges,
            ClosePermission {
                closure_reason: "subscription ended".into(),
                cancel_pending_charges,
                amazon_closed: false,
            },
            T0,
        )
        .unwrap();
        assert_eq!(
            permission.state,
            PermissionState::Closed {
                reason: Some(ClosureReason::MerchantClosed),
                description: Some("subscription ended".into())
            }
        );
        assert_eq!(charges[1].state, ChargeState::Captured);
        if cancel_pending_charges {
            assert_eq!(changed, [0]);
            assert_eq!(charges[0].state, ChargeState::Canceled(CancelReason::ChargePermissionCanceled));
        } else {
            assert!(changed.is_empty());
            assert_eq!(charges[0].state, ChargeState::Authorized);
        }
        assert_eq!(
            code_of(charge::close_permission(
                &mut permission,
                &mut [],
                ClosePermission { closure_reason: "again".into(), cancel_pending_charges, amazon_closed: false },
                T0
            )),
            ReasonCode::InvalidChargePermissionStatus
        );
    }
}

fn captured_charge(amount: Money, permission: &mut ChargePermission) -> Charge {
    let mut charge = authorize(permission, amount, T0);
    charge::capture(permission, &mut charge, CaptureCharge { amount, soft_descriptor: None }, T0).unwrap();
    charge
}

#[test]
fn refund_limits_are_captured_plus_the_smaller_of_15_percent_and_75() {
    let cases = [
        (usd(100_00), usd(115_00)),
        (usd(500_00), usd(575_00)),
        (usd(1_000_00), usd(1_075_00)),
        (Money::from_minor(10_000, Currency::Jpy), Money::from_minor(11_500, Currency::Jpy)),
        (Money::from_minor(1_000_000, Currency::Jpy), Money::from_minor(1_008_400, Currency::Jpy)),
        (usd(150_000_00), usd(150_000_00)),
    ];
    for (captured, limit) in cases {
        assert_eq!(refund::refund_limit(captured).unwrap(), limit, "{captured}");
    }
}

#[test]
fn refund_rules() {
    let mut permission = one_time(1_000_000);
    let mut authorized = authorize(&mut permission, usd(100_00), T0);
    let refund_of = |amount| CreateRefund { amount, soft_descriptor: None, simulated_decline: None };
    assert_eq!(
        code_of(refund::create_refund(&mut permission, &mut authorized, refund_of(usd(1)), T0)),
        ReasonCode::InvalidChargeStatus
    );
    let mut charge = captured_charge(usd(100_00), &mut permission);
    assert_eq!(
        code_of(refund::create_refund(
            &mut permission,
            &mut charge,
            refund_of(Money::from_minor(1, Currency::Eur)),
            T0
        )),
        ReasonCode::CurrencyMismatch
    );
    assert_eq!(
        code_of(refund::create_refund(&mut permission, &mut charge, refund_of(usd(0)), T0)),
        ReasonCode::InvalidParameterValue
    );
    assert_eq!(
        code_of(refund::create_refund(&mut permission, &mut charge, refund_of(usd(115_01)), T0)),
        ReasonCode::TransactionAmountExceeded
    );
    let mut first = refund::create_refund(&mut permission, &mut charge, refund_of(usd(100_00)), T0).unwrap();
    assert_eq!(first.state, RefundState::RefundInitiated);
    assert_eq!(first.id.as_str(), format!("{}-R000001", permission.id));
    // Pending refunds count against the limit.
    assert_eq!(
        code_of(refund::create_refund(&mut permission, &mut charge, refund_of(usd(15_01)), T0)),
        ReasonCode::TransactionAmountExceeded
    );
    refund::settle_refund(&mut charge, &mut first, Ok(()), T0.plus_seconds(30)).unwrap();
    assert_eq!(first.state, RefundState::Refunded);
    assert_eq!(charge.refunded, usd(100_00));
    let mut declined = refund::create_refund(&mut permission, &mut charge, refund_of(usd(15_00)), T0).unwrap();
    refund::settle_refund(&mut charge, &mut declined, Err(RefundDeclineReason::AmazonRejected), T0).unwrap();
    assert_eq!(declined.state, RefundState::Declined(RefundDeclineReason::AmazonRejected));
    assert_eq!(charge.refunded, usd(100_00), "a declined refund refunds nothing");
    for _ in 0..8 {
        refund::create_refund(&mut permission, &mut charge, refund_of(usd(1)), T0).unwrap();
    }
    assert_eq!(
        code_of(refund::create_refund(&mut permission, &mut charge, refund_of(usd(1)), T0)),
        ReasonCode::TransactionCountExceeded
    );
    assert_eq!(charge.refund_count, 10);
}

#[test]
fn refunds_work_after_a_one_time_permission_closed_by_full_capture() {
    let mut permission = one_time(5_000);
    let mut charge = captured_charge(usd(5_000), &mut permission);
    assert!(permission.state.is_closed());
    let refund = refund::create_refund(
        &mut permission,
        &mut charge,
        CreateRefund { amount: usd(5_000), soft_descriptor: None, simulated_decline: None },
        T0,
    )
    .unwrap();
    assert_eq!(refund.amount, usd(5_000));
}

#[test]
fn ids_of_charges_and_refunds_derive_from_the_permission() {
    let mut permission = one_time(10_000);
    let first = authorize(&mut permission, usd(1), T0);
    let second = authorize(&mut permission, usd(1), T0);
    assert_eq!(first.id.as_str(), format!("{}-C000001", permission.id));
    assert_eq!(second.id.as_str(), format!("{}-C000002", permission.id));
    assert_eq!(second.id.permission_id(), permission.id);
}

#[test]
fn buyer_details_are_visible_for_30_days() {
    let mut one_time = one_time(100);
    one_time.buyer = None;
    assert!(one_time.buyer_visible(T0.plus_seconds(30 * DAY - 1)));
    assert!(!one_time.buyer_visible(T0.plus_seconds(30 * DAY)));
    let mut recurring = permission_in(Region::Na, PermissionType::Recurring, None);
    assert!(recurring.buyer_visible(T0.plus_seconds(300 * DAY)));
    let closed_at = T0.plus_seconds(100 * DAY);
    charge::close_permission(
        &mut recurring,
        &mut [],
        ClosePermission { closure_reason: "x".into(), cancel_pending_charges: false, amazon_closed: false },
        closed_at,
    )
    .unwrap();
    assert!(recurring.buyer_visible(closed_at.plus_seconds(30 * DAY - 1)));
    assert!(!recurring.buyer_visible(closed_at.plus_seconds(30 * DAY)));
}

#[test]
fn capture_simulations_decline_now_or_later() {
    // Synchronous AmazonRejected: the charge is declined, the permission closed, the call
    // answers 422 and the change stands.
    let mut permission = one_time(10_000);
    let mut charge = authorize(&mut permission, usd(1_000), T0);
    let capture_of = |amount| CaptureCharge { amount, soft_descriptor: None };
    let declined = charge::capture_simulated(
        &mut permission,
        &mut charge,
        capture_of(usd(1_000)),
        Some(DeclineReason::AmazonRejected),
        T0,
    )
    .unwrap();
    assert_eq!(declined.unwrap().code, ReasonCode::AmazonRejected);
    assert_eq!(charge.state, ChargeState::Declined(DeclineReason::AmazonRejected));
    assert_eq!(
        permission.state,
        PermissionState::Closed { reason: Some(ClosureReason::AmazonClosed), description: None }
    );
    assert_eq!(permission.open_authorized, usd(0));

    // Synchronous ProcessingFailure: 500, nothing changes, the capture can be retried.
    let mut permission = one_time(10_000);
    let mut charge = authorize(&mut permission, usd(1_000), T0);
    let before = (permission.clone(), charge.clone());
    let failed = charge::capture_simulated(
        &mut permission,
        &mut charge,
        capture_of(usd(1_000)),
        Some(DeclineReason::ProcessingFailure),
        T0,
    );
    assert_eq!(failed.unwrap_err().code, ReasonCode::ProcessingFailure);
    assert_eq!((permission.clone(), charge.clone()), before);

    // Asynchronous (after 7 days): CaptureInitiated now, Declined when it completes.
    let later = T0.plus_seconds(8 * DAY);
    let outcome = charge::capture_simulated(
        &mut permission,
        &mut charge,
        capture_of(usd(1_000)),
        Some(DeclineReason::ProcessingFailure),
        later,
    )
    .unwrap();
    assert!(outcome.is_none());
    assert_eq!(charge.state, ChargeState::CaptureInitiated);
    charge::complete_capture(&mut permission, &mut charge, later.plus_seconds(30)).unwrap();
    assert_eq!(charge.state, ChargeState::Declined(DeclineReason::ProcessingFailure));
    assert_eq!(permission.state, PermissionState::Chargeable);
    assert_eq!(permission.amount_balance(), usd(10_000));
}

#[test]
fn refund_simulations_decline_when_the_refund_settles() {
    let mut permission = one_time(10_000);
    let mut charge = captured_charge(usd(1_000), &mut permission);
    let request = CreateRefund {
        amount: usd(500),
        soft_descriptor: None,
        simulated_decline: Some(RefundDeclineReason::AmazonRejected),
    };
    let mut refund = refund::create_refund(&mut permission, &mut charge, request, T0).unwrap();
    assert_eq!(refund.state, RefundState::RefundInitiated);
    refund::settle_refund_as_simulated(&mut charge, &mut refund, T0.plus_seconds(30)).unwrap();
    assert_eq!(refund.state, RefundState::Declined(RefundDeclineReason::AmazonRejected));
    assert_eq!(charge.refunded, usd(0));
    let request = CreateRefund { amount: usd(500), soft_descriptor: None, simulated_decline: None };
    let mut ok = refund::create_refund(&mut permission, &mut charge, request, T0).unwrap();
    refund::settle_refund_as_simulated(&mut charge, &mut ok, T0.plus_seconds(30)).unwrap();
    assert_eq!(ok.state, RefundState::Refunded);
    assert_eq!(charge.refunded, usd(500));
}

#[test]
fn amazon_closed_simulation_closes_as_amazon() {
    let mut permission = one_time(100);
    let request = ClosePermission { closure_reason: "x".into(), cancel_pending_charges: false, amazon_closed: true };
    charge::close_permission(&mut permission, &mut [], request, T0).unwrap();
    assert_eq!(
        permission.state,
        PermissionState::Closed { reason: Some(ClosureReason::AmazonClosed), description: Some("x".into()) }
    );
}

#[test]
fn buyers_fix_their_payment_method_or_close_the_permission() {
    let mut permission = permission_in(Region::Na, PermissionType::Recurring, None);
    let outcome = charge::create_charge(
        &mut permission,
        request(usd(100)),
        AuthorizationOutcome::Declined(DeclineReason::HardDeclined),
        T0,
    )
    .unwrap();
    assert!(matches!(outcome, ChargeCreation::Declined(_)));
    assert_eq!(permission.state, PermissionState::NonChargeable(NonChargeableReason::PaymentMethodInvalid));
    let checkout_only = SandboxCard::parse("3434").unwrap();
    assert_eq!(
        code_of(charge::buyer_update_payment_method(&mut permission, checkout_only, T0)),
        ReasonCode::InvalidParameterValue
    );
    charge::buyer_update_payment_method(&mut permission, SandboxCard::parse("4444").unwrap(), T0).unwrap();
    assert_eq!(permission.state, PermissionState::Chargeable);
    assert_eq!(permission.payment_method.last_four(), "4444");

    let open = authorize(&mut permission, usd(100), T0);
    let mut captured = authorize(&mut permission, usd(100), T0);
    charge::capture(&mut permission, &mut captured, CaptureCharge { amount: usd(100), soft_descriptor: None }, T0)
        .unwrap();
    let mut charges = [open, captured];
    let changed = charge::buyer_close(&mut permission, &mut charges, T0).unwrap();
    assert_eq!(changed, [0]);
    assert_eq!(charges[0].state, ChargeState::Canceled(CancelReason::BuyerCanceled));
    assert_eq!(charges[1].state, ChargeState::Captured);
    assert_eq!(
        permission.state,
        PermissionState::Closed { reason: Some(ClosureReason::BuyerClosed), description: None }
    );
    assert_eq!(code_of(charge::buyer_close(&mut permission, &mut [], T0)), ReasonCode::InvalidChargePermissionStatus);
    assert_eq!(
        code_of(charge::buyer_update_payment_method(&mut permission, SandboxCard::parse("1111").unwrap(), T0)),
        ReasonCode::InvalidChargePermissionStatus
    );
}

#[test]
fn amazon_cancels_open_charges_and_flags_any_charge_not_ended() {
    let mut permission = one_time(10_000);
    let mut open = authorize(&mut permission, usd(4_000), T0);
    charge::amazon_action(&mut permission, &mut open, charge::AmazonAction::FlagAtypicalActivity, T0).unwrap();
    assert_eq!((open.state, open.status_reason_code()), (ChargeState::Authorized, Some("StopShipmentAtypicalAuth")));
    charge::amazon_action(&mut permission, &mut open, charge::AmazonAction::Cancel, T0).unwrap();
    assert_eq!(
        (open.state, open.status_reason_code()),
        (ChargeState::Canceled(CancelReason::AmazonCanceled), Some("AmazonCanceled"))
    );
    assert_eq!(permission.amount_balance(), usd(10_000), "the canceled amount is free again");
    for action in [charge::AmazonAction::Cancel, charge::AmazonAction::FlagAtypicalActivity] {
        let before = (permission.clone(), open.clone());
        assert_eq!(
            code_of(charge::amazon_action(&mut permission, &mut open, action, T0)),
            ReasonCode::InvalidChargeStatus
        );
        assert_eq!((permission.clone(), open.clone()), before, "a refusal changes nothing");
    }
    let mut captured = authorize(&mut permission, usd(1_000), T0);
    charge::capture(&mut permission, &mut captured, CaptureCharge { amount: usd(1_000), soft_descriptor: None }, T0)
        .unwrap();
    assert_eq!(
        code_of(charge::amazon_action(&mut permission, &mut captured, charge::AmazonAction::Cancel, T0)),
        ReasonCode::InvalidChargeStatus
    );
    charge::amazon_action(&mut permission, &mut captured, charge::AmazonAction::FlagAtypicalActivity, T0).unwrap();
    assert_eq!(captured.status_reason_code(), Some("StopShipmentAtypicalAuth"));
}

#[test]
fn amzpay_refusals_create_nothing_and_change_nothing() {
    use amzpay_domain::sandbox::AmzpaySimulation;
    for (refusal, code) in [
        (AmzpaySimulation::PaymentMethodNotAllowed, ReasonCode::PaymentMethodNotAllowed),
        (AmzpaySimulation::MfaNotCompleted, ReasonCode::MFANotCompleted),
    ] {
        let mut permission = permission_in(Region::Na, PermissionType::PaymentMethodOnFile, None);
        let before = permission.clone();
        let outcome =
            charge::create_charge(&mut permission, request(usd(100)), AuthorizationOutcome::Refused(refusal), T0);
        assert_eq!(code_of(outcome), code);
        assert_eq!(permission, before);
    }
}

#[test]
fn names_are_written_as_amazon_spells_them() {
    use amzpay_domain::checkout_session::{Constraint, PaymentIntent};
    use amzpay_domain::metadata::{Channel, ChargeInitiator};
    assert_eq!(NonChargeableReason::MfaFailed.as_str(), "MFAFailed");
    assert_eq!(NonChargeableReason::parse("MFAFailed"), Some(NonChargeableReason::MfaFailed));
    assert_eq!(ChargeInitiator::Citu.as_str(), "CITU");
    assert_eq!(ChargeInitiator::parse("MITR"), Some(ChargeInitiator::Mitr));
    assert_eq!(Channel::PointOfSale.as_str(), "PointOfSale");
    assert_eq!(PaymentIntent::parse("AuthorizeWithCapture"), Some(PaymentIntent::AuthorizeWithCapture));
    assert_eq!(Constraint::BuyerNotAssociated.as_str(), "BuyerNotAssociated");
    assert_eq!(ChargeState::Canceled(CancelReason::ExpiredUnused).name(), "Canceled");
    assert_eq!(PermissionType::parse("Onetime"), None, "names are exact");
}
