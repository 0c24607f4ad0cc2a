//! Instant Payment Notifications (spec §10, product.md): every state change staged in the
//! outbox with the change itself (`effects`) is delivered from there, signed, at least once.
//!
//! `signer` holds the SNS key and certificate; `delivery` makes attempts and runs the
//! worker. This module serves the certificate and the unsubscribe link, and lets a sandbox
//! clock advance attempt what it caused before it answers. It never delivers from a
//! request's transaction: a notification exists only once its change is durable.

pub mod delivery;
pub mod signer;

use std::sync::Arc;

use amzpay_domain::Environment;
use amzpay_store::{DeliveryStatus, StoreError};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use delivery::{Ipn, real_now_ms};

use crate::AppState;
use crate::config::IPN_MAX_IN_FLIGHT_PER_MERCHANT;

/// `GET /sns/amzpay-sns.pem` and `GET /sns/unsubscribe`.
pub fn router() -> Router<Arc<AppState>> {
    Router::new().route(signer::CERTIFICATE_PATH, get(certificate)).route(signer::UNSUBSCRIBE_PATH, get(unsubscribe))
}

async fn certificate(State(state): State<Arc<AppState>>) -> Response {
    match state.ipn.signer(&state).await {
        Ok(signer) => {
            ([(header::CONTENT_TYPE, "application/x-pem-file")], signer.certificate_pem().to_owned()).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "the SNS signing certificate is unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "the signing certificate is unavailable; retry later").into_response()
        }
    }
}

/// SNS's link to stop a subscription. amzpay's endpoints are changed by their merchant
/// (`amzpay merchant set-ipn-url`, `PUT /v2/testHelpers/ipnEndpoint`), never by a link
/// anyone holding a notification could follow: this page says so and changes nothing.
async fn unsubscribe() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "amzpay: notifications stop when the merchant clears its IPN endpoint \
         (amzpay merchant set-ipn-url --clear, or PUT /v2/testHelpers/ipnEndpoint {\"url\": null}).\n",
    )
        .into_response()
}

/// Attempts, once each, notifications the caller leased in the transaction that made them
/// (a sandbox clock advance), then lets the worker have any left. After the first attempt
/// that fails, the rest go to the worker untried: a dead endpoint must not hold an advance
/// for one timeout per notification.
pub async fn attempt_leased(
    state: &Arc<AppState>,
    merchant_id: &str,
    environment: Environment,
    notification_ids: Vec<String>,
) -> Result<(), StoreError> {
    if notification_ids.is_empty() {
        return Ok(());
    }
    let mut pending = notification_ids.into_iter();
    let mut failed = false;
    loop {
        let batch: Vec<String> = pending.by_ref().take(IPN_MAX_IN_FLIGHT_PER_MERCHANT as usize).collect();
        if batch.is_empty() {
            break;
        }
        if failed {
            release(state, batch).await?;
            continue;
        }
        let mut attempts = tokio::task::JoinSet::new();
        for id in batch {
            let merchant = merchant_id.to_owned();
            let notification = state.store.read(move |tx| tx.notification(&merchant, environment, &id)).await?;
            let Some(notification) = notification else { continue };
            let state = state.clone();
            // In the request's span: the attempt's log lines carry its request id.
            let attempt = async move { delivery::attempt(&state, &notification, None).await };
            attempts.spawn(tracing::Instrument::in_current_span(attempt));
        }
        while let Some(joined) = attempts.join_next().await {
            let outcome = joined.map_err(|e| StoreError::Corrupt(format!("an IPN attempt panicked: {e}")))??;
            if outcome.attempt.is_some() && outcome.status != DeliveryStatus::Delivered {
                failed = true;
            }
        }
    }
    state.ipn.wake();
    Ok(())
}

/// Gives leased notifications back to the worker.
async fn release(state: &AppState, ids: Vec<String>) -> Result<(), StoreError> {
    state
        .store
        .write(move |tx| -> Result<(), StoreError> {
            for id in &ids {
                tx.release_notification(id)?;
            }
            Ok(())
        })
        .await
}
