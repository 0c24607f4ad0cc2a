// A sandbox buyer fixes a hard-declined payment method on amzpay's buyer page, in headless
// Chromium (Debian's, at /usr/bin/chromium). Run by crates/cli/tests/browser.rs, which
// passes:
//   AMZPAY_BUYER_PAGE_URL  the page of a NonChargeable charge permission
//   AMZPAY_SCREENSHOT      optional: where to save a screenshot of the page
'use strict';

const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

(async () => {
  const url = process.env.AMZPAY_BUYER_PAGE_URL;
  assert.ok(url, 'AMZPAY_BUYER_PAGE_URL is required');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let failed = 0;
  try {
    const page = await browser.newPage({ viewport: { width: 720, height: 900 } });
    await page.goto(url);
    assert.equal(await page.textContent('#state'), 'NonChargeable (PaymentMethodInvalid)');

    // Every control has a label a screen reader announces.
    const unlabeled = await page.$$eval('input[type=radio]', (inputs) =>
      inputs.filter((input) => !document.querySelector(`label[for="${input.id}"]`)).map((input) => input.id));
    assert.deepEqual(unlabeled, []);

    // Choose a card with the keyboard as a person would: focus it, press space, submit.
    await page.focus('#card-4444');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#card-4444'), true);
    if (process.env.AMZPAY_SCREENSHOT) {
      await page.screenshot({ path: process.env.AMZPAY_SCREENSHOT, fullPage: true });
    }
    await Promise.all([page.waitForNavigation(), page.click('#use-card')]);
    assert.equal(await page.textContent('#state'), 'Chargeable');
    assert.equal(await page.textContent('#payment-method'), 'Visa ****4444');
    assert.match(await page.textContent('[role=status]'), /Visa \*\*\*\*4444/);
    console.log('ok: the buyer picked card 4444 and the permission is Chargeable');
  } catch (error) {
    failed = 1;
    console.log(`FAILED: ${error.stack || error}`);
  } finally {
    await browser.close();
  }
  console.log(`${1 - failed} passed, ${failed} failed`);
  process.exit(failed);
})();
