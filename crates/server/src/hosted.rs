//! What the hosted pages share: the pages a sandbox buyer sees in place of Amazon's (the
//! buyer's page, the checkout's sign-in and confirm pages). They have no signed caller: the
//! id in the URL names a sandbox object, whose merchant and clock they then use. They never
//! serve live objects. Their HTML comes only from the templates in `crates/server/templates/`
//! (askama, checked at compile time, escaping every value): never from strings put together
//! here.

use amzpay_domain::{Environment, Timestamp};
use amzpay_store::{ReadTx, StoreError, WriteTx};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::ops::merchant_now;

/// A hosted page: a template under `crates/server/templates/`, which escapes every value it
/// prints, so a merchant's or buyer's text never becomes markup.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        // Only a value's `Display` failing gets here; no page's values can fail today.
        Err(error) => {
            tracing::error!(%error, "rendering a hosted page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Try again.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    title: &'a str,
    text: &'a str,
}

/// A page with a title and one sentence.
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(status, &Message { title, text })
}

/// A storage failure, logged once here.
pub(crate) fn storage_failure(error: StoreError, page_name: &str) -> Response {
    tracing::error!(%error, page = page_name, "hosted page");
    message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Try again.")
}

/// Reads a sandbox object by id with its merchant (`find`), and that merchant's time.
pub(crate) async fn read_sandbox<T: Send + 'static>(
    state: &AppState,
    find: impl FnOnce(&mut dyn ReadTx) -> Result<Option<(String, T)>, StoreError> + Send + 'static,
) -> Result<Option<(String, T, Timestamp)>, StoreError> {
    let real_now = crate::system_now();
    state
        .store
        .read(move |tx| -> Result<_, StoreError> {
            let Some((merchant, object)) = find(tx)? else { return Ok(None) };
            let now = merchant_now(tx, &merchant, Environment::Sandbox, real_now)?;
            Ok(Some((merchant, object, now)))
        })
        .await
}

/// Changes a sandbox object by id in one transaction: `find` gives it with its merchant,
/// `change` gets the merchant, the object and the merchant's time, and writes.
pub(crate) async fn write_sandbox<T: Send + 'static, R: Send + 'static>(
    state: &AppState,
    find: impl FnOnce(&mut dyn WriteTx) -> Result<Option<(String, T)>, StoreError> + Send + 'static,
    change: impl FnOnce(&mut dyn WriteTx, &str, T, Timestamp) -> Result<R, StoreError> + Send + 'static,
) -> Result<Option<R>, StoreError> {
    let real_now = crate::system_now();
    let written = state
        .store
        .write(move |tx| -> Result<_, StoreError> {
            let Some((merchant, object)) = find(tx)? else { return Ok(None) };
            let now = merchant_now(tx, &merchant, Environment::Sandbox, real_now)?;
            Ok(Some(change(tx, &merchant, object, now)?))
        })
        .await;
    // The buyer's change may have staged notifications.
    state.ipn.wake();
    written
}
