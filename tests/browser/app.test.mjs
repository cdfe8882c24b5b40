// The web app as people use it: Alice starts a conversation, Bob and
// Carol join by the link. Each sees the others: the large window follows
// the speaker (or the first one), a click on a small picture pins it, a
// shared screen takes the large window, and whoever leaves disappears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launchBrowser, newPage, diagnose, enter, waitFor, waitForRosterSize } from './lib.mjs';

// A tile of that participant and kind shows moving video, where asked
// ("#large", "#strip" or anywhere).
function waitForVideo(page, what, { participant, kind = 'video', where = '' }) {
  return waitFor(page, what, ({ participant, kind, where }) => {
    const sel = `${where} .tile[data-participant="${participant}"][data-kind="${kind}"] video`;
    const v = document.querySelector(sel.trim());
    if (!v || v.videoWidth === 0) return false;
    if (!v.dataset.seen) { v.dataset.seen = String(v.currentTime); return false; }
    return v.currentTime > Number(v.dataset.seen);
  }, { participant, kind, where }, 20_000);
}

const idOf = (page) => page.$eval('#roster li[data-you="true"]', (li) => li.dataset.id);

test('people see each other in the app: large window, pin, screen share, leaving', { timeout: 180_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const alice = await newPage(browser, 'app-alice');
  const bob = await newPage(browser, 'app-bob');
  const carol = await newPage(browser, 'app-carol');

  await enter(alice, `${BASE_URL}/`, 'Alice', '');
  const link = await alice.getAttribute('#join-link', 'href');
  await enter(bob, link, 'Bob', 'bob@example.com');
  const [a, b] = [await idOf(alice), await idOf(bob)];

  await waitForVideo(alice, 'Bob large at Alice', { participant: b, where: '#large' });
  await waitForVideo(bob, 'Alice large at Bob', { participant: a, where: '#large' });
  assert.equal(await alice.$eval('#large figcaption', (c) => c.textContent), 'Bob', 'the large window names Bob');
  assert.ok(await alice.$('#strip .tile[data-kind="self"] video'), 'Alice sees herself small');

  await enter(carol, link, 'Carol', 'carol@example.com');
  const c = await idOf(carol);
  await waitForRosterSize(alice, 3);
  await waitForVideo(alice, 'Carol at Alice', { participant: c });
  await waitForVideo(carol, 'Alice at Carol', { participant: a });
  await waitForVideo(carol, 'Bob at Carol', { participant: b });

  // pin whoever is small, then let go
  const small = await alice.$eval('#strip .tile[data-kind="video"]', (tile) => tile.dataset.participant);
  await alice.click(`#strip .tile[data-participant="${small}"][data-kind="video"]`);
  await waitFor(alice, 'the pinned one large', (p) =>
    document.querySelector(`#large .tile[data-participant="${p}"][data-pinned="true"]`), small);
  await alice.click('#large .tile');
  await waitFor(alice, 'nothing pinned', () => !document.querySelector('.tile[data-pinned="true"]'));

  // a shared screen takes the large window
  await bob.click('#share');
  await waitForVideo(alice, "Bob's screen large at Alice", { participant: b, kind: 'screen', where: '#large' });
  await waitForVideo(carol, "Bob's screen large at Carol", { participant: b, kind: 'screen', where: '#large' });
  assert.equal(await alice.$eval('#large figcaption', (el) => el.textContent), 'Screen of Bob');
  await bob.click('#share');
  await waitFor(alice, 'the screen gone', (p) =>
    !document.querySelector(`.tile[data-participant="${p}"][data-kind="screen"]`), b);

  // muting the camera is the sender's own business: the tile stays
  await carol.click('#camera');
  assert.equal(await carol.getAttribute('#camera', 'aria-pressed'), 'true');

  // Bob leaves: his tiles go everywhere
  await bob.click('#leave');
  await waitFor(alice, "Bob's tiles gone", (p) =>
    !document.querySelector(`.tile[data-participant="${p}"]`), b);
  await waitFor(carol, "Bob's tiles gone", (p) =>
    !document.querySelector(`.tile[data-participant="${p}"]`), b);

  for (const p of [alice, bob, carol]) {
    if (p.parleyErrors.length) assert.fail(await diagnose(p, `page errors: ${p.parleyErrors.join('; ')}`));
  }
});
