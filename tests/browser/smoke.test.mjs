// Smoke test: two people meet in a conversation through the bundled web app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL, launchBrowser, newPage, diagnose, enter, readRoster,
  waitForRosterSize, waitForState,
} from './lib.mjs';

test('an organiser starts a conversation, a guest joins by link and leaves', { timeout: 90_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const alice = await newPage(browser, 'alice');
  const bob = await newPage(browser, 'bob');

  // Fail with a screenshot and the page's #error text, not just a diff.
  const check = async (page, what, fn) => {
    try { await fn(); } catch (e) { throw new Error(`${what}\n${e.message}\n${await diagnose(page, what)}`); }
  };

  // Alice starts a conversation.
  await enter(alice, `${BASE_URL}/`, 'Alice');
  const room = (await alice.textContent('#room-id')).trim();
  const link = await alice.getAttribute('#join-link', 'href');
  await check(alice, 'room id and join link', async () => {
    assert.match(room, /^\S+$/, 'room id is shown');
    // the id in the fragment: no request, so no server log, carries it
    assert.equal(link, `${BASE_URL}/#room=${encodeURIComponent(room)}`);
    assert.equal((await alice.textContent('#join-link')).trim(), link);
    assert.equal(await alice.isVisible('#end'), true, 'the organiser sees "End for everyone"');
  });

  // Bob opens the join link.
  await bob.goto(link);
  await waitForState(bob, 'idle');
  await check(bob, 'join button', async () => {
    assert.equal((await bob.textContent('#start')).trim(), 'Join conversation');
  });
  await bob.fill('#name', 'Bob');
  await bob.click('#start');
  await waitForState(bob, 'in-room');
  await check(bob, 'room id on the guest page', async () => {
    assert.equal((await bob.textContent('#room-id')).trim(), room);
    assert.equal(await bob.isVisible('#end'), false, 'only the organiser sees "End for everyone"');
  });

  // Both rosters show both people, Alice as the organiser.
  await waitForRosterSize(alice, 2);
  await waitForRosterSize(bob, 2);
  for (const [page, self] of [[alice, 'Alice'], [bob, 'Bob']]) {
    const roster = await readRoster(page);
    await check(page, `roster of ${self}`, async () => {
      assert.deepEqual(roster.map((p) => p.name).sort(), ['Alice', 'Bob']);
      const a = roster.find((p) => p.name === 'Alice');
      const b = roster.find((p) => p.name === 'Bob');
      assert.equal(a.role, 'organiser');
      assert.equal(b.role, 'participant');
      assert.notEqual(a.id, b.id);
      assert.deepEqual(roster.filter((p) => p.you).map((p) => p.name), [self], '"(you)" marks exactly oneself');
      assert.match(roster.find((p) => p.you).text, /\(you\)/);
    });
  }

  // Bob leaves; Alice's roster goes back to one.
  await bob.click('#leave');
  await waitForState(bob, 'idle');
  await waitForRosterSize(alice, 1);
  const after = await readRoster(alice);
  await check(alice, 'roster after Bob left', async () => {
    assert.deepEqual(after.map((p) => [p.name, p.role, p.you]), [['Alice', 'organiser', true]]);
    assert.equal(await alice.getAttribute('body', 'data-state'), 'in-room');
    assert.equal(await alice.isVisible('#error'), false, 'no error shown');
  });

  for (const page of [alice, bob]) {
    assert.deepEqual(page.parleyErrors, [], `no uncaught errors on ${page.parleyLabel}'s page`);
  }
});
