// Simulcast through parley: a browser publishes two encodings of its
// camera, a subscriber on the other worker asks for the low one, then the
// high one, and decodes the picture size it asked for; reports flow both
// ways; ICE restarts on both connections keep the media flowing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose } from './lib.mjs';

test('a subscriber switches between the layers of a simulcast publisher', { timeout: 120_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const alice = await newPage(browser, 'simulcast-publisher');
  const bob = await newPage(browser, 'simulcast-subscriber');
  for (const page of [alice, bob]) {
    await page.goto(`${BASE_URL}/`);
    await page.evaluate(SIGNAL_CLIENT);
  }

  const published = await alice.evaluate(async () => {
    const c = await window.signal();
    window.c = c;
    c.send({ type: 'create', name: 'Alice' });
    const created = await c.next('created');
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.addTransceiver(stream.getVideoTracks()[0], {
      direction: 'sendonly',
      sendEncodings: [
        { rid: 'lo', scaleResolutionDownBy: 4, maxBitrate: 100000 },
        { rid: 'hi', scaleResolutionDownBy: 1, maxBitrate: 300000 },
      ],
    });
    await pc.setLocalDescription(await pc.createOffer());
    c.send({ type: 'publish', sdp: pc.localDescription.sdp });
    const answer = await c.next('publish-answer');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    return { room: created.room, worker: c.hello.worker, answer: answer.sdp };
  }).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(alice, 'publish')}`); });
  assert.match(published.answer, /^a=simulcast:recv lo;hi\r?$/m, 'the server receives both encodings');

  await bob.evaluate(async ({ room, worker }) => {
    const c = await window.signal({ avoid: worker });
    window.c = c;
    c.send({ type: 'join', room, name: 'Bob' });
    await c.next('joined');
    c.send({ type: 'subscribe' });
    const offer = await c.next('subscribe-offer');
    window.mid = offer.tracks[0].mid;
    const pc = new RTCPeerConnection();
    window.pc = pc;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    c.send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp });
    window.size = async () => {
      let out = null;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out = { width: s.frameWidth || 0, frames: s.framesDecoded || 0 };
        }
      });
      return out;
    };
    window.waitWidth = async (test, ms = 20000) => {
      const end = Date.now() + ms;
      let now = null;
      while (Date.now() < end) {
        now = await window.size();
        if (now && now.frames > 0 && test(now.width)) {
          const frames = now.frames;
          // and it keeps decoding at that size
          await new Promise((r) => setTimeout(r, 1000));
          now = await window.size();
          if (test(now.width) && now.frames > frames) return { ok: true, ...now };
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      return { ok: false, ...now };
    };
  }, published).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(bob, 'subscribe')}`); });

  const low = await bob.evaluate(async () => {
    window.c.send({ type: 'layer', mid: window.mid, layer: 'low' });
    return window.waitWidth((w) => w > 0 && w <= 200);
  });
  t.diagnostic(`low: ${JSON.stringify(low)}`);
  assert.ok(low.ok, `the low layer is decoded (${JSON.stringify(low)})`);

  const high = await bob.evaluate(async () => {
    window.c.send({ type: 'layer', mid: window.mid, layer: 'high' });
    return window.waitWidth((w) => w >= 600);
  });
  t.diagnostic(`high: ${JSON.stringify(high)}`);
  const sent = await alice.evaluate(async () => {
    const out = [];
    (await window.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp') out.push({ rid: s.rid, ssrc: s.ssrc, packets: s.packetsSent, width: s.frameWidth, limit: s.qualityLimitationReason, active: s.active });
    });
    return out;
  });
  t.diagnostic(`publisher sends ${JSON.stringify(sent)}`);
  assert.ok(high.ok, `the high layer is decoded after the switch (${JSON.stringify(high)})`);

  const back = await bob.evaluate(async () => {
    window.c.send({ type: 'layer', mid: window.mid, layer: 'low' });
    return window.waitWidth((w) => w > 0 && w <= 200);
  });
  assert.ok(back.ok, `and back to the low layer (${JSON.stringify(back)})`);

  // reports both ways: the server's RRs give the publisher an RTT, its
  // SRs reach the subscriber
  const reports = {
    publisher: await alice.evaluate(async () => {
      let rtt = null;
      (await window.pc.getStats()).forEach((s) => {
        if (s.type === 'remote-inbound-rtp' && s.roundTripTime !== undefined) rtt = s.roundTripTime;
      });
      return rtt;
    }),
    subscriber: await bob.evaluate(async () => {
      let srs = 0;
      (await window.pc.getStats()).forEach((s) => {
        if (s.type === 'remote-outbound-rtp') srs += s.reportsSent || 0;
      });
      return srs;
    }),
  };
  t.diagnostic(`publisher RTT from the server's RRs ${reports.publisher} s; SRs at the subscriber ${reports.subscriber}`);
  assert.ok(reports.publisher !== null && reports.publisher < 1, 'the publisher measures an RTT from the server\'s receiver reports');
  assert.ok(reports.subscriber > 0, 'the subscriber receives sender reports');

  // ICE restarts on both connections: media keeps flowing
  await alice.evaluate(async () => {
    window.pc.restartIce();
    await window.pc.setLocalDescription(await window.pc.createOffer());
    window.c.send({ type: 'publish', sdp: window.pc.localDescription.sdp });
    await window.pc.setRemoteDescription({ type: 'answer', sdp: (await window.c.next('publish-answer')).sdp });
  });
  const restarted = await bob.evaluate(async () => {
    const before = (await window.size()).frames;
    const ufrag = (sdp) => sdp.match(/a=ice-ufrag:(\S+)/)[1];
    const old = ufrag(window.pc.remoteDescription.sdp);
    window.c.send({ type: 'subscribe', restart: true });
    const offer = await window.c.next('subscribe-offer');
    await window.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await window.pc.setLocalDescription(await window.pc.createAnswer());
    window.c.send({ type: 'subscribe-answer', sdp: window.pc.localDescription.sdp });
    await new Promise((r) => setTimeout(r, 3000));
    const status = await (await fetch('/status')).text();
    return { newUfrag: ufrag(offer.sdp) !== old, before, after: (await window.size()).frames,
             state: window.pc.connectionState, status };
  });
  const restarts = [...restarted.status.matchAll(/^parley_ice_restarts_total\{[^}]*\} (\d+)/gm)]
    .reduce((n, m) => n + Number(m[1]), 0);
  t.diagnostic(`after ICE restarts: ${restarted.state}, frames ${restarted.before} -> ${restarted.after}, restarts ${restarts}`);
  assert.ok(restarted.newUfrag, 'the restart offer has new credentials');
  assert.equal(restarts, 2, 'both connections restarted ICE');
  assert.equal(restarted.state, 'connected');
  assert.ok(restarted.after > restarted.before + 10, 'frames keep being decoded');

  const bad = await bob.evaluate(async () => {
    window.c.send({ type: 'layer', mid: 'nope', layer: 'low', ref: 9 });
    return window.c.next('nothing', 3000).catch((e) => e.message);
  });
  assert.match(bad, /unknown_track/, 'a layer wish for no such section is refused');
});
