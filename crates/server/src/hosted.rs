//! What the hosted pages share: the pages a sandbox buyer sees in place of Amazon's (the
//! buyer's page, the checkout's sign-in and confirm pages). They have no signed caller: the
//! id in the URL names a sandbox object, whose merchant and clock they then use. They never
//! serve live objects.

use amzpay_domain::{Environment, Timestamp};
use amzpay_store::{ReadTx, StoreError, WriteTx};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::ops::merchant_now;

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole page in amzpay's sandbox look.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · amzpay sandbox</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; background: #f3f3f3; color: #0f1111; margin: 0; }}
  header {{ background: #232f3e; color: #fff; padding: 14px 24px; font-weight: 600; }}
  header span {{ color: #ff9900; }}
  main {{ max-width: 560px; margin: 24px auto; background: #fff; border: 1px solid #d5d9d9; border-radius: 8px; padding: 24px; }}
  h1 {{ font-size: 22px; margin-top: 0; }}
  dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }}
  dt {{ color: #565959; }}
  fieldset {{ border: 1px solid #d5d9d9; border-radius: 8px; margin: 16px 0; padding: 12px 16px; }}
  legend {{ font-weight: 600; padding: 0 6px; }}
  label {{ display: block; padding: 6px 0; }}
  button {{ background: #ffd814; border: 1px solid #fcd200; border-radius: 20px; padding: 8px 20px; font-size: 15px; cursor: pointer; }}
  button.secondary {{ background: #fff; border-color: #d5d9d9; }}
  button:focus, input:focus {{ outline: 3px solid #007185; outline-offset: 2px; }}
  .notice {{ padding: 10px 14px; border-radius: 6px; margin-bottom: 16px; }}
  .ok {{ background: #e7f4e4; border: 1px solid #067d62; }}
  .error {{ background: #fcf4f4; border: 1px solid #cc0c39; }}
  .sandbox {{ color: #565959; font-size: 13px; }}
</style>
</head>
<body>
<header><span>amzpay</span> sandbox · Amazon Pay</header>
<main>
{body}
<p class="sandbox">This is a sandbox page served by amzpay in place of Amazon Pay. No real payment method is used.</p>
</main>
</body>
</html>"#
    )
}

/// A page with a title and one sentence.
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!("<h1>{}</h1><p>{}</p>", escape(title), escape(text));
    (status, Html(page(title, &body))).into_response()
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
