// The official Amazon Pay Node.js SDK against amzpay, with nothing changed but
// overrideServiceUrl. Run by crates/cli/tests/node_sdk.rs, which starts the server and
// passes:
//   AMZPAY_HOST      host:port of the HTTPS listener
//   AMZPAY_PREFIXED  path of a merchant description whose key is SANDBOX-...
//   AMZPAY_LEGACY    path of a merchant description whose key has no prefix
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { AmazonPayClient, WebStoreClient } = require('@amazonpay/amazon-pay-api-sdk-nodejs');

const host = process.env.AMZPAY_HOST;
assert.ok(host, 'AMZPAY_HOST is required');

function merchant(envName) {
  const description = JSON.parse(fs.readFileSync(process.env[envName], 'utf8'));
  return { ...description, privateKey: fs.readFileSync(description.privateKeyFile) };
}

const TIMESTAMP = /^\d{8}T\d{6}Z$/;
const key = () => crypto.randomUUID().replace(/-/g, '');
const price = (amount) => ({ amount, currencyCode: 'USD' });

// Each object's keys, in order, as Amazon's own Node.js SDK tests (2.3.x) compare them
// against Amazon's sandbox.
const CHARGE_KEYS = ['chargeId', 'chargeAmount', 'chargePermissionId', 'captureAmount', 'refundedAmount',
  'softDescriptor', 'providerMetadata', 'convertedAmount', 'conversionRate', 'channel', 'chargeInitiator',
  'statusDetails', 'creationTimestamp', 'expirationTimestamp', 'releaseEnvironment', 'merchantMetadata', 'platformId',
  'webCheckoutDetails'];
const PERMISSION_KEYS = ['chargePermissionId', 'chargePermissionReferenceId', 'platformId', 'buyer', 'shippingAddress',
  'billingAddress', 'paymentPreferences', 'statusDetails', 'creationTimestamp', 'expirationTimestamp', 'merchantMetadata',
  'releaseEnvironment', 'limits', 'chargePermissionType', 'recurringMetadata', 'presentmentCurrency'];
const REFUND_KEYS = ['refundId', 'chargeId', 'creationTimestamp', 'refundAmount', 'statusDetails', 'softDescriptor',
  'releaseEnvironment'];

let passed = 0;
let failed = 0;

function checkCharge(charge, { state, reasonCode = null, amount, captured = null, permissionId }) {
  assert.deepEqual(Object.keys(charge), CHARGE_KEYS);
  assert.match(charge.chargeId, /^S01-\d{7}-\d{7}-C\d{6}$/);
  assert.equal(charge.chargePermissionId, permissionId);
  assert.ok(charge.chargeId.startsWith(permissionId));
  assert.deepEqual(charge.chargeAmount, price(amount));
  assert.deepEqual(charge.captureAmount, captured === null ? null : price(captured));
  // A Price, as Amazon's .NET SDK reads it; null until captured.
  assert.deepEqual(charge.convertedAmount, state === 'Captured' ? price(captured) : null);
  assert.deepEqual(charge.refundedAmount, price('0.00'));
  assert.deepEqual(charge.providerMetadata, { providerReferenceId: null });
  assert.equal(charge.statusDetails.state, state);
  assert.equal(charge.statusDetails.reasonCode, reasonCode);
  assert.match(charge.statusDetails.lastUpdatedTimestamp, TIMESTAMP);
  assert.match(charge.creationTimestamp, TIMESTAMP);
  assert.match(charge.expirationTimestamp, TIMESTAMP);
  assert.ok(charge.expirationTimestamp > charge.creationTimestamp);
  assert.equal(charge.releaseEnvironment, 'Sandbox');
}

function checkPermission(permission, { id, state, balance, reference = null }) {
  assert.deepEqual(Object.keys(permission), PERMISSION_KEYS);
  assert.equal(permission.chargePermissionId, id);
  assert.equal(permission.chargePermissionType, 'OneTime');
  assert.deepEqual(permission.limits, { amountLimit: price('100.00'), amountBalance: price(balance) });
  assert.equal(permission.statusDetails.state, state);
  assert.match(permission.statusDetails.lastUpdatedTimestamp, TIMESTAMP);
  assert.deepEqual(permission.paymentPreferences, [{ paymentDescriptor: 'Visa ****1111' }]);
  assert.equal(typeof permission.buyer.buyerId, 'string');
  assert.equal(permission.presentmentCurrency, 'USD');
  assert.match(permission.creationTimestamp, TIMESTAMP);
  assert.match(permission.expirationTimestamp, TIMESTAMP);
  assert.equal(permission.releaseEnvironment, 'Sandbox');
  if (reference === null) {
    assert.equal(permission.merchantMetadata, null);
  } else {
    assert.equal(permission.merchantMetadata.merchantReferenceId, reference);
  }
}

async function run(label, config) {
  const api = new AmazonPayClient(config);
  const client = new WebStoreClient(config);

  const created = await api.apiCall({
    method: 'POST',
    urlFragment: 'testHelpers/chargePermissions',
    payload: { amountLimit: price('100.00') },
    headers: { 'x-amz-pay-idempotency-key': key() },
  });
  assert.equal(created.status, 201);
  const permissionId = created.data.chargePermissionId;
  assert.match(permissionId, /^S01-\d{7}-\d{7}$/);

  const got = await client.getChargePermission(permissionId);
  assert.equal(got.status, 200);
  assert.ok(got.headers['x-amz-pay-request-id']);
  checkPermission(got.data, { id: permissionId, state: 'Chargeable', balance: '100.00' });

  // amzpay's faults, added through the SDK's own signed apiCall: the next Get Charge
  // Permission answers 503 in Amazon's envelope. SDK 2.3.4 sends it once: its retryLogic
  // reads `statusCode` from the pending promise rather than the response, so it never
  // retries (had it retried, the second attempt would have succeeded).
  const fault = await api.apiCall({
    method: 'POST',
    urlFragment: 'testHelpers/faults',
    payload: { reasonCode: 'ServiceUnavailable', count: 1, operations: ['GetChargePermission'] },
  });
  assert.equal(fault.status, 201);
  assert.equal(fault.data.remainingCount, 1);
  const unavailable = await client.getChargePermission(permissionId).then(
    () => assert.fail('the fault must answer'),
    (error) => error.response,
  );
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.data.reasonCode, 'ServiceUnavailable');
  const faults = await api.apiCall({ method: 'GET', urlFragment: 'testHelpers/faults' });
  assert.deepEqual(faults.data, { faults: [] });

  const updated = await client.updateChargePermission(permissionId, { merchantMetadata: { merchantReferenceId: 'order-42', merchantStoreName: 'Compat Store' } });
  assert.equal(updated.status, 200);
  checkPermission(updated.data, { id: permissionId, state: 'Chargeable', balance: '100.00', reference: 'order-42' });
  assert.equal(updated.data.merchantMetadata.merchantStoreName, 'Compat Store');

  // One idempotency key for Create Charge and then two identical captures, as Amazon's own
  // Node.js SDK test sends them: keys belong to an operation and its target, and the second
  // capture is a replay.
  const shared = { 'x-amz-pay-idempotency-key': key() };
  const authorized = await client.createCharge(
    { chargePermissionId: permissionId, chargeAmount: price('14.00'), captureNow: false, canHandlePendingAuthorization: false },
    shared,
  );
  assert.equal(authorized.status, 201);
  checkCharge(authorized.data, { state: 'Authorized', amount: '14.00', permissionId });
  const chargeId = authorized.data.chargeId;

  const fetched = await client.getCharge(chargeId);
  assert.equal(fetched.status, 200);
  assert.deepEqual(fetched.data, authorized.data);

  const captured = await client.captureCharge(chargeId, { captureAmount: price('14.00'), softDescriptor: 'Descriptor' }, shared);
  assert.equal(captured.status, 200);
  checkCharge(captured.data, { state: 'Captured', amount: '14.00', captured: '14.00', permissionId });
  assert.equal(captured.data.softDescriptor, 'Descriptor');
  assert.equal(captured.data.conversionRate, '1.00');
  const capturedAgain = await client.captureCharge(chargeId, { captureAmount: price('14.00'), softDescriptor: 'Descriptor' }, shared);
  assert.equal(capturedAgain.status, 200);
  assert.deepEqual(capturedAgain.data, captured.data);

  const refundKey = { 'x-amz-pay-idempotency-key': key() };
  const refund = await client.createRefund({ chargeId, refundAmount: price('4.00'), softDescriptor: 'Refund' }, refundKey);
  assert.deepEqual(Object.keys(refund.data), REFUND_KEYS);
  const refundAgain = await client.createRefund({ chargeId, refundAmount: price('4.00'), softDescriptor: 'Refund' }, refundKey);
  assert.deepEqual(refundAgain.data, refund.data);
  assert.equal(refund.status, 201);
  assert.match(refund.data.refundId, /^S01-\d{7}-\d{7}-R\d{6}$/);
  assert.equal(refund.data.chargeId, chargeId);
  assert.deepEqual(refund.data.refundAmount, price('4.00'));
  assert.equal(refund.data.softDescriptor, 'Refund');
  assert.equal(refund.data.statusDetails.state, 'RefundInitiated');
  assert.equal(refund.data.statusDetails.reasonCode, null);
  assert.match(refund.data.creationTimestamp, TIMESTAMP);
  assert.equal(refund.data.releaseEnvironment, 'Sandbox');

  const gotRefund = await client.getRefund(refund.data.refundId);
  assert.equal(gotRefund.status, 200);
  assert.deepEqual(gotRefund.data, refund.data);

  const second = await client.createCharge({ chargePermissionId: permissionId, chargeAmount: price('10.00') }, { 'x-amz-pay-idempotency-key': key() });
  assert.equal(second.status, 201);
  checkCharge(second.data, { state: 'Authorized', amount: '10.00', permissionId });
  const canceled = await client.cancelCharge(second.data.chargeId, { cancellationReason: 'Customer changed their mind' });
  assert.equal(canceled.status, 200);
  checkCharge(canceled.data, { state: 'Canceled', reasonCode: 'MerchantCanceled', amount: '10.00', permissionId });
  assert.equal(canceled.data.statusDetails.reasonDescription, 'Customer changed their mind');

  const afterCharges = await client.getChargePermission(permissionId);
  checkPermission(afterCharges.data, { id: permissionId, state: 'Chargeable', balance: '86.00', reference: 'order-42' });

  const closed = await client.closeChargePermission(permissionId, { closureReason: 'No more charges', cancelPendingCharges: false });
  assert.equal(closed.status, 200);
  checkPermission(closed.data, { id: permissionId, state: 'Closed', balance: '86.00', reference: 'order-42' });
  assert.deepEqual(closed.data.statusDetails.reasons, [{ reasonCode: 'MerchantClosed', reasonDescription: 'No more charges' }]);

  // Errors come back as Amazon's: status and reasonCode.
  const refused = await client.closeChargePermission(permissionId, { closureReason: 'again' }).then(
    () => assert.fail('closing twice must fail'),
    (error) => error.response,
  );
  assert.equal(refused.status, 422);
  assert.equal(refused.data.reasonCode, 'InvalidChargePermissionStatus');
  console.log(`ok: ${label}`);
}

(async () => {
  const prefixed = merchant('AMZPAY_PREFIXED');
  const legacy = merchant('AMZPAY_LEGACY');
  assert.ok(prefixed.publicKeyId.startsWith('SANDBOX-'));
  assert.ok(!/^(SANDBOX|LIVE)/i.test(legacy.publicKeyId));
  const configs = [];
  for (const algorithm of ['AMZN-PAY-RSASSA-PSS', 'AMZN-PAY-RSASSA-PSS-V2']) {
    configs.push([`SANDBOX- key, ${algorithm}`, { publicKeyId: prefixed.publicKeyId, privateKey: prefixed.privateKey, region: 'us', sandbox: true, algorithm, overrideServiceUrl: host }]);
    configs.push([`legacy key (sandbox: true), ${algorithm}`, { publicKeyId: legacy.publicKeyId, privateKey: legacy.privateKey, region: 'na', sandbox: true, algorithm, overrideServiceUrl: host }]);
  }
  for (const [label, config] of configs) {
    try {
      await run(label, config);
      passed += 1;
    } catch (error) {
      failed += 1;
      const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : (error.stack || error);
      console.log(`FAILED: ${label}: ${detail}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
