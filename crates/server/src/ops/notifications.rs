//! The sandbox IPN test helpers (product.md): read and set this merchant's endpoint, read
//! the delivery log, and redeliver a notification. Sandbox only; they never send anything
//! themselves (the delivery worker does, once the change is durable).

use amzpay_api::body::parse_body;
use amzpay_api::format::format_timestamp;
use amzpay_api::ipn::{
    AttemptOut, IpnEndpointBody, IpnEndpointOut, NotificationOut, NotificationsOut, format_millis, notifications_limit,
};
use amzpay_api::responses::to_json;
use amzpay_domain::{Refusal, Timestamp};
use amzpay_store::{Notification, ReadTx, WriteTx};

use super::{Context, OpResult, Reply, not_found, sandbox_only};
use crate::routes::ReadResult;

/// A notification id as sent: a UUID, any case; stored hyphenated and lowercase.
pub fn notification_id(text: &str) -> Result<String, Refusal> {
    uuid::Uuid::parse_str(text).map(|id| id.hyphenated().to_string()).map_err(|_| not_found("notification", text))
}

fn render(notification: &Notification) -> NotificationOut<'_> {
    let event = &notification.event;
    NotificationOut {
        notification_id: &event.notification_id,
        message_id: &event.message_id,
        object_type: event.object_type.as_str(),
        object_id: &event.object_id,
        charge_permission_id: &event.charge_permission_id,
        notification_type: event.notification_type.as_str(),
        creation_timestamp: format_timestamp(event.created_at),
        status: notification.status.as_str(),
        // A notification never attempted is due at once: no time to show.
        next_attempt_timestamp: notification
            .next_attempt_ms
            .filter(|_| notification.round_attempts > 0)
            .map(format_millis),
        attempts: notification
            .attempts
            .iter()
            .map(|a| AttemptOut {
                timestamp: format_millis(a.at_ms),
                url: &a.url,
                status_code: a.status_code,
                error: a.error.as_deref(),
                latency_millis: a.latency_ms,
            })
            .collect(),
    }
}

fn endpoint_reply(url: Option<&str>) -> Reply {
    Reply::json(200, to_json(&IpnEndpointOut { url }))
}

/// `GET /v2/testHelpers/ipnEndpoint`.
pub fn get_endpoint(tx: &mut dyn ReadTx, context: &Context) -> ReadResult {
    if let Err(error) = sandbox_only(context, "testHelpers/ipnEndpoint") {
        return Ok(Reply::error(&error));
    }
    let url = tx.ipn_endpoint(&context.caller.merchant_id, context.caller.environment)?;
    Ok(endpoint_reply(url.as_deref()))
}

/// `PUT /v2/testHelpers/ipnEndpoint`: `{"url": "..."}` sets, `{"url": null}` clears.
pub fn set_endpoint(tx: &mut dyn WriteTx, context: &Context, body: &[u8], _now: Timestamp) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/ipnEndpoint"));
    let url = refuse!(parse_body::<IpnEndpointBody>(body).and_then(IpnEndpointBody::into_url));
    tx.set_ipn_endpoint(&context.caller.merchant_id, context.caller.environment, url.as_deref())?;
    Ok(Ok(endpoint_reply(url.as_deref())))
}

/// `GET /v2/testHelpers/notifications[?limit=N]`: the delivery log, newest first.
pub fn list(tx: &mut dyn ReadTx, context: &Context) -> ReadResult {
    let checked = sandbox_only(context, "testHelpers/notifications").and_then(|()| notifications_limit(&context.query));
    let limit = match checked {
        Ok(limit) => limit,
        Err(error) => return Ok(Reply::error(&error)),
    };
    let notifications = tx.notifications(&context.caller.merchant_id, context.caller.environment, limit)?;
    Ok(Reply::json(200, to_json(&NotificationsOut { notifications: notifications.iter().map(render).collect() })))
}

/// `POST /v2/testHelpers/notifications/{notificationId}/redeliver`: pending again, due now,
/// with a new round of retries; the log keeps the earlier attempts.
pub fn redeliver(tx: &mut dyn WriteTx, context: &Context, id: &str, _body: &[u8], _now: Timestamp) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/notifications/{id}/redeliver"));
    let (merchant, environment) = (&context.caller.merchant_id, context.caller.environment);
    let now_ms = context.real_now.unix_seconds().saturating_mul(1000);
    if !tx.redeliver(merchant, environment, id, now_ms)? {
        return Ok(Err(not_found("notification", id)));
    }
    let notification = tx.notification(merchant, environment, id)?.ok_or_else(|| {
        amzpay_store::StoreError::Corrupt(format!("notification {id} vanished within its transaction"))
    })?;
    Ok(Ok(Reply::json(200, to_json(&render(&notification)))))
}
