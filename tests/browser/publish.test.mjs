// Media reaches the server: a browser publishes its camera and microphone
// through parley's signaling, ICE (lite on the server) connects, DTLS keys
// SRTP, and the server decrypts the packets (its status page counts them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose, readCounters, grew, pollUntil } from './lib.mjs';

test('a browser publishes audio and video, and the server decrypts it', { timeout: 60_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'publisher');
  await page.goto(`${BASE_URL}/`);
  await page.evaluate(SIGNAL_CLIENT);

  const before = await readCounters();
  const result = await page.evaluate(async () => {
    const { ws, next } = await window.signal();
    ws.send(JSON.stringify({ type: 'create', name: 'Publisher' }));
    await next('created');

    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
    window.pc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    pc.onicecandidate = (e) => ws.send(JSON.stringify({
      type: 'candidate', candidate: e.candidate ? e.candidate.candidate : '' }));
    await pc.setLocalDescription(await pc.createOffer());
    ws.send(JSON.stringify({ type: 'publish', sdp: pc.localDescription.sdp }));
    const answer = await next('publish-answer');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });

    const end = Date.now() + 15000;
    while (pc.connectionState !== 'connected' && Date.now() < end) {
      if (pc.connectionState === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { state: pc.connectionState, answer: answer.sdp };
  }).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(page, 'publish')}`); });

  assert.equal(result.state, 'connected', 'the peer connection connects');
  assert.match(result.answer, /^a=ice-lite\r?$/m, 'the server answers as an ICE-lite agent');

  // until the server has decrypted 50 packets; the server is read before
  // the browser, so that what it counts was sent before the browser counts
  const sentNow = () => page.evaluate(async () => {
    let sent = 0;
    (await window.pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp') sent += s.packetsSent; });
    return sent;
  });
  const seen = await pollUntil(async () => {
    const after = await readCounters();
    const decrypted = grew(before, after, 'rtp_in');
    return { ok: decrypted > 50, decrypted, after, sent: await sentNow() };
  }, 15_000);

  // other tests share the server, one file at a time: count what this one added
  t.diagnostic(`browser sent ${seen.sent} packets; server decrypted `
    + `${seen.decrypted} RTP, ${grew(before, seen.after, 'rtcp_in')} RTCP`);
  assert.ok(grew(before, seen.after, 'peers_secure') >= 1, 'DTLS keyed SRTP on the server');
  assert.ok(seen.decrypted > 50, `the server decrypted RTP (${seen.decrypted} packets)`);
  assert.ok(seen.decrypted <= seen.sent + 10, `no more packets than were sent (${seen.sent})`);
});
