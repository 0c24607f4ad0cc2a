// A buyer checks out on the sample store in headless Chromium: clicks the Amazon Pay button,
// signs in on amzpay's hosted page, picks a card, returns to the store, confirms, and lands
// on the store's result page. Run by crates/cli/tests/browser.rs, which passes:
//   AMZPAY_STORE_URL   the sample store
//   AMZPAY_SCREENSHOTS optional: a folder for screenshots of the hosted pages
//   AMZPAY_PROXY       optional: amzpay's HTTP listener as the browser's proxy, with
//   AMZPAY_CA_FILE     amzpay's ca.pem, trusted through its SPKI hash; then only the
//                      one-time scenario runs, and the hosted pages must be on
//   AMZPAY_PAGES_HOST  (e.g. static-na.payments-amazon.com, where checkout.js came from)
// Prints one line per scenario: RESULT {"name":..., "outcome":..., ...}.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const scenarios = [
  { name: 'one-time', query: '?type=OneTime', card: '1111', expect: 'paid' },
  { name: 'recurring', query: '?type=Recurring', card: '4444', expect: 'paid' },
  { name: 'saved-wallet', query: '?type=PaymentMethodOnFile', card: '0005', expect: 'paid' },
  { name: 'pending', query: '?pending=1', card: '0701', expect: 'pending' },
  { name: 'buyer-cancels', query: '?type=OneTime', card: '3064', expect: 'canceled', reason: 'BuyerCanceled' },
  { name: 'declined', query: '?type=OneTime', card: '3434', expect: 'canceled', reason: 'Declined' },
];

async function run(browser, store, scenario, screenshots) {
  const page = await browser.newPage({ viewport: { width: 720, height: 1000 } });
  await page.goto(store + '/' + scenario.query);
  await Promise.all([page.waitForURL(/\/checkout\/[0-9a-f-]+\/signin$/, { timeout: 10000 }).catch(async (error) => {
    throw new Error(`${error.message}\n${await page.textContent('body')}`);
  }), page.click('button.amazonpay-button')]);
  if (process.env.AMZPAY_PAGES_HOST) {
    assert.equal(new URL(page.url()).host, process.env.AMZPAY_PAGES_HOST, 'the hosted pages under Amazon\'s name');
  }
  await page.check(`#card-${scenario.card}`);
  if (screenshots && scenario.name === 'one-time') {
    await page.screenshot({ path: path.join(screenshots, 'checkout-sign-in.png'), fullPage: true });
  }
  await Promise.all([page.waitForLoadState('load'), page.click('#continue')]);
  // The store's review step set the amount and sent the buyer to amazonPayRedirectUrl: it
  // does so for 3064 and 3434 too, which cancel only once the buyer returns (spec §11).
  await page.waitForURL(/\/checkout\/[0-9a-f-]+\/confirm$/);
  assert.equal(await page.textContent('#amount'), '20.00 USD');
  if (screenshots && scenario.name === 'one-time') {
    await page.screenshot({ path: path.join(screenshots, 'checkout-confirm.png'), fullPage: true });
  }
  await Promise.all([page.waitForURL(/\/result\?/), page.click('#confirm')]);
  const result = { name: scenario.name, outcome: (await page.textContent('#outcome')).trim() };
  for (const id of ['charge-id', 'charge-state', 'permission-id', 'reason']) {
    const element = await page.$(`#${id}`);
    if (element) result[id] = (await element.textContent()).trim();
  }
  if (screenshots && scenario.name === 'one-time') {
    await page.screenshot({ path: path.join(screenshots, 'checkout-store-result.png'), fullPage: true });
  }
  await page.close();
  assert.equal(result.outcome, scenario.expect, JSON.stringify(result));
  if (scenario.reason) assert.equal(result.reason, scenario.reason);
  return result;
}

(async () => {
  const store = process.env.AMZPAY_STORE_URL;
  assert.ok(store, 'AMZPAY_STORE_URL is required');
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  let chosen = scenarios;
  if (process.env.AMZPAY_PROXY) {
    // Trust amzpay's CA by its public key's hash: Chromium matches it against the chain the
    // server sends (leaf and CA).
    const ca = new crypto.X509Certificate(fs.readFileSync(process.env.AMZPAY_CA_FILE));
    const spki = crypto.createHash('sha256').update(ca.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    args.push(`--proxy-server=${process.env.AMZPAY_PROXY}`, `--ignore-certificate-errors-spki-list=${spki}`);
    chosen = scenarios.filter((s) => s.name === 'one-time');
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args,
  });
  let passed = 0;
  let failed = 0;
  for (const scenario of chosen) {
    try {
      const result = await run(browser, store, scenario, process.env.AMZPAY_SCREENSHOTS);
      console.log('RESULT ' + JSON.stringify(result));
      passed += 1;
    } catch (error) {
      failed += 1;
      console.log(`FAILED: ${scenario.name}: ${error.stack || error}`);
    }
  }
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
