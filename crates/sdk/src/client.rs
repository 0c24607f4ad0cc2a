//! The client: every operation, signing, retries.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use amzpay_signing::{RequestToSign, sign_request};
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::{ApiError, Error, ReasonCode, Result};
use crate::types::*;

/// The header carrying the idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "x-amz-pay-idempotency-key";
/// The header naming a sandbox simulation.
pub const SIMULATION_CODE_HEADER: &str = "x-amz-pay-simulation-code";
/// The header Amazon stamps on every response.
pub const REQUEST_ID_HEADER: &str = "x-amz-pay-request-id";

/// An Amazon Pay API v2 client. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct Client {
    config: Config,
    http: reqwest::Client,
}

/// The headers a caller with its own HTTP client sends (see [`Client::signed_headers`]).
pub type SignedHeaders = Vec<(String, String)>;

fn now_compact() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
        .expect("formatting the current time")
}

/// A fresh idempotency key: a UUID without dashes, as the official SDKs make them.
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Statuses worth retrying (spec §13): timeouts, too early, throttling, server errors.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..600).contains(&status)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::format_description::well_known::Rfc2822;
    let at = time::OffsetDateTime::parse(value, &format).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

impl Client {
    /// Builds a client.
    pub fn new(config: Config) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .danger_accept_invalid_certs(config.accept_invalid_certs)
            .user_agent(concat!("amzpay-sdk-rust/", env!("CARGO_PKG_VERSION")));
        for pem in &config.root_certificates {
            let certificate =
                reqwest::Certificate::from_pem(pem).map_err(|e| Error::Config(format!("bad root certificate: {e}")))?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client { config, http })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Signs a request without sending it, for callers with their own HTTP client: returns
    /// every header to send, `authorization` included. `path` is the full path
    /// (`/v2/charges`, see [`Config::resource_path`]); `headers` are extra headers to sign.
    ///
    /// ```
    /// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem")).unwrap();
    /// use amzpay_sdk::{Client, Config, Environment, Region};
    /// let key = amzpay_sdk::config::private_key_from_pem(&pem).unwrap();
    /// let client = Client::new(Config::new(Region::Eu, Environment::Sandbox, "SANDBOX-KEY", key)).unwrap();
    /// let headers = client.signed_headers("GET", "/v2/charges/S01-1111111-1111111-C000001", &[], b"", &[]);
    /// let authorization = &headers.iter().find(|(name, _)| name == "authorization").unwrap().1;
    /// assert!(authorization.starts_with("AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=SANDBOX-KEY"));
    /// ```
    pub fn signed_headers(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: &[u8],
        headers: &[(String, String)],
    ) -> SignedHeaders {
        let (host, _) = self.config.endpoint();
        let mut all = vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-amz-pay-date".to_owned(), now_compact()),
            ("x-amz-pay-host".to_owned(), host),
            ("x-amz-pay-region".to_owned(), self.config.region.code().to_owned()),
        ];
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            all.retain(|(existing, _)| *existing != name);
            all.push((name, value.clone()));
        }
        let authorization = sign_request(
            &self.config.private_key,
            self.config.algorithm,
            &self.config.public_key_id,
            &RequestToSign { method, path, query, headers: &all, body },
        );
        all.push(("authorization".to_owned(), authorization));
        all
    }

    /// Signs a button payload exactly as given (`generateButtonSignature`): pass the same
    /// bytes you give `amazon.Pay.renderButton`, re-encoding JSON breaks the signature.
    ///
    /// ```
    /// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem")).unwrap();
    /// # use amzpay_sdk::{Client, Config, Environment, Region};
    /// # let key = amzpay_sdk::config::private_key_from_pem(&pem).unwrap();
    /// # let client = Client::new(Config::new(Region::Na, Environment::Sandbox, "SANDBOX-KEY", key)).unwrap();
    /// let payload = r#"{"storeId":"amzn1.application-oa2-client.x","webCheckoutDetails":{"checkoutReviewReturnUrl":"https://shop.example/review"}}"#;
    /// let signature = client.generate_button_signature(payload);
    /// assert_eq!(signature.len(), 344); // base64 of 256 bytes
    /// ```
    pub fn generate_button_signature(&self, payload: &str) -> String {
        amzpay_signing::generate_button_signature(&self.config.private_key, self.config.algorithm, payload)
    }

    fn call<T>(&self, method: &'static str, fragment: String, body: Option<Vec<u8>>, idempotent: bool) -> Call<'_, T> {
        Call {
            client: self,
            method,
            path: self.config.resource_path(&fragment),
            body: body.unwrap_or_default(),
            idempotency_key: idempotent.then(new_idempotency_key),
            headers: Vec::new(),
            _response: PhantomData,
        }
    }

    fn json<B: Serialize>(body: &B) -> Option<Vec<u8>> {
        Some(serde_json::to_vec(body).expect("request types serialize"))
    }

    /// Any operation, with a JSON body as given: for fields or operations this SDK does not
    /// type yet. `fragment` follows the version (`checkoutSessions/{id}`); `idempotent`
    /// adds an idempotency key.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let body = serde_json::json!({"chargeAmount": {"amount": "14.00", "currencyCode": "USD"}});
    /// let answer = client.raw("POST", "checkoutSessions/9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c/complete", Some(&body), true).await?;
    /// println!("{answer}");
    /// # Ok(()) }
    /// ```
    pub fn raw(
        &self,
        method: &'static str,
        fragment: &str,
        body: Option<&serde_json::Value>,
        idempotent: bool,
    ) -> Call<'_, serde_json::Value> {
        self.call(method, fragment.to_owned(), body.map(|b| b.to_string().into_bytes()), idempotent)
    }

    /// Create Checkout Session (POST `/checkoutSessions`, idempotent).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CreateCheckoutSessionRequest {
    ///     web_checkout_details: WebCheckoutDetails { checkout_review_return_url: Some("https://shop.example/review".into()), ..Default::default() },
    ///     store_id: "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef".into(),
    ///     ..Default::default()
    /// };
    /// let session = client.create_checkout_session(&request).await?;
    /// println!("{}", session.checkout_session_id);
    /// # Ok(()) }
    /// ```
    pub fn create_checkout_session(&self, request: &CreateCheckoutSessionRequest) -> Call<'_, CheckoutSession> {
        self.call("POST", "checkoutSessions".into(), Self::json(request), true)
    }

    /// Get Checkout Session.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let session = client.get_checkout_session("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c").await?;
    /// println!("{:?}", session.constraints);
    /// # Ok(()) }
    /// ```
    pub fn get_checkout_session(&self, checkout_session_id: &str) -> Call<'_, CheckoutSession> {
        self.call("GET", format!("checkoutSessions/{checkout_session_id}"), None, false)
    }

    /// Update Checkout Session (PATCH).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let update = UpdateCheckoutSessionRequest {
    ///     web_checkout_details: Some(WebCheckoutDetails { checkout_result_return_url: Some("https://shop.example/result".into()), ..Default::default() }),
    ///     payment_details: Some(PaymentDetails {
    ///         payment_intent: Some(PaymentIntent::Authorize),
    ///         charge_amount: Some(Price::parse("14.00", Currency::Usd).unwrap()),
    ///         ..Default::default()
    ///     }),
    ///     ..Default::default()
    /// };
    /// let session = client.update_checkout_session("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c", &update).await?;
    /// println!("{:?}", session.web_checkout_details.and_then(|d| d.amazon_pay_redirect_url));
    /// # Ok(()) }
    /// ```
    pub fn update_checkout_session(
        &self,
        checkout_session_id: &str,
        request: &UpdateCheckoutSessionRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call("PATCH", format!("checkoutSessions/{checkout_session_id}"), Self::json(request), false)
    }

    /// Complete Checkout Session (200, or 202 while the authorization is pending).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CompleteCheckoutSessionRequest { charge_amount: Price::parse("14.00", Currency::Usd).unwrap(), total_order_amount: None };
    /// let session = client.complete_checkout_session("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c", &request).await?;
    /// println!("{:?}", session.charge_permission_id);
    /// # Ok(()) }
    /// ```
    pub fn complete_checkout_session(
        &self,
        checkout_session_id: &str,
        request: &CompleteCheckoutSessionRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call("POST", format!("checkoutSessions/{checkout_session_id}/complete"), Self::json(request), true)
    }

    /// Finalize Checkout Session.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = FinalizeCheckoutSessionRequest { charge_amount: Some(Price::parse("14.00", Currency::Usd).unwrap()), ..Default::default() };
    /// let session = client.finalize_checkout_session("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c", &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn finalize_checkout_session(
        &self,
        checkout_session_id: &str,
        request: &FinalizeCheckoutSessionRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call("POST", format!("checkoutSessions/{checkout_session_id}/finalize"), Self::json(request), true)
    }

    /// Get Charge Permission.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let permission = client.get_charge_permission("S01-5105180-3221187").await?;
    /// println!("{:?} {:?}", permission.status_details.state, permission.limits);
    /// # Ok(()) }
    /// ```
    pub fn get_charge_permission(&self, charge_permission_id: &str) -> Call<'_, ChargePermission> {
        self.call("GET", format!("chargePermissions/{charge_permission_id}"), None, false)
    }

    /// Update Charge Permission (PATCH; `merchantMetadata` can change once).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let update = UpdateChargePermissionRequest {
    ///     merchant_metadata: Some(MerchantMetadata { merchant_reference_id: Some("order-42".into()), ..Default::default() }),
    ///     recurring_metadata: None,
    /// };
    /// client.update_charge_permission("S01-5105180-3221187", &update).await?;
    /// # Ok(()) }
    /// ```
    pub fn update_charge_permission(
        &self,
        charge_permission_id: &str,
        request: &UpdateChargePermissionRequest,
    ) -> Call<'_, ChargePermission> {
        self.call("PATCH", format!("chargePermissions/{charge_permission_id}"), Self::json(request), false)
    }

    /// Close Charge Permission (DELETE with a body).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CloseChargePermissionRequest { closure_reason: "Subscription canceled".into(), cancel_pending_charges: Some(true) };
    /// client.close_charge_permission("S01-5105180-3221187", &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn close_charge_permission(
        &self,
        charge_permission_id: &str,
        request: &CloseChargePermissionRequest,
    ) -> Call<'_, ChargePermission> {
        self.call("DELETE", format!("chargePermissions/{charge_permission_id}/close"), Self::json(request), false)
    }

    /// Create Charge (idempotent; 201).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let mut request = CreateChargeRequest::new("S01-5105180-3221187", Price::parse("14.00", Currency::Usd).unwrap());
    /// request.capture_now = Some(true);
    /// request.soft_descriptor = Some("Descriptor".into());
    /// let charge = client.create_charge(&request).await?;
    /// assert_eq!(charge.status_details.state, ChargeState::Captured);
    /// # Ok(()) }
    /// ```
    pub fn create_charge(&self, request: &CreateChargeRequest) -> Call<'_, Charge> {
        self.call("POST", "charges".into(), Self::json(request), true)
    }

    /// Get Charge.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let charge = client.get_charge("S01-5105180-3221187-C056351").await?;
    /// println!("{:?}", charge.status_details);
    /// # Ok(()) }
    /// ```
    pub fn get_charge(&self, charge_id: &str) -> Call<'_, Charge> {
        self.call("GET", format!("charges/{charge_id}"), None, false)
    }

    /// Capture Charge (idempotent).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CaptureChargeRequest { capture_amount: Price::parse("14.00", Currency::Usd).unwrap(), soft_descriptor: None };
    /// let charge = client.capture_charge("S01-5105180-3221187-C056351", &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn capture_charge(&self, charge_id: &str, request: &CaptureChargeRequest) -> Call<'_, Charge> {
        self.call("POST", format!("charges/{charge_id}/capture"), Self::json(request), true)
    }

    /// Cancel Charge (DELETE with a body).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CancelChargeRequest { cancellation_reason: "Out of stock".into() };
    /// let charge = client.cancel_charge("S01-5105180-3221187-C056351", &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn cancel_charge(&self, charge_id: &str, request: &CancelChargeRequest) -> Call<'_, Charge> {
        self.call("DELETE", format!("charges/{charge_id}/cancel"), Self::json(request), false)
    }

    /// Create Refund (idempotent; 201).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CreateRefundRequest {
    ///     charge_id: "S01-5105180-3221187-C056351".into(),
    ///     refund_amount: Price::parse("4.00", Currency::Usd).unwrap(),
    ///     soft_descriptor: None,
    /// };
    /// let refund = client.create_refund(&request).await?;
    /// assert_eq!(refund.status_details.state, RefundState::RefundInitiated);
    /// # Ok(()) }
    /// ```
    pub fn create_refund(&self, request: &CreateRefundRequest) -> Call<'_, Refund> {
        self.call("POST", "refunds".into(), Self::json(request), true)
    }

    /// Get Refund.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let refund = client.get_refund("S01-5105180-3221187-R022311").await?;
    /// # Ok(()) }
    /// ```
    pub fn get_refund(&self, refund_id: &str) -> Call<'_, Refund> {
        self.call("GET", format!("refunds/{refund_id}"), None, false)
    }

    /// amzpay only: create a sandbox Charge Permission directly (test helper).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CreateTestChargePermissionRequest {
    ///     amount_limit: Some(Price::parse("100.00", Currency::Usd).unwrap()),
    ///     payment_method: Some("1111".into()),
    ///     ..Default::default()
    /// };
    /// let permission = client.create_test_charge_permission(&request).await?;
    /// # Ok(()) }
    /// ```
    pub fn create_test_charge_permission(
        &self,
        request: &CreateTestChargePermissionRequest,
    ) -> Call<'_, ChargePermission> {
        self.call("POST", "testHelpers/chargePermissions".into(), Self::json(request), true)
    }

    /// amzpay only: read this merchant's sandbox clock.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// println!("{}", client.get_clock().await?.now);
    /// # Ok(()) }
    /// ```
    pub fn get_clock(&self) -> Call<'_, ClockState> {
        self.call("GET", "testHelpers/clock".into(), None, false)
    }

    /// amzpay only: stop this merchant's sandbox clock; afterwards only advances move it, so
    /// tests land exactly on boundaries.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let clock = client.freeze_clock().await?;
    /// assert!(clock.frozen);
    /// # Ok(()) }
    /// ```
    pub fn freeze_clock(&self) -> Call<'_, ClockState> {
        self.call("POST", "testHelpers/clock/freeze".into(), None, false)
    }

    /// amzpay only: let this merchant's sandbox clock run with real time again.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// client.unfreeze_clock().await?;
    /// # Ok(()) }
    /// ```
    pub fn unfreeze_clock(&self) -> Call<'_, ClockState> {
        self.call("POST", "testHelpers/clock/unfreeze".into(), None, false)
    }

    /// amzpay only: what a buyer does on the Amazon Pay site: `{"action":
    /// "UpdatePaymentMethod", "paymentMethod": "1111"}` or `{"action": "Close"}`.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let action = serde_json::json!({"action": "UpdatePaymentMethod", "paymentMethod": "4444"});
    /// let permission = client.buyer_action("S01-5105180-3221187", &action).await?;
    /// # Ok(()) }
    /// ```
    pub fn buyer_action(&self, charge_permission_id: &str, action: &serde_json::Value) -> Call<'_, ChargePermission> {
        self.call(
            "POST",
            format!("testHelpers/chargePermissions/{charge_permission_id}/buyerActions"),
            Some(action.to_string().into_bytes()),
            false,
        )
    }

    /// amzpay only: what Amazon itself does to a charge: `{"action": "Cancel"}` (Canceled /
    /// AmazonCanceled) or `{"action": "FlagAtypicalActivity"}` (reason
    /// StopShipmentAtypicalAuth).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let action = serde_json::json!({"action": "Cancel"});
    /// let charge = client.amazon_action("S01-5105180-3221187-C000001", &action).await?;
    /// # Ok(()) }
    /// ```
    pub fn amazon_action(&self, charge_id: &str, action: &serde_json::Value) -> Call<'_, Charge> {
        self.call(
            "POST",
            format!("testHelpers/charges/{charge_id}/amazonActions"),
            Some(action.to_string().into_bytes()),
            false,
        )
    }

    /// amzpay only: move this merchant's sandbox clock forward, running what falls due.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// client.advance_clock(&AdvanceClockRequest { seconds: 7 * 86_400 }).await?;
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, request: &AdvanceClockRequest) -> Call<'_, ClockState> {
        self.call("POST", "testHelpers/clock/advance".into(), Self::json(request), false)
    }
}

/// One API call, ready to send: `.await` it, or add headers first.
///
/// ```no_run
/// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
/// use amzpay_sdk::{CreateChargeRequest, Currency, Price};
/// let request = CreateChargeRequest::new("S01-5105180-3221187", Price::parse("14.00", Currency::Usd).unwrap());
/// let charge = client
///     .create_charge(&request)
///     .header("x-amz-pay-simulation-code", "HardDeclined")
///     .idempotency_key("order-42-attempt-1")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited"]
pub struct Call<'a, T> {
    client: &'a Client,
    method: &'static str,
    path: String,
    body: Vec<u8>,
    idempotency_key: Option<String>,
    headers: Vec<(String, String)>,
    _response: PhantomData<fn() -> T>,
}

/// A successful answer with its status and request id.
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// 200, 201 or 202.
    pub status: u16,
    /// `x-amz-pay-request-id`.
    pub request_id: Option<String>,
    /// The object.
    pub body: T,
}

impl<'a, T: DeserializeOwned> Call<'a, T> {
    /// Adds a header (signed with the others), e.g. `x-amz-pay-simulation-code`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Uses this idempotency key instead of a generated one (for your own retries across
    /// process restarts).
    pub fn idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }

    /// Sends the call and returns the object with the status and request id.
    pub async fn send(self) -> Result<Response<T>> {
        let (status, request_id, body) = self.send_bytes().await?;
        let parsed = serde_json::from_slice(&body).map_err(|source| Error::Decode {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            source,
        })?;
        Ok(Response { status, request_id, body: parsed })
    }

    /// Sends the call and returns the JSON as received, whatever its fields.
    pub async fn send_json(self) -> Result<Response<serde_json::Value>> {
        let (status, request_id, body) = self.send_bytes().await?;
        let parsed = serde_json::from_slice(&body).map_err(|source| Error::Decode {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            source,
        })?;
        Ok(Response { status, request_id, body: parsed })
    }

    /// Sends with retries. The idempotency key was fixed when the call was made, so every
    /// attempt carries the same one and a retried charge can never charge twice.
    async fn send_bytes(self) -> Result<(u16, Option<String>, Vec<u8>)> {
        let client = self.client;
        let policy = &client.config.retry;
        let (_, base) = client.config.endpoint();
        let mut headers = self.headers.clone();
        if let Some(key) = &self.idempotency_key {
            headers.retain(|(name, _)| name != IDEMPOTENCY_KEY_HEADER);
            headers.push((IDEMPOTENCY_KEY_HEADER.to_owned(), key.clone()));
        }
        let mut retry = 0u32;
        loop {
            let signed = client.signed_headers(self.method, &self.path, &[], &self.body, &headers);
            let method = reqwest::Method::from_bytes(self.method.as_bytes()).expect("a valid method");
            let mut request = client.http.request(method, format!("{base}{}", self.path));
            for (name, value) in &signed {
                request = request.header(name, value);
            }
            let outcome = request.body(self.body.clone()).send().await;
            let wait = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let request_id =
                        response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let after = retry_after(response.headers());
                    if (200..300).contains(&status) {
                        let body = response.bytes().await.map_err(Error::Transport)?.to_vec();
                        return Ok((status, request_id, body));
                    }
                    if !is_retryable_status(status) || retry >= policy.max_retries {
                        let body = response.bytes().await.map_err(Error::Transport)?.to_vec();
                        return Err(api_error(status, request_id, &body));
                    }
                    tracing::debug!(status, retry, "retrying");
                    after
                }
                Err(error) => {
                    if retry >= policy.max_retries {
                        return Err(Error::Transport(error));
                    }
                    tracing::debug!(%error, retry, "retrying after a transport error");
                    None
                }
            };
            retry += 1;
            let jitter: f64 = rand::thread_rng().r#gen();
            client.config.sleeper.sleep(policy.delay(retry, wait, jitter)).await;
        }
    }
}

fn api_error(status: u16, request_id: Option<String>, body: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        reason_code: Option<String>,
        message: Option<String>,
    }
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let (reason, message) = match envelope {
        Some(Envelope { reason_code: Some(code), message }) => (code, message.unwrap_or_default()),
        _ => (format!("HTTP{status}"), String::from_utf8_lossy(body).into_owned()),
    };
    Error::Api(ApiError { status, reason_code: ReasonCode::parse(&reason), message, request_id })
}

impl<'a, T: DeserializeOwned + Send + 'a> IntoFuture for Call<'a, T> {
    type Output = Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.send().await.map(|response| response.body) })
    }
}
