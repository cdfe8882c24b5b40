// Captures real SDP offers from Debian's firefox-esr for
// tests/fixtures/sdp/ (playwright-core cannot drive it, so a page posts
// them back):
//
//   node tools/capture-sdp/capture-firefox.mjs OUTDIR [TOOL]
//
// A throwaway local HTTP server serves a page that builds each offer and
// POSTs its SDP back; Firefox runs headless on a throwaway profile whose
// user.js turns on fake media devices. With TOOL (a built
// tools/capture-sdp/sdp_tool), the page first answers the SFU's offer
// (saved as firefox-answer-to-sfu-offer.sdp), then applies the SFU's
// answer to each of its own offers (setRemoteDescription must succeed).
// Host candidate addresses become documentation addresses (RFC 5737,
// RFC 3849).

import { createServer } from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCENARIOS = ['av', 'simulcast', 'datachannel'];

const PREFS = `
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("app.update.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reporting.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
`;

// Runs in Firefox: one offer per scenario, posted back as text.
const PAGE = `<!doctype html><title>capture</title><script>
async function offer(what) {
  const pc = new RTCPeerConnection();
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
  } else if (what === 'datachannel') {
    pc.createDataChannel('chat');
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    setTimeout(resolve, 5000);
  });
  return pc;
}
async function post(path, body) {
  const r = await fetch(path, { method: 'POST', body });
  return r.text();
}
async function answerSfu() {
  const offer = await (await fetch('/sfu-offer')).text();
  if (!offer) return;
  const pc = new RTCPeerConnection();
  const tracks = [];
  pc.ontrack = (e) => tracks.push(e.track.kind + ' in '
    + e.streams.map((st) => st.id).join(','));
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === 'complete') resolve();
      };
      setTimeout(resolve, 5000);
    });
    await post('/answer', pc.localDescription.sdp);
    await post('/result?what=sfu-offer', 'accepted: ' + tracks.join(' ')
      + (pc.sctp ? ' sctp' : ''));
  } catch (e) {
    await post('/result?what=sfu-offer', 'error: ' + e);
  }
}
(async () => {
  await answerSfu();
  for (const what of ${JSON.stringify(SCENARIOS)}) {
    try {
      const pc = await offer(what);
      const answer = await post('/offer?what=' + what, pc.localDescription.sdp);
      if (answer) {
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        await post('/result?what=' + what, 'accepted: ' + pc.getTransceivers()
          .map((t) => t.mid + ':' + t.currentDirection + ' encodings='
            + t.sender.getParameters().encodings.map((e) => e.rid || '-'))
          .join(' ') + (pc.sctp ? ' sctp' : ''));
      }
    } catch (e) {
      await post('/result?what=' + what, 'error: ' + e);
    }
  }
  await post('/done', '');
})();
</script>`;

function scrub(sdp) {
  const map = new Map();
  const doc = (ip) => {
    if (/^127\./.test(ip) || ip === '::1' || ip === '0.0.0.0'
        || ip.endsWith('.local')) return ip;
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

function body(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });
}

async function main() {
  const [out, tool] = process.argv.slice(2);
  const profile = mkdtempSync(join(tmpdir(), 'parley-ff-'));
  writeFileSync(join(profile, 'user.js'), PREFS);
  let firefox;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });

  const srv = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const what = url.searchParams.get('what');
    const text = req.method === 'POST' ? await body(req) : '';
    let reply = '';
    if (url.pathname === '/sfu-offer' && tool) {
      reply = execFileSync(tool, ['offer']).toString();
    } else if (url.pathname === '/answer') {
      writeFileSync(join(out, 'firefox-answer-to-sfu-offer.sdp'),
        scrub(text));
      console.log('firefox-answer-to-sfu-offer.sdp: ' + text.length
        + ' bytes');
    } else if (url.pathname === '/offer') {
      writeFileSync(join(out, `firefox-${what}-offer.sdp`), scrub(text));
      console.log(`firefox-${what}-offer.sdp: ${text.length} bytes`);
      if (tool) {
        try {
          reply = execFileSync(tool, ['answer'], { input: text }).toString();
        } catch (e) {
          console.log(`sdp_tool answer failed for ${what}: ${e.stderr}`);
        }
      }
    } else if (url.pathname === '/result') {
      console.log(`firefox, SFU answer to ${what}: ${text}`);
    } else if (url.pathname === '/done') {
      finish();
    }
    res.writeHead(200, { 'content-type': url.pathname === '/' ? 'text/html'
      : 'text/plain', 'access-control-allow-origin': '*' });
    res.end(url.pathname === '/' ? PAGE : reply);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const page = `http://127.0.0.1:${srv.address().port}/`;

  firefox = spawn('firefox-esr', ['--headless', '--no-remote', '--profile',
    profile, page], { stdio: 'ignore' });
  const timer = setTimeout(() => { console.log('timed out'); finish(); },
    90000);
  await done;
  clearTimeout(timer);
  firefox.kill('SIGTERM');
  await new Promise((resolve) => firefox.once('exit', resolve));
  srv.close();
  rmSync(profile, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
