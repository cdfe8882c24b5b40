// Shared helpers for parley's browser tests (run with `node --test`).
//
// The browser is Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core; nothing here ever downloads a browser. Every browser
// launched gets a fresh temporary profile (user-data-dir) that Playwright
// creates under $TMPDIR and removes when the browser closes; run.sh also
// points TMPDIR at its own temporary directory, which it deletes at the end.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Base URL of the parley server under test (run.sh sets it).
export const BASE_URL = (process.env.PARLEY_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

// Where screenshots taken on failure go.
export const ARTIFACTS = process.env.PARLEY_ARTIFACTS || join(tmpdir(), 'parley-browser-artifacts');

export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';

// Default time a single wait may take.
export const WAIT_MS = Number(process.env.PARLEY_WAIT_MS || 10_000);

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

// Launch Debian's Chromium headless with fake media devices.
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
    ...options,
  });
}

// A page in its own browser context (its own cookies and storage: one
// context per simulated person). page.parleyLog collects console errors and
// uncaught page errors, so that failures can show them.
export async function newPage(browser, label = 'page') {
  const context = await browser.newContext({
    viewport: { width: 1000, height: 760 },
    permissions: ['camera', 'microphone'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  // a page load on a loaded 2-core machine once took over 10 s (beside
  // another make test and more browsers): a functional deadline, not a
  // figure
  page.setDefaultNavigationTimeout(3 * WAIT_MS);
  page.parleyLabel = label;
  page.parleyLog = [];
  page.parleyErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') page.parleyLog.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    page.parleyErrors.push(String(e && e.stack || e));
    page.parleyLog.push(`pageerror: ${e}`);
  });
  return page;
}

let shots = 0;

// Save a screenshot of the page and gather what it shows, for an error message.
export async function diagnose(page, why) {
  const lines = [`[${page.parleyLabel}] ${why}`];
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${process.pid}-${++shots}-${page.parleyLabel}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
    lines.push(`  screenshot: ${file}`);
  } catch (e) {
    lines.push(`  (no screenshot: ${e.message.split('\n')[0]})`);
  }
  try {
    const info = await page.evaluate(() => ({
      url: location.href,
      state: document.body && document.body.dataset.state,
      error: document.getElementById('error')?.textContent || '',
      status: document.getElementById('status')?.textContent || '',
    }));
    lines.push(`  url: ${info.url}`, `  state: ${info.state}`,
      `  #error: ${JSON.stringify(info.error)}`, `  #status: ${JSON.stringify(info.status)}`);
  } catch (e) {
    lines.push(`  (page not readable: ${e.message.split('\n')[0]})`);
  }
  for (const l of page.parleyLog.slice(-10)) lines.push(`  ${l}`);
  return lines.join('\n');
}

// Wait until fn(arg) is truthy in the page; on timeout, throw an error that
// says what was awaited, with a screenshot path and the page's #error text.
export async function waitFor(page, what, fn, arg, timeout = WAIT_MS) {
  if (fn.constructor.name === 'AsyncFunction') return waitForAsync(page, what, fn, arg, timeout);
  let handle;
  try {
    handle = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Error(await diagnose(page, `timed out after ${timeout} ms waiting for ${what}: ${e.message.split('\n')[0]}`));
  }
  // A plain function that returns a promise passes at once: the promise is
  // truthy, and what it then resolves to, perhaps false, is the result.
  if (await handle.evaluate((v) => !v)) {
    throw new Error(`waitFor(${what}): the predicate returned a promise of a falsy value; declare it async`);
  }
  return handle;
}

// An async fn: page.waitForFunction() would take the promise it returns
// for a truthy value and return at once, so poll from here; resolves to
// fn's truthy value itself (not a handle).
async function waitForAsync(page, what, fn, arg, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(await diagnose(page, `timed out after ${timeout} ms waiting for ${what}`));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Wait for document.body.dataset.state to become `state`. Gives up early
// when the page ends up "disconnected" or "closed" instead.
export async function waitForState(page, state, timeout = WAIT_MS) {
  const handle = await waitFor(page, `state "${state}"`, (s) => {
    const now = document.body && document.body.dataset.state;
    return (now === s || now === 'disconnected' || now === 'closed') && now;
  }, state, timeout);
  const reached = await handle.jsonValue();
  if (reached !== state) {
    throw new Error(await diagnose(page, `waiting for state "${state}", the page went "${reached}"`));
  }
}

// Wait until the roster has exactly n entries.
export function waitForRosterSize(page, n, timeout = WAIT_MS) {
  return waitFor(page, `a roster of ${n}`,
    (k) => document.querySelectorAll('#roster > li').length === k, n, timeout);
}

// The roster as the page shows it.
export function readRoster(page) {
  return page.$$eval('#roster > li', (lis) => lis.map((li) => ({
    id: li.dataset.id,
    name: li.querySelector('.name')?.textContent ?? '',
    role: li.dataset.role,
    you: li.dataset.you === 'true',
    text: li.textContent.replace(/\s+/g, ' ').trim(),
  })));
}

// Open the app (optionally with a join link), fill the form and press #start.
export async function enter(page, url, name, email) {
  // always a fresh page load, hence a new signaling connection: a link
  // that differs from the current address only in its fragment would
  // otherwise keep the page, and its connection, as they are
  await page.goto('about:blank');
  await page.goto(url, { waitUntil: 'load' });
  await waitForState(page, 'idle');
  await page.fill('#name', name);
  if (email) await page.fill('#email', email);
  await page.click('#start');
  await waitForState(page, 'in-room');
}

// In the page: window.signal(place) opens the signaling WebSocket and
// waits for "hello". place.worker / place.avoid: reconnect until the
// connection lands on (or away from) that nginx worker, as a load balancer
// might place it. The client keeps a queue of messages: next(type) takes
// the first of that type (an "error" instead throws); onmessage(f) hands
// every later message to f instead.
export const SIGNAL_CLIENT = `
  window.signal = async (place = {}) => {
    const open = async () => {
      const ws = new WebSocket('ws://' + location.host + '/ws');
      const queue = [];
      let wake = null;
      ws.onmessage = (e) => { queue.push(JSON.parse(e.data)); if (wake) wake(); };
      await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
      const next = async (type, ms = 10000) => {
        const end = Date.now() + ms;
        for (;;) {
          const i = queue.findIndex((m) => m.type === type || m.type === 'error');
          if (i >= 0) {
            const m = queue.splice(i, 1)[0];
            if (m.type === 'error') throw new Error('server error: ' + JSON.stringify(m));
            return m;
          }
          if (Date.now() > end) throw new Error('no ' + type);
          await new Promise((r) => { wake = r; setTimeout(r, 100); });
        }
      };
      const hello = await next('hello');
      return { ws, queue, next, hello, send: (m) => ws.send(JSON.stringify(m)),
               onmessage: (f) => { ws.onmessage = (e) => f(JSON.parse(e.data)); } };
    };
    for (let i = 0; i < 60; i++) {
      const c = await open();
      const w = c.hello.worker;
      if ((place.worker === undefined || w === place.worker)
          && (place.avoid === undefined || w !== place.avoid)) return c;
      c.ws.close();
    }
    throw new Error('no connection landed where asked: ' + JSON.stringify(place));
  };
`;

// The status page's counters: sum[name] over every worker's line, and
// worker[pid][name] for each worker (name without "parley_" and "_total").
// The files run one at a time (run.sh), so a difference of two readings
// taken around an action is what that action did.
export async function readCounters() {
  const res = await fetch(`${BASE_URL}/status`);
  if (!res.ok) throw new Error(`/status answered ${res.status}`);
  const text = await res.text();
  const sum = {}, worker = {};
  for (const m of text.matchAll(/^parley_(\w+)_total\{pid="(\d+)"[^}]*\} (\d+)$/gm)) {
    const [, name, pid, value] = m;
    sum[name] = (sum[name] || 0) + Number(value);
    (worker[pid] ||= {})[name] = Number(value);
  }
  if (Object.keys(sum).length === 0) throw new Error('/status has no counters');
  return { sum, worker };
}

// How much counter `name` grew from `before` to `after`, over all workers.
export function grew(before, after, name) {
  if (!(name in after.sum)) throw new Error(`/status has no parley_${name}_total`);
  return after.sum[name] - (before.sum[name] || 0);
}

// The same per worker of `after`: a worker started in between (a respawn)
// counts from zero.
export function grewPerWorker(before, after, name) {
  return Object.entries(after.worker).map(([pid, c]) =>
    (c[name] || 0) - ((before.worker[pid] || {})[name] || 0));
}

// Calls fn() until what it returns has ok set, for at most ms; returns
// the last result either way, for the assertion to show.
export async function pollUntil(fn, ms = WAIT_MS, every = 250) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v.ok || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

// Polls fn() in this process (it may look at pages) until it returns
// true, for at most ms; fails with what it waited for and the page.
export async function until(page, what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(await diagnose(page, `timed out after ${ms} ms: ${what}`));
    await new Promise((r) => { setTimeout(r, 200); });
  }
}

// Keeps the page's peer connections in window.pcs, and samples what its
// video and audio receivers decode every 100 ms into window.samples.
export function watchMedia(page) {
  return page.addInitScript(() => {
    const Pc = window.RTCPeerConnection;
    window.pcs = [];
    window.RTCPeerConnection = class extends Pc {
      constructor(...args) {
        super(...args);
        window.pcs.push(this);
      }
    };
    window.samples = [];
    setInterval(async () => {
      const at = Date.now();
      let frames = 0; let width = 0; let audio = 0;
      for (const pc of window.pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') {
            frames += s.framesDecoded || 0;
            width = Math.max(width, s.frameWidth || 0);
          } else if (s.kind === 'audio') {
            audio += s.packetsReceived || 0;
          }
        });
      }
      window.samples.push({ at, frames, width, audio });
      if (window.samples.length > 3000) window.samples.shift();
    }, 100);
  });
}

// The local port of the page's connection that receives video.
export async function receivingPort(page) {
  return page.evaluate(async () => {
    for (const pc of window.pcs) {
      if (!pc.getReceivers().some((r) => r.track.kind === 'video')) continue;
      if (!pc.getTransceivers().some((t) => t.direction === 'recvonly')) continue;
      const stats = await pc.getStats();
      let port = 0;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = stats.get(s.selectedCandidatePairId);
          const local = pair && stats.get(pair.localCandidateId);
          if (local) port = local.port;
        }
      });
      if (port) return port;
    }
    return 0;
  });
}

export const latestSample = (page) => page.evaluate(() => window.samples[window.samples.length - 1] || null);

// The longest time, from "since", that no frame was decoded.
export async function longestFreeze(page, since) {
  return page.evaluate((from) => {
    const s = window.samples.filter((x) => x.at >= from);
    let longest = 0; let last = s.length ? s[0] : null;
    for (const x of s) {
      if (x.frames > last.frames) last = x;
      else longest = Math.max(longest, x.at - last.at);
    }
    return longest;
  }, since);
}
