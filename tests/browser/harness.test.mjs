// The browser tests' own helpers, tested: waitFor() waits for what it is
// told, whether the predicate is async or not, and refuses a plain
// function that returns a promise (which page.waitForFunction() would
// take as true at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, waitFor } from './lib.mjs';

test('waitFor waits, sync or async, and refuses a hidden promise', { timeout: 60_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'harness');
  await page.setContent('<p id="later"></p>');

  // a condition that turns true later
  await page.evaluate(() => setTimeout(() => { window.ready = 42; }, 300));
  assert.equal(await waitFor(page, 'async, later', async () => window.ready, undefined, 5000), 42);
  const handle = await waitFor(page, 'sync', () => document.getElementById('later'), undefined, 5000);
  assert.ok(handle);

  // an async predicate that never holds times out, after its time
  const started = Date.now();
  await assert.rejects(waitFor(page, 'never', async () => false, undefined, 1000), /timed out after 1000 ms/);
  assert.ok(Date.now() - started >= 1000, 'it waited');

  await assert.rejects(waitFor(page, 'a hidden promise', () => Promise.resolve(false), undefined, 2000),
                       /declare it async/);
});
