// A subscriber receives at most 64 sections (docs/protocol.md, subscribe):
// nine participants publish 8 microphones each, 72 tracks; the
// subscriber's offer has 64 sections, each named in "tracks", and the
// browser's answer to it is taken: the connection comes up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose } from './lib.mjs';

const PUBLISHERS = 9;
const TRACKS_EACH = 8;       // run.sh: parley_max_participant_tracks 8
const MOST = 64;

test('a subscriber receives at most 64 sections', { timeout: 90_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'sections');
  await page.goto(`${BASE_URL}/`);
  await page.evaluate(SIGNAL_CLIENT);

  const result = await page.evaluate(async ({ publishers, each }) => {
    const organiser = await window.signal();
    organiser.send({ type: 'create', name: 'Organiser' });
    const room = (await organiser.next('created')).room;

    // microphones without a device: a silent tone, cloned per track
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const out = audio.createMediaStreamDestination();
    tone.connect(out);
    tone.start();
    const mic = out.stream.getAudioTracks()[0];

    const published = [];
    for (let p = 0; p < publishers; p++) {
      const c = await window.signal();
      c.send({ type: 'join', room, name: `Publisher ${p}` });
      const id = (await c.next('joined')).you.id;
      const pc = new RTCPeerConnection();
      for (let i = 0; i < each; i++) pc.addTransceiver(mic.clone(), { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      c.send({ type: 'publish', sdp: pc.localDescription.sdp });
      // the tracks are published with the answer; no media needs to flow
      await c.next('publish-answer');
      published.push(id);
    }

    const c = await window.signal();
    c.send({ type: 'join', room, name: 'Subscriber' });
    await c.next('joined');
    c.send({ type: 'subscribe' });
    const offer = await c.next('subscribe-offer', 20000);
    const pc = new RTCPeerConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    c.send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp });

    const end = Date.now() + 20000;
    while (pc.connectionState !== 'connected' && pc.connectionState !== 'failed' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const errors = c.queue.filter((m) => m.type === 'error');
    return {
      sections: (offer.sdp.match(/^m=/gm) || []).length,
      mids: new Set(offer.tracks.map((x) => x.mid)).size,
      tracks: offer.tracks.length,
      fromPublishers: offer.tracks.every((x) => published.includes(x.participant)),
      state: pc.connectionState,
      errors,
    };
  }, { publishers: PUBLISHERS, each: TRACKS_EACH })
    .catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(page, 'sections')}`); });

  t.diagnostic(`${PUBLISHERS * TRACKS_EACH} tracks published: ${JSON.stringify(result)}`);
  assert.equal(result.sections, MOST, `the offer has ${MOST} sections`);
  assert.equal(result.tracks, MOST, 'each names a track');
  assert.equal(result.mids, MOST, 'of its own section');
  assert.ok(result.fromPublishers, 'every track is a publisher\'s');
  assert.deepEqual(result.errors, [], 'the answer is taken without an error');
  assert.equal(result.state, 'connected', 'the subscribe connection comes up');
});
