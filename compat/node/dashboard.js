// The dashboard in headless Chromium, as a developer uses it beside a checkout. Run by
// crates/cli/tests/browser.rs, which made a checkout through the API (a charge pending
// authorization, a merchant reference id carrying a script) and passes:
//   AMZPAY_DASHBOARD_URL  the merchant's dashboard page
//   AMZPAY_SESSION_ID     the checkout session
//   AMZPAY_CHARGE_ID      its charge, AuthorizationInitiated
//   AMZPAY_HOSTILE_TEXT   the merchant's reference id, which calls alert() if it ever runs
//   AMZPAY_SCREENSHOT_DIR (optional) where to save the screenshots docs/ shows
// It checks: the checkout appears with its timeline; advancing the merchant's clock from
// the dashboard resolves the authorization and the page shows it without a reload;
// redelivering a notification from the dashboard makes another delivery attempt; the
// hostile text is shown as text and none of it runs.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');

const WAIT_MS = 15000;

(async () => {
  const url = process.env.AMZPAY_DASHBOARD_URL;
  const sessionId = process.env.AMZPAY_SESSION_ID;
  const chargeId = process.env.AMZPAY_CHARGE_ID;
  const hostile = process.env.AMZPAY_HOSTILE_TEXT;
  const shots = process.env.AMZPAY_SCREENSHOT_DIR;
  assert.ok(url && sessionId && chargeId && hostile, 'AMZPAY_DASHBOARD_URL, AMZPAY_SESSION_ID, AMZPAY_CHARGE_ID and AMZPAY_HOSTILE_TEXT are required');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let passed = 0;
  let failed = 0;
  const check = async (name, body) => {
    try {
      await body();
      passed += 1;
      console.log(`ok: ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAILED: ${name}: ${error.stack || error}`);
    }
  };
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    const dialogs = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    const loads = [];
    page.on('load', () => loads.push(page.url()));

    await check('the checkout made through the API is listed, newest first, with its state', async () => {
      await page.goto(url, { waitUntil: 'load' });
      const session = page.locator(`tr.object[data-id="${sessionId}"]`);
      assert.equal(await session.locator('.state').textContent(), 'Completed');
      assert.equal(await session.locator('td').nth(3).textContent(), hostile, 'the reference id is shown as sent');
      const charge = page.locator(`tr.object[data-id="${chargeId}"]`);
      assert.equal(await charge.locator('.state').textContent(), 'AuthorizationInitiated');
      if (shots) await page.screenshot({ path: path.join(shots, 'dashboard-merchant.png'), fullPage: true });
    });

    await check('a search by id and a filter by state narrow the lists', async () => {
      await page.fill('#search', chargeId.slice(0, 12));
      await page.selectOption('#state-filter', 'AuthorizationInitiated');
      await Promise.all([page.waitForNavigation(), page.click('#filter button')]);
      assert.equal(await page.locator('tr.object').count(), 1);
      assert.equal(await page.locator('tr.object').getAttribute('data-id'), chargeId);
      await page.goto(url, { waitUntil: 'load' });
    });

    await check("the session's page shows its timeline with each change's cause", async () => {
      await Promise.all([page.waitForNavigation(), page.click(`tr.object[data-id="${sessionId}"] td.id > a`)]);
      const rows = await page.locator('#timeline tr.change').allTextContents();
      assert.equal(rows.length, 2, rows.join(' | '));
      assert.match(rows[0], /Open.*API call: CreateCheckoutSession/);
      assert.match(rows[1], /Completed.*API call: CompleteCheckoutSession/);
    });

    await check("the merchant's script-carrying text is shown as text and nothing runs", async () => {
      const json = await page.textContent('#object-json');
      assert.ok(json.includes(JSON.stringify(hostile).slice(1, -1)), 'the object shows the reference id as sent');
      assert.equal(await page.$$eval('script', (scripts) => scripts.length), 1, "only the dashboard's own script");
      assert.deepEqual(dialogs, [], 'no script ran');
    });

    await check("advancing the clock from the dashboard resolves the pending authorization, shown without a reload", async () => {
      await page.goto(`${new URL(url).origin}/dashboard/objects/${chargeId}?merchant=${new URL(url).pathname.split('/').pop()}&env=sandbox`, { waitUntil: 'load' });
      assert.deepEqual(await page.locator('#timeline tr.change .state').allTextContents(), ['AuthorizationInitiated']);
      await page.evaluate(() => { window.amzpayNotReloaded = true; });
      const loadsBefore = loads.length;
      await page.click('#advance-30s');
      await page.waitForSelector('#timeline tr.change:nth-child(2) .state.Authorized', { timeout: WAIT_MS });
      const rows = await page.locator('#timeline tr.change').allTextContents();
      assert.match(rows[1], /Authorized.*Clock: ResolveAuthorization/);
      assert.match(await page.textContent('#notice'), /Done: AdvanceClock/);
      assert.equal(await page.evaluate(() => window.amzpayNotReloaded), true, 'the page was not reloaded');
      assert.equal(loads.length, loadsBefore, 'no page load happened');
      if (shots) await page.screenshot({ path: path.join(shots, 'dashboard-charge.png'), fullPage: true });
    });

    await check('redeliver sends the notification again, and the page shows the attempt', async () => {
      const row = page.locator('tr.notification').first();
      const id = await row.getAttribute('data-id');
      const attempts = () => page.locator(`tr.notification[data-id="${id}"] td.attempts`).getAttribute('data-count');
      // The first delivery may still be on its way: wait for it before counting.
      await page.waitForFunction((id) => Number(document.querySelector(`tr.notification[data-id="${id}"] td.attempts`).dataset.count) >= 1, id, { timeout: WAIT_MS });
      const before = Number(await attempts());
      await page.click(`tr.notification[data-id="${id}"] button.redeliver`);
      await page.waitForFunction(([id, before]) => Number(document.querySelector(`tr.notification[data-id="${id}"] td.attempts`).dataset.count) > before, [id, before], { timeout: WAIT_MS });
      assert.match(await page.textContent('#notice'), /Done: RedeliverNotification/);
      const outcomes = await page.locator(`tr.notification[data-id="${id}"] ul.attempts li`).allTextContents();
      assert.equal(outcomes.length, before + 1, outcomes.join(' | '));
      assert.ok(outcomes.every((text) => text.includes('HTTP 200')), outcomes.join(' | '));
      assert.equal(await page.evaluate(() => window.amzpayNotReloaded), true, 'the page was not reloaded');
      console.log(`redelivered ${id}: ${before} attempt(s) before, ${await attempts()} after`);
    });
  } catch (error) {
    failed += 1;
    console.log(`FAILED: ${error.stack || error}`);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
