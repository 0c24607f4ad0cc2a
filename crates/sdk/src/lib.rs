//! # amzpay-sdk: Amazon Pay API v2 for Rust
//!
//! A typed client for Amazon Pay's Checkout v2 API: Checkout Sessions, Charge Permissions,
//! Charges and Refunds. It signs every request (`AMZN-PAY-RSASSA-PSS-V2` by default, or
//! `AMZN-PAY-RSASSA-PSS`), retries what is safe to retry with the same idempotency key,
//! and returns Amazon's errors as typed values. It works unchanged against the real Amazon
//! Pay (`pay-api.amazon.com`, `.eu`, `.jp`) and against an amzpay server (set a service URL).
//!
//! This crate's public API names no type of its HTTP library: transport failures are
//! [`TransportError`]s. It shares its vocabulary (money, currencies, regions, ids, reason
//! codes) with `amzpay-types` and never depends on the amzpay server's crates.
//!
//! ## Configure
//!
//! ```no_run
//! use amzpay_sdk::{config, Client, Config, Environment, Region};
//! # fn main() -> amzpay_sdk::Result<()> {
//! let key = config::private_key_from_file("amzpay-data/dev-merchant-private-key.pem")?;
//! let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B", key)
//!     // Only to talk to amzpay (or another stand-in); leave out for Amazon.
//!     .service_url("http://127.0.0.1:8080")?;
//! let client = Client::new(config)?;
//! # Ok(()) }
//! ```
//!
//! Keys whose id starts with `SANDBOX-` or `LIVE-` pick their environment; older keys use
//! the `Environment` given. Private keys may be PKCS#1 or PKCS#8 PEM, and never appear in
//! `Debug` output or logs. A [`Client`] is cheap to clone and every call's future is
//! `'static + Send`, so calls can be spawned:
//!
//! ```no_run
//! # async fn run(client: amzpay_sdk::Client, id: amzpay_sdk::ChargeId) -> amzpay_sdk::Result<()> {
//! let task = tokio::spawn(client.get_charge(&id).into_future());
//! let charge = task.await.expect("the task ran")?;
//! # Ok(()) }
//! # use std::future::IntoFuture;
//! ```
//!
//! ## Charge, capture, refund
//!
//! Requests are built with `new` (their required fields) or `Default`, then one setter per
//! optional field; ids are typed ([`ChargePermissionId`], [`ChargeId`], [`RefundId`],
//! [`CheckoutSessionId`]) and methods take them by reference.
//!
//! ```no_run
//! use amzpay_sdk::*;
//! # async fn run(client: Client) -> amzpay_sdk::Result<()> {
//! let usd = |amount| Price::parse(amount, Currency::Usd).unwrap();
//! let permission = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
//! let charge = client.create_charge(&CreateChargeRequest::new(permission, usd("14.00"))).await?;
//! assert_eq!(charge.status_details.state, ChargeState::Authorized);
//! let charge = client.capture_charge(&charge.charge_id, &CaptureChargeRequest::new(usd("14.00"))).await?;
//! let refund = client.create_refund(&CreateRefundRequest::new(charge.charge_id, usd("4.00"))).await?;
//! println!("refund {} is {:?}", refund.refund_id, refund.status_details.state);
//! # Ok(()) }
//! ```
//!
//! ## Answers: typed, or the JSON as received
//!
//! Every operation returns a [`Call`]. `.await` it for the typed answer, or
//! [`Call::send`] for the typed answer with its status and request id. For the JSON exactly
//! as Amazon sent it, turn the call into a `Call<serde_json::Value>`: [`Call::into_json`] for
//! an operation this SDK types, [`Client::raw`] for one it does not.
//!
//! ## Errors
//!
//! ```no_run
//! use amzpay_sdk::*;
//! # async fn run(client: Client) {
//! let id = ChargeId::parse("S01-0000000-0000000-C000001").expect("a charge id");
//! match client.get_charge(&id).await {
//!     Ok(charge) => println!("{:?}", charge.status_details.state),
//!     Err(Error::Api(error)) if error.reason_code == KnownReasonCode::ResourceNotFound => println!("no such charge"),
//!     Err(Error::Api(error)) => println!("{} {} ({:?})", error.status, error.reason_code, error.request_id),
//!     Err(Error::Transport(error)) if error.is_connect() => println!("not sent: {error}"),
//!     Err(other) => println!("no answer: {other}"),
//! }
//! # }
//! ```
//!
//! ## Retries and idempotency
//!
//! Create Checkout Session, Complete and Finalize, Create Charge, Capture Charge, Create
//! Refund and the permission test helper get an idempotency key generated once per call and
//! sent on every attempt, so a retry can never charge twice. Only calls that cannot do
//! something twice are retried: reads (GET) and calls with an idempotency key. Updates
//! (PATCH, and the PUT of amzpay's IPN endpoint), Cancel Charge and Close Charge Permission
//! (DELETE) and other calls without a key are sent once, and the sandbox clock helpers never
//! repeat. A retried call is retried on
//! 408, 425, 429, 5xx and transport failures ([`RetryPolicy`]: three times by default,
//! backoff 2, 4, 8 s with jitter, `Retry-After` honored up to `max_delay`).
//!
//! ## Without this client's HTTP
//!
//! [`Client::signed_headers`] signs a request and returns its headers;
//! [`Client::generate_button_signature`] signs the Amazon Pay button payload; [`ipn`]
//! verifies Instant Payment Notifications (from Amazon, or from amzpay with
//! [`ipn::IpnVerifier::trust_amzpay_server`]). Against amzpay, the sandbox IPN test helpers
//! read and set the endpoint ([`Client::get_ipn_endpoint`], [`Client::set_ipn_endpoint`]),
//! list what was sent ([`Client::list_notifications`]) and send it again
//! ([`Client::redeliver_notification`]).
//!
//! ## Testing retries and timeouts against amzpay
//!
//! amzpay's sandbox fails on demand: [`Client::add_fault`] makes the next requests answer
//! 429, 503 or 500 (without running them, so a retry with the same idempotency key runs
//! normally) or wait first, [`Client::list_faults`] shows what is left and
//! [`Client::clear_faults`] removes them.

#![deny(missing_docs)]

mod call;
mod client;
pub mod config;
mod error;
mod ids;
pub mod ipn;
mod price;
pub mod types;

pub use call::{
    Call, IDEMPOTENCY_KEY_HEADER, Method, REQUEST_ID_HEADER, Response, SIMULATION_CODE_HEADER, is_retryable_status,
    new_idempotency_key,
};
pub use client::{Client, SignedHeaders};
pub use config::{Algorithm, Config, Environment, Region, RetryPolicy, ServiceUrl, Sleeper};
pub use error::{ApiError, Error, ReasonCode, Result, TransportError, TransportErrorKind};
pub use ids::{ChargeId, ChargePermissionId, CheckoutSessionId, RefundId};
pub use price::{Currency, Money, Price};
pub use types::*;

/// Request signing, for callers who need the pieces (canonical request, string to sign).
pub use amzpay_signing as signing;

/// The reason codes this SDK knows by name (`ReasonCode::Known`).
pub use amzpay_types::ReasonCode as KnownReasonCode;
