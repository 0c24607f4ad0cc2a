// A sample merchant store that takes payment through amzpay exactly as through Amazon Pay,
// with the official Node.js SDK. Only two things point at amzpay: the checkout.js URL and
// overrideServiceUrl.
//
//   npm ci --prefix compat/node
//   node examples/store/server.js
//
// Environment: AMZPAY_URL (http://127.0.0.1:8080: the server, for checkout.js), AMZPAY_API_HOST
// (localhost:8443: the API over HTTPS), AMZPAY_MERCHANT_FILE (amzpay-data/dev-merchant.json),
// PORT (3000; 0 picks a free port). It prints "store listening on http://...".
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const requireSdk = createRequire(path.join(__dirname, '../../compat/node/package.json'));
const { WebStoreClient } = requireSdk('@amazonpay/amazon-pay-api-sdk-nodejs');

const amzpayUrl = process.env.AMZPAY_URL || 'http://127.0.0.1:8080';
const merchant = JSON.parse(fs.readFileSync(process.env.AMZPAY_MERCHANT_FILE || 'amzpay-data/dev-merchant.json', 'utf8'));
const client = new WebStoreClient({
  publicKeyId: merchant.publicKeyId,
  privateKey: fs.readFileSync(merchant.privateKeyFile),
  region: merchant.region,
  sandbox: true,
  algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
  overrideServiceUrl: process.env.AMZPAY_API_HOST || 'localhost:8443',
});
const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
  `<body style="font-family: system-ui, sans-serif; max-width: 560px; margin: 40px auto"><h1>${escape(title)}</h1>${body}<p><a href="/">Back to the store</a></p></body></html>`;

async function handle(request, response) {
  const url = new URL(request.url, `http://${request.headers.host}`);
  const base = `http://${request.headers.host}`;
  const send = (status, html, headers = {}) => { response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers }); response.end(html); };
  const sessionId = url.searchParams.get('amazonCheckoutSessionId');
  if (url.pathname === '/') {
    const type = url.searchParams.get('type') || 'OneTime';
    const pending = url.searchParams.get('pending') === '1';
    const payload = {
      webCheckoutDetails: { checkoutReviewReturnUrl: `${base}/review?pending=${pending ? 1 : 0}`, checkoutCancelUrl: `${base}/canceled` },
      storeId: merchant.storeId,
      chargePermissionType: type,
      merchantMetadata: { merchantReferenceId: `order-${Date.now()}`, merchantStoreName: 'Sample store' },
    };
    if (type === 'Recurring') payload.recurringMetadata = { frequency: { unit: 'Month', value: '1' }, amount: { amount: '20.00', currencyCode: 'USD' } };
    const payloadJSON = JSON.stringify(payload);
    const html = template
      .replace('{{TYPE_LABEL}}', { OneTime: 'one purchase', Recurring: 'every month', PaymentMethodOnFile: 'wallet saved for later' }[type] || type)
      .replace('{{AMZPAY_URL}}', amzpayUrl)
      .replace('{{MERCHANT_ID}}', merchant.merchantId)
      .replace('{{PAYLOAD_JSON_STRING}}', JSON.stringify(payloadJSON))
      .replace('{{SIGNATURE}}', client.generateButtonSignature(payloadJSON))
      .replace('{{PUBLIC_KEY_ID}}', merchant.publicKeyId);
    return send(200, html);
  }
  if (url.pathname === '/review') {
    // The buyer is back from signing in: set the amount and intent, then send them to confirm.
    const pending = url.searchParams.get('pending') === '1';
    const updated = await client.updateCheckoutSession(sessionId, {
      webCheckoutDetails: { checkoutResultReturnUrl: `${base}/result` },
      paymentDetails: { paymentIntent: 'Authorize', chargeAmount: { amount: '20.00', currencyCode: 'USD' }, canHandlePendingAuthorization: pending },
    });
    return send(303, '', { location: updated.data.webCheckoutDetails.amazonPayRedirectUrl });
  }
  if (url.pathname === '/result') {
    try {
      const completed = await client.completeCheckoutSession(sessionId, { chargeAmount: { amount: '20.00', currencyCode: 'USD' } });
      const charge = (await client.getCharge(completed.data.chargeId)).data;
      const paid = charge.statusDetails.state === 'Authorized';
      return send(200, page(paid ? 'Order paid' : 'Payment pending',
        `<p id="outcome">${paid ? 'paid' : 'pending'}</p><p>Charge <code id="charge-id">${escape(charge.chargeId)}</code> is <span id="charge-state">${escape(charge.statusDetails.state)}</span>.</p>` +
        `<p>Agreement <code id="permission-id">${escape(completed.data.chargePermissionId)}</code>.</p>`));
    } catch (error) {
      const reason = error.response ? error.response.data.reasonCode : String(error);
      if (reason === 'CheckoutSessionCanceled') {
        // The buyer canceled, or the checkout was declined: the session says which.
        const session = (await client.getCheckoutSession(sessionId)).data;
        return send(200, page('Checkout canceled', `<p id="outcome">canceled</p><p>Reason: <code id="reason">${escape(session.statusDetails.reasonCode)}</code>.</p>`));
      }
      return send(200, page('Payment failed', `<p id="outcome">failed</p><p>Amazon Pay said <code id="reason">${escape(reason)}</code>.</p>`));
    }
  }
  if (url.pathname === '/canceled') {
    const session = (await client.getCheckoutSession(sessionId)).data;
    return send(200, page('Checkout canceled', `<p id="outcome">canceled</p><p>Reason: <code id="reason">${escape(session.statusDetails.reasonCode)}</code>.</p>`));
  }
  return send(404, page('Not found', ''));
}

const server = http.createServer((request, response) => {
  handle(request, response).catch((error) => {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(String(error.stack || error));
  });
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`store listening on http://127.0.0.1:${server.address().port}`);
});
