// Forwarding within one worker: a browser publishes camera and microphone,
// a second browser in the same conversation, held by the same nginx worker,
// subscribes and decodes both. (Across workers: conference.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose, readCounters, grew } from './lib.mjs';

test('a subscriber on the publisher\'s worker decodes its audio and video', { timeout: 90_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const alice = await newPage(browser, 'publisher');
  const bob = await newPage(browser, 'subscriber');
  for (const page of [alice, bob]) {
    await page.goto(`${BASE_URL}/`);
    await page.evaluate(SIGNAL_CLIENT);
  }

  const published = await alice.evaluate(async () => {
    const c = await window.signal();
    window.alice = c;
    c.send({ type: 'create', name: 'Alice' });
    const created = await c.next('created');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
    window.alicePc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    c.send({ type: 'publish', sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: (await c.next('publish-answer')).sdp });
    const end = Date.now() + 15000;
    while (pc.connectionState !== 'connected' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    return { room: created.room, worker: c.hello.worker, state: pc.connectionState };
  }).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(alice, 'publish')}`); });
  assert.equal(published.state, 'connected', 'the publisher connects');

  // the keyframe asked for the subscriber, not the ones of earlier files
  const before = await readCounters();
  const result = await bob.evaluate(async ({ room, worker }) => {
    const c = await window.signal({ worker });
    c.send({ type: 'join', room, name: 'Bob' });
    await c.next('joined');
    c.send({ type: 'subscribe' });
    const offer = await c.next('subscribe-offer');
    const pc = new RTCPeerConnection();
    const kinds = [];
    pc.ontrack = (e) => kinds.push(e.track.kind);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    c.send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp });
    const end = Date.now() + 15000;
    while (pc.connectionState !== 'connected' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const state = pc.connectionState;
    let frames = 0, audio = 0;
    const until = Date.now() + 10000;
    while (Date.now() < until && (frames < 10 || audio < 20)) {
      await new Promise((r) => setTimeout(r, 250));
      frames = 0; audio = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.packetsReceived || 0;
      });
    }
    return { state, kinds: kinds.sort(), frames, audio, offer: offer.sdp };
  }, published).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(bob, 'subscribe')}`); });

  t.diagnostic(`subscriber decoded ${result.frames} video frames, received ${result.audio} audio packets`);
  assert.equal(result.state, 'connected', 'the subscriber connects');
  assert.deepEqual(result.kinds, ['audio', 'video'], 'one audio and one video track arrive');
  assert.match(result.offer, /^a=setup:actpass\r?$/m, 'the server offers with a=setup:actpass');
  const after = await readCounters();
  const plis = grew(before, after, 'plis_sent');
  const asked = await alice.evaluate(async () => {
    let n = 0;
    (await window.alicePc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') n += s.pliCount || 0;
    });
    return n;
  });
  t.diagnostic(`PLIs: ${plis} sent by the server, ${asked} received by the publisher`);
  // before the frames: without a keyframe no frame is decoded
  assert.ok(plis >= 1, 'the server asked the publisher for a keyframe');
  assert.ok(asked >= 1, 'the publisher was asked for a keyframe');
  assert.ok(result.audio >= 20, `audio packets arrive (${result.audio})`);
  assert.ok(result.frames >= 10, `video frames are decoded (${result.frames})`);
});
