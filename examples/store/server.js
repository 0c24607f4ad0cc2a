// A sample merchant store that takes payment through amzpay exactly as through Amazon Pay,
// with the official Node.js SDK. Only two things point at amzpay: the checkout.js URL and
// overrideServiceUrl.
//
//   npm ci --prefix compat/node
//   node examples/store/server.js
//
// Environment: AMZPAY_URL (http://127.0.0.1:8080: the server, for checkout.js), AMZPAY_API_HOST
// (localhost:8443: the API over HTTPS), AMZPAY_MERCHANT_FILE (amzpay-data/dev-merchant.json),
// AMZPAY_SNS_CERT_PREFIX (https:// + AMZPAY_API_HOST + /sns/: where IPN signing certificates
// may come from; amzpay serves its certificate on its HTTPS listener),
// PORT (3000; 0 picks a free port). It prints "store listening on http://...".
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const requireSdk = createRequire(path.join(__dirname, '../../compat/node/package.json'));
const { WebStoreClient } = requireSdk('@amazonpay/amazon-pay-api-sdk-nodejs');

const amzpayUrl = process.env.AMZPAY_URL || 'http://127.0.0.1:8080';
const apiHost = process.env.AMZPAY_API_HOST || 'localhost:8443';
const merchant = JSON.parse(fs.readFileSync(process.env.AMZPAY_MERCHANT_FILE || 'amzpay-data/dev-merchant.json', 'utf8'));
const client = new WebStoreClient({
  publicKeyId: merchant.publicKeyId,
  privateKey: fs.readFileSync(merchant.privateKeyFile),
  region: merchant.region,
  sandbox: true,
  algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
  overrideServiceUrl: apiHost,
});
// Instant Payment Notifications: amzpay, like Amazon Pay, POSTs an Amazon SNS envelope to the
// merchant's endpoint (`amzpay ipn endpoint set --url http://127.0.0.1:3000/ipn`). The store
// checks the SNS signature with the certificate amzpay serves, fetched only from under
// snsCertificatePrefix (Amazon's would be https://sns.<region>.amazonaws.com), answers at
// once, and then GETs the object the message names: a notification carries no state.
const snsCertificatePrefix = new URL(process.env.AMZPAY_SNS_CERT_PREFIX || `https://${apiHost}/sns/`).href;
const MAX_IPN_BYTES = 256 * 1024; // Amazon SNS messages are at most 256 KiB
const MAX_CERTIFICATE_BYTES = 64 * 1024; // a certificate is about 2 KB
const certificates = new Map(); // certificate URL -> PEM; one or two in practice

async function readAtMost(stream, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new Error(`larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function snsCertificate(certificateUrl) {
  const href = new URL(certificateUrl).href; // normalized: no way out of the prefix with ../
  if (!href.startsWith(snsCertificatePrefix)) throw new Error(`untrusted SigningCertURL ${certificateUrl}`);
  if (!certificates.has(href)) {
    const response = await fetch(href, { redirect: 'error', signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`${href} answered ${response.status}`);
    certificates.set(href, await readAtMost(response.body, MAX_CERTIFICATE_BYTES));
  }
  return certificates.get(href);
}

// SNS signature version 1: SHA1withRSA over "Key\nValue\n" for these keys, when present.
async function verifyIpn(envelope) {
  if (envelope.Type !== 'Notification' || envelope.SignatureVersion !== '1') throw new Error('not an SNS v1 notification');
  const certificate = await snsCertificate(envelope.SigningCertURL);
  const signed = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    .filter((key) => key in envelope).map((key) => `${key}\n${envelope[key]}\n`).join('');
  if (!crypto.verify('sha1', Buffer.from(signed, 'utf8'), certificate, Buffer.from(envelope.Signature, 'base64'))) {
    throw new Error('the SNS signature does not verify');
  }
  return JSON.parse(envelope.Message);
}

async function receiveIpn(request, response) {
  let message;
  try {
    message = await verifyIpn(JSON.parse(await readAtMost(request, MAX_IPN_BYTES)));
  } catch (error) {
    console.log(`IPN refused: ${error.message}`);
    response.writeHead(400).end();
    return;
  }
  console.log(`IPN received ${JSON.stringify(message)}`);
  response.writeHead(200).end();
  const get = { CHARGE: 'getCharge', CHARGE_PERMISSION: 'getChargePermission', REFUND: 'getRefund' }[message.ObjectType];
  if (!get) return;
  try {
    const object = (await client[get](message.ObjectId)).data;
    console.log(`IPN ${message.ObjectType} ${message.ObjectId} is ${object.statusDetails.state}`);
  } catch (error) {
    console.log(`IPN ${message.ObjectType} ${message.ObjectId}: ${error.response ? error.response.data.reasonCode : error.message}`);
  }
}

const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
  `<body style="font-family: system-ui, sans-serif; max-width: 560px; margin: 40px auto"><h1>${escape(title)}</h1>${body}<p><a href="/">Back to the store</a></p></body></html>`;

async function handle(request, response) {
  const url = new URL(request.url, `http://${request.headers.host}`);
  if (url.pathname === '/ipn' && request.method === 'POST') return receiveIpn(request, response);
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
