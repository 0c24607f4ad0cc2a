// A hosted page showing a merchant's hostile text, in headless Chromium: the text is shown
// as it was sent, and none of the script in it runs. Run by crates/cli/tests/browser.rs,
// which passes:
//   AMZPAY_PAGE_URL      the page (a checkout's sign-in page)
//   AMZPAY_HOSTILE_TEXT  the text the merchant sent, which calls alert() if it ever runs
//   AMZPAY_SELECTORS     comma-separated elements whose text must be exactly that
'use strict';

const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

(async () => {
  const url = process.env.AMZPAY_PAGE_URL;
  const hostile = process.env.AMZPAY_HOSTILE_TEXT;
  const selectors = (process.env.AMZPAY_SELECTORS || '').split(',').filter(Boolean);
  assert.ok(url && hostile && selectors.length, 'AMZPAY_PAGE_URL, AMZPAY_HOSTILE_TEXT and AMZPAY_SELECTORS are required');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let failed = 0;
  try {
    const page = await browser.newPage();
    const dialogs = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    for (const selector of selectors) {
      assert.equal(await page.textContent(selector), hostile, `${selector} shows the text as sent`);
    }
    // Any script the text carried would have run by now: the page has loaded, and its own
    // markup has no script element at all.
    assert.equal(await page.$$eval('script', (scripts) => scripts.length), 0, 'no script element on the page');
    assert.deepEqual(dialogs, [], 'no script ran');
    console.log(`ok: ${selectors.join(', ')} show the hostile text, and nothing ran`);
  } catch (error) {
    failed = 1;
    console.log(`FAILED: ${error.stack || error}`);
  } finally {
    await browser.close();
  }
  console.log(`${1 - failed} passed, ${failed} failed`);
  process.exit(failed);
})();
