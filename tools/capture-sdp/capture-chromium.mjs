// Captures real SDP from Debian's Chromium for tests/fixtures/sdp/.
//
//   node tools/capture-sdp/capture-chromium.mjs offers OUTDIR
//       writes chromium-<what>-offer.sdp for each scenario of pageOffer()
//   node tools/capture-sdp/capture-chromium.mjs roundtrip OUTDIR TOOL
//       TOOL is a built tools/capture-sdp/sdp_tool. Its SFU offer is given
//       to Chromium (setRemoteDescription must succeed) and Chromium's
//       answer saved as chromium-answer-to-sfu-offer.sdp; then Chromium's
//       own offers are answered by TOOL, one answer rejecting a section,
//       and the answers given back to Chromium (setRemoteDescription must
//       succeed). Nothing else is saved.
//
// Host candidate addresses are rewritten to documentation addresses
// (RFC 5737, RFC 3849) before saving; loopback is kept. Pages come from a
// throwaway local HTTP server (getUserMedia needs a secure context).

import { chromium } from '../../tests/browser/node_modules/playwright-core/index.mjs';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:http';

const ARGS = [
  '--headless=new', '--no-sandbox',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

// Runs in the page: builds a peer connection for one scenario, creates an
// offer, waits for ICE gathering and returns the final local description.
async function pageOffer(what) {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const gum = (c) => navigator.mediaDevices.getUserMedia(c);
  if (what === 'av') {
    const s = await gum({ audio: true, video: true });
    for (const t of s.getTracks()) pc.addTrack(t, s);
  } else if (what === 'simulcast') {
    const s = await gum({ audio: true, video: { width: 1280, height: 720 } });
    pc.addTransceiver(s.getAudioTracks()[0],
      { direction: 'sendonly', streams: [s] });
    pc.addTransceiver(s.getVideoTracks()[0], {
      direction: 'sendonly', streams: [s],
      sendEncodings: [
        { rid: 'h', maxBitrate: 1200000 },
        { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
        { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
      ],
    });
  } else if (what === 'recvonly') {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
  } else if (what === 'screen') {
    const s = await gum({ audio: true, video: true });
    for (const t of s.getTracks()) pc.addTrack(t, s);
    const d = await navigator.mediaDevices.getDisplayMedia({ video: true });
    pc.addTrack(d.getVideoTracks()[0], d);
  } else if (what === 'datachannel') {
    pc.createDataChannel('chat');
  } else if (what === 'av-datachannel') {
    const s = await gum({ audio: true, video: true });
    for (const t of s.getTracks()) pc.addTrack(t, s);
    pc.createDataChannel('chat');
  }
  await pc.setLocalDescription(await pc.createOffer());
  await waitGathered(pc);
  return pc.localDescription.sdp;

  function waitGathered(p) {
    return new Promise((resolve) => {
      if (p.iceGatheringState === 'complete') return resolve();
      p.addEventListener('icegatheringstatechange', () => {
        if (p.iceGatheringState === 'complete') resolve();
      });
      setTimeout(resolve, 5000);
    });
  }
}

// Runs in the page: answers a remote offer with media flowing back.
async function pageAnswer(sdp) {
  const pc = new RTCPeerConnection();
  const tracks = [];
  pc.ontrack = (e) => tracks.push(e.track.kind + ' in '
    + e.streams.map((st) => st.id).join(','));
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, 5000);
  });
  return {
    sdp: pc.localDescription.sdp,
    tracks: pc.getTransceivers().map((t) => t.receiver.track.kind + ':'
      + t.mid + ':' + t.currentDirection).concat(tracks,
      pc.sctp ? ['sctp'] : []),
  };
}

async function pageApplyAnswer(sdp) {
  const pc = window.pc;
  await pc.setRemoteDescription({ type: 'answer', sdp });
  return pc.getTransceivers().map((t) => t.mid + ':' + t.currentDirection
    + (t.sender.track ? ' encodings='
      + t.sender.getParameters().encodings.map((e) => e.rid || '-')
        .join(',') : '')).concat(pc.sctp ? ['sctp'] : []);
}

// RFC 5737 documentation addresses in place of this machine's addresses.
function scrub(sdp) {
  const map = new Map();
  const doc = (ip) => {
    if (/^127\./.test(ip) || ip === '::1' || ip === '0.0.0.0') return ip;
    if (!map.has(ip)) {
      map.set(ip, ip.includes(':') ? '2001:db8::' + (map.size + 10)
        : '192.0.2.' + (map.size + 10));
    }
    return map.get(ip);
  };
  return sdp.split(/\r\n/).map((line) => {
    if (line.startsWith('a=candidate:')) {
      const f = line.split(' ');
      f[4] = doc(f[4]);
      const r = f.indexOf('raddr');
      if (r > 0) f[r + 1] = doc(f[r + 1]);
      return f.join(' ');
    }
    if (line.startsWith('c=IN IP4 ')) return 'c=IN IP4 ' + doc(line.slice(9));
    return line;
  }).join('\r\n');
}

// getUserMedia needs a secure context, which about:blank is not here;
// http://127.0.0.1 is one (a potentially trustworthy origin).
function blankServer() {
  const srv = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>capture</title>');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1',
    () => resolve(srv)));
}

async function main() {
  const [mode, out, tool] = process.argv.slice(2);
  const srv = await blankServer();
  const url = `http://127.0.0.1:${srv.address().port}/`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
  });
  const ctx = await browser.newContext({
    permissions: ['camera', 'microphone'],
  });
  try {
    if (mode === 'offers') {
      for (const what of ['av', 'simulcast', 'recvonly', 'screen',
                          'datachannel', 'av-datachannel']) {
        const page = await ctx.newPage();
        await page.goto(url);
        const sdp = scrub(await page.evaluate(pageOffer, what));
        writeFileSync(join(out, `chromium-${what}-offer.sdp`), sdp);
        console.log(`chromium-${what}-offer.sdp: ${sdp.length} bytes`);
        await page.close();
      }
    } else if (mode === 'roundtrip') {
      let page = await ctx.newPage();
      await page.goto(url);
      const offer = execFileSync(tool, ['offer']).toString();
      const ans = await page.evaluate(pageAnswer, offer);
      writeFileSync(join(out, 'chromium-answer-to-sfu-offer.sdp'),
        scrub(ans.sdp));
      console.log('chromium accepted the SFU offer:', ans.tracks.join(' '));
      await page.close();
      for (const what of ['av', 'simulcast', 'datachannel']) {
        page = await ctx.newPage();
        await page.goto(url);
        const o = await page.evaluate(pageOffer, what);
        const a = execFileSync(tool, ['answer'], { input: o }).toString();
        const dirs = await page.evaluate(pageApplyAnswer, a);
        console.log(`chromium accepted the SFU answer to ${what}:`,
          dirs.join(' '));
        await page.close();
      }
      // an answer that rejects a section (no audio codec in common)
      page = await ctx.newPage();
      await page.goto(url);
      const o = await page.evaluate(pageOffer, 'av');
      const a = execFileSync(tool, ['answer'], {
        input: o, env: { ...process.env, SDP_TOOL_NO_OPUS: '1' },
      }).toString();
      const dirs = await page.evaluate(pageApplyAnswer, a);
      console.log('chromium accepted the SFU answer rejecting audio:',
        dirs.join(' '));
      await page.close();
    }
  } finally {
    await browser.close();
    srv.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
