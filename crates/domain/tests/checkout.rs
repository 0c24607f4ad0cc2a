//! Checkout Session rules (spec §5.5): constraints, states, intents, amounts.

use amzpay_domain::checkout_session::*;
use amzpay_domain::metadata::{Buyer, FrequencyUnit, RecurringMetadata};
use amzpay_domain::sandbox::SandboxCard;
use amzpay_domain::*;

const T0: Timestamp = Timestamp::from_unix_seconds(1_705_320_000);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::Usd)
}

fn new_session(kind: PermissionType) -> NewSession {
    NewSession {
        store_id: "amzn1.application-oa2-client.x".into(),
        process_order: false,
        kind,
        fields: SessionUpdate {
            checkout_review_return_url: Some("https://shop.example/review".into()),
            recurring_metadata: (kind == PermissionType::Recurring)
                .then_some(RecurringMetadata { frequency: Some((FrequencyUnit::Month, 1)), amount: None }),
            ..Default::default()
        },
        setup_only: None,
        delivery_specifications: None,
        address_details: None,
        renews_permission: None,
        checkout_button_text: None,
    }
}

fn session(kind: PermissionType) -> CheckoutSession {
    CheckoutSession::create("s-1".into(), Environment::Sandbox, Region::Na, new_session(kind), T0).unwrap()
}

fn buyer() -> Buyer {
    Buyer { buyer_id: "b".into(), name: "Ann".into(), email: "ann@example.com".into(), phone_number: None }
}

fn ready(kind: PermissionType, intent: PaymentIntent, card: &str) -> CheckoutSession {
    let mut s = session(kind);
    s.sign_in(buyer(), None, SandboxCard::parse(card).unwrap(), T0).unwrap();
    let details =
        PaymentDetails { payment_intent: Some(intent), charge_amount: Some(usd(1_000)), ..Default::default() };
    s.update(
        SessionUpdate {
            checkout_result_return_url: Some("https://shop.example/result".into()),
            payment_details: Some(details),
            ..Default::default()
        },
        T0,
    )
    .unwrap();
    s.confirm(T0).unwrap();
    s
}

fn new_permission() -> PermissionTarget {
    PermissionTarget::New(ChargePermissionId::generate(Environment::Sandbox, Region::Na, 1, 2))
}

#[test]
fn constraints_disappear_as_the_session_fills_in() {
    let mut s = session(PermissionType::OneTime);
    assert_eq!(
        s.constraints(),
        [
            Constraint::BuyerNotAssociated,
            Constraint::ChargeAmountNotSet,
            Constraint::CheckoutResultReturnUrlNotSet,
            Constraint::PaymentIntentNotSet
        ]
    );
    assert_eq!(s.confirm(T0).unwrap_err().code, ReasonCode::InvalidCheckoutSessionStatus);
    s.sign_in(buyer(), None, SandboxCard::parse("1111").unwrap(), T0).unwrap();
    assert_eq!(s.constraints()[0], Constraint::ChargeAmountNotSet);
    let details = PaymentDetails {
        payment_intent: Some(PaymentIntent::Authorize),
        charge_amount: Some(usd(1_000)),
        ..Default::default()
    };
    s.update(SessionUpdate { payment_details: Some(details), ..Default::default() }, T0).unwrap();
    assert_eq!(s.constraints(), [Constraint::CheckoutResultReturnUrlNotSet]);
    s.update(SessionUpdate { checkout_result_return_url: Some("https://r".into()), ..Default::default() }, T0).unwrap();
    assert!(s.constraints().is_empty());
    s.confirm(T0).unwrap();
}

#[test]
fn creation_needs_its_urls_and_recurring_details() {
    let make = |new: NewSession| {
        CheckoutSession::create("s".into(), Environment::Sandbox, Region::Na, new, T0).map(|_| ()).map_err(|e| e.code)
    };
    let mut no_review = new_session(PermissionType::OneTime);
    no_review.fields.checkout_review_return_url = None;
    assert_eq!(make(no_review), Err(ReasonCode::MissingParameterValue));
    let mut process_order = new_session(PermissionType::OneTime);
    process_order.process_order = true;
    assert_eq!(make(process_order.clone()), Err(ReasonCode::MissingParameterValue));
    process_order.fields.checkout_result_return_url = Some("https://r".into());
    process_order.fields.payment_details = Some(PaymentDetails {
        payment_intent: Some(PaymentIntent::Confirm),
        charge_amount: Some(usd(1)),
        ..Default::default()
    });
    assert_eq!(make(process_order), Ok(()));
    let mut recurring = new_session(PermissionType::Recurring);
    recurring.fields.recurring_metadata = None;
    assert_eq!(make(recurring), Err(ReasonCode::MissingParameterValue));
    let mut euros = new_session(PermissionType::OneTime);
    euros.fields.payment_details =
        Some(PaymentDetails { charge_amount: Some(Money::from_minor(1, Currency::Eur)), ..Default::default() });
    assert_eq!(make(euros), Err(ReasonCode::InvalidParameterValue));
}

#[test]
fn each_intent_completes_into_its_objects() {
    for (intent, charge_state) in [
        (PaymentIntent::Confirm, None),
        (PaymentIntent::Authorize, Some(ChargeState::Authorized)),
        (PaymentIntent::AuthorizeWithCapture, Some(ChargeState::Captured)),
    ] {
        let mut s = ready(PermissionType::OneTime, intent, "1111");
        let completion = complete(&mut s, usd(1_000), None, new_permission(), T0).unwrap().unwrap();
        assert_eq!(s.state, SessionState::Completed);
        assert_eq!(s.charge_permission_id, Some(completion.permission.id.clone()));
        assert_eq!(completion.charge.as_ref().map(|c| c.state), charge_state, "{intent:?}");
        assert_eq!(s.charge_id, completion.charge.map(|c| c.id));
        assert_eq!(
            complete(&mut s, usd(1_000), None, new_permission(), T0).unwrap_err().code,
            ReasonCode::InvalidCheckoutSessionStatus
        );
    }
}

#[test]
fn completion_checks_amount_confirmation_and_state() {
    let mut s = ready(PermissionType::OneTime, PaymentIntent::Authorize, "1111");
    assert_eq!(complete(&mut s, usd(999), None, new_permission(), T0).unwrap_err().code, ReasonCode::AmountMismatch);
    let mut unconfirmed = session(PermissionType::OneTime);
    assert_eq!(
        complete(&mut unconfirmed, usd(1), None, new_permission(), T0).unwrap_err().code,
        ReasonCode::InvalidCheckoutSessionStatus
    );
    let mut canceled = session(PermissionType::OneTime);
    canceled.cancel(SessionCancelReason::BuyerCanceled, T0).unwrap();
    assert_eq!(
        complete(&mut canceled, usd(1), None, new_permission(), T0).unwrap_err().code,
        ReasonCode::CheckoutSessionCanceled
    );
    assert_eq!(
        canceled.update(SessionUpdate::default(), T0).unwrap_err().code,
        ReasonCode::InvalidCheckoutSessionStatus
    );
}

#[test]
fn sessions_expire_after_24_hours() {
    let mut s = session(PermissionType::OneTime);
    assert!(!s.advance_to(T0.plus_seconds(86_399)));
    assert!(s.advance_to(T0.plus_seconds(86_400)));
    assert_eq!(s.state, SessionState::Canceled(SessionCancelReason::Expired));
}

#[test]
fn checkout_cards_cancel_or_decline_the_session_when_the_buyer_returns() {
    for (card, reason) in [("3064", SessionCancelReason::BuyerCanceled), ("3434", SessionCancelReason::Declined)] {
        let mut s = session(PermissionType::OneTime);
        s.sign_in(buyer(), None, SandboxCard::parse(card).unwrap(), T0).unwrap();
        assert_eq!(s.state, SessionState::Open, "{card}: signing in leaves the session to the merchant");
        let details = PaymentDetails {
            payment_intent: Some(PaymentIntent::Authorize),
            charge_amount: Some(usd(1_000)),
            ..Default::default()
        };
        let update = SessionUpdate {
            checkout_result_return_url: Some("https://shop.example/result".into()),
            payment_details: Some(details),
            ..Default::default()
        };
        s.update(update, T0).unwrap();
        s.confirm(T0.plus_seconds(5)).unwrap();
        assert_eq!((s.state, s.state_updated_at), (SessionState::Canceled(reason), T0.plus_seconds(5)), "{card}");
        let refused = complete(&mut s, usd(1_000), None, new_permission(), T0).unwrap_err();
        assert_eq!(refused.code, ReasonCode::CheckoutSessionCanceled, "{card}");
    }
    // With ProcessOrder the buyer returns right after signing in.
    let mut new = new_session(PermissionType::OneTime);
    new.process_order = true;
    new.fields.checkout_result_return_url = Some("https://shop.example/result".into());
    new.fields.payment_details = Some(PaymentDetails {
        payment_intent: Some(PaymentIntent::AuthorizeWithCapture),
        charge_amount: Some(usd(1_000)),
        ..Default::default()
    });
    let mut s = CheckoutSession::create("s-2".into(), Environment::Sandbox, Region::Na, new, T0).unwrap();
    s.sign_in(buyer(), None, SandboxCard::parse("3064").unwrap(), T0).unwrap();
    assert_eq!(s.state, SessionState::Canceled(SessionCancelReason::BuyerCanceled));
}

#[test]
fn pending_cards_need_the_authorize_intent_and_pending_handling() {
    for card in ["0701", "4354"] {
        let mut pending = ready(PermissionType::OneTime, PaymentIntent::Authorize, card);
        let declined_now = complete(&mut pending, usd(1_000), None, new_permission(), T0).unwrap();
        assert_eq!(declined_now.unwrap_err().code, ReasonCode::TransactionTimedOut, "{card}");
        assert_eq!(pending.state, SessionState::Canceled(SessionCancelReason::Declined), "{card}");

        for intent in [PaymentIntent::Confirm, PaymentIntent::AuthorizeWithCapture] {
            let mut wrong = ready(PermissionType::OneTime, intent, card);
            wrong.payment.can_handle_pending_authorization = Some(true);
            let before = wrong.clone();
            let refused = complete(&mut wrong, usd(1_000), None, new_permission(), T0).unwrap_err();
            assert_eq!(refused.code, ReasonCode::InvalidSandboxSimulationSpecified, "{card} {intent:?}");
            assert_eq!(wrong, before, "a refused completion changes nothing");
        }

        let mut pending = ready(PermissionType::OneTime, PaymentIntent::Authorize, card);
        pending.payment.can_handle_pending_authorization = Some(true);
        let completion = complete(&mut pending, usd(1_000), None, new_permission(), T0).unwrap().unwrap();
        assert_eq!(completion.charge.unwrap().state, ChargeState::AuthorizationInitiated);
        assert_eq!(pending.state, SessionState::Completed);
    }
}

#[test]
fn permission_types_and_limits_follow_the_session() {
    for kind in [PermissionType::OneTime, PermissionType::Recurring, PermissionType::PaymentMethodOnFile] {
        let mut s = ready(kind, PaymentIntent::Confirm, "4444");
        let completion = complete(&mut s, usd(1_000), None, new_permission(), T0).unwrap().unwrap();
        assert_eq!(completion.permission.kind, kind);
        assert_eq!(completion.permission.payment_method.last_four(), "4444");
    }
    let mut total = ready(PermissionType::OneTime, PaymentIntent::Authorize, "1111");
    total.payment.total_order_amount = Some(usd(5_000));
    let completion = complete(&mut total, usd(1_000), None, new_permission(), T0).unwrap().unwrap();
    assert_eq!(completion.permission.amount_limit, usd(5_000));
    assert_eq!(completion.permission.amount_balance(), usd(4_000));
    let mut over = ready(PermissionType::OneTime, PaymentIntent::Confirm, "1111");
    over.payment.allow_overcharge = Some(true);
    assert_eq!(
        complete(&mut over, usd(1_000), None, new_permission(), T0).unwrap().unwrap().permission.amount_limit,
        usd(50_000),
        "500 USD beats 900% of 10 USD"
    );
    let mut big = ready(PermissionType::OneTime, PaymentIntent::Confirm, "1111");
    big.payment.allow_overcharge = Some(true);
    big.payment.charge_amount = Some(usd(100_000));
    assert_eq!(
        complete(&mut big, usd(100_000), None, new_permission(), T0).unwrap().unwrap().permission.amount_limit,
        usd(900_000)
    );
    let mut extended = ready(PermissionType::OneTime, PaymentIntent::Confirm, "1111");
    extended.payment.extend_expiration = Some(true);
    let permission = complete(&mut extended, usd(1_000), None, new_permission(), T0).unwrap().unwrap().permission;
    assert_eq!(permission.expires_at, T0.plus_months(13));
}

#[test]
fn updates_are_judged_on_the_session_they_would_make() {
    let details = |intent: Option<PaymentIntent>, descriptor: Option<&str>| SessionUpdate {
        payment_details: Some(PaymentDetails {
            payment_intent: intent,
            soft_descriptor: descriptor.map(|d| amzpay_domain::metadata::SoftDescriptor::parse(d).unwrap()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut s = session(PermissionType::OneTime);
    let refused = [
        details(Some(PaymentIntent::Authorize), Some("SHOP")),
        details(Some(PaymentIntent::Confirm), Some("SHOP")),
        SessionUpdate { kind: Some(PermissionType::Recurring), ..Default::default() },
        SessionUpdate {
            recurring_metadata: Some(RecurringMetadata { frequency: Some((FrequencyUnit::Month, 1)), amount: None }),
            ..Default::default()
        },
    ];
    let expected = [
        ReasonCode::InvalidParameterCombination,
        ReasonCode::InvalidParameterCombination,
        ReasonCode::MissingParameterValue,
        ReasonCode::InvalidParameterCombination,
    ];
    for (update, code) in refused.into_iter().zip(expected) {
        let before = s.clone();
        assert_eq!(s.update(update, T0).unwrap_err().code, code);
        assert_eq!(s, before, "a refused update changes nothing");
    }
    // A statement text waits for its intent, and then holds the intent to a capture.
    s.update(details(None, Some("SHOP")), T0).unwrap();
    s.update(details(Some(PaymentIntent::AuthorizeWithCapture), None), T0).unwrap();
    assert_eq!(
        s.update(details(Some(PaymentIntent::Authorize), None), T0).unwrap_err().code,
        ReasonCode::InvalidParameterCombination
    );
    // The type may change while Open; a Recurring session keeps its metadata, a change away
    // drops it.
    let recurring = SessionUpdate {
        kind: Some(PermissionType::Recurring),
        recurring_metadata: Some(RecurringMetadata { frequency: Some((FrequencyUnit::Week, 2)), amount: None }),
        ..Default::default()
    };
    s.update(recurring, T0).unwrap();
    assert_eq!(s.kind, PermissionType::Recurring);
    s.update(SessionUpdate { kind: Some(PermissionType::OneTime), ..Default::default() }, T0).unwrap();
    assert_eq!((s.kind, s.recurring_metadata.clone()), (PermissionType::OneTime, None));
}
