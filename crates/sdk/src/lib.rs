//! # amzpay-sdk: Amazon Pay API v2 for Rust
//!
//! A typed client for Amazon Pay's Checkout v2 API: Checkout Sessions, Charge Permissions,
//! Charges and Refunds. It signs every request (`AMZN-PAY-RSASSA-PSS-V2` by default, or
//! `AMZN-PAY-RSASSA-PSS`), retries what is safe to retry with the same idempotency key,
//! and returns Amazon's errors as typed values. It works unchanged against the real Amazon
//! Pay (`pay-api.amazon.com`, `.eu`, `.jp`) and against an amzpay server (set a service URL).
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
//! `Debug` output or logs.
//!
//! ## Charge, capture, refund
//!
//! ```no_run
//! use amzpay_sdk::*;
//! # async fn run(client: Client) -> amzpay_sdk::Result<()> {
//! let usd = |amount| Price::parse(amount, Currency::Usd).unwrap();
//! let charge = client.create_charge(&CreateChargeRequest::new("S01-5105180-3221187", usd("14.00"))).await?;
//! assert_eq!(charge.status_details.state, ChargeState::Authorized);
//! let charge = client
//!     .capture_charge(&charge.charge_id, &CaptureChargeRequest { capture_amount: usd("14.00"), soft_descriptor: None })
//!     .await?;
//! let refund = client
//!     .create_refund(&CreateRefundRequest { charge_id: charge.charge_id, refund_amount: usd("4.00"), soft_descriptor: None })
//!     .await?;
//! println!("refund {} is {:?}", refund.refund_id, refund.status_details.state);
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! ```no_run
//! use amzpay_sdk::*;
//! # async fn run(client: Client) {
//! match client.get_charge("S01-0000000-0000000-C000001").await {
//!     Ok(charge) => println!("{:?}", charge.status_details.state),
//!     Err(Error::Api(error)) if error.reason_code == ReasonCode::Known(KnownReasonCode::ResourceNotFound) => println!("no such charge"),
//!     Err(Error::Api(error)) => println!("{} {} ({:?})", error.status, error.reason_code, error.request_id),
//!     Err(other) => println!("no answer: {other}"),
//! }
//! # }
//! ```
//!
//! ## Retries and idempotency
//!
//! Statuses 408, 425, 429 and 5xx and transport failures are retried ([`RetryPolicy`]:
//! three times by default, backoff 2, 4, 8 s with jitter, `Retry-After` honored up to
//! `max_delay`). Create Checkout Session, Create Charge, Capture Charge, Create Refund,
//! Complete and Finalize get an idempotency key generated once per call and sent on every
//! attempt, so a retry can never charge twice.
//!
//! ## Without this client's HTTP
//!
//! [`Client::signed_headers`] signs a request and returns its headers;
//! [`Client::generate_button_signature`] signs the Amazon Pay button payload; [`ipn`]
//! verifies Instant Payment Notifications.

#![deny(missing_docs)]

mod client;
pub mod config;
mod error;
pub mod ipn;
mod price;
pub mod types;

pub use client::{
    Call, Client, IDEMPOTENCY_KEY_HEADER, REQUEST_ID_HEADER, Response, SIMULATION_CODE_HEADER, SignedHeaders,
    is_retryable_status, new_idempotency_key,
};
pub use config::{Algorithm, Config, Environment, Region, RetryPolicy, ServiceUrl, Sleeper};
pub use error::{ApiError, Error, ReasonCode, Result};
pub use price::{Currency, Money, Price};
pub use types::*;

/// Request signing, for callers who need the pieces (canonical request, string to sign).
pub use amzpay_signing as signing;

/// The reason codes this SDK knows by name (`ReasonCode::Known`).
pub use amzpay_types::ReasonCode as KnownReasonCode;
