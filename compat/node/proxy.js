// The official Amazon Pay Node.js SDK against amzpay standing in for pay-api.amazon.com:
// no overrideServiceUrl, so the SDK calls Amazon's own host with TLS verification on. The
// only changes are the HTTP stack's: a proxy agent (axios, which the SDK uses, cannot tunnel
// HTTPS through a proxy by itself) and amzpay's CA among the trusted ones. Run by
// crates/cli/tests/proxy.rs, which passes:
//   HTTPS_PROXY            amzpay's HTTP listener, e.g. http://127.0.0.1:8080
//   NODE_EXTRA_CA_CERTS    amzpay's ca.pem
//   AMZPAY_MERCHANT_FILE   the merchant's description (a SANDBOX- key, region na)
//   AMZPAY_PERMISSION_ID   a Chargeable one-time Charge Permission of that merchant
// Prints one line: RESULT {"authorized":..., "captured":..., "refund":..., "host":...}.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const axios = require('axios');
const { HttpsProxyAgent } = require('https-proxy-agent');
const { WebStoreClient } = require('@amazonpay/amazon-pay-api-sdk-nodejs');

const proxy = process.env.HTTPS_PROXY;
assert.ok(proxy, 'HTTPS_PROXY is required');
assert.ok(process.env.NODE_EXTRA_CA_CERTS, 'NODE_EXTRA_CA_CERTS is required');
axios.defaults.proxy = false;
axios.defaults.httpsAgent = new HttpsProxyAgent(proxy);

const description = JSON.parse(fs.readFileSync(process.env.AMZPAY_MERCHANT_FILE, 'utf8'));
const client = new WebStoreClient({
  publicKeyId: description.publicKeyId,
  privateKey: fs.readFileSync(description.privateKeyFile),
  region: 'us',
  sandbox: true,
  algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
});
const key = () => crypto.randomUUID().replace(/-/g, '');
const price = (amount) => ({ amount, currencyCode: 'USD' });

(async () => {
  assert.notEqual(process.env.NODE_TLS_REJECT_UNAUTHORIZED, '0', 'TLS verification stays on');
  const charge = await client.createCharge({
    chargePermissionId: process.env.AMZPAY_PERMISSION_ID,
    chargeAmount: price('14.00'),
    captureNow: false,
  }, { 'x-amz-pay-idempotency-key': key() });
  assert.equal(charge.status, 201);
  assert.equal(charge.request.host, 'pay-api.amazon.com');
  const chargeId = charge.data.chargeId;
  const captured = await client.captureCharge(chargeId, { captureAmount: price('14.00') },
    { 'x-amz-pay-idempotency-key': key() });
  const refund = await client.createRefund({ chargeId, refundAmount: price('4.00') },
    { 'x-amz-pay-idempotency-key': key() });
  console.log('RESULT ' + JSON.stringify({
    authorized: charge.data.statusDetails.state,
    captured: captured.data.statusDetails.state,
    refund: refund.data.statusDetails.state,
    refundId: refund.data.refundId,
    host: charge.request.host,
  }));
})().catch((error) => {
  console.error(error && error.response ? JSON.stringify(error.response.data) : error);
  process.exit(1);
});
