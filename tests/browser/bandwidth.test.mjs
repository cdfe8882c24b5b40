// Each subscriber gets what its network carries. Alice publishes her
// camera in the app's two encodings (150 kbit/s and 1.2 Mbit/s) and her
// microphone; Bob watches her large. Then what the server sends Bob's
// subscribe connection goes through a 300 kbit/s link (tc: an HTB class
// on the loopback of the tests' namespace, for his connection's port
// alone): he keeps her voice and her low encoding, the picture
// never stops for more than a second once it is low, and once the limit
// is lifted the high encoding comes back. Squeezed to 60 kbit/s, the
// video is paused and his app says so on the tile; audio goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  BASE_URL, launchBrowser, newPage, enter, waitFor, readCounters, grew,
  until, watchMedia, receivingPort, latestSample, longestFreeze,
} from './lib.mjs';

// How long the picture may stop, once the layer settled, before it counts
// as a freeze (the bound)
const FREEZE_MS = 1_000;
// Functional deadlines: the figures are printed
const SETTLE_MS = 30_000;
const BACK_MS = 30_000;

function tc(...args) {
  execFileSync('tc', args, { stdio: 'pipe' });
}

// Everything sent to UDP port "port" on this namespace's loopback goes
// through a class of "kbit" (HTB: this kernel has no prio qdisc) with a
// queue of about 200 ms; the rest of the loopback passes untouched.
function limit(port, kbit) {
  unlimit();
  const packets = Math.max(4, Math.round(kbit * 1000 * 0.2 / 8 / 1200));
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb',
    'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`, 'burst', '4000');
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', String(packets));
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1',
    'u32', 'match', 'ip', 'protocol', '17', '0xff',
    'match', 'ip', 'dport', String(port), '0xffff', 'flowid', '1:2');
}

function unlimit() {
  try { tc('qdisc', 'del', 'dev', 'lo', 'root'); } catch { /* none */ }
}

test('a subscriber behind a narrow link keeps audio and the low layer, and the high comes back', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(async () => { unlimit(); await browser.close(); });
  const alice = await newPage(browser, 'bandwidth-alice');
  const bob = await newPage(browser, 'bandwidth-bob');
  await watchMedia(bob);

  await enter(alice, `${BASE_URL}/`, 'Alice');
  const link = await alice.getAttribute('#join-link', 'href');
  await enter(bob, link, 'Bob');

  // Alice large on Bob's page, at her high encoding: at least 640 wide,
  // twice her low one's 320 (a quarter of her camera's width) or more,
  // so that a start on the low encoding is not taken for the high
  let full = 0;
  await until(bob, 'Bob decodes Alice at her high encoding', async () => {
    const s = await latestSample(bob);
    if (s && s.width > full) full = s.width;
    return s && s.width >= 640 && s.frames > 30;
  }, SETTLE_MS);

  const port = await receivingPort(bob);
  assert.ok(port > 0, 'the port of Bob\'s subscribe connection');
  const before = await readCounters();

  // 300 kbit/s: voice and the low encoding (a quarter of the width)
  limit(port, 300);
  const limited = Date.now();
  await until(bob, 'Bob gets the low encoding through 300 kbit/s', async () => {
    const s = await latestSample(bob);
    return s && s.width > 0 && s.width <= full / 2;
  }, SETTLE_MS);
  const low = Date.now();
  t.diagnostic(`low encoding ${low - limited} ms after the limit`);

  // ten seconds at the low encoding: no freeze, voice flowing
  const start = await latestSample(bob);
  await new Promise((r) => { setTimeout(r, 10_000); });
  const end = await latestSample(bob);
  const freeze = await longestFreeze(bob, low);
  t.diagnostic(`longest freeze at 300 kbit/s: ${freeze} ms; frames ${end.frames - start.frames}, ` +
    `audio packets ${end.audio - start.audio} in 10 s`);
  assert.ok(end.frames - start.frames > 50, 'the low encoding is decoded');
  assert.ok(end.audio - start.audio > 200, 'the voice keeps coming');
  assert.ok(end.width <= full / 2, `still the low encoding (${end.width} of ${full})`);
  assert.ok(freeze <= FREEZE_MS, `no freeze longer than ${FREEZE_MS} ms (${freeze} ms)`);

  // lifted: the high encoding comes back
  unlimit();
  const lifted = Date.now();
  await until(bob, 'the high encoding comes back', async () => {
    const s = await latestSample(bob);
    return s && s.width >= full;
  }, BACK_MS);
  t.diagnostic(`high encoding back ${Date.now() - lifted} ms after the limit was lifted`);

  const after = await readCounters();
  assert.ok(grew(before, after, 'twcc_in'), 'the server read Bob\'s feedback');
  assert.ok(grew(before, after, 'probes'), 'and probed before going up again');

  // 60 kbit/s: not even the low encoding fits; the tile says so
  limit(port, 60);
  await waitFor(bob, 'the tile says the video is paused for bandwidth',
    () => document.querySelector('.tile[data-paused="bandwidth"] .paused-note') !== null, null, SETTLE_MS);
  const paused = await latestSample(bob);
  await new Promise((r) => { setTimeout(r, 3_000); });
  const still = await latestSample(bob);
  assert.ok(still.audio - paused.audio > 50, 'the voice goes on while the video is paused');
  unlimit();
  await waitFor(bob, 'the pause ends once the link is back',
    () => document.querySelector('.tile[data-paused]') === null, null, BACK_MS);
});
