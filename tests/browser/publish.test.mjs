// Media reaches the server: a browser publishes its camera and microphone
// through parley's signaling, ICE (lite on the server) connects, DTLS keys
// SRTP, and the server decrypts the packets (its status page counts them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, SIGNAL_CLIENT, launchBrowser, newPage, diagnose } from './lib.mjs';

// Sums one metric over every worker's line of the status page.
function metric(text, name) {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^parley_${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))) {
    sum += Number(m[1]);
  }
  return sum;
}

test('a browser publishes audio and video, and the server decrypts it', { timeout: 60_000 }, async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(browser, 'publisher');
  await page.goto(`${BASE_URL}/`);
  await page.evaluate(SIGNAL_CLIENT);

  const result = await page.evaluate(async () => {
    const { ws, next } = await window.signal();
    const before = await (await fetch('/status')).text();
    ws.send(JSON.stringify({ type: 'create', name: 'Publisher' }));
    await next('created');

    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
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
    const state = pc.connectionState;
    await new Promise((r) => setTimeout(r, 2000));
    let sent = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp') sent += s.packetsSent; });
    const status = await (await fetch('/status')).text();
    return { state, sent, answer: answer.sdp, status, before };
  }).catch(async (e) => { throw new Error(`${e.message}\n${await diagnose(page, 'publish')}`); });

  // other tests share the server: count what this one added
  const added = (name) => metric(result.status, name) - metric(result.before, name);
  t.diagnostic(`browser sent ${result.sent} packets; server decrypted `
    + `${added('rtp_in_total')} RTP, ${added('rtcp_in_total')} RTCP`);
  assert.equal(result.state, 'connected', 'the peer connection connects');
  assert.match(result.answer, /^a=ice-lite\r?$/m, 'the server answers as an ICE-lite agent');
  assert.ok(result.sent > 50, `the browser sent packets (${result.sent})`);
  assert.ok(added('peers_secure_total') >= 1, 'DTLS keyed SRTP on the server');
  const decrypted = added('rtp_in_total');
  assert.ok(decrypted > 50, `the server decrypted RTP (${decrypted} packets)`);
  assert.ok(decrypted <= result.sent + 10, 'no more packets than were sent');
});
