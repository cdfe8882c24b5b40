// The web app comes back by itself (docs/protocol.md, resume): when the
// nginx worker that holds a participant is killed, that page reconnects,
// resumes its place and has media again, and the others never see it
// leave; through reloads of nginx, everyone stays in the call and the
// media keeps flowing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE_URL, launchBrowser, newPage, diagnose, enter, waitFor, waitForState } from './lib.mjs';

// How long the media may take to come back after the worker died: a
// functional deadline for a loaded machine; the time it takes is reported
// (and kept in docs/performance.md), not asserted.
const BACK_MS = 15_000;

const PID_FILE = process.env.PARLEY_NGINX_PID_FILE;

// A tile of that participant shows moving video; resolves to when, as
// the page saw it (the same clock as this process's). After
// forgetStreams(), only video decoded from a stream the page did not
// receive then counts (a section may be reused for the same track, so its
// tile keeps its track object, but a new leg comes with a new SSRC), the
// time is when its first decoded frame was seen, and window.back[p] notes
// when its first packet was.
async function videoMoves(page, what, participant, timeout = 20_000) {
  return waitFor(page, what, async (p) => {
    const v = document.querySelector(`.tile[data-participant="${p}"][data-kind="video"] video`);
    if (!v || !v.srcObject) return false;
    let back = null;
    if (window.before) {
      back = (window.back[p] ||= {});
      const mid = v.closest('.tile').dataset.mid;
      for (const pc of window.pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'video' || s.mid !== mid
              || window.before.has(s.ssrc)) return;
          if (s.packetsReceived > 0) back.packet ||= Date.now();
          if (s.framesDecoded > 0) back.frame ||= Date.now();
        });
      }
      if (!back.frame) return false;
    }
    if (v.videoWidth === 0) return false;
    const track = v.srcObject.getTracks()[0];
    if (v.dataset.track !== track.id) {
      v.dataset.track = track.id;
      v.dataset.seen = String(v.currentTime);
      return false;
    }
    if (v.currentTime <= Number(v.dataset.seen)) return false;
    return back ? back.frame : Date.now();
  }, participant, timeout);
}

// From now on, videoMoves() wants video of streams the page does not
// receive yet.
function forgetStreams(page) {
  return page.evaluate(async () => {
    window.before = new Set();
    window.back = {};
    for (const pc of window.pcs) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') window.before.add(s.ssrc);
      });
    }
    for (const v of document.querySelectorAll('.tile video')) delete v.dataset.track;
  });
}

// Before a page loads: note when its signaling connection opens and
// closes, which messages arrive, its peer connections' states and the
// app's, in window.trace, to tell where the time of a resume goes; keep
// its peer connections in window.pcs (for forgetStreams()).
function traceResume(page) {
  return page.addInitScript(() => {
    window.trace = [];
    const note = (what) => window.trace.push([Date.now(), what]);
    const Ws = window.WebSocket;
    window.WebSocket = class extends Ws {
      constructor(...args) {
        super(...args);
        note('ws connecting');
        this.addEventListener('open', () => note('ws open'));
        this.addEventListener('close', (e) => note(`ws closed ${e.code}`));
        this.addEventListener('message', (e) => {
          let m;
          try { m = JSON.parse(e.data); } catch { return; }
          if (!m || m.type === 'speaker' || m.type === 'pong') return;
          const more = m.code || m.id || m.participant?.id || '';
          note(`got ${m.type}${more ? ` ${more}` : ''}`);
        });
      }
    };
    const Pc = window.RTCPeerConnection;
    window.pcs = [];
    window.RTCPeerConnection = class extends Pc {
      constructor(...args) {
        super(...args);
        const k = window.pcs.push(this);
        note(`pc${k} new`);
        this.addEventListener('connectionstatechange', () => note(`pc${k} ${this.connectionState}`));
        this.addEventListener('iceconnectionstatechange', () => note(`pc${k} ice ${this.iceConnectionState}`));
      }
    };
    new MutationObserver(() => note(`state ${document.body.dataset.state}`))
      .observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
}

// The trace of a page from `since`, as "+ms what" lines.
async function traceSince(page, since) {
  const trace = await page.evaluate(() => window.trace);
  return trace.filter(([at]) => at >= since).map(([at, what]) => `+${at - since} ${what}`).join(', ');
}

const idOf = (page) => page.$eval('#roster li[data-you="true"]', (li) => li.dataset.id);
const workerOf = (page) => page.evaluate(() => Number(document.body.dataset.worker));

// Every worker's pid by its number, from the status page.
async function workerPids(page) {
  const status = await page.evaluate(async () => (await fetch('/status')).text());
  const pids = {};
  for (const m of status.matchAll(/^parley_sessions_opened_total\{pid="(\d+)",inbox="\d+",worker="(\d+)"\}/gm)) {
    pids[m[2]] = Number(m[1]);
  }
  return pids;
}

// In a page: count the times the app goes "reconnecting".
function countMoves(page) {
  return page.evaluate(() => {
    window.moves = 0;
    new MutationObserver(() => {
      if (document.body.dataset.state === 'reconnecting') window.moves++;
    }).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  });
}

// Resolves once the page went reconnecting more than n times in all and
// is in the room again.
function movedBack(page, what, n, timeout = 20_000) {
  return waitFor(page, what, (k) => window.moves > k
    && document.body.dataset.state === 'in-room', n, timeout);
}

// In a page: note if the roster ever lacks someone, or a leave is shown.
function watchRoster(page, id) {
  return page.evaluate((who) => {
    window.sawLeave = false;
    window.rosterWatch = setInterval(() => {
      if (!document.querySelector(`#roster li[data-id="${who}"]`)) window.sawLeave = true;
    }, 20);
  }, id);
}

async function noErrors(pages) {
  for (const p of pages) {
    if (p.parleyErrors.length) assert.fail(await diagnose(p, `page errors: ${p.parleyErrors.join('; ')}`));
  }
}

test('a participant whose worker is killed comes back with media, and nobody sees them leave', { timeout: 240_000 }, async (t) => {
  assert.ok(PID_FILE, 'run.sh tells where the nginx pid is (PARLEY_NGINX_PID_FILE)');
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const alice = await newPage(browser, 'resume-alice');
  await traceResume(alice);
  await enter(alice, `${BASE_URL}/`, 'Alice', '');
  const link = await alice.getAttribute('#join-link', 'href');
  const home = await workerOf(alice);

  // Bob with Alice, Carol on the other worker (a new page load is a new
  // connection, which the kernel places anew)
  const bob = await newPage(browser, 'resume-bob');
  await traceResume(bob);
  await enter(bob, link, 'Bob', '');
  const carol = await newPage(browser, 'resume-carol');
  await traceResume(carol);
  for (let i = 0; ; i++) {
    await enter(carol, link, 'Carol', '');
    if (await workerOf(carol) !== home) {
      t.diagnostic(`Carol on the other worker at page load ${i + 1}`);
      break;
    }
    assert.ok(i < 30, 'Carol never landed on the other worker');
    await carol.click('#leave');
    await waitForState(carol, 'idle');
  }
  const [a, b, c] = [await idOf(alice), await idOf(bob), await idOf(carol)];
  t.diagnostic(`Alice ${a}, Bob ${b}, Carol ${c}`);

  for (const [page, who] of [[alice, c], [bob, c], [carol, a], [carol, b]]) {
    await videoMoves(page, `${page.parleyLabel} sees ${who}`, who);
  }
  await watchRoster(alice, c);
  await watchRoster(bob, c);
  await countMoves(carol);
  for (const page of [alice, bob, carol]) await forgetStreams(page);

  // Carol's worker dies
  const pids = await workerPids(alice);
  const victim = pids[await workerOf(carol)];
  assert.ok(victim, `the status page names Carol's worker: ${JSON.stringify(pids)}`);
  const killed = Date.now();
  process.kill(victim, 'SIGKILL');

  await movedBack(carol, 'Carol reconnected', 0);
  t.diagnostic(`Carol resumed ${Date.now() - killed} ms after the kill`);
  let back;
  try {
    back = await Promise.all([
      videoMoves(carol, 'Carol sees Alice again', a),
      videoMoves(carol, 'Carol sees Bob again', b),
      videoMoves(alice, 'Alice sees Carol again', c),
      videoMoves(bob, 'Bob sees Carol again', c),
    ]);
  } finally {
    t.diagnostic(`Carol's page: ${await traceSince(carol, killed)}`);
    t.diagnostic(`Alice's page: ${await traceSince(alice, killed)}`);
    t.diagnostic(`Bob's page: ${await traceSince(bob, killed)}`);
  }
  const took = Math.max(...back) - killed;
  t.diagnostic(`each way: ${back.map((x) => x - killed).join(', ')} ms`);
  const packets = [];
  for (const [page, who] of [[carol, a], [carol, b], [alice, c], [bob, c]]) {
    packets.push(await page.evaluate((p) => window.back[p].packet, who) - killed);
  }
  t.diagnostic(`first packets of the new streams seen: ${packets.join(', ')} ms`);
  t.diagnostic(`media back both ways ${took} ms after the kill`);
  assert.ok(took <= BACK_MS, `Carol is back with media (${took} ms after the kill)`);
  for (const page of [alice, bob, carol]) {
    const errors = (await traceSince(page, killed)).split(', ').filter((e) => / got error/.test(e));
    assert.deepEqual(errors, [], `${page.parleyLabel} got no error from the server`);
  }

  for (const page of [alice, bob]) {
    assert.equal(await page.evaluate(() => window.sawLeave), false,
                 `${page.parleyLabel} never saw Carol leave`);
  }
  assert.equal(await carol.$eval('#roster li[data-you="true"]', (li) => li.dataset.id), c,
               'Carol has her id back');
  await noErrors([alice, bob, carol]);
});

// A reconnection can land on a worker that will not answer for a while
// (its predecessor has just died and the new one is slow to come, or a
// load balancer's choice): the app gives it up for another instead of
// waiting on it. Here the page's second connection is accepted and never
// answered.
test('a reconnection that nobody greets is given up for another', { timeout: 60_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'unanswered');
  const opened = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    opened.push(ws);
    if (opened.length !== 2) ws.connectToServer();
  });

  await enter(page, `${BASE_URL}/`, 'Una', '');
  const id = await idOf(page);
  await countMoves(page);
  assert.equal(opened.length, 1);

  // the connection drops; the next one is never greeted
  await opened[0].close({ code: 1001, reason: 'going away' });
  await movedBack(page, 'Una back in her place', 0, 20_000);
  t.diagnostic(`connections opened: ${opened.length}`);
  assert.ok(opened.length >= 3, `a third connection after the silent one (${opened.length})`);
  assert.equal(await idOf(page), id, 'the same participant');
  await noErrors([page]);
});

// The connection drops while the browser is still opening the camera (a
// permission prompt, a slow device): after the resume the camera is
// opened once and published once, on the new connection; before, the
// resume opened it a second time and the first stream was never stopped.
test('a drop while the camera opens: one camera, one publish', { timeout: 60_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'slow-camera');
  await page.addInitScript(() => {
    if (!navigator.mediaDevices) return;     // about:blank
    const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    window.opened = [];
    window.held = [];
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await open(constraints);
      window.opened.push(stream);
      await new Promise((resolve) => window.held.push(resolve));
      return stream;
    };
  });
  const routes = [];
  const publishes = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    routes.push(ws);
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      try { if (JSON.parse(m).type === 'publish') publishes.push(routes.length); } catch { /* not JSON */ }
      server.send(m);
    });
  });

  await enter(page, `${BASE_URL}/`, 'Slow', '');
  await countMoves(page);
  await waitFor(page, 'the camera being opened', () => window.held.length === 1);

  await routes[0].close({ code: 1001, reason: 'going away' });
  await movedBack(page, 'back in the conversation', 0, 20_000);
  await page.evaluate(() => { for (const release of window.held) release(); });
  await waitFor(page, 'its own picture', () => document.querySelector('.tile[data-kind="self"] video'));
  const deadline = Date.now() + 10_000;
  while (publishes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

  t.diagnostic(`cameras opened: ${await page.evaluate(() => window.opened.length)}, publishes on connections ${JSON.stringify(publishes)}`);
  assert.equal(await page.evaluate(() => window.opened.length), 1, 'the camera opened once');
  assert.deepEqual(publishes, [routes.length], 'one publish, on the new connection');
  assert.equal(await page.evaluate(() => window.opened[0].getTracks().every((track) => track.readyState === 'live')),
               true, 'the camera in use is the one opened');
  await noErrors([page]);
});

test('fifty reloads of nginx during a call: everyone stays, media keeps flowing', { timeout: 600_000 }, async (t) => {
  assert.ok(PID_FILE, 'run.sh tells where the nginx pid is (PARLEY_NGINX_PID_FILE)');
  const reloads = Number(process.env.PARLEY_RELOADS || 50);
  const master = Number(readFileSync(PID_FILE, 'utf8'));
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const alice = await newPage(browser, 'reload-alice');
  const bob = await newPage(browser, 'reload-bob');
  for (const page of [alice, bob]) await traceResume(page);
  await enter(alice, `${BASE_URL}/`, 'Alice', '');
  await enter(bob, await alice.getAttribute('#join-link', 'href'), 'Bob', '');
  const [a, b] = [await idOf(alice), await idOf(bob)];
  await videoMoves(alice, 'Alice sees Bob', b);
  await videoMoves(bob, 'Bob sees Alice', a);
  await watchRoster(alice, b);
  await watchRoster(bob, a);

  const moved = (page) => page.evaluate(() => window.moves);
  await countMoves(alice);
  await countMoves(bob);

  for (let i = 1; i <= reloads; i++) {
    const check = i % 10 === 0 || i === reloads;
    if (check) for (const page of [alice, bob]) await forgetStreams(page);
    const before = [await moved(alice), await moved(bob)];
    process.kill(master, 'SIGHUP');
    for (const [k, page] of [alice, bob].entries()) {
      await movedBack(page, `${page.parleyLabel} moved by reload ${i}`, before[k]);
    }
    if (check) {
      await videoMoves(alice, `Alice sees Bob after reload ${i}`, b);
      await videoMoves(bob, `Bob sees Alice after reload ${i}`, a);
    }
  }

  for (const page of [alice, bob]) {
    assert.equal(await page.evaluate(() => window.sawLeave), false,
                 `${page.parleyLabel} never saw the other leave`);
    assert.ok(await moved(page) >= reloads, `${page.parleyLabel} was moved at every reload`);
  }

  // the old workers are gone: two inbox slots held, as many as workers
  await waitFor(alice, 'the old workers gone', async () => {
    const s = await (await fetch('/status')).text();
    return /^parley_workers 2$/m.test(s);
  }, undefined, 20_000);
  await noErrors([alice, bob]);
});
