//! The client: configuration and HTTP connection pool behind an `Arc`, request signing, and
//! one method per operation, each returning a [`Call`] that owns what it sends.
//!
//! Methods here only build calls: they choose the method, the path (every id encoded as one
//! path segment), the body, whether an idempotency key is made, and whether the call may
//! ever be retried. They never send anything themselves; `call.rs` does.

use std::sync::Arc;

use amzpay_signing::{RequestToSign, sign_encoded_request};
use serde::Serialize;

use crate::call::{Call, Method, Retries, new_idempotency_key};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{ChargeId, ChargePermissionId, CheckoutSessionId, RefundId, encode_path};
use crate::types::*;

/// An Amazon Pay API v2 client. Cloning is cheap (one `Arc`), and every clone shares the
/// configuration and the connection pool: make one per process and clone it where needed,
/// into spawned tasks too.
///
/// Ids are passed as references to their typed form (`&ChargeId`, `&ChargePermissionId`,
/// `&RefundId`, `&CheckoutSessionId`): the ids in answers have those types, and text from
/// elsewhere becomes one with `ChargeId::parse` and friends, which refuse a malformed id
/// before anything is sent.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
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

fn json<B: Serialize>(body: &B) -> Vec<u8> {
    serde_json::to_vec(body).expect("request types serialize")
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
        Ok(Client { inner: Arc::new(ClientInner { config, http }) })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Signs a request without sending it, for callers with their own HTTP client: returns
    /// every header to send, `authorization` included. `path` is the full path exactly as it
    /// will be sent, percent-encoded (`/v2/charges/S01-...`, see [`Config::resource_path`]);
    /// `query` holds decoded pairs; `headers` are extra headers to sign.
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
        let config = self.config();
        let (host, _) = config.endpoint();
        let mut all = vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-amz-pay-date".to_owned(), now_compact()),
            ("x-amz-pay-host".to_owned(), host),
            ("x-amz-pay-region".to_owned(), config.region.code().to_owned()),
        ];
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            all.retain(|(existing, _)| *existing != name);
            all.push((name, value.clone()));
        }
        let authorization = sign_encoded_request(
            &config.private_key,
            config.algorithm,
            &config.public_key_id,
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
        let config = self.config();
        amzpay_signing::generate_button_signature(&config.private_key, config.algorithm, payload)
    }

    /// A call of `method` on the path made of `segments`, each encoded as one segment.
    fn call<T>(&self, method: Method, segments: &[&str], body: Option<Vec<u8>>) -> Call<T> {
        let path = self.config().resource_path(&encode_path(segments));
        Call::new(self.clone(), method, path, body.unwrap_or_default(), None, Retries::WhenSafe)
    }

    /// Like `call`, with an idempotency key made now and kept for every attempt.
    fn idempotent_call<T>(&self, method: Method, segments: &[&str], body: Vec<u8>) -> Call<T> {
        let path = self.config().resource_path(&encode_path(segments));
        Call::new(self.clone(), method, path, body, Some(new_idempotency_key()), Retries::WhenSafe)
    }

    /// A sandbox clock helper: never retried, since a repeated advance would move the
    /// clock twice.
    fn clock_call(&self, segments: &[&str], body: Option<Vec<u8>>) -> Call<ClockState> {
        let path = self.config().resource_path(&encode_path(segments));
        Call::new(self.clone(), Method::Post, path, body.unwrap_or_default(), None, Retries::Never)
    }

    /// Any operation, with a JSON body as given, answering with the JSON as received: for
    /// fields or operations this SDK does not type yet. `segments` follow the version
    /// (`["checkoutSessions", id, "complete"]`), each percent-encoded as one path segment.
    /// No idempotency key is made: add one with [`Call::idempotency_key`] (which also lets
    /// a POST be retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let body = serde_json::json!({"chargeAmount": {"amount": "14.00", "currencyCode": "USD"}});
    /// let answer = client
    ///     .raw(Method::Post, &["checkoutSessions", "9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c", "complete"], Some(&body))
    ///     .idempotency_key(&new_idempotency_key())
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(()) }
    /// ```
    pub fn raw(&self, method: Method, segments: &[&str], body: Option<&serde_json::Value>) -> Call<serde_json::Value> {
        self.call(method, segments, body.map(json))
    }

    /// Create Checkout Session (POST `/checkoutSessions`, idempotent).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CreateCheckoutSessionRequest::new(
    ///     "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef",
    ///     WebCheckoutDetails::default().checkout_review_return_url("https://shop.example/review"),
    /// );
    /// let session = client.create_checkout_session(&request).await?;
    /// println!("{}", session.checkout_session_id);
    /// # Ok(()) }
    /// ```
    pub fn create_checkout_session(&self, request: &CreateCheckoutSessionRequest) -> Call<CheckoutSession> {
        self.idempotent_call(Method::Post, &["checkoutSessions"], json(request))
    }

    /// Get Checkout Session.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = CheckoutSessionId::new("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c");
    /// let session = client.get_checkout_session(&id).await?;
    /// println!("{:?}", session.constraints);
    /// # Ok(()) }
    /// ```
    pub fn get_checkout_session(&self, checkout_session_id: &CheckoutSessionId) -> Call<CheckoutSession> {
        self.call(Method::Get, &["checkoutSessions", checkout_session_id.as_str()], None)
    }

    /// Update Checkout Session (PATCH; never retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let update = UpdateCheckoutSessionRequest::default()
    ///     .web_checkout_details(WebCheckoutDetails::default().checkout_result_return_url("https://shop.example/result"))
    ///     .payment_details(
    ///         PaymentDetails::default()
    ///             .payment_intent(PaymentIntent::Authorize)
    ///             .charge_amount(Price::parse("14.00", Currency::Usd).unwrap()),
    ///     );
    /// let id = CheckoutSessionId::new("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c");
    /// let session = client.update_checkout_session(&id, &update).await?;
    /// println!("{:?}", session.web_checkout_details.and_then(|d| d.amazon_pay_redirect_url));
    /// # Ok(()) }
    /// ```
    pub fn update_checkout_session(
        &self,
        checkout_session_id: &CheckoutSessionId,
        request: &UpdateCheckoutSessionRequest,
    ) -> Call<CheckoutSession> {
        self.call(Method::Patch, &["checkoutSessions", checkout_session_id.as_str()], Some(json(request)))
    }

    /// Complete Checkout Session (idempotent; 200, or 202 while the authorization is pending).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CompleteCheckoutSessionRequest::new(Price::parse("14.00", Currency::Usd).unwrap());
    /// let id = CheckoutSessionId::new("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c");
    /// let session = client.complete_checkout_session(&id, &request).await?;
    /// println!("{:?}", session.charge_permission_id);
    /// # Ok(()) }
    /// ```
    pub fn complete_checkout_session(
        &self,
        checkout_session_id: &CheckoutSessionId,
        request: &CompleteCheckoutSessionRequest,
    ) -> Call<CheckoutSession> {
        self.idempotent_call(
            Method::Post,
            &["checkoutSessions", checkout_session_id.as_str(), "complete"],
            json(request),
        )
    }

    /// Finalize Checkout Session (idempotent): set what is left and complete in one call.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = FinalizeCheckoutSessionRequest::default()
    ///     .charge_amount(Price::parse("14.00", Currency::Usd).unwrap())
    ///     .payment_intent(PaymentIntent::Authorize);
    /// let id = CheckoutSessionId::new("9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c");
    /// let session = client.finalize_checkout_session(&id, &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn finalize_checkout_session(
        &self,
        checkout_session_id: &CheckoutSessionId,
        request: &FinalizeCheckoutSessionRequest,
    ) -> Call<CheckoutSession> {
        self.idempotent_call(
            Method::Post,
            &["checkoutSessions", checkout_session_id.as_str(), "finalize"],
            json(request),
        )
    }

    /// Get Charge Permission.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
    /// let permission = client.get_charge_permission(&id).await?;
    /// println!("{:?}", permission.limits);
    /// # Ok(()) }
    /// ```
    pub fn get_charge_permission(&self, charge_permission_id: &ChargePermissionId) -> Call<ChargePermission> {
        self.call(Method::Get, &["chargePermissions", charge_permission_id.as_str()], None)
    }

    /// Update Charge Permission (PATCH; never retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = UpdateChargePermissionRequest::default()
    ///     .merchant_metadata(MerchantMetadata::default().merchant_reference_id("order-42"));
    /// let id = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
    /// client.update_charge_permission(&id, &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn update_charge_permission(
        &self,
        charge_permission_id: &ChargePermissionId,
        request: &UpdateChargePermissionRequest,
    ) -> Call<ChargePermission> {
        self.call(Method::Patch, &["chargePermissions", charge_permission_id.as_str()], Some(json(request)))
    }

    /// Close Charge Permission (DELETE with a body; never retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CloseChargePermissionRequest::new("Subscription canceled").cancel_pending_charges(true);
    /// let id = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
    /// client.close_charge_permission(&id, &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn close_charge_permission(
        &self,
        charge_permission_id: &ChargePermissionId,
        request: &CloseChargePermissionRequest,
    ) -> Call<ChargePermission> {
        self.call(Method::Delete, &["chargePermissions", charge_permission_id.as_str(), "close"], Some(json(request)))
    }

    /// Create Charge (idempotent; 201).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let permission = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
    /// let request = CreateChargeRequest::new(permission, Price::parse("14.00", Currency::Usd).unwrap())
    ///     .capture_now(true)
    ///     .soft_descriptor("Descriptor");
    /// let charge = client.create_charge(&request).await?;
    /// assert_eq!(charge.status_details.state, ChargeState::Captured);
    /// # Ok(()) }
    /// ```
    pub fn create_charge(&self, request: &CreateChargeRequest) -> Call<Charge> {
        self.idempotent_call(Method::Post, &["charges"], json(request))
    }

    /// Get Charge.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = ChargeId::parse("S01-5105180-3221187-C056351").expect("a charge id");
    /// let charge = client.get_charge(&id).await?;
    /// println!("{:?}", charge.status_details);
    /// # Ok(()) }
    /// ```
    pub fn get_charge(&self, charge_id: &ChargeId) -> Call<Charge> {
        self.call(Method::Get, &["charges", charge_id.as_str()], None)
    }

    /// Capture Charge (idempotent).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CaptureChargeRequest::new(Price::parse("14.00", Currency::Usd).unwrap());
    /// let id = ChargeId::parse("S01-5105180-3221187-C056351").expect("a charge id");
    /// let charge = client.capture_charge(&id, &request).await?;
    /// # Ok(()) }
    /// ```
    pub fn capture_charge(&self, charge_id: &ChargeId, request: &CaptureChargeRequest) -> Call<Charge> {
        self.idempotent_call(Method::Post, &["charges", charge_id.as_str(), "capture"], json(request))
    }

    /// Cancel Charge (DELETE with a body; never retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = ChargeId::parse("S01-5105180-3221187-C056351").expect("a charge id");
    /// let charge = client.cancel_charge(&id, &CancelChargeRequest::new("Out of stock")).await?;
    /// # Ok(()) }
    /// ```
    pub fn cancel_charge(&self, charge_id: &ChargeId, request: &CancelChargeRequest) -> Call<Charge> {
        self.call(Method::Delete, &["charges", charge_id.as_str(), "cancel"], Some(json(request)))
    }

    /// Create Refund (idempotent; 201).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let charge = ChargeId::parse("S01-5105180-3221187-C056351").expect("a charge id");
    /// let request = CreateRefundRequest::new(charge, Price::parse("4.00", Currency::Usd).unwrap());
    /// let refund = client.create_refund(&request).await?;
    /// assert_eq!(refund.status_details.state, RefundState::RefundInitiated);
    /// # Ok(()) }
    /// ```
    pub fn create_refund(&self, request: &CreateRefundRequest) -> Call<Refund> {
        self.idempotent_call(Method::Post, &["refunds"], json(request))
    }

    /// Get Refund.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = RefundId::parse("S01-5105180-3221187-R022311").expect("a refund id");
    /// let refund = client.get_refund(&id).await?;
    /// # Ok(()) }
    /// ```
    pub fn get_refund(&self, refund_id: &RefundId) -> Call<Refund> {
        self.call(Method::Get, &["refunds", refund_id.as_str()], None)
    }

    /// amzpay only: create a sandbox Charge Permission directly (test helper; idempotent).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let request = CreateTestChargePermissionRequest::default()
    ///     .amount_limit(Price::parse("100.00", Currency::Usd).unwrap())
    ///     .payment_method("1111");
    /// let permission = client.create_test_charge_permission(&request).await?;
    /// # Ok(()) }
    /// ```
    pub fn create_test_charge_permission(&self, request: &CreateTestChargePermissionRequest) -> Call<ChargePermission> {
        self.idempotent_call(Method::Post, &["testHelpers", "chargePermissions"], json(request))
    }

    /// amzpay only: what a buyer does on the Amazon Pay site (never retried).
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
    /// let action = BuyerAction::UpdatePaymentMethod { payment_method: "4444".into() };
    /// let permission = client.buyer_action(&id, &action).await?;
    /// # Ok(()) }
    /// ```
    pub fn buyer_action(
        &self,
        charge_permission_id: &ChargePermissionId,
        action: &BuyerAction,
    ) -> Call<ChargePermission> {
        let segments = ["testHelpers", "chargePermissions", charge_permission_id.as_str(), "buyerActions"];
        self.call(Method::Post, &segments, Some(json(action)))
    }

    /// amzpay only: what Amazon itself does to a charge: [`AmazonAction::Cancel`] (Canceled /
    /// AmazonCanceled) or [`AmazonAction::FlagAtypicalActivity`] (reason
    /// StopShipmentAtypicalAuth). Never retried.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let id = ChargeId::parse("S01-5105180-3221187-C000001").expect("a charge id");
    /// let charge = client.amazon_action(&id, AmazonAction::Cancel).await?;
    /// # Ok(()) }
    /// ```
    pub fn amazon_action(&self, charge_id: &ChargeId, action: AmazonAction) -> Call<Charge> {
        let segments = ["testHelpers", "charges", charge_id.as_str(), "amazonActions"];
        self.call(Method::Post, &segments, Some(json(&action)))
    }

    /// amzpay only: read this merchant's sandbox clock.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// println!("{}", client.get_clock().await?.now);
    /// # Ok(()) }
    /// ```
    pub fn get_clock(&self) -> Call<ClockState> {
        self.call(Method::Get, &["testHelpers", "clock"], None)
    }

    /// amzpay only: stop this merchant's sandbox clock; afterwards only advances move it, so
    /// tests land exactly on boundaries. Never retried.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let clock = client.freeze_clock().await?;
    /// assert!(clock.frozen);
    /// # Ok(()) }
    /// ```
    pub fn freeze_clock(&self) -> Call<ClockState> {
        self.clock_call(&["testHelpers", "clock", "freeze"], None)
    }

    /// amzpay only: let this merchant's sandbox clock run with real time again. Never retried.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// client.unfreeze_clock().await?;
    /// # Ok(()) }
    /// ```
    pub fn unfreeze_clock(&self) -> Call<ClockState> {
        self.clock_call(&["testHelpers", "clock", "unfreeze"], None)
    }

    /// amzpay only: move this merchant's sandbox clock forward, running what falls due.
    /// Never retried, not even with an idempotency key: a repeated advance would move the
    /// clock twice.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// client.advance_clock(&AdvanceClockRequest::new(7 * 86_400)).await?;
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, request: &AdvanceClockRequest) -> Call<ClockState> {
        self.clock_call(&["testHelpers", "clock", "advance"], Some(json(request)))
    }

    /// amzpay only: where this merchant's sandbox IPNs go.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// println!("{:?}", client.get_ipn_endpoint().await?.url);
    /// # Ok(()) }
    /// ```
    pub fn get_ipn_endpoint(&self) -> Call<IpnEndpoint> {
        self.call(Method::Get, &["testHelpers", "ipnEndpoint"], None)
    }

    /// amzpay only: set or clear where this merchant's sandbox IPNs go (PUT). Setting the
    /// same URL twice changes nothing, but like every call without an idempotency key that
    /// is not a read it is sent once.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// client.set_ipn_endpoint(&SetIpnEndpointRequest::new("http://127.0.0.1:8090/")).await?;
    /// client.set_ipn_endpoint(&SetIpnEndpointRequest::clear()).await?;
    /// # Ok(()) }
    /// ```
    pub fn set_ipn_endpoint(&self, request: &SetIpnEndpointRequest) -> Call<IpnEndpoint> {
        self.call(Method::Put, &["testHelpers", "ipnEndpoint"], Some(json(request)))
    }

    /// amzpay only: this merchant's notifications, newest first, each with its delivery
    /// attempts. `limit` is 1 to 500; without it the server sends 100.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// for notification in client.list_notifications(Some(10)).await?.notifications {
    ///     println!("{} {} {:?}", notification.object_type, notification.object_id, notification.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_notifications(&self, limit: Option<u32>) -> Call<NotificationList> {
        let call = self.call(Method::Get, &["testHelpers", "notifications"], None);
        match limit {
            Some(limit) => call.query("limit", &limit.to_string()),
            None => call,
        }
    }

    /// amzpay only: deliver a notification again, now (it goes back to `Pending`). Never
    /// retried without an idempotency key: each attempt would be one more delivery.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// let notification = client.redeliver_notification("2f1c7f5e-8d1a-4d7e-9d55-2f0b6f7d2a10").await?;
    /// println!("{:?}", notification.status);
    /// # Ok(()) }
    /// ```
    pub fn redeliver_notification(&self, notification_id: &str) -> Call<Notification> {
        self.call(Method::Post, &["testHelpers", "notifications", notification_id, "redeliver"], None)
    }

    /// amzpay only: add a sandbox fault, so that the next requests it applies to fail (or are
    /// slow) and your retry and timeout handling can be tested against the real thing. Never
    /// retried: a repeated add would add a second fault.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// use amzpay_sdk::*;
    /// let fault = AddFaultRequest::error(FaultReasonCode::ServiceUnavailable, 2).operation("CreateCharge");
    /// client.add_fault(&fault).await?;
    /// // The next two Create Charge calls answer 503: this client retries them with the same
    /// // idempotency key, and the third attempt creates the charge.
    /// # Ok(()) }
    /// ```
    pub fn add_fault(&self, request: &AddFaultRequest) -> Call<Fault> {
        self.call(Method::Post, &["testHelpers", "faults"], Some(json(request)))
    }

    /// amzpay only: this merchant's active sandbox faults, oldest first.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// for fault in client.list_faults().await?.faults {
    ///     println!("{} {:?}: {} left", fault.fault_id, fault.reason_code, fault.remaining_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_faults(&self) -> Call<FaultList> {
        self.call(Method::Get, &["testHelpers", "faults"], None)
    }

    /// amzpay only: remove every sandbox fault of this merchant; answers with the faults it
    /// removed, as they stood. Sent once, like every DELETE without a key.
    ///
    /// ```no_run
    /// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
    /// client.clear_faults().await?;
    /// # Ok(()) }
    /// ```
    pub fn clear_faults(&self) -> Call<FaultList> {
        self.call(Method::Delete, &["testHelpers", "faults"], None)
    }
}
