//! The buyer's side of the sandbox: `/jr/your-account/ba/{chargePermissionId}`, the page
//! Amazon tells merchants to send a buyer to after a hard decline (seeds 001/004). The
//! sandbox buyer picks another test card or closes the permission. Plain HTML, no
//! JavaScript, labels on every control: `templates/buyer.html`.

use std::sync::Arc;

use amzpay_api::format::format_timestamp;
use amzpay_api::requests::BuyerAction;
use amzpay_domain::charge_permission::PermissionState;
use amzpay_domain::sandbox::{SUCCESS_CARDS, SandboxCard};
use amzpay_domain::{ChargePermission, ChargePermissionId, Environment, Refusal, Timestamp};
use amzpay_store::{Cause, StoreError};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::effects::Origin;
use crate::hosted::{read_sandbox, render, storage_failure, write_sandbox};
use crate::ops::Scope;
use crate::ops::permissions::apply_buyer_action;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/jr/your-account/ba/{id}", get(show).post(act))
}

/// Cards a buyer can switch to: the ones that authorize, and the two that pend.
const SELECTABLE_CARDS: [&str; 7] = ["1111", "0005", "4444", "9424", "0000", "0701", "4354"];

#[derive(Template)]
#[template(path = "buyer_not_found.html")]
struct NotFound<'a> {
    id: &'a str,
}

fn not_found(id: &str) -> Response {
    render(StatusCode::NOT_FOUND, &NotFound { id })
}

/// A line above the permission: what the buyer's last action did.
struct Notice {
    ok: bool,
    text: String,
}

/// A card the buyer can switch to, as the page lists it.
struct CardChoice {
    number: &'static str,
    descriptor: String,
    note: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "buyer.html")]
struct BuyerPage {
    notice: Option<Notice>,
    id: String,
    kind: &'static str,
    state: String,
    card: String,
    now: String,
    closed: bool,
    cards: Vec<CardChoice>,
}

fn describe(status: StatusCode, permission: &ChargePermission, now: Timestamp, notice: Option<Notice>) -> Response {
    let state = match &permission.state {
        PermissionState::Chargeable => "Chargeable".to_owned(),
        PermissionState::NonChargeable(reason) => format!("NonChargeable ({})", reason.as_str()),
        PermissionState::Closed { reason: Some(reason), .. } => format!("Closed ({})", reason.as_str()),
        PermissionState::Closed { reason: None, .. } => "Closed".to_owned(),
    };
    let cards = SELECTABLE_CARDS
        .iter()
        .map(|&number| {
            let parsed = SandboxCard::parse(number).expect("listed cards parse");
            let note = if SUCCESS_CARDS.contains(&number) {
                "authorizes"
            } else if number == "0701" {
                "pends, then authorizes"
            } else {
                "pends, then is declined"
            };
            CardChoice {
                number,
                descriptor: parsed.payment_descriptor(),
                note,
                checked: parsed == permission.payment_method,
            }
        })
        .collect();
    let page = BuyerPage {
        notice,
        id: permission.id.as_str().to_owned(),
        kind: permission.kind.as_str(),
        state,
        card: permission.payment_method.payment_descriptor(),
        now: format_timestamp(now),
        closed: permission.state.is_closed(),
        cards,
    };
    render(status, &page)
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
            describe(StatusCode::OK, &permission, now, None)
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
                    let notice = Notice { ok: false, text: "Choose a payment method first.".to_owned() };
                    describe(StatusCode::BAD_REQUEST, &permission, now, Some(notice))
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
            let origin = Origin::new(Cause::Buyer, action.name());
            let scope = Scope { merchant_id, environment: Environment::Sandbox, delays, origin };
            let unchanged = permission.clone();
            let result = apply_buyer_action(tx, scope, permission, action, now)?;
            Ok((result.map_err(|error| (error, unchanged)), now))
        },
    )
    .await;
    match outcome {
        Ok(Some((Ok(permission), now))) => {
            let text = match action {
                BuyerAction::UpdatePaymentMethod(card) => {
                    format!("Done: your payment method is now {}.", card.payment_descriptor())
                }
                BuyerAction::Close => "Done: this agreement is closed.".to_owned(),
            };
            describe(StatusCode::OK, &permission, now, Some(Notice { ok: true, text }))
        }
        Ok(Some((Err((error, permission)), now))) => {
            let notice = Notice { ok: false, text: error.message };
            describe(StatusCode::UNPROCESSABLE_ENTITY, &permission, now, Some(notice))
        }
        Ok(None) => not_found(&id),
        Err(error) => storage_failure(error, "buyer page"),
    }
}
