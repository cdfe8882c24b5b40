// The app's other paths: an unknown join link, and the organiser ending the
// conversation for everyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL, launchBrowser, newPage, diagnose, enter, waitFor, waitForRosterSize,
  waitForState,
} from './lib.mjs';

test('conversation paths', { timeout: 90_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());

  await t.test('a join link to an unknown room shows an error', async () => {
    const page = await newPage(browser, 'lost');
    await page.goto(`${BASE_URL}/?room=nosuchroom0000000`);
    await waitForState(page, 'idle');
    await page.fill('#name', 'Lost');
    await page.click('#start');
    await waitFor(page, 'a visible #error', () => {
      const e = document.getElementById('error');
      return e && !e.hidden && e.textContent.trim() !== '';
    });
    const role = await page.getAttribute('#error', 'role');
    const state = await page.getAttribute('body', 'data-state');
    if (role !== 'alert' || state !== 'idle') {
      assert.fail(await diagnose(page, `after an error: role=${role} state=${state}, want alert/idle`));
    }
    assert.deepEqual(page.parleyErrors, []);
    await page.context().close();
  });

  await t.test('the organiser ends the conversation for everyone', async () => {
    const org = await newPage(browser, 'organiser');
    const guest = await newPage(browser, 'guest');
    await enter(org, `${BASE_URL}/`, 'Olga', 'olga@example.com');
    const link = await org.getAttribute('#join-link', 'href');
    await enter(guest, link, 'Gus <b>&amp;</b>', 'gus@example.com');
    await waitForRosterSize(org, 2);

    // The name is shown as text, never parsed as markup.
    const shown = await org.$$eval('#roster .name', (els) => els.map((e) => e.textContent));
    assert.ok(shown.includes('Gus <b>&amp;</b>'), `names shown: ${JSON.stringify(shown)}`);
    assert.equal(await org.$$eval('#roster b', (els) => els.length), 0);

    await org.click('#end');
    await waitForState(org, 'closed');
    await waitForState(guest, 'closed');
    assert.equal(await guest.isVisible('#closed-view'), true);
    for (const p of [org, guest]) assert.deepEqual(p.parleyErrors, []);
    await org.context().close();
    await guest.context().close();
  });
});
