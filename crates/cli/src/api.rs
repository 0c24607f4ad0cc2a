//! The API commands: one per operation, built on amzpay-sdk, printing the JSON answer.

use std::path::PathBuf;

use amzpay_sdk::*;
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

/// How to reach the API and sign: flags, or environment variables, or the development
/// merchant's files.
#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// The server: `http://127.0.0.1:8080`, `localhost:8443` (HTTPS), or Amazon's
    /// `pay-api.amazon.com`.
    #[arg(long, global = true, env = "AMZPAY_ENDPOINT", default_value = "http://127.0.0.1:8080")]
    pub endpoint: String,
    /// A merchant description (`merchant create --json` output, or the development
    /// merchant's `dev-merchant.json`) giving publicKeyId, privateKeyFile and region.
    /// Default: ./amzpay-data/dev-merchant.json when no key is given.
    #[arg(long, global = true, env = "AMZPAY_MERCHANT_FILE")]
    pub merchant_file: Option<PathBuf>,
    /// The public key id (instead of a merchant file).
    #[arg(long, global = true, env = "AMZPAY_PUBLIC_KEY_ID")]
    pub public_key_id: Option<String>,
    /// The private key PEM file (PKCS#1 or PKCS#8; instead of a merchant file).
    #[arg(long, global = true, env = "AMZPAY_PRIVATE_KEY_FILE")]
    pub private_key_file: Option<PathBuf>,
    /// na (us), eu (de, uk) or jp.
    #[arg(long, global = true, env = "AMZPAY_REGION")]
    pub region: Option<String>,
    /// For keys without a SANDBOX-/LIVE- prefix: call live instead of the sandbox.
    #[arg(long, global = true)]
    pub live: bool,
    /// Signature algorithm.
    #[arg(long, global = true, value_enum, default_value = "v2")]
    pub algorithm: AlgorithmArg,
    /// Trust this PEM certificate (e.g. amzpay-data/tls-cert.pem) for HTTPS.
    #[arg(long, global = true, env = "AMZPAY_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AlgorithmArg {
    /// AMZN-PAY-RSASSA-PSS (salt 20).
    V1,
    /// AMZN-PAY-RSASSA-PSS-V2 (salt 32).
    V2,
}

/// Per-call options.
#[derive(Args, Debug, Clone)]
pub struct CallOptions {
    /// Idempotency key (default: a fresh one, reused on retries).
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// A sandbox simulation code (x-amz-pay-simulation-code).
    #[arg(long)]
    pub simulation_code: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct Amount {
    /// Decimal amount, e.g. 14.00.
    #[arg(long)]
    pub amount: String,
    /// ISO currency, e.g. USD.
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

impl Amount {
    fn price(&self) -> anyhow::Result<Price> {
        let currency =
            Currency::from_code(&self.currency).with_context(|| format!("unknown currency {}", self.currency))?;
        Price::parse(&self.amount, currency).map_err(|e| anyhow::anyhow!("--amount: {e}"))
    }
}

#[derive(Subcommand, Debug)]
pub enum ChargePermissionCommand {
    /// Get Charge Permission.
    Get { id: String },
    /// Update Charge Permission (merchantMetadata can be changed once).
    Update {
        id: String,
        #[arg(long)]
        merchant_reference_id: Option<String>,
        #[arg(long)]
        merchant_store_name: Option<String>,
        #[arg(long)]
        note_to_buyer: Option<String>,
        #[arg(long)]
        custom_information: Option<String>,
    },
    /// Close Charge Permission.
    Close {
        id: String,
        /// Why (closureReason).
        #[arg(long)]
        reason: String,
        /// Also cancel charges still open.
        #[arg(long)]
        cancel_pending_charges: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ChargeCommand {
    /// Create Charge: authorize (and capture with --capture-now).
    Create {
        #[arg(long)]
        charge_permission_id: String,
        #[command(flatten)]
        amount: Amount,
        #[arg(long)]
        capture_now: bool,
        /// Statement text, with --capture-now (at most 16 characters).
        #[arg(long)]
        soft_descriptor: Option<String>,
        /// Accept AuthorizationInitiated (asynchronous authorization).
        #[arg(long)]
        can_handle_pending_authorization: bool,
        #[command(flatten)]
        options: CallOptions,
    },
    /// Get Charge.
    Get { id: String },
    /// Capture Charge.
    Capture {
        id: String,
        #[command(flatten)]
        amount: Amount,
        #[arg(long)]
        soft_descriptor: Option<String>,
        #[command(flatten)]
        options: CallOptions,
    },
    /// Cancel Charge.
    Cancel {
        id: String,
        /// Why (cancellationReason).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum RefundCommand {
    /// Create Refund.
    Create {
        #[arg(long)]
        charge_id: String,
        #[command(flatten)]
        amount: Amount,
        #[arg(long)]
        soft_descriptor: Option<String>,
        #[command(flatten)]
        options: CallOptions,
    },
    /// Get Refund.
    Get { id: String },
}

#[derive(Subcommand, Debug)]
pub enum CheckoutSessionCommand {
    /// Create Checkout Session from a JSON body (spec §5.5).
    Create {
        /// The request body, e.g. '{"webCheckoutDetails":{...},"storeId":"..."}'.
        #[arg(long)]
        json: String,
        #[command(flatten)]
        options: CallOptions,
    },
    /// Get Checkout Session.
    Get { id: String },
    /// Update Checkout Session from a JSON body.
    Update {
        id: String,
        #[arg(long)]
        json: String,
    },
    /// Complete Checkout Session.
    Complete {
        id: String,
        #[command(flatten)]
        amount: Amount,
    },
    /// Finalize Checkout Session from a JSON body.
    Finalize {
        id: String,
        #[arg(long)]
        json: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PermissionTypeArg {
    OneTime,
    Recurring,
    PaymentMethodOnFile,
}

#[derive(Subcommand, Debug)]
pub enum TestHelperCommand {
    /// The buyer signs in on the hosted page and picks a sandbox card (3064 cancels the
    /// checkout and 3434 declines it when the buyer confirms).
    SignIn {
        checkout_session_id: String,
        #[arg(long, default_value = "1111")]
        payment_method: String,
    },
    /// The buyer confirms at amazonPayRedirectUrl; prints where the buyer lands.
    Confirm { checkout_session_id: String },
    /// Create a sandbox Charge Permission as if a buyer had checked out.
    CreateChargePermission {
        #[arg(long, value_enum, default_value = "one-time")]
        r#type: PermissionTypeArg,
        /// The limit of a one-time permission, e.g. 100.00.
        #[arg(long)]
        amount_limit: Option<String>,
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Last four digits of a sandbox card: 1111, 0005, 4444, 9424, 0000 succeed;
        /// 0701 and 4354 pend.
        #[arg(long)]
        payment_method: Option<String>,
        #[command(flatten)]
        options: CallOptions,
    },
    /// Amazon acts on a charge: cancels it (AmazonCanceled) or flags signs of unusual
    /// activity (StopShipmentAtypicalAuth).
    AmazonAction {
        charge_id: String,
        #[arg(long, value_enum)]
        action: AmazonActionArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum AmazonActionArg {
    Cancel,
    FlagAtypicalActivity,
}

#[derive(Subcommand, Debug)]
pub enum BuyerCommand {
    /// Pick another sandbox card (makes a NonChargeable permission Chargeable).
    UpdatePaymentMethod {
        charge_permission_id: String,
        /// Last four digits of a sandbox card, e.g. 4444.
        #[arg(long)]
        payment_method: String,
    },
    /// Close the permission as the buyer (Closed / BuyerClosed).
    Close { charge_permission_id: String },
}

#[derive(Subcommand, Debug)]
pub enum ClockCommand {
    /// Read this merchant's sandbox clock.
    Get,
    /// Move this merchant's sandbox clock forward; what falls due runs first.
    Advance {
        /// Seconds, e.g. 604800 for 7 days.
        #[arg(long)]
        seconds: u64,
    },
    /// Stop the clock: afterwards only `advance` moves it (exact boundaries in tests).
    Freeze,
    /// Let the clock run with real time again.
    Unfreeze,
}

fn read_merchant_file(path: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a merchant description", path.display()))
}

impl Connection {
    pub fn client(&self) -> anyhow::Result<Client> {
        let merchant = match (&self.merchant_file, &self.public_key_id) {
            (Some(path), _) => Some(read_merchant_file(path)?),
            (None, None) => {
                let default = PathBuf::from("amzpay-data/dev-merchant.json");
                if !default.exists() {
                    bail!(
                        "no key given: pass --merchant-file (e.g. amzpay-data/dev-merchant.json) or --public-key-id and --private-key-file"
                    );
                }
                Some(read_merchant_file(&default)?)
            }
            (None, Some(_)) => None,
        };
        let from_file = |name: &str| merchant.as_ref().and_then(|m| m[name].as_str().map(str::to_owned));
        let public_key_id =
            self.public_key_id.clone().or_else(|| from_file("publicKeyId")).context("no publicKeyId")?;
        let key_file = self
            .private_key_file
            .clone()
            .or_else(|| from_file("privateKeyFile").map(PathBuf::from))
            .context("no private key file")?;
        let region_text = self.region.clone().or_else(|| from_file("region")).unwrap_or_else(|| "na".into());
        let region = config::parse_region(&region_text)?;
        let key = config::private_key_from_file(&key_file)?;
        let environment = if self.live { Environment::Live } else { Environment::Sandbox };
        let algorithm = match self.algorithm {
            AlgorithmArg::V1 => Algorithm::V1,
            AlgorithmArg::V2 => Algorithm::V2,
        };
        let mut config =
            Config::new(region, environment, public_key_id, key).algorithm(algorithm).service_url(&self.endpoint)?;
        if let Some(path) = &self.ca_cert {
            config = config
                .root_certificate_pem(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
        }
        Ok(Client::new(config)?)
    }
}

fn with_options<T>(mut call: Call<T>, options: &CallOptions) -> Call<T> {
    if let Some(key) = &options.idempotency_key {
        call = call.idempotency_key(key);
    }
    if let Some(code) = &options.simulation_code {
        call = call.header(SIMULATION_CODE_HEADER, code);
    }
    call
}

/// Sends a call and prints the JSON answer as received; an API error prints Amazon's error
/// and fails.
pub(crate) async fn print<T>(call: Call<T>) -> anyhow::Result<()> {
    match call.into_json().await {
        Ok(answer) => {
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
        Err(Error::Api(error)) => {
            let body = serde_json::json!({"status": error.status, "reasonCode": error.reason_code.as_str(), "message": error.message, "requestId": error.request_id});
            println!("{}", serde_json::to_string_pretty(&body)?);
            Err(anyhow::anyhow!("{} {}", error.status, error.reason_code))
        }
        Err(other) => Err(other.into()),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(text: &str) -> anyhow::Result<T> {
    serde_json::from_str(text).context("--json is not valid JSON for this request")
}

fn charge_permission_id(text: &str) -> anyhow::Result<ChargePermissionId> {
    ChargePermissionId::parse(text)
        .with_context(|| format!("'{text}' is not a Charge Permission id (S01-0000000-0000000)"))
}

fn charge_id(text: &str) -> anyhow::Result<ChargeId> {
    ChargeId::parse(text).with_context(|| format!("'{text}' is not a Charge id (S01-0000000-0000000-C000000)"))
}

fn refund_id(text: &str) -> anyhow::Result<RefundId> {
    RefundId::parse(text).with_context(|| format!("'{text}' is not a Refund id (S01-0000000-0000000-R000000)"))
}

pub async fn charge_permission(connection: &Connection, command: ChargePermissionCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        ChargePermissionCommand::Get { id } => print(client.get_charge_permission(&charge_permission_id(&id)?)).await,
        ChargePermissionCommand::Update {
            id,
            merchant_reference_id,
            merchant_store_name,
            note_to_buyer,
            custom_information,
        } => {
            let mut metadata = MerchantMetadata::default();
            metadata.merchant_reference_id = merchant_reference_id;
            metadata.merchant_store_name = merchant_store_name;
            metadata.note_to_buyer = note_to_buyer;
            metadata.custom_information = custom_information;
            let request = UpdateChargePermissionRequest::default().merchant_metadata(metadata);
            print(client.update_charge_permission(&charge_permission_id(&id)?, &request)).await
        }
        ChargePermissionCommand::Close { id, reason, cancel_pending_charges } => {
            let request = CloseChargePermissionRequest::new(reason).cancel_pending_charges(cancel_pending_charges);
            print(client.close_charge_permission(&charge_permission_id(&id)?, &request)).await
        }
    }
}

pub async fn charge(connection: &Connection, command: ChargeCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        ChargeCommand::Create {
            charge_permission_id,
            amount,
            capture_now,
            soft_descriptor,
            can_handle_pending_authorization,
            options,
        } => {
            let mut request =
                CreateChargeRequest::new(self::charge_permission_id(&charge_permission_id)?, amount.price()?);
            request.capture_now = capture_now.then_some(true);
            request.soft_descriptor = soft_descriptor;
            request.can_handle_pending_authorization = can_handle_pending_authorization.then_some(true);
            print(with_options(client.create_charge(&request), &options)).await
        }
        ChargeCommand::Get { id } => print(client.get_charge(&charge_id(&id)?)).await,
        ChargeCommand::Capture { id, amount, soft_descriptor, options } => {
            let mut request = CaptureChargeRequest::new(amount.price()?);
            request.soft_descriptor = soft_descriptor;
            print(with_options(client.capture_charge(&charge_id(&id)?, &request), &options)).await
        }
        ChargeCommand::Cancel { id, reason } => {
            print(client.cancel_charge(&charge_id(&id)?, &CancelChargeRequest::new(reason))).await
        }
    }
}

pub async fn refund(connection: &Connection, command: RefundCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        RefundCommand::Create { charge_id, amount, soft_descriptor, options } => {
            let mut request = CreateRefundRequest::new(self::charge_id(&charge_id)?, amount.price()?);
            request.soft_descriptor = soft_descriptor;
            print(with_options(client.create_refund(&request), &options)).await
        }
        RefundCommand::Get { id } => print(client.get_refund(&refund_id(&id)?)).await,
    }
}

pub async fn checkout_session(connection: &Connection, command: CheckoutSessionCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        CheckoutSessionCommand::Create { json, options } => {
            let body: Value = json_body(&json)?;
            let call =
                client.raw(Method::Post, &["checkoutSessions"], Some(&body)).idempotency_key(&new_idempotency_key());
            print(with_options(call, &options)).await
        }
        CheckoutSessionCommand::Get { id } => print(client.get_checkout_session(&CheckoutSessionId::new(id))).await,
        CheckoutSessionCommand::Update { id, json } => {
            let body: Value = json_body(&json)?;
            print(client.raw(Method::Patch, &["checkoutSessions", &id], Some(&body))).await
        }
        CheckoutSessionCommand::Complete { id, amount } => {
            let request = CompleteCheckoutSessionRequest::new(amount.price()?);
            print(client.complete_checkout_session(&CheckoutSessionId::new(id), &request)).await
        }
        CheckoutSessionCommand::Finalize { id, json } => {
            let body: Value = json_body(&json)?;
            let call = client.raw(Method::Post, &["checkoutSessions", &id, "finalize"], Some(&body));
            print(call.idempotency_key(&new_idempotency_key())).await
        }
    }
}

pub async fn test_helper(connection: &Connection, command: TestHelperCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        TestHelperCommand::SignIn { checkout_session_id, payment_method } => {
            let body = serde_json::json!({"paymentMethod": payment_method});
            let segments = ["testHelpers", "checkoutSessions", &checkout_session_id, "signIn"];
            print(client.raw(Method::Post, &segments, Some(&body))).await
        }
        TestHelperCommand::AmazonAction { charge_id, action } => {
            let action = match action {
                AmazonActionArg::Cancel => AmazonAction::Cancel,
                AmazonActionArg::FlagAtypicalActivity => AmazonAction::FlagAtypicalActivity,
            };
            print(client.amazon_action(&self::charge_id(&charge_id)?, action)).await
        }
        TestHelperCommand::Confirm { checkout_session_id } => {
            let segments = ["testHelpers", "checkoutSessions", &checkout_session_id, "confirm"];
            print(client.raw(Method::Post, &segments, None)).await
        }
        TestHelperCommand::CreateChargePermission { r#type, amount_limit, currency, payment_method, options } => {
            let kind = match r#type {
                PermissionTypeArg::OneTime => ChargePermissionType::OneTime,
                PermissionTypeArg::Recurring => ChargePermissionType::Recurring,
                PermissionTypeArg::PaymentMethodOnFile => ChargePermissionType::PaymentMethodOnFile,
            };
            let amount_limit =
                amount_limit.map(|amount| Amount { amount, currency: currency.clone() }.price()).transpose()?;
            let mut request = CreateTestChargePermissionRequest::default().charge_permission_type(kind);
            request.currency_code = amount_limit.is_none().then_some(currency);
            request.amount_limit = amount_limit;
            request.payment_method = payment_method;
            print(with_options(client.create_test_charge_permission(&request), &options)).await
        }
    }
}

pub async fn buyer(connection: &Connection, command: BuyerCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        BuyerCommand::UpdatePaymentMethod { charge_permission_id, payment_method } => {
            let action = BuyerAction::UpdatePaymentMethod { payment_method };
            print(client.buyer_action(&self::charge_permission_id(&charge_permission_id)?, &action)).await
        }
        BuyerCommand::Close { charge_permission_id } => {
            print(client.buyer_action(&self::charge_permission_id(&charge_permission_id)?, &BuyerAction::Close)).await
        }
    }
}

pub async fn clock(connection: &Connection, command: ClockCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        ClockCommand::Get => print(client.get_clock()).await,
        ClockCommand::Advance { seconds } => print(client.advance_clock(&AdvanceClockRequest::new(seconds))).await,
        ClockCommand::Freeze => print(client.freeze_clock()).await,
        ClockCommand::Unfreeze => print(client.unfreeze_clock()).await,
    }
}
