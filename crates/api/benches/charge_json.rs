//! Criterion benchmarks of the wire format of a charge (docs/performance.md): decoding a
//! Create Charge body through the server's own path (`body::parse_body`, then
//! `into_command`), and encoding a Charge response object (`responses::ChargeOut`, then
//! `responses::to_json`) as Create Charge and Get Charge answer it.
//!
//! `cargo bench -p amzpay-api --bench charge_json`

use std::hint::black_box;

use amzpay_api::body::parse_body;
use amzpay_api::requests::CreateChargeBody;
use amzpay_api::responses::{ChargeOut, to_json};
use amzpay_domain::charge::{self, ChargeCreation};
use amzpay_domain::charge_permission::NewPermission;
use amzpay_domain::sandbox::{AuthorizationOutcome, SandboxCard};
use amzpay_domain::{
    Charge, ChargePermission, ChargePermissionId, ChargeState, Environment, Money, PermissionType, Region, Timestamp,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// A Create Charge body as a checkout sends it (the official SDKs' field order).
const CREATE_CHARGE_BODY: &str = r#"{"chargePermissionId":"S01-5105180-3221187","chargeAmount":{"amount":"14.00","currencyCode":"USD"},"captureNow":true,"softDescriptor":"Descriptor","canHandlePendingAuthorization":false,"merchantMetadata":{"merchantReferenceId":"order-20240115-0042","merchantStoreName":"Test Store","noteToBuyer":"Thank you for your order","customInformation":"bench"},"providerMetadata":{"providerReferenceId":null},"chargeInitiator":"CITU","channel":"Web"}"#;

/// 2024-01-15T12:00:00Z
const T0: Timestamp = Timestamp::from_unix_seconds(1_705_320_000);

fn decode(body: &[u8]) -> Result<(ChargePermissionId, charge::CreateCharge), amzpay_api::Refusal> {
    parse_body::<CreateChargeBody>(body).and_then(CreateChargeBody::into_command)
}

/// The charge Create Charge makes of that body: captured, with a descriptor, metadata, a
/// channel and an initiator, so every optional field of the response is written.
fn captured_charge() -> Charge {
    let (_, request) = decode(CREATE_CHARGE_BODY.as_bytes()).expect("the body decodes");
    let mut permission = ChargePermission::create(
        ChargePermissionId::generate(Environment::Sandbox, Region::Na, 5_105_180, 3_221_187),
        Environment::Sandbox,
        Region::Na,
        NewPermission {
            kind: PermissionType::OneTime,
            amount_limit: Some(Money::from_minor(15_000, amzpay_domain::Currency::Usd)),
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
    .expect("the permission is created");
    match charge::create_charge(&mut permission, request, AuthorizationOutcome::Approved, T0) {
        Ok(ChargeCreation::Created(charge)) => *charge,
        other => panic!("expected a charge, got {other:?}"),
    }
}

fn decoding(c: &mut Criterion) {
    let body = CREATE_CHARGE_BODY.as_bytes();
    let (id, command) = decode(body).expect("the body decodes");
    assert_eq!((id.as_str(), command.amount.minor(), command.capture_now), ("S01-5105180-3221187", 1_400, true));
    let mut group = c.benchmark_group("decode");
    group.bench_function("create_charge_body", |b| b.iter(|| decode(black_box(body))));
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let charge = captured_charge();
    assert_eq!(charge.state, ChargeState::Captured);
    let json = String::from_utf8(to_json(&ChargeOut::from(&charge))).expect("UTF-8");
    for field in ["\"softDescriptor\":\"Descriptor\"", "\"merchantStoreName\":\"Test Store\"", "\"channel\":\"Web\""] {
        assert!(json.contains(field), "{field} in {json}");
    }
    let mut group = c.benchmark_group("encode");
    group.bench_function("charge_response_captured", |b| b.iter(|| to_json(&ChargeOut::from(black_box(&charge)))));
    group.finish();
}

criterion_group!(benches, decoding, encoding);
criterion_main!(benches);
