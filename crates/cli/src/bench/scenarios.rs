//! The scenarios: what each signs, what it sets up through the test helpers first, and the
//! blend of `mixed`. Requests are built and signed here, on every core, before a round's
//! clock starts.

use amzpay_domain::limits::{MAX_CHARGES_PER_ONE_TIME_PERMISSION, MAX_REFUNDS_PER_CHARGE};
use amzpay_sdk::{Client, IDEMPOTENCY_KEY_HEADER, new_idempotency_key};
use anyhow::{Context, bail};
use bytes::Bytes;
use clap::ValueEnum;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Value, json};

use super::engine::Prepared;
use super::report::Expect;

/// The load to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Create Charge (captureNow true), each with its own idempotency key, on permissions
    /// made beforehand.
    CreateCharge,
    /// Flows of two calls: Create Charge (captureNow false), then Capture Charge.
    AuthorizeCapture,
    /// Get Charge on charges made beforehand.
    GetCharge,
    /// A checkout-like blend: see `MIXED_PATTERN`.
    Mixed,
    /// GET /healthz, unsigned: the limit of this client and the server's edge.
    Ceiling,
}

impl Scenario {
    /// The name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::CreateCharge => "create-charge",
            Scenario::AuthorizeCapture => "authorize-capture",
            Scenario::GetCharge => "get-charge",
            Scenario::Mixed => "mixed",
            Scenario::Ceiling => "ceiling",
        }
    }
}

/// What each charge is for, in USD.
pub const CHARGE_AMOUNT: &str = "1.00";
/// A one-time permission's limit: room for its most charges (`MAX_CHARGES_PER_ONE_TIME_PERMISSION`)
/// of `CHARGE_AMOUNT`.
pub const PERMISSION_LIMIT: &str = "25.00";
/// What each refund of `mixed` gives back: `MAX_REFUNDS_PER_CHARGE` of them refund one charge whole.
pub const REFUND_AMOUNT: &str = "0.10";
/// How many charges `get-charge` reads, round-robin.
pub const GET_CHARGE_OBJECTS: usize = 1_000;

/// One kind of request of `mixed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixedKind {
    CreateCharge,
    GetCharge,
    CaptureCharge,
    CreateRefund,
    GetChargePermission,
}

/// `mixed`, ten requests at a time, in this order: a checkout-like blend of 30% Create Charge
/// (captureNow true), 30% Get Charge, 20% Get Charge Permission, 10% Capture Charge (of a
/// charge authorized beforehand) and 10% Create Refund (of a charge captured beforehand).
pub const MIXED_PATTERN: [MixedKind; 10] = [
    MixedKind::CreateCharge,
    MixedKind::GetCharge,
    MixedKind::GetChargePermission,
    MixedKind::CreateCharge,
    MixedKind::GetCharge,
    MixedKind::CaptureCharge,
    MixedKind::CreateCharge,
    MixedKind::GetCharge,
    MixedKind::GetChargePermission,
    MixedKind::CreateRefund,
];

/// How many of each kind `n` requests of `mixed` hold.
pub fn mixed_counts(n: usize, kind: MixedKind) -> usize {
    (0..n).filter(|i| MIXED_PATTERN[i % MIXED_PATTERN.len()] == kind).count()
}

/// The permissions that `charges` charges of `CHARGE_AMOUNT` need.
pub fn permissions_for(charges: usize) -> usize {
    charges.div_ceil(MAX_CHARGES_PER_ONE_TIME_PERMISSION as usize)
}

/// The captured charges that `refunds` refunds of `REFUND_AMOUNT` need.
pub fn charges_for_refunds(refunds: usize) -> usize {
    refunds.div_ceil(MAX_REFUNDS_PER_CHARGE as usize)
}

fn usd(amount: &str) -> Value {
    json!({"amount": amount, "currencyCode": "USD"})
}

/// A request to sign: method, path under `/v2/`, body, whether it carries an idempotency key.
#[derive(Debug, Clone)]
pub struct Spec {
    pub method: Method,
    pub fragment: String,
    pub body: Option<Value>,
    pub idempotent: bool,
    pub expect: Expect,
}

impl Spec {
    pub fn create_permission() -> Spec {
        let body = json!({"chargePermissionType": "OneTime", "amountLimit": usd(PERMISSION_LIMIT)});
        Spec::post("testHelpers/chargePermissions", body, true, Expect::ChargePermission(201))
    }

    pub fn create_charge(permission: &str, capture_now: bool) -> Spec {
        let body = json!({
            "chargePermissionId": permission,
            "chargeAmount": usd(CHARGE_AMOUNT),
            "captureNow": capture_now,
            "canHandlePendingAuthorization": false,
        });
        Spec::post("charges", body, true, Expect::Charge(201))
    }

    pub fn capture_charge(charge: &str) -> Spec {
        let body = json!({"captureAmount": usd(CHARGE_AMOUNT)});
        Spec::post(&format!("charges/{charge}/capture"), body, true, Expect::Charge(200))
    }

    pub fn create_refund(charge: &str) -> Spec {
        let body = json!({"chargeId": charge, "refundAmount": usd(REFUND_AMOUNT)});
        Spec::post("refunds", body, true, Expect::Refund(201))
    }

    pub fn get_charge(charge: &str) -> Spec {
        Spec::get(&format!("charges/{charge}"), Expect::Charge(200))
    }

    pub fn get_permission(permission: &str) -> Spec {
        Spec::get(&format!("chargePermissions/{permission}"), Expect::ChargePermission(200))
    }

    fn post(fragment: &str, body: Value, idempotent: bool, expect: Expect) -> Spec {
        Spec { method: Method::POST, fragment: fragment.to_owned(), body: Some(body), idempotent, expect }
    }

    fn get(fragment: &str, expect: Expect) -> Spec {
        Spec { method: Method::GET, fragment: fragment.to_owned(), body: None, idempotent: false, expect }
    }
}

/// `GET /healthz`, unsigned.
pub fn healthz() -> Prepared {
    Prepared {
        method: Method::GET,
        path: "/healthz".to_owned(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
        expect: Expect::Health,
    }
}

/// Signs one request with the merchant's key (each idempotent one with a fresh key).
fn sign(client: &Client, spec: &Spec) -> anyhow::Result<Prepared> {
    let path = client.config().resource_path(&spec.fragment);
    let body = match &spec.body {
        Some(body) => serde_json::to_vec(body)?,
        None => Vec::new(),
    };
    let extra = match spec.idempotent {
        true => vec![(IDEMPOTENCY_KEY_HEADER.to_owned(), new_idempotency_key())],
        false => Vec::new(),
    };
    let mut headers = HeaderMap::new();
    for (name, value) in client.signed_headers(spec.method.as_str(), &path, &[], &body, &extra) {
        headers.insert(HeaderName::from_bytes(name.as_bytes())?, HeaderValue::from_str(&value)?);
    }
    Ok(Prepared { method: spec.method.clone(), path, headers, body: Bytes::from(body), expect: spec.expect })
}

/// Signs every request, on every core.
pub fn sign_all(client: &Client, specs: &[Spec]) -> anyhow::Result<Vec<Prepared>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = specs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|spec| sign(client, spec)).collect::<anyhow::Result<Vec<_>>>())
            })
            .collect();
        let mut all = Vec::with_capacity(specs.len());
        for handle in handles {
            all.extend(handle.join().expect("signing does not panic")?);
        }
        Ok(all)
    })
}

/// The id under `key` in each answer body.
pub fn ids(bodies: &[Bytes], key: &str) -> anyhow::Result<Vec<String>> {
    bodies
        .iter()
        .map(|body| {
            let value: Value = serde_json::from_slice(body)?;
            value[key].as_str().map(str::to_owned).with_context(|| format!("no {key} in {value}"))
        })
        .collect()
}

/// The charges of `mixed`'s `n` requests and the objects they act on, in pattern order.
pub struct MixedObjects<'a> {
    /// Permissions to create charges on (room for `CHARGE_AMOUNT` each, 25 a permission).
    pub chargeable: &'a [String],
    /// Charges authorized beforehand, one capture each.
    pub authorized: &'a [String],
    /// Charges captured beforehand, `MAX_REFUNDS_PER_CHARGE` refunds each.
    pub captured: &'a [String],
}

/// `n` requests of `mixed` over the objects made for them.
pub fn mixed_specs(n: usize, objects: &MixedObjects<'_>) -> anyhow::Result<Vec<Spec>> {
    if objects.chargeable.is_empty() || objects.authorized.is_empty() || objects.captured.is_empty() {
        bail!("mixed needs objects of every kind");
    }
    let per_permission = MAX_CHARGES_PER_ONE_TIME_PERMISSION as usize;
    let per_charge = MAX_REFUNDS_PER_CHARGE as usize;
    let (mut creates, mut captures, mut refunds, mut reads) = (0usize, 0usize, 0usize, 0usize);
    let readable: Vec<&String> = objects.authorized.iter().chain(objects.captured).collect();
    let mut specs = Vec::with_capacity(n);
    for i in 0..n {
        let spec = match MIXED_PATTERN[i % MIXED_PATTERN.len()] {
            MixedKind::CreateCharge => {
                creates += 1;
                Spec::create_charge(&objects.chargeable[(creates - 1) / per_permission], true)
            }
            MixedKind::CaptureCharge => {
                captures += 1;
                Spec::capture_charge(&objects.authorized[captures - 1])
            }
            MixedKind::CreateRefund => {
                refunds += 1;
                Spec::create_refund(&objects.captured[(refunds - 1) / per_charge])
            }
            MixedKind::GetCharge => {
                reads += 1;
                Spec::get_charge(readable[reads % readable.len()])
            }
            MixedKind::GetChargePermission => {
                reads += 1;
                Spec::get_permission(&objects.chargeable[reads % objects.chargeable.len()])
            }
        };
        specs.push(spec);
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixed_blend_is_as_documented() {
        let n = 1000;
        let count = |kind| mixed_counts(n, kind);
        assert_eq!(count(MixedKind::CreateCharge), 300);
        assert_eq!(count(MixedKind::GetCharge), 300);
        assert_eq!(count(MixedKind::GetChargePermission), 200);
        assert_eq!(count(MixedKind::CaptureCharge), 100);
        assert_eq!(count(MixedKind::CreateRefund), 100);
        assert_eq!(mixed_counts(3, MixedKind::CreateCharge), 1);
    }

    #[test]
    fn mixed_stays_within_the_rules() {
        let n = 57;
        let chargeable: Vec<String> =
            (0..permissions_for(mixed_counts(n, MixedKind::CreateCharge))).map(|i| format!("P{i}")).collect();
        let authorized: Vec<String> = (0..mixed_counts(n, MixedKind::CaptureCharge)).map(|i| format!("A{i}")).collect();
        let captured: Vec<String> =
            (0..charges_for_refunds(mixed_counts(n, MixedKind::CreateRefund))).map(|i| format!("C{i}")).collect();
        let objects = MixedObjects { chargeable: &chargeable, authorized: &authorized, captured: &captured };
        let specs = mixed_specs(n, &objects).unwrap();
        assert_eq!(specs.len(), n);
        let captures: Vec<&str> =
            specs.iter().filter(|s| s.fragment.ends_with("/capture")).map(|s| s.fragment.as_str()).collect();
        let mut unique = captures.clone();
        unique.dedup();
        assert_eq!(captures.len(), unique.len(), "each authorized charge is captured once");
        assert!(specs.iter().filter(|s| s.idempotent).all(|s| s.method == Method::POST));
    }

    #[test]
    fn small_batches_of_mixed_need_one_object_of_each_kind() {
        let one = ["X".to_owned()];
        let objects = MixedObjects { chargeable: &one, authorized: &one, captured: &one };
        for n in 1..=4 {
            assert_eq!(mixed_specs(n, &objects).unwrap().len(), n);
        }
        assert!(mixed_specs(1, &MixedObjects { chargeable: &one, authorized: &[], captured: &one }).is_err());
    }

    #[test]
    fn setup_sizes() {
        assert_eq!(permissions_for(0), 0);
        assert_eq!(permissions_for(25), 1);
        assert_eq!(permissions_for(26), 2);
        assert_eq!(charges_for_refunds(11), 2);
    }
}
