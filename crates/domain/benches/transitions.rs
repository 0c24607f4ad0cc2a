//! Criterion benchmarks of the pure charge transitions (docs/performance.md): Create Charge
//! on a Charge Permission (`captureNow` false and true) and Capture of an authorized charge.
//! The inputs are built as `tests/rules.rs` builds them; each iteration gets fresh clones,
//! made outside the timed routine.
//!
//! `cargo bench -p amzpay-domain --bench transitions`

use std::hint::black_box;

use amzpay_domain::charge::{self, CaptureCharge, ChargeCreation, CreateCharge};
use amzpay_domain::charge_permission::NewPermission;
use amzpay_domain::metadata::{MerchantMetadata, SoftDescriptor};
use amzpay_domain::sandbox::{AuthorizationOutcome, SandboxCard};
use amzpay_domain::*;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// 2024-01-15T12:00:00Z
const T0: Timestamp = Timestamp::from_unix_seconds(1_705_320_000);

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::Usd)
}

/// A One-Time permission of 150.00 USD, as the checkout leaves it after Complete.
fn permission() -> ChargePermission {
    ChargePermission::create(
        ChargePermissionId::generate(Environment::Sandbox, Region::Na, 1, 2),
        Environment::Sandbox,
        Region::Na,
        NewPermission {
            kind: PermissionType::OneTime,
            amount_limit: Some(usd(15_000)),
            currency: None,
            recurring_metadata: None,
            merchant_metadata: None,
            payment_method: SandboxCard::parse("1111").expect("a sandbox card"),
            buyer: None,
            platform_id: None,
            extend_expiration: false,
            shipping_address: None,
            billing_address: None,
            setup_only: None,
        },
        T0,
    )
    .expect("the permission is created")
}

/// Create Charge of 14.00 USD with the fields a checkout sends.
fn request(capture_now: bool) -> CreateCharge {
    CreateCharge {
        amount: usd(1_400),
        capture_now,
        soft_descriptor: capture_now.then(|| SoftDescriptor::parse("Descriptor").expect("a descriptor")),
        can_handle_pending_authorization: false,
        merchant_metadata: Some(MerchantMetadata {
            merchant_reference_id: Some("order-20240115-0042".into()),
            merchant_store_name: Some("Test Store".into()),
            note_to_buyer: Some("Thank you for your order".into()),
            custom_information: None,
        }),
        provider_reference_id: None,
        platform_id: None,
        charge_initiator: None,
        channel: None,
        web_checkout_details: None,
    }
}

fn create(permission: &mut ChargePermission, request: CreateCharge, now: Timestamp) -> Charge {
    match charge::create_charge(permission, request, AuthorizationOutcome::Approved, now) {
        Ok(ChargeCreation::Created(charge)) => *charge,
        other => panic!("expected a charge, got {other:?}"),
    }
}

fn create_charge(c: &mut Criterion) {
    let permission = permission();
    let mut group = c.benchmark_group("create_charge");
    for (name, capture_now, state) in [
        ("authorize_capture_now_false", false, ChargeState::Authorized),
        ("authorize_and_capture_capture_now_true", true, ChargeState::Captured),
    ] {
        // The transition benched must be the one named.
        assert_eq!(create(&mut permission.clone(), request(capture_now), T0).state, state, "{name}");
        group.bench_function(name, |b| {
            b.iter_batched(
                || (permission.clone(), request(capture_now)),
                |(mut permission, request)| {
                    let creation =
                        charge::create_charge(&mut permission, request, AuthorizationOutcome::Approved, black_box(T0));
                    (permission, creation)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn capture(c: &mut Criterion) {
    let mut permission = permission();
    let authorized = create(&mut permission, request(false), T0);
    let later = T0.plus_seconds(60);
    let capture = || CaptureCharge { amount: usd(1_400), soft_descriptor: None };
    {
        let (mut p, mut charge) = (permission.clone(), authorized.clone());
        charge::capture(&mut p, &mut charge, capture(), later).expect("the capture succeeds");
        assert_eq!(charge.state, ChargeState::Captured);
    }
    let mut group = c.benchmark_group("capture");
    group.bench_function("authorized_charge_full_amount", |b| {
        b.iter_batched(
            || (permission.clone(), authorized.clone(), capture()),
            |(mut permission, mut charge, request)| {
                let result = charge::capture(&mut permission, &mut charge, request, black_box(later));
                (permission, charge, result)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, create_charge, capture);
criterion_main!(benches);
