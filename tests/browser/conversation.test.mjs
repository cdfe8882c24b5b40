// The app's other paths: an unknown join link, the organiser ending the
// conversation for everyone, and leaving before the camera is open.
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

  // The browser may take seconds to open a camera on a loaded machine;
  // whoever leaves meanwhile gets no error, and the camera is let go as
  // soon as it opens (before, the late failure threw in the page and the
  // camera stayed on).
  await t.test('leaving while the camera opens: no error, the camera let go', async () => {
    const page = await newPage(browser, 'hasty');
    await page.addInitScript(() => {
      if (!navigator.mediaDevices) return;     // about:blank
      const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      window.opened = [];
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await open(constraints);
        window.opened.push(stream);
        await new Promise((resolve) => { window.openCamera = resolve; });
        return stream;
      };
    });
    await enter(page, `${BASE_URL}/`, 'Hasty', '');
    await waitFor(page, 'the camera being opened', () => typeof window.openCamera === 'function');
    await page.click('#leave');
    await waitFor(page, 'out of the conversation',
      () => document.body.dataset.state !== 'in-room' && document.body.dataset.state !== 'connecting');
    await page.evaluate(() => window.openCamera());
    await waitFor(page, 'the camera let go', () => window.opened.length > 0
      && window.opened.every((s) => s.getTracks().every((track) => track.readyState === 'ended')));
    assert.deepEqual(page.parleyErrors, []);
    assert.equal(await page.$$eval('#strip .tile, #large .tile', (els) => els.length), 0, 'no tile left');
    await page.context().close();
  });
});
