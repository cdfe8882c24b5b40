// parley web app: the conversation's media (docs/protocol.md: publish,
// subscribe, layer, speaker). One peer connection sends the camera, the
// microphone and a shared screen; one receives everyone else's. The large
// window shows whoever the viewer pinned, else a shared screen, else the
// active speaker; the others are small. User data only ever reaches the
// page through textContent.

const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

// two encodings, lowest first: thumbnails get the low one
const ENCODINGS = [
  { rid: 'lo', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'hi', scaleResolutionDownBy: 1, maxBitrate: 1200000 },
];

let ctx = null;       // { send, myId, nameOf, status, ui } while in a room

// what arrives: mid -> { participant, kind, stream }
const sections = new Map();
const tiles = new Map();    // "participant/kind" -> tile element
let pinned = null;          // a tile key, or null
let speaker = null;         // participant id, or null

function key(participant, kind) { return `${participant}/${kind}`; }

export function startMedia(options) {
  ctx = { ...options, pub: null, sub: null, local: null, opening: false, screen: null,
          screenTransceiver: null, answers: Promise.resolve(), publishing: null };
  sections.clear();
  tiles.clear();
  pinned = null;
  speaker = null;
  ctx.ui.large.replaceChildren();
  ctx.ui.strip.replaceChildren();
  publish().catch(failed(ctx, 'No camera or microphone'));
  ctx.send({ type: 'subscribe' });
}

// A handler for a failure of work started for the conversation "c": said
// while still in it; once it is over (left, ended, moved), nothing to say.
function failed(c, what) {
  return (e) => {
    if (ctx === c) c.status(`${what}: ${e.message}`);
  };
}

export function stopMedia() {
  if (!ctx) return;
  for (const pc of [ctx.pub, ctx.sub]) if (pc) pc.close();
  for (const s of [ctx.local, ctx.screen]) if (s) s.getTracks().forEach((t) => t.stop());
  ctx.ui.large.replaceChildren();
  ctx.ui.strip.replaceChildren();
  sections.clear();
  tiles.clear();
  ctx = null;
}

// Back after a dropped connection (docs/protocol.md, resume): the server
// ended our peer connections with it, so new ones carry the same camera,
// microphone and screen, and everyone else's tracks; the tiles stay where
// they are, frozen, until the new tracks take them over.
export function reconnectMedia() {
  if (!ctx) return;
  for (const pc of [ctx.pub, ctx.sub]) if (pc) pc.close();
  ctx.pub = null;
  ctx.sub = null;
  ctx.publishing = null;
  ctx.answers = Promise.resolve();
  sections.clear();
  // no wish goes out for a section of the old connection
  for (const tile of tiles.values()) {
    delete tile.dataset.layer;
    delete tile.dataset.mid;
    delete tile.dataset.paused;
  }
  republish().catch(failed(ctx, 'Sending failed'));
  ctx.send({ type: 'subscribe' });
}

async function republish() {
  if (!ctx.local) {
    // still opening the camera: that publish goes on, on the new connection
    if (!ctx.opening) await publish();
    return;
  }
  newPublisher();
  if (ctx.screen) {
    ctx.screenTransceiver = ctx.pub.addTransceiver(ctx.screen.getVideoTracks()[0],
                                                   { direction: 'sendonly' });
  }
  await offerPublish();
}

// The connection that sends the camera and microphone (the camera in two
// encodings).
function newPublisher() {
  const pc = new RTCPeerConnection();
  ctx.pub = pc;
  for (const track of ctx.local.getTracks()) {
    const init = { direction: 'sendonly', streams: [ctx.local] };
    if (track.kind === 'video') init.sendEncodings = ENCODINGS;
    pc.addTransceiver(track, init);
  }
}

// A message for the media side: true when it was one.
export function onMediaMessage(msg) {
  if (!ctx) return false;
  switch (msg.type) {
    case 'publish-answer':
      if (ctx.publishing) ctx.publishing(msg.sdp);
      return true;
    case 'subscribe-offer':
      ctx.answers = ctx.answers.then(() => answer(msg))
        .catch(failed(ctx, 'Receiving failed'));
      return true;
    case 'speaker':
      speaker = msg.participant;
      arrange();
      return true;
    case 'paused':
      // the section's video stops (or starts again) for want of bandwidth
      for (const tile of tiles.values()) {
        if (tile.dataset.mid !== msg.mid) continue;
        if (msg.paused) tile.dataset.paused = 'bandwidth';
        else delete tile.dataset.paused;
      }
      return true;
    default:
      return false;
  }
}

// Someone left: their tiles go at once (the offer that ends their
// sections follows).
export function forget(participant) {
  for (const [k, tile] of tiles) {
    if (k.startsWith(`${participant}/`)) { tile.remove(); tiles.delete(k); }
  }
  if (pinned && pinned.startsWith(`${participant}/`)) pinned = null;
  arrange();
}

async function publish() {
  const c = ctx;
  let stream;
  c.opening = true;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: CAMERA });
  } finally {
    c.opening = false;
  }
  // left while the browser was opening the camera: let it go at once
  if (ctx !== c) {
    for (const track of stream.getTracks()) track.stop();
    return;
  }
  ctx.local = stream;
  newPublisher();
  showSelf();
  await offerPublish();
}

// (Re)offers the publish connection; a shared screen is named as such.
async function offerPublish() {
  const c = ctx;
  const pc = ctx.pub;
  await pc.setLocalDescription(await pc.createOffer());
  if (ctx !== c) return;
  const answered = new Promise((resolve) => { ctx.publishing = resolve; });
  const msg = { type: 'publish', sdp: pc.localDescription.sdp };
  if (ctx.screenTransceiver) msg.screen = [ctx.screenTransceiver.mid];
  ctx.send(msg);
  const sdp = await answered;
  ctx.publishing = null;
  await pc.setRemoteDescription({ type: 'answer', sdp });
}

function ensureSub() {
  if (ctx.sub) return ctx.sub;
  const pc = new RTCPeerConnection();
  ctx.sub = pc;
  pc.ontrack = (ev) => {
    const s = sections.get(ev.transceiver.mid);
    if (s) attach(ev.transceiver.mid, ev.track);
  };
  return pc;
}

async function answer(msg) {
  const pc = ensureSub();
  const live = new Set();
  for (const t of msg.tracks || []) {
    live.add(t.mid);
    const old = sections.get(t.mid);
    if (!old || old.participant !== t.participant || old.kind !== t.kind) {
      sections.set(t.mid, { participant: t.participant, kind: t.kind });
    }
  }
  for (const mid of [...sections.keys()]) if (!live.has(mid)) sections.delete(mid);

  await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  ctx.send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp });

  // a section reused for another track delivers no new "track" event
  for (const tr of pc.getTransceivers()) {
    if (tr.mid && sections.has(tr.mid)) attach(tr.mid, tr.receiver.track);
  }
  prune();
  arrange();
}

// The track of a section goes to its publisher's tile (audio to an
// element of its own).
function attach(mid, track) {
  const s = sections.get(mid);
  if (!s || !track) return;
  const kind = s.kind === 'audio' ? 'audio' : s.kind;
  const k = key(s.participant, kind);
  let tile = tiles.get(k);
  if (!tile) {
    tile = makeTile(s.participant, kind);
    tiles.set(k, tile);
  }
  // the wish for a layer is the section's: a tile in another section
  // says it again
  if (tile.dataset.mid !== mid) {
    delete tile.dataset.layer;
    delete tile.dataset.paused;     // another section starts unpaused
  }
  tile.dataset.mid = mid;
  const media = tile.querySelector(kind === 'audio' ? 'audio' : 'video');
  if (!media.srcObject || media.srcObject.getTracks()[0] !== track) {
    media.srcObject = new MediaStream([track]);
    media.play().catch(() => {});
  }
}

// Tiles whose sections ended go.
function prune() {
  const wanted = new Set();
  for (const s of sections.values()) wanted.add(key(s.participant, s.kind === 'audio' ? 'audio' : s.kind));
  for (const [k, tile] of tiles) {
    if (k === 'self' || wanted.has(k)) continue;
    tile.remove();
    tiles.delete(k);
    if (pinned === k) pinned = null;
  }
}

function makeTile(participant, kind) {
  const tile = document.createElement(kind === 'audio' ? 'div' : 'figure');
  tile.className = kind === 'audio' ? 'voice' : 'tile';
  tile.dataset.participant = participant;
  tile.dataset.kind = kind;
  if (kind === 'audio') {
    const a = document.createElement('audio');
    a.autoplay = true;
    tile.append(a);
    tile.hidden = true;
    document.body.append(tile);
    return tile;
  }
  const v = document.createElement('video');
  v.autoplay = true;
  v.playsInline = true;
  v.muted = true;
  const cap = document.createElement('figcaption');
  cap.textContent = (kind === 'screen' ? 'Screen of ' : '') + ctx.nameOf(participant);
  const note = document.createElement('span');
  note.className = 'paused-note';
  note.textContent = 'Video paused: your connection is too slow for it';
  tile.append(v, cap, note);
  tile.addEventListener('click', () => {
    const k = key(participant, kind);
    pinned = pinned === k ? null : k;
    arrange();
  });
  return tile;
}

function showSelf() {
  const tile = document.createElement('figure');
  tile.className = 'tile self';
  tile.dataset.participant = ctx.myId;
  tile.dataset.kind = 'self';
  const v = document.createElement('video');
  v.autoplay = true;
  v.playsInline = true;
  v.muted = true;
  v.srcObject = new MediaStream(ctx.local.getVideoTracks());
  const cap = document.createElement('figcaption');
  cap.textContent = 'You';
  tile.append(v, cap);
  tiles.set('self', tile);
  arrange();
}

// The large window: the pinned tile, else a screen, else the speaker's
// camera, else the first one there is; every video but the large one asks
// for the low encoding.
function arrange() {
  if (!ctx) return;
  const videos = [...tiles.entries()].filter(([k, t]) => t.dataset.kind !== 'audio' && k !== 'self');
  let large = videos.find(([k]) => k === pinned)
    || videos.find(([, t]) => t.dataset.kind === 'screen')
    || videos.find(([k]) => speaker && k === key(speaker, 'video'))
    || videos[0];
  const largeKey = large ? large[0] : null;
  for (const [k, tile] of tiles) {
    if (tile.dataset.kind === 'audio') continue;
    const place = k === largeKey ? ctx.ui.large : ctx.ui.strip;
    if (tile.parentNode !== place) place.append(tile);
    tile.dataset.large = String(k === largeKey);
    tile.dataset.pinned = String(k === pinned);
    tile.dataset.speaking = String(speaker !== null && tile.dataset.participant === speaker);
    if (tile.dataset.mid && tile.dataset.kind === 'video') {
      const layer = k === largeKey ? 'high' : 'low';
      if (tile.dataset.layer !== layer) {
        tile.dataset.layer = layer;
        ctx.send({ type: 'layer', mid: tile.dataset.mid, layer });
      }
    }
  }
  document.body.dataset.large = largeKey || '';
}

export function setMuted(kind, muted) {
  if (!ctx || !ctx.local) return;
  for (const t of ctx.local.getTracks()) if (t.kind === kind) t.enabled = !muted;
}

// Starts or stops sharing the screen; resolves to whether it is shared.
export async function toggleScreen() {
  if (!ctx || !ctx.pub) return false;
  if (ctx.screenTransceiver) {
    ctx.pub.removeTrack(ctx.screenTransceiver.sender);
    ctx.screen.getTracks().forEach((t) => t.stop());
    ctx.screen = null;
    ctx.screenTransceiver = null;
    await offerPublish();
    return false;
  }
  ctx.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
  const track = ctx.screen.getVideoTracks()[0];
  ctx.screenTransceiver = ctx.pub.addTransceiver(track, { direction: 'sendonly' });
  // the browser's "stop sharing" ends the track
  track.addEventListener('ended', () => {
    if (ctx && ctx.screen && ctx.screen.getVideoTracks()[0] === track) toggleScreen();
  });
  await offerPublish();
  return true;
}

export function nameChanged() {
  if (!ctx) return;
  for (const tile of tiles.values()) {
    const cap = tile.querySelector('figcaption');
    if (cap && tile.dataset.kind !== 'self') {
      cap.textContent = (tile.dataset.kind === 'screen' ? 'Screen of ' : '') + ctx.nameOf(tile.dataset.participant);
    }
  }
}
