//! The buyer's side of the sandbox: `/jr/your-account/ba/{chargePermissionId}`, the page
//! Amazon tells merchants to send a buyer to after a hard decline (seeds 001/004). The
//! sandbox buyer picks another test card or closes the permission. Plain HTML, no
//! JavaScript, labels on every control.

use std::sync::Arc;

use amzpay_api::format::format_timestamp;
use amzpay_api::requests::BuyerAction;
use amzpay_domain::charge_permission::PermissionState;
use amzpay_domain::sandbox::{SUCCESS_CARDS, SandboxCard};
use amzpay_domain::{ChargePermission, ChargePermissionId, Environment, Refusal, Timestamp};
use amzpay_store::StoreError;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::hosted::{escape, page, read_sandbox, storage_failure, write_sandbox};
use crate::ops::Scope;
use crate::ops::permissions::apply_buyer_action;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/jr/your-account/ba/{id}", get(show).post(act))
}

/// Cards a buyer can switch to: the ones that authorize, and the two that pend.
const SELECTABLE_CARDS: [&str; 7] = ["1111", "0005", "4444", "9424", "0000", "0701", "4354"];

fn not_found(id: &str) -> Response {
    let body = format!("<h1>Not found</h1><p>There is no sandbox charge permission <code>{}</code>.</p>", escape(id));
    (StatusCode::NOT_FOUND, Html(page("Not found", &body))).into_response()
}

fn describe(permission: &ChargePermission, now: Timestamp, notice: Option<(bool, String)>) -> String {
    let state = match &permission.state {
        PermissionState::Chargeable => "Chargeable".to_owned(),
        PermissionState::NonChargeable(reason) => format!("NonChargeable ({})", reason.as_str()),
        PermissionState::Closed { reason: Some(reason), .. } => format!("Closed ({})", reason.as_str()),
        PermissionState::Closed { reason: None, .. } => "Closed".to_owned(),
    };
    let mut body = String::new();
    body.push_str("<h1>Your Amazon Pay payment method</h1>");
    if let Some((ok, message)) = notice {
        let class = if ok { "ok" } else { "error" };
        body.push_str(&format!(r#"<div class="notice {class}" role="status">{}</div>"#, escape(&message)));
    }
    body.push_str(&format!(
        r#"<dl><dt>Agreement</dt><dd><code id="permission-id">{id}</code></dd><dt>Type</dt><dd>{kind}</dd><dt>Status</dt><dd id="state">{state}</dd><dt>Payment method</dt><dd id="payment-method">{card}</dd><dt>As of</dt><dd>{now}</dd></dl>"#,
        id = escape(permission.id.as_str()),
        kind = permission.kind.as_str(),
        state = escape(&state),
        card = escape(&permission.payment_method.payment_descriptor()),
        now = format_timestamp(now),
    ));
    if permission.state.is_closed() {
        body.push_str("<p>This agreement is closed. To pay this merchant again, check out with Amazon Pay again.</p>");
        return body;
    }
    body.push_str(r#"<form method="post"><input type="hidden" name="action" value="UpdatePaymentMethod"><fieldset><legend>Choose a payment method</legend>"#);
    for card in SELECTABLE_CARDS {
        let parsed = SandboxCard::parse(card).expect("listed cards parse");
        let checked = if parsed == permission.payment_method { " checked" } else { "" };
        let note = if SUCCESS_CARDS.contains(&card) {
            "authorizes"
        } else if card == "0701" {
            "pends, then authorizes"
        } else {
            "pends, then is declined"
        };
        body.push_str(&format!(
            r#"<label for="card-{card}"><input type="radio" id="card-{card}" name="paymentMethod" value="{card}"{checked}> {} <small>({note})</small></label>"#,
            escape(&parsed.payment_descriptor())
        ));
    }
    body.push_str(r#"</fieldset><button type="submit" id="use-card">Use this payment method</button></form>"#);
    body.push_str(r#"<form method="post"><input type="hidden" name="action" value="Close"><fieldset><legend>Stop payments to this merchant</legend><p>Closing the agreement cancels charges not yet captured.</p><button type="submit" class="secondary" id="close">Close this agreement</button></fieldset></form>"#);
    body
}

async fn load(state: &AppState, id: ChargePermissionId) -> Result<Option<(ChargePermission, Timestamp)>, StoreError> {
    let found = read_sandbox(state, move |tx| tx.sandbox_permission_by_id(&id)).await?;
    Ok(found.map(|(_, permission, now)| (permission, now)))
}

async fn show(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Some(permission_id) = ChargePermissionId::parse(&id) else { return not_found(&id) };
    match load(&state, permission_id).await {
        Ok(Some((mut permission, now))) => {
            permission.advance_to(now);
            Html(page("Payment method", &describe(&permission, now, None))).into_response()
        }
        Ok(None) => not_found(&id),
        Err(error) => storage_failure(error, "buyer page"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionForm {
    action: String,
    payment_method: Option<String>,
}

async fn act(State(state): State<Arc<AppState>>, Path(id): Path<String>, Form(form): Form<ActionForm>) -> Response {
    let Some(permission_id) = ChargePermissionId::parse(&id) else { return not_found(&id) };
    let action = match (form.action.as_str(), form.payment_method.as_deref().and_then(SandboxCard::parse)) {
        ("UpdatePaymentMethod", Some(card)) => BuyerAction::UpdatePaymentMethod(card),
        ("Close", _) => BuyerAction::Close,
        _ => {
            return match load(&state, permission_id).await {
                Ok(Some((permission, now))) => {
                    let notice = Some((false, "Choose a payment method first.".to_owned()));
                    (StatusCode::BAD_REQUEST, Html(page("Payment method", &describe(&permission, now, notice))))
                        .into_response()
                }
                _ => not_found(&id),
            };
        }
    };
    let delays = state.delays;
    type Outcome = (Result<ChargePermission, (Refusal, ChargePermission)>, Timestamp);
    let outcome = write_sandbox(
        &state,
        move |tx| tx.sandbox_permission_by_id(&permission_id),
        move |tx, merchant_id, permission: ChargePermission, now| -> Result<Outcome, StoreError> {
            let scope = Scope { merchant_id, environment: Environment::Sandbox, delays };
            let unchanged = permission.clone();
            let result = apply_buyer_action(tx, scope, permission, action, now)?;
            Ok((result.map_err(|error| (error, unchanged)), now))
        },
    )
    .await;
    match outcome {
        Ok(Some((Ok(permission), now))) => {
            let message = match action {
                BuyerAction::UpdatePaymentMethod(card) => {
                    format!("Done: your payment method is now {}.", card.payment_descriptor())
                }
                BuyerAction::Close => "Done: this agreement is closed.".to_owned(),
            };
            Html(page("Payment method", &describe(&permission, now, Some((true, message))))).into_response()
        }
        Ok(Some((Err((error, permission)), now))) => {
            let body = describe(&permission, now, Some((false, error.message)));
            (StatusCode::UNPROCESSABLE_ENTITY, Html(page("Payment method", &body))).into_response()
        }
        Ok(None) => not_found(&id),
        Err(error) => storage_failure(error, "buyer page"),
    }
}
