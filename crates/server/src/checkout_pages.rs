//! The hosted checkout, standing in for Amazon's: `checkout.js` with
//! `amazon.Pay.renderButton`, the button's form target (which checks the button signature
//! and creates the session), the sign-in page where a sandbox buyer picks a card, and the
//! confirm page at `amazonPayRedirectUrl`. Plain HTML that works without JavaScript; only
//! the button itself needs the script, as on Amazon's. The pages are the templates
//! `sign_in.html` and `confirm.html` under `crates/server/templates/`.

use std::sync::Arc;

use amzpay_api::body::parse_body;
use amzpay_api::format::format_timestamp;
use amzpay_api::requests::checkout::{CreateSessionBody, default_address};
use amzpay_domain::checkout_session::{CheckoutSession, SessionState};
use amzpay_domain::metadata::Buyer;
use amzpay_domain::sandbox::SandboxCard;
use amzpay_domain::{Environment, Refusal, Timestamp};
use amzpay_signing::{Algorithm, button_string_to_sign, parse_public_key_pem, verify};
use amzpay_store::{Cause, Job, JobKind, StoreError};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::effects::{Origin, save_checkout_session};
use crate::hosted::{self, message, read_sandbox, render, write_sandbox};
use crate::ops::checkout::{after_sign_in_url, session_id, with_session_id};
use crate::ops::merchant_now;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/checkout.js", get(script))
        .route("/checkout/button", post(button))
        .route("/checkout/{id}/signin", get(show_sign_in).post(sign_in))
        .route("/checkout/{id}/confirm", get(show_confirm).post(confirm))
}

/// The sandbox buyers a person can sign in as.
const TEST_BUYERS: [(&str, &str, &str); 3] = [
    ("amzn1.account.SANDBOXBUYER0000000000000001", "Jane Doe", "jane.doe@example.com"),
    ("amzn1.account.SANDBOXBUYER0000000000000002", "John Smith", "john.smith@example.com"),
    ("amzn1.account.SANDBOXBUYER0000000000000003", "Alex Kim", "alex.kim@example.com"),
];

/// Every sandbox card, with what it does (spec §11).
const CARDS: [(&str, &str); 9] = [
    ("1111", "succeeds"),
    ("0005", "succeeds"),
    ("4444", "succeeds"),
    ("9424", "succeeds"),
    ("0000", "succeeds"),
    ("0701", "pends, then authorizes"),
    ("4354", "pends, then is declined"),
    ("3064", "buyer cancels the checkout"),
    ("3434", "the checkout is declined"),
];

const SCRIPT: &str = include_str!("checkout.js");

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "application/javascript; charset=utf-8")], SCRIPT).into_response()
}

fn storage_failure(error: StoreError) -> Response {
    hosted::storage_failure(error, "hosted checkout")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ButtonForm {
    #[serde(rename = "payloadJSON")]
    payload_json: String,
    signature: String,
    public_key_id: String,
    algorithm: Option<String>,
    sandbox: Option<String>,
}

/// The button's click: check the signature over the exact payload bytes
/// (`generateButtonSignature`), create the session, send the buyer to sign in.
async fn button(State(state): State<Arc<AppState>>, Form(form): Form<ButtonForm>) -> Response {
    let algorithm = match form.algorithm.as_deref().filter(|a| !a.is_empty()) {
        None => Algorithm::V1,
        Some(name) => match Algorithm::from_name(name) {
            Some(algorithm) => algorithm,
            None => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "Unknown algorithm",
                    &format!("'{name}' is not a signature algorithm"),
                );
            }
        },
    };
    let key_id = form.public_key_id.clone();
    let found = state
        .store
        .read(move |tx| -> Result<_, StoreError> {
            let Some(key) = tx.key(&key_id)? else { return Ok(None) };
            let merchant = tx.merchant(&key.merchant_id)?;
            Ok(merchant.map(|m| (key, m)))
        })
        .await;
    let (key, merchant) = match found {
        Ok(Some(pair)) => pair,
        Ok(None) => {
            return message(
                StatusCode::FORBIDDEN,
                "Unknown publicKeyId",
                &format!("'{}' is not registered", form.public_key_id),
            );
        }
        Err(error) => return storage_failure(error),
    };
    let environment = match (key.environment, form.sandbox.as_deref()) {
        (Some(environment), _) => environment,
        (None, Some("false")) => Environment::Live,
        (None, _) => Environment::Sandbox,
    };
    if environment != Environment::Sandbox {
        return message(StatusCode::FORBIDDEN, "Sandbox only", "amzpay's hosted checkout serves sandbox buyers only.");
    }
    let to_sign = button_string_to_sign(algorithm, &form.payload_json);
    let verified = parse_public_key_pem(&key.public_key_pem)
        .ok()
        .is_some_and(|public| verify(&public, algorithm, &to_sign, &form.signature).is_ok());
    if !verified {
        return message(
            StatusCode::FORBIDDEN,
            "The button signature does not verify",
            &format!("Sign exactly the payloadJSON given to renderButton. The string to sign was: {to_sign}"),
        );
    }
    let new =
        match parse_body::<CreateSessionBody>(form.payload_json.as_bytes()).and_then(CreateSessionBody::into_command) {
            Ok(new) if new.store_id == merchant.store_id => new,
            Ok(new) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "Wrong storeId",
                    &format!("storeId '{}' is not this merchant's", new.store_id),
                );
            }
            Err(error) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "The button payload is not valid",
                    &format!("{}: {}", error.code, error.message),
                );
            }
        };
    let real_now = crate::system_now();
    let merchant_id = merchant.merchant_id.clone();
    let region = merchant.region;
    let created = state
        .store
        .write(move |tx| -> Result<Result<String, Refusal>, StoreError> {
            let now = merchant_now(tx, &merchant_id, Environment::Sandbox, real_now)?;
            let id = uuid::Uuid::new_v4().hyphenated().to_string();
            let session = match CheckoutSession::create(id, Environment::Sandbox, region, new, now) {
                Ok(session) => session,
                Err(error) => return Ok(Err(error)),
            };
            // The buyer pressed the merchant's button: the session is the buyer's doing.
            let origin = Origin::new(Cause::Buyer, "AmazonPayButton");
            save_checkout_session(tx, &merchant_id, &session, now, origin)?;
            tx.insert_job(&Job {
                id: 0,
                merchant_id: merchant_id.clone(),
                environment: Environment::Sandbox,
                kind: JobKind::ExpireCheckoutSession,
                object_id: session.id.clone(),
                due_at: session.expires_at,
            })?;
            Ok(Ok(session.id))
        })
        .await;
    match created {
        Ok(Ok(id)) => Redirect::to(&format!("/checkout/{id}/signin")).into_response(),
        Ok(Err(error)) => message(
            StatusCode::BAD_REQUEST,
            "The button payload is not valid",
            &format!("{}: {}", error.code, error.message),
        ),
        Err(error) => storage_failure(error),
    }
}

/// The Open session a hosted page shows, or the page that says why there is none.
async fn load_open(state: &AppState, id: &str) -> Result<CheckoutSession, Response> {
    let not_found = || message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout.");
    let id = session_id(id).map_err(|_| not_found())?;
    let found = read_sandbox(state, move |tx| tx.sandbox_checkout_session_by_id(&id)).await;
    let (_, mut session, now) = found.map_err(storage_failure)?.ok_or_else(not_found)?;
    session.advance_to(now);
    match not_open(&session) {
        Some(response) => Err(response),
        None => Ok(session),
    }
}

/// What the buyer does to a session on a hosted page, in one transaction: `None` when there
/// is no such sandbox session.
async fn change_session(
    state: &AppState,
    id: String,
    origin: Origin,
    change: impl FnOnce(&mut CheckoutSession, Timestamp) -> Result<(), Refusal> + Send + 'static,
) -> Result<Option<Result<CheckoutSession, Refusal>>, StoreError> {
    write_sandbox(
        state,
        move |tx| tx.sandbox_checkout_session_by_id(&id),
        move |tx, merchant, mut session, now| {
            if let Err(error) = change(&mut session, now) {
                return Ok(Err(error));
            }
            save_checkout_session(tx, merchant, &session, now, origin)?;
            Ok(Ok(session))
        },
    )
    .await
}

fn not_open(session: &CheckoutSession) -> Option<Response> {
    match session.state {
        SessionState::Open => None,
        SessionState::Completed => {
            Some(message(StatusCode::CONFLICT, "Already done", "This checkout is already complete."))
        }
        SessionState::Canceled(reason) => Some(message(
            StatusCode::CONFLICT,
            "Checkout canceled",
            &format!("This checkout was canceled ({}).", reason.as_str()),
        )),
    }
}

/// What the checkout pages show of the session (`templates/checkout_summary.html`).
struct Summary<'a> {
    store_name: Option<&'a str>,
    reference: &'a str,
    note: Option<&'a str>,
    amount: String,
    kind: &'static str,
    expires: String,
}

fn summary(session: &CheckoutSession) -> Summary<'_> {
    let metadata = session.merchant_metadata.as_ref();
    Summary {
        store_name: metadata.and_then(|m| m.merchant_store_name.as_deref()),
        reference: metadata.and_then(|m| m.merchant_reference_id.as_deref()).unwrap_or("-"),
        note: metadata.and_then(|m| m.note_to_buyer.as_deref()),
        amount: session
            .payment
            .charge_amount
            .map(|m| m.to_string())
            .unwrap_or_else(|| "set by the merchant next".to_owned()),
        kind: session.kind.as_str(),
        expires: format_timestamp(session.expires_at),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    summary: Summary<'a>,
    buyers: &'static [(&'static str, &'static str, &'static str)],
    cards: &'static [(&'static str, &'static str)],
}

async fn show_sign_in(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let session = match load_open(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    render(StatusCode::OK, &SignInPage { summary: summary(&session), buyers: &TEST_BUYERS, cards: &CARDS })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInForm {
    buyer: Option<String>,
    payment_method: String,
}

async fn sign_in(State(state): State<Arc<AppState>>, Path(id): Path<String>, Form(form): Form<SignInForm>) -> Response {
    let Ok(id) = session_id(&id) else {
        return message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout.");
    };
    let Some(card) = SandboxCard::parse(&form.payment_method) else {
        return message(StatusCode::BAD_REQUEST, "Choose a payment method", "That is not a sandbox card.");
    };
    let (buyer_id, name, email) =
        TEST_BUYERS.iter().find(|b| Some(b.0) == form.buyer.as_deref()).copied().unwrap_or(TEST_BUYERS[0]);
    let buyer = Buyer { buyer_id: buyer_id.into(), name: name.into(), email: email.into(), phone_number: None };
    let address = amzpay_domain::checkout_session::Address { name: Some(name.into()), ..default_address() };
    let outcome = change_session(&state, id, Origin::new(Cause::Buyer, "SignIn"), move |session, now| {
        session.sign_in(buyer, Some(address), card, now)
    })
    .await;
    match outcome {
        Ok(Some(Ok(session))) => match after_sign_in_url(&session) {
            Some(url) => Redirect::to(&url).into_response(),
            None => message(StatusCode::OK, "Signed in", "The merchant gave no page to return to."),
        },
        Ok(Some(Err(error))) => message(StatusCode::CONFLICT, "This checkout cannot continue", &error.message),
        Ok(None) => message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout."),
        Err(error) => storage_failure(error),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    summary: Summary<'a>,
    buyer: String,
    card: String,
}

async fn show_confirm(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let session = match load_open(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let card = session.payment_method.map(|c| c.payment_descriptor()).unwrap_or_default();
    let buyer = session.buyer.as_ref().map(|b| format!("{} ({})", b.name, b.email)).unwrap_or_default();
    render(StatusCode::OK, &ConfirmPage { summary: summary(&session), buyer, card })
}

async fn confirm(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(id) = session_id(&id) else {
        return message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout.");
    };
    let outcome =
        change_session(&state, id, Origin::new(Cause::Buyer, "Confirm"), |session, now| session.confirm(now)).await;
    match outcome {
        Ok(Some(Ok(session))) => match session.checkout_result_return_url.as_deref() {
            Some(url) => Redirect::to(&with_session_id(url, &session.id)).into_response(),
            None => message(StatusCode::OK, "Confirmed", "The merchant gave no page to return to."),
        },
        Ok(Some(Err(error))) => message(StatusCode::CONFLICT, "This checkout cannot be confirmed", &error.message),
        Ok(None) => message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout."),
        Err(error) => storage_failure(error),
    }
}
