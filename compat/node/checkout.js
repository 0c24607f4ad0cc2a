// The official Amazon Pay Node.js SDK runs a whole checkout against amzpay for each
// paymentIntent: create → get → update → (buyer signs in and confirms, by amzpay's test
// helpers) → complete, then charges the resulting Charge Permission. Run by
// crates/cli/tests/node_sdk.rs with AMZPAY_HOST and AMZPAY_PREFIXED as for compat.js.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { AmazonPayClient, WebStoreClient } = require('@amazonpay/amazon-pay-api-sdk-nodejs');

const key = () => crypto.randomUUID().replace(/-/g, '');
// A Checkout Session's keys, in order, exactly as Amazon's own Node.js SDK tests (2.3.x)
// compare them against Amazon's sandbox; Finalize adds cartDetails after paymentDetails.
const SESSION_KEYS = ['checkoutSessionId', 'webCheckoutDetails', 'productType', 'paymentDetails', 'chargePermissionType',
  'orderType', 'recurringMetadata', 'paymentMethodOnFileMetadata', 'merchantDetails', 'merchantMetadata',
  'supplementaryData', 'buyer', 'billingAddress', 'paymentPreferences', 'statusDetails', 'shippingAddress', 'platformId',
  'chargePermissionId', 'chargeId', 'constraints', 'creationTimestamp', 'expirationTimestamp', 'storeId',
  'providerMetadata', 'releaseEnvironment', 'checkoutButtonText', 'deliverySpecifications', 'tokens'];
const FINALIZE_KEYS = [...SESSION_KEYS.slice(0, 4), 'cartDetails', ...SESSION_KEYS.slice(4)];
const price = (amount) => ({ amount, currencyCode: 'USD' });

async function checkout(api, client, storeId, intent) {
  // Amazon's own SDK test sends one key for Create Checkout Session and then Create Charge.
  const sessionKey = { 'x-amz-pay-idempotency-key': key() };
  const created = await client.createCheckoutSession({
    webCheckoutDetails: { checkoutReviewReturnUrl: 'https://shop.example/review' },
    storeId,
    merchantMetadata: { merchantReferenceId: `order-${intent}` },
  }, sessionKey);
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.data), SESSION_KEYS);
  const id = created.data.checkoutSessionId;
  assert.equal(created.data.statusDetails.state, 'Open');
  assert.deepEqual(created.data.constraints.map((c) => c.constraintId),
    ['BuyerNotAssociated', 'ChargeAmountNotSet', 'CheckoutResultReturnUrlNotSet', 'PaymentIntentNotSet']);

  const signedIn = await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/signIn`, payload: { paymentMethod: '1111' } });
  assert.equal(signedIn.status, 200);

  const got = await client.getCheckoutSession(id);
  assert.equal(got.status, 200);
  assert.deepEqual(Object.keys(got.data), SESSION_KEYS);
  assert.equal(got.data.checkoutSessionId, id);
  assert.equal(typeof got.data.buyer.buyerId, 'string');
  assert.equal(got.data.shippingAddress.countryCode, 'US');

  const updated = await client.updateCheckoutSession(id, {
    webCheckoutDetails: { checkoutResultReturnUrl: 'https://shop.example/result' },
    paymentDetails: { paymentIntent: intent, chargeAmount: price('20.00'), canHandlePendingAuthorization: false },
  });
  assert.equal(updated.status, 200);
  assert.deepEqual(Object.keys(updated.data), SESSION_KEYS);
  assert.deepEqual(updated.data.constraints, []);
  assert.match(updated.data.webCheckoutDetails.amazonPayRedirectUrl, new RegExp(`/checkout/${id}/confirm$`));

  const confirmed = await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/confirm`, payload: {} });
  assert.equal(confirmed.data.redirectUrl, `https://shop.example/result?amazonCheckoutSessionId=${id}`);

  const completed = await client.completeCheckoutSession(id, { chargeAmount: price('20.00') });
  assert.equal(completed.status, 200);
  assert.deepEqual(Object.keys(completed.data), SESSION_KEYS);
  assert.equal(completed.data.statusDetails.state, 'Completed');
  const permissionId = completed.data.chargePermissionId;
  assert.match(permissionId, /^S01-\d{7}-\d{7}$/);
  if (intent === 'Confirm') {
    assert.equal(completed.data.chargeId, null);
  } else {
    const charge = await client.getCharge(completed.data.chargeId);
    assert.equal(charge.data.statusDetails.state, intent === 'Authorize' ? 'Authorized' : 'Captured');
  }

  const permission = await client.getChargePermission(permissionId);
  // Authorize holds the whole order until the charge is captured: NonChargeable /
  // ChargeInProgress (product.md); AuthorizeWithCapture uses it up.
  const expected = { Confirm: 'Chargeable', Authorize: 'NonChargeable', AuthorizeWithCapture: 'Closed' }[intent];
  assert.equal(permission.data.statusDetails.state, expected);
  assert.equal(permission.data.merchantMetadata.merchantReferenceId, `order-${intent}`);
  if (intent === 'Confirm') {
    // Charge the permission the checkout produced.
    const charge = await client.createCharge({ chargePermissionId: permissionId, chargeAmount: price('20.00'), captureNow: true },
      sessionKey);
    assert.equal(charge.status, 201);
    assert.equal(charge.data.statusDetails.state, 'Captured');
  }
  if (intent === 'Authorize') {
    const captured = await client.captureCharge(completed.data.chargeId, { captureAmount: price('20.00') }, { 'x-amz-pay-idempotency-key': key() });
    assert.equal(captured.data.statusDetails.state, 'Captured');
  }

  // A completed session cannot be completed again.
  const refused = await client.completeCheckoutSession(id, { chargeAmount: price('20.00') }).then(
    () => assert.fail('completing twice must fail'), (error) => error.response);
  assert.equal(refused.status, 422);
  assert.equal(refused.data.reasonCode, 'InvalidCheckoutSessionStatus');
}

// Cards 3064 and 3434 act "after the buyer returns to checkoutResultReturnUrl" (spec §11):
// the merchant's update between sign-in and confirm works, then the session is canceled.
async function canceledByCard(api, client, storeId, card, reason) {
  const created = await client.createCheckoutSession({
    webCheckoutDetails: { checkoutReviewReturnUrl: 'https://shop.example/review' },
    storeId,
  }, { 'x-amz-pay-idempotency-key': key() });
  const id = created.data.checkoutSessionId;
  await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/signIn`, payload: { paymentMethod: card } });
  const updated = await client.updateCheckoutSession(id, {
    webCheckoutDetails: { checkoutResultReturnUrl: 'https://shop.example/result' },
    paymentDetails: { paymentIntent: 'Authorize', chargeAmount: price('20.00') },
  });
  assert.equal(updated.status, 200);
  assert.equal(updated.data.statusDetails.state, 'Open');
  const confirmed = await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/confirm`, payload: {} });
  assert.equal(confirmed.data.redirectUrl, `https://shop.example/result?amazonCheckoutSessionId=${id}`);
  const got = await client.getCheckoutSession(id);
  assert.equal(got.data.statusDetails.state, 'Canceled');
  assert.equal(got.data.statusDetails.reasonCode, reason);
  const refused = await client.completeCheckoutSession(id, { chargeAmount: price('20.00') }).then(
    () => assert.fail('completing a canceled session must fail'), (error) => error.response);
  assert.equal(refused.status, 422);
  assert.equal(refused.data.reasonCode, 'CheckoutSessionCanceled');
}

// Finalize (the single-page checkout): the merchant sends the address and amounts it
// collected; the answer carries cartDetails after paymentDetails.
async function finalize(api, client, storeId) {
  const created = await client.createCheckoutSession({
    webCheckoutDetails: { checkoutReviewReturnUrl: 'https://shop.example/review' },
    storeId,
  }, { 'x-amz-pay-idempotency-key': key() });
  const id = created.data.checkoutSessionId;
  await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/signIn`, payload: { paymentMethod: '1111' } });
  await client.updateCheckoutSession(id, {
    webCheckoutDetails: { checkoutResultReturnUrl: 'https://shop.example/result' },
    paymentDetails: { paymentIntent: 'Confirm', chargeAmount: price('10') },
  });
  await api.apiCall({ method: 'POST', urlFragment: `testHelpers/checkoutSessions/${id}/confirm`, payload: {} });
  const shippingAddress = { name: 'Susie Smith', addressLine1: '10 Ditka Ave', addressLine2: 'Suite 2500', city: 'Chicago',
    county: null, district: null, stateOrRegion: 'IL', postalCode: '60602', countryCode: 'US', phoneNumber: '800-000-0000' };
  // The payload of Amazon's own SDK test.
  const finalized = await client.finalizeCheckoutSession(id, {
    shippingAddress, billingAddress: null, chargeAmount: { amount: '10', currencyCode: 'USD' },
    totalOrderAmount: { amount: '10', currencyCode: 'USD' }, paymentIntent: 'Confirm', canHandlePendingAuthorization: false,
    supplementaryData: 'TestSupplementaryData-onInitCheckout',
  });
  assert.equal(finalized.status, 200);
  assert.deepEqual(Object.keys(finalized.data), FINALIZE_KEYS);
  assert.equal(finalized.data.statusDetails.state, 'Completed');
  assert.equal(finalized.data.supplementaryData, 'TestSupplementaryData-onInitCheckout');
  assert.equal(finalized.data.shippingAddress.addressLine2, 'Suite 2500');
  const permission = await client.getChargePermission(finalized.data.chargePermissionId);
  assert.equal(permission.data.shippingAddress.city, 'Chicago');
}

(async () => {
  const description = JSON.parse(fs.readFileSync(process.env.AMZPAY_PREFIXED, 'utf8'));
  const config = {
    publicKeyId: description.publicKeyId,
    privateKey: fs.readFileSync(description.privateKeyFile),
    region: 'us',
    sandbox: true,
    algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
    overrideServiceUrl: process.env.AMZPAY_HOST,
  };
  const api = new AmazonPayClient(config);
  const client = new WebStoreClient(config);
  let passed = 0;
  let failed = 0;
  for (const intent of ['Confirm', 'Authorize', 'AuthorizeWithCapture']) {
    try {
      await checkout(api, client, description.storeId, intent);
      console.log(`ok: checkout with paymentIntent ${intent}`);
      passed += 1;
    } catch (error) {
      failed += 1;
      const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : (error.stack || error);
      console.log(`FAILED: ${intent}: ${detail}`);
    }
  }
  try {
    await finalize(api, client, description.storeId);
    console.log('ok: finalize');
    passed += 1;
  } catch (error) {
    failed += 1;
    const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : (error.stack || error);
    console.log(`FAILED: finalize: ${detail}`);
  }
  for (const [card, reason] of [['3064', 'BuyerCanceled'], ['3434', 'Declined']]) {
    try {
      await canceledByCard(api, client, description.storeId, card, reason);
      console.log(`ok: card ${card} cancels the session after the buyer returns`);
      passed += 1;
    } catch (error) {
      failed += 1;
      const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : (error.stack || error);
      console.log(`FAILED: card ${card}: ${detail}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
