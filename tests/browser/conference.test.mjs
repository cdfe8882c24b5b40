// A conversation through parley across both nginx workers: three browsers
// see and hear each other, a fourth joins mid-call, one shares a screen,
// one leaves and the others see its tracks end; whoever talks is
// announced as the active speaker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose, readCounters, grew, grewPerWorker } from './lib.mjs';

// In the page: a participant that publishes camera and microphone,
// subscribes, and answers every subscribe-offer the server sends.
const CLIENT = `
  window.parley = async ({ create, room, name, worker, avoid }) => {
    const c = await window.signal({ worker, avoid });

    if (create) c.send({ type: 'create', name });
    else c.send({ type: 'join', room, name });
    const entered = await c.next(create ? 'created' : 'joined');

    const me = {
      c, worker: c.hello.worker, room: entered.room, id: entered.you.id,
      tracks: {}, offers: 0, ended: [], log: [],
    };
    window.me = me;

    // the microphone is a tone the test turns on and off: who "speaks"
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    const mic = audio.createMediaStreamDestination();
    gain.gain.value = 0;
    tone.frequency.value = 300;
    tone.connect(gain).connect(mic);
    tone.start();
    await audio.resume();
    stream.addTrack(mic.stream.getAudioTracks()[0]);
    const pub = new RTCPeerConnection();
    me.pub = pub;
    for (const track of stream.getTracks()) pub.addTransceiver(track, { direction: 'sendonly' });
    me.publish = async (screen) => {
      await pub.setLocalDescription(await pub.createOffer());
      c.send({ type: 'publish', sdp: pub.localDescription.sdp, screen });
      const answer = await c.next('publish-answer');
      await pub.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    };
    await me.publish();

    const sub = new RTCPeerConnection();
    me.sub = sub;
    sub.ontrack = (e) => {
      const mid = e.transceiver.mid;
      e.track.onmute = () => me.ended.push(mid);
      e.streams.forEach((s) => { s.onremovetrack = () => me.ended.push(mid); });
    };

    // one offer at a time: the server waits for each answer
    let chain = Promise.resolve();
    const onOffer = (m) => {
      chain = chain.then(async () => {
        me.tracks = {};
        for (const t of m.tracks || []) me.tracks[t.mid] = t;
        await sub.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await sub.setLocalDescription(await sub.createAnswer());
        c.send({ type: 'subscribe-answer', sdp: sub.localDescription.sdp });
        me.offers++;
      }).catch((e) => me.log.push(String(e)));
    };
    for (const m of c.queue.splice(0)) if (m.type === 'subscribe-offer') onOffer(m);
    me.speakers = [];
    const other = (m) => {
      if (m.type === 'speaker') me.speakers.push(m.participant);
      else me.log.push(m.type);
    };
    c.onmessage((m) => { if (m.type === 'subscribe-offer') onOffer(m); else other(m); });
    c.send({ type: 'subscribe' });

    me.shareScreen = async () => {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const tr = pub.addTransceiver(screen.getVideoTracks()[0], { direction: 'sendonly' });
      await pub.setLocalDescription(await pub.createOffer());
      const answerNow = new Promise((r) => { me.publishAnswer = r; });
      c.onmessage((m) => {
        if (m.type === 'subscribe-offer') onOffer(m);
        else if (m.type === 'publish-answer') me.publishAnswer(m);
        else other(m);
      });
      c.send({ type: 'publish', sdp: pub.localDescription.sdp, screen: [tr.mid] });
      await pub.setRemoteDescription({ type: 'answer', sdp: (await answerNow).sdp });
    };

    // what arrives per publisher and kind: decoded frames, audio packets
    me.received = async () => {
      const out = {};
      (await sub.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        const t = me.tracks[s.mid];
        if (!t) return;
        const key = t.participant + '/' + t.kind;
        out[key] = (t.kind === 'audio') ? (s.packetsReceived || 0) : (s.framesDecoded || 0);
      });
      return out;
    };
    me.speak = (on) => { gain.gain.value = on ? 0.8 : 0; };
    return { worker: me.worker, room: me.room };
  };
`;

// Every other participant's audio and video (and screen, if listed) reach
// the page: audio packets and decoded frames grow.
async function waitForMedia(page, others, kinds, ms = 20000) {
  return page.evaluate(async ({ others, kinds, ms }) => {
    const end = Date.now() + ms;
    let first = null, now = {};
    const want = [];
    for (const o of others) for (const k of kinds) want.push(o + '/' + k);
    for (;;) {
      now = await window.me.received();
      if (!first && want.every((k) => k in now)) first = now;
      if (first && want.every((k) => now[k] >= first[k] + (k.endsWith('audio') ? 20 : 5))) {
        return { ok: true, now };
      }
      if (Date.now() > end) return { ok: false, now, tracks: window.me.tracks, log: window.me.log };
      await new Promise((r) => setTimeout(r, 250));
    }
  }, { others, kinds, ms });
}

async function idOf(page) {
  return page.evaluate(() => window.me.c.ws && window.me.id);
}

test('three, then four browsers talk across two workers; a screen share; one leaves', { timeout: 240_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const names = ['Alice', 'Bob', 'Carol', 'Daniel'];
  const pages = [];
  for (const n of names) {
    const p = await newPage(browser, n);
    await p.goto(`${BASE_URL}/`);
    await p.evaluate(SIGNAL_CLIENT);
    await p.evaluate(CLIENT);
    pages.push(p);
  }
  const [alice, bob, carol, daniel] = pages;
  const fail = async (page, e) => { throw new Error(`${e.message}\n${await diagnose(page, 'conference')}`); };

  const before = await readCounters();
  const a = await alice.evaluate((o) => window.parley(o), { create: true, name: 'Alice' }).catch((e) => fail(alice, e));
  const b = await bob.evaluate((o) => window.parley(o), { room: a.room, name: 'Bob', avoid: a.worker }).catch((e) => fail(bob, e));
  const c = await carol.evaluate((o) => window.parley(o), { room: a.room, name: 'Carol' }).catch((e) => fail(carol, e));
  t.diagnostic(`workers: Alice ${a.worker}, Bob ${b.worker}, Carol ${c.worker}`);
  assert.notEqual(a.worker, b.worker, 'the participants are spread over both workers');

  const ids = {};
  for (const [i, p] of [alice, bob, carol].entries()) ids[names[i]] = await idOf(p);
  assert.ok(ids.Alice && ids.Bob && ids.Carol, 'every participant knows its id');

  const three = [[alice, 'Alice'], [bob, 'Bob'], [carol, 'Carol']];
  for (const [p, n] of three) {
    const others = ['Alice', 'Bob', 'Carol'].filter((x) => x !== n).map((x) => ids[x]);
    const r = await waitForMedia(p, others, ['audio', 'video']);
    t.diagnostic(`${n} receives ${JSON.stringify(r.now)}`);
    assert.ok(r.ok, `${n} decodes video and receives audio from both others: ${JSON.stringify(r)}`);
  }

  // whoever talks is announced to everyone as the active speaker
  const speakerIs = (p, id) => p.evaluate(async (id) => {
    const end = Date.now() + 10000;
    while (Date.now() < end) {
      if (window.me.speakers[window.me.speakers.length - 1] === id) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return window.me.speakers;
  }, id);
  await alice.evaluate(() => window.me.speak(true));
  for (const [p, n] of three) assert.equal(await speakerIs(p, ids.Alice), true, `${n} hears that Alice speaks`);
  await alice.evaluate(() => window.me.speak(false));
  await bob.evaluate(() => window.me.speak(true));
  for (const [p, n] of three) assert.equal(await speakerIs(p, ids.Bob), true, `${n} hears that Bob speaks now`);
  await bob.evaluate(() => window.me.speak(false));

  // a fourth joins mid-call: seen and sees
  const d = await daniel.evaluate((o) => window.parley(o), { room: a.room, name: 'Daniel' }).catch((e) => fail(daniel, e));
  ids.Daniel = await idOf(daniel);
  t.diagnostic(`Daniel on worker ${d.worker}`);
  {
    const r = await waitForMedia(daniel, [ids.Alice, ids.Bob, ids.Carol], ['audio', 'video']);
    assert.ok(r.ok, `Daniel receives the three others: ${JSON.stringify(r)}`);
  }
  for (const [p, n] of three) {
    const r = await waitForMedia(p, [ids.Daniel], ['audio', 'video']);
    assert.ok(r.ok, `${n} receives Daniel: ${JSON.stringify(r)}`);
  }

  // a screen share is its own track at the others
  await bob.evaluate(() => window.me.shareScreen()).catch((e) => fail(bob, e));
  for (const [p, n] of [[alice, 'Alice'], [carol, 'Carol'], [daniel, 'Daniel']]) {
    const r = await waitForMedia(p, [ids.Bob], ['screen', 'video']);
    assert.ok(r.ok, `${n} decodes Bob's screen as its own track: ${JSON.stringify(r)}`);
  }

  // Carol leaves: the others see her tracks end
  const carolMids = await alice.evaluate((id) =>
    Object.values(window.me.tracks).filter((t) => t.participant === id).map((t) => t.mid), ids.Carol);
  assert.equal(carolMids.length, 2, 'Alice received two tracks of Carol');
  await carol.evaluate(() => { window.me.c.send({ type: 'leave' }); });
  for (const [p, n] of [[alice, 'Alice'], [bob, 'Bob'], [daniel, 'Daniel']]) {
    const r = await p.evaluate(async (id) => {
      const end = Date.now() + 15000;
      for (;;) {
        const listed = Object.values(window.me.tracks).some((t) => t.participant === id);
        const inactive = window.me.sub.getTransceivers().filter((x) => x.currentDirection === 'inactive').length;
        if (!listed && inactive >= 2 && window.me.ended.length >= 2) return { ok: true, inactive, ended: window.me.ended };
        if (Date.now() > end) return { ok: false, listed, inactive, ended: window.me.ended, tracks: window.me.tracks };
        await new Promise((r) => setTimeout(r, 200));
      }
    }, ids.Carol);
    assert.ok(r.ok, `${n} sees Carol's tracks end: ${JSON.stringify(r)}`);
  }

  // the others still talk
  const r = await waitForMedia(alice, [ids.Bob, ids.Daniel], ['audio', 'video']);
  assert.ok(r.ok, `Alice still receives Bob and Daniel: ${JSON.stringify(r)}`);

  // what this conversation did, not the files before it
  const after = await readCounters();
  const perWorker = grewPerWorker(before, after, 'rtp_out');
  const asked = grew(before, after, 'keyframes_asked');
  t.diagnostic(`rtp_out per worker ${perWorker}, keyframes asked across workers ${asked}, offers ${grew(before, after, 'offers_sent')}`);
  assert.ok(perWorker.length >= 2 && perWorker.every((n) => n > 0), 'both workers forward packets');
  assert.ok(asked > 0, 'keyframes were asked of another worker');
});
