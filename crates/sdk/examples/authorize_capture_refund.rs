//! A whole payment against amzpay: a sandbox Charge Permission, then authorize, capture and
//! refund, printing each state.
//!
//! ```sh
//! cargo run --release --bin amzpay -- serve &          # in another terminal
//! cargo run -p amzpay-sdk --example authorize_capture_refund
//! ```
//!
//! `AMZPAY_MERCHANT_FILE` (default `amzpay-data/dev-merchant.json`) names the merchant,
//! `AMZPAY_ENDPOINT` (default `http://127.0.0.1:8080`) the server.

use amzpay_sdk::*;

#[tokio::main]
async fn main() -> Result<()> {
    let merchant_file =
        std::env::var("AMZPAY_MERCHANT_FILE").unwrap_or_else(|_| "amzpay-data/dev-merchant.json".into());
    let endpoint = std::env::var("AMZPAY_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let text = std::fs::read_to_string(&merchant_file).map_err(|e| Error::Config(format!("{merchant_file}: {e}")))?;
    let merchant: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config(e.to_string()))?;
    let field = |name: &str| {
        merchant[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Config(format!("{merchant_file} has no {name}")))
    };
    let key = config::private_key_from_file(field("privateKeyFile")?)?;
    let region = config::parse_region(&field("region")?)?;
    let client =
        Client::new(Config::new(region, Environment::Sandbox, field("publicKeyId")?, key).service_url(&endpoint)?)?;

    let usd = |amount: &str| Price::parse(amount, Currency::Usd).expect("a valid amount");
    let permission = client
        .create_test_charge_permission(&CreateTestChargePermissionRequest::default().amount_limit(usd("100.00")))
        .await?;
    println!("charge permission {} is {:?}", permission.charge_permission_id, permission.status_details.state);

    let charge = client.create_charge(&CreateChargeRequest::new(permission.charge_permission_id, usd("14.00"))).await?;
    println!("charge {} is {:?}", charge.charge_id, charge.status_details.state);

    let capture = CaptureChargeRequest::new(usd("14.00")).soft_descriptor("amzpay demo");
    let charge = client.capture_charge(&charge.charge_id, &capture).await?;
    println!("charge {} is {:?}", charge.charge_id, charge.status_details.state);

    let refund = client.create_refund(&CreateRefundRequest::new(charge.charge_id, usd("4.00"))).await?;
    println!("refund {} is {:?}", refund.refund_id, refund.status_details.state);
    Ok(())
}
