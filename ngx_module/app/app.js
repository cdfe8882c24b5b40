// parley web app: a client of the signaling protocol v1
// (docs/protocol.md). No framework, no build step. User data only ever
// reaches the page through textContent.

import { startMedia, stopMedia, onMediaMessage, forget, setMuted,
         toggleScreen, nameChanged, reconnectMedia } from './media.js';

const $ = (id) => document.getElementById(id);
const ui = {
  startView: $('start-view'), startTitle: $('start-title'), invite: $('invite'),
  inviteRoom: $('invite-room'), form: $('start-form'), name: $('name'),
  email: $('email'), start: $('start'), roomView: $('room-view'),
  roomId: $('room-id'), joinLink: $('join-link'), copy: $('copy'),
  roster: $('roster'), rosterCount: $('roster-count'), leave: $('leave'),
  end: $('end'), hint: $('organiser-hint'), closedView: $('closed-view'),
  closedReason: $('closed-reason'), restart: $('restart'),
  error: $('error'), status: $('status'), large: $('large'), strip: $('strip'),
  mic: $('mic'), camera: $('camera'), share: $('share'),
};

const PROTOCOL = 1;
// The join link carries the conversation in its fragment (#room=...),
// which browsers never send to the server, so that no log holds the id;
// links of the older form (?room=...) still work.
const inviteRoom = (new URLSearchParams(location.hash.slice(1)).get('room')
  || new URLSearchParams(location.search).get('room') || '').trim();
const signalingPath =
  document.querySelector('meta[name="parley-signaling"]')?.content || '/ws';

const FRIENDLY = {
  room_not_found: 'This conversation does not exist or has already ended.',
  room_full: 'This conversation is full.',
  too_many_rooms: 'The server cannot hold another conversation right now.',
  server_full: 'The server is full right now. Please try again later.',
  rate_limited: 'Too many requests. Please wait a moment.',
  internal: 'The server ran into a problem. Please try again.',
};

// After a dropped connection: the waits before each new try, then the
// last one over and over until the server says it is too late.
const RETRY_MS = [0, 250, 500, 1000, 2000, 4000];
const RETRY_FOR_MS = 60_000;

// A new connection while reconnecting that is not greeted within this
// long is given up for another: behind a load balancer, or on a server
// whose process for it has just died, it may wait for a worker that is
// slow to come, while the next connection lands elsewhere. A little more
// at each try, for a server that is merely slow.
const HELLO_MS = 2000;
const HELLO_MORE_MS = 1000;

const CLOSED_REASONS = {
  organiser_closed: 'The organiser ended the conversation.',
  organiser_left: 'The organiser left, so the conversation ended.',
};

let ws = null;        // the current WebSocket, or null
let greeted = false;  // the server has sent "hello" on ws
let pending = null;   // a create/join waiting for the greeting
let me = null;        // our participant object while in a conversation
let room = null;      // the conversation id while in one
let leaving = false;  // we sent "leave" and wait for "left"
let secret = null;    // the resume secret of our place (docs/protocol.md)
let retry = null;     // while reconnecting: { tries, since, timer, hello }
const people = new Map(); // id -> participant, in the server's order

function signalingUrl() {
  if (/^wss?:\/\//i.test(signalingPath)) return signalingPath;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const path = signalingPath.startsWith('/') ? signalingPath : '/' + signalingPath;
  return `${scheme}://${location.host}${path}`;
}

function setState(state) {
  const inRoom = state === 'in-room' || state === 'reconnecting';
  document.body.dataset.state = state;
  ui.startView.hidden = inRoom || state === 'closed';
  ui.roomView.hidden = !inRoom;
  ui.closedView.hidden = state !== 'closed';
  ui.start.disabled = state === 'connecting';
  ui.start.setAttribute('aria-busy', String(state === 'connecting'));
}

function setStatus(text) { ui.status.textContent = text; }

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  const sock = new WebSocket(signalingUrl());
  ws = sock;
  greeted = false;
  sock.addEventListener('message', (ev) => { if (sock === ws) onMessage(ev.data); });
  sock.addEventListener('close', (ev) => { if (sock === ws) onDrop(ev); });
  if (retry) {
    if (retry.hello) clearTimeout(retry.hello);
    const wait = HELLO_MS + HELLO_MORE_MS * Math.max(0, retry.tries - 1);
    retry.hello = setTimeout(() => {
      if (sock !== ws || greeted) return;
      ws = null;
      sock.close();
      reconnect();
    }, wait);
  }
}

function disconnect() {
  const sock = ws;
  ws = null;
  greeted = false;
  if (sock) sock.close(1000);
}

function request(msg) {
  showError('');
  setState('connecting');
  setStatus('Connecting…');
  if (ws && greeted) { send(msg); return; }
  pending = msg;
  if (!ws) connect();
}

function onMessage(data) {
  let msg;
  try { msg = JSON.parse(data); } catch { return; }
  if (!msg || typeof msg.type !== 'string') return;
  if (onMediaMessage(msg)) return;
  switch (msg.type) {
    case 'hello':
      greeted = true;
      document.body.dataset.worker = String(msg.worker);
      if (msg.protocol !== PROTOCOL) {
        showError(`The server speaks protocol ${msg.protocol}, this page speaks ${PROTOCOL}.`);
      }
      if (retry) send({ type: 'resume', room, participant: me.id, secret });
      else if (pending) { send(pending); pending = null; }
      break;
    case 'created':
    case 'joined':
      enterRoom(msg);
      break;
    case 'resumed':
      onResumed(msg);
      break;
    case 'participant-away':
    case 'participant-back': {
      const id = msg.type === 'participant-away' ? msg.id : msg.participant && msg.participant.id;
      const who = people.get(id);
      if (room && who) {
        if (msg.participant) Object.assign(who, msg.participant);
        who.away = msg.type === 'participant-away';
        renderRoster();
        setStatus(who.away ? `${who.name} is reconnecting…` : `${who.name} is back.`);
      }
      break;
    }
    case 'roster':
      if (room) setPeople(msg.participants);
      break;
    case 'participant-joined':
      if (room && msg.participant) {
        people.set(msg.participant.id, msg.participant);
        renderRoster();
        nameChanged();
        setStatus(`${msg.participant.name} joined.`);
      }
      break;
    case 'participant-left': {
      const who = people.get(msg.id);
      people.delete(msg.id);
      renderRoster();
      forget(msg.id);
      if (who) {
        setStatus(msg.reason === 'left' ? `${who.name} left.` : `${who.name} was disconnected.`);
      }
      break;
    }
    case 'left':
      exitRoom();
      setState('idle');
      setStatus('You left the conversation.');
      break;
    case 'closed':
      onClosed(msg);
      break;
    case 'error':
      onError(msg);
      break;
    default:
      break; // "pong" and anything newer: nothing to do
  }
}

function enterRoom(msg) {
  room = msg.room;
  me = msg.you;
  secret = msg.resume || null;
  leaving = false;
  showError('');
  const link = `${location.origin}${location.pathname}#room=${encodeURIComponent(room)}`;
  ui.roomId.textContent = room;
  ui.joinLink.textContent = link;
  ui.joinLink.href = link;
  const organiser = me && me.role === 'organiser';
  ui.end.hidden = !organiser;
  ui.hint.hidden = !organiser;
  setPeople(msg.participants);
  setState('in-room');
  startMedia({
    send, myId: me && me.id, ui,
    nameOf: (id) => people.get(id)?.name || 'Someone',
    status: setStatus,
  });
  setStatus(msg.type === 'created' ? 'Conversation started. Share the link to invite people.'
                                   : 'You joined the conversation.');
}

function exitRoom() {
  stopMedia();
  stopRetry();
  room = null;
  me = null;
  secret = null;
  leaving = false;
  people.clear();
  renderRoster();
}

// Back in our place after a reconnection: the same id and role, a new
// secret, the roster as it is now, and media on new connections.
function onResumed(msg) {
  stopRetry();
  me = msg.you;
  secret = msg.resume || null;
  setPeople(msg.participants);
  showError('');
  setState('in-room');
  setStatus('Reconnected.');
  reconnectMedia();
}

function stopRetry() {
  if (retry && retry.timer) clearTimeout(retry.timer);
  if (retry && retry.hello) clearTimeout(retry.hello);
  retry = null;
}

// The connection dropped while in a conversation: try again, with a
// growing wait, to resume our place; the server keeps it a while.
function reconnect() {
  if (!retry) retry = { tries: 0, since: Date.now(), timer: null, hello: null };
  if (Date.now() - retry.since > RETRY_FOR_MS) {
    giveUp('Could not reconnect to the server: you are no longer in the conversation.');
    return;
  }
  const wait = RETRY_MS[Math.min(retry.tries, RETRY_MS.length - 1)];
  retry.tries++;
  setState('reconnecting');
  setStatus('Reconnecting…');
  retry.timer = setTimeout(() => { retry.timer = null; connect(); }, wait);
}

function giveUp(text) {
  exitRoom();
  disconnect();
  setState('disconnected');
  setStatus('Disconnected.');
  showError(text);
}

function setPeople(list) {
  people.clear();
  for (const p of Array.isArray(list) ? list : []) people.set(p.id, p);
  renderRoster();
}

function tag(name, cls, text) {
  const el = document.createElement(name);
  el.className = cls;
  el.textContent = text;
  return el;
}

function renderRoster() {
  const items = [];
  for (const p of people.values()) {
    const li = document.createElement('li');
    li.dataset.id = p.id;
    li.dataset.role = p.role;
    li.append(tag('span', 'name', p.name));
    if (me && p.id === me.id) {
      li.dataset.you = 'true';
      li.append(' ', tag('span', 'you', '(you)'));
    }
    li.append(' ', tag('span', `role role-${p.role}`, p.role));
    if (p.guest) li.append(' ', tag('span', 'role role-guest', 'guest'));
    if (p.away) {
      li.dataset.away = 'true';
      li.append(' ', tag('span', 'away', 'reconnecting…'));
    }
    items.push(li);
  }
  ui.roster.replaceChildren(...items);
  ui.rosterCount.textContent = people.size ? `(${people.size})` : '';
}

function onClosed(msg) {
  const wasOrganiser = me && me.role === 'organiser';
  const wasLeaving = leaving;
  exitRoom();
  disconnect();
  let text = CLOSED_REASONS[msg.reason] || 'The conversation has ended.';
  if (wasOrganiser && msg.reason === 'organiser_closed') text = 'You ended the conversation for everyone.';
  if (wasLeaving) text = 'You left, so the conversation ended for everyone.';
  ui.closedReason.textContent = text;
  setState('closed');
  setStatus('Conversation ended.');
}

function onError(msg) {
  if (retry && (msg.code === 'resume_refused' || msg.code === 'room_not_found')) {
    giveUp(msg.code === 'room_not_found'
      ? 'The conversation ended while you were away.'
      : 'You were away too long: you are no longer in the conversation.');
    return;
  }
  const text = FRIENDLY[msg.code] || msg.message || `Error: ${msg.code || 'unknown'}`;
  showError(text);
  if (document.body.dataset.state === 'connecting') {
    setState('idle');
    setStatus('');
  }
}

function onDrop(ev) {
  const wasIn = room !== null;
  const wasGreeted = greeted;
  ws = null;
  greeted = false;
  pending = null;
  // a drop, a server restart (1001) or a worker that died: come back
  if (wasIn && !leaving && secret && ev.code !== 4001) {
    reconnect();
    return;
  }
  exitRoom();
  setState('disconnected');
  setStatus('Disconnected.');
  if (ev.code === 4001) showError('You continued this conversation in another window.');
  else if (wasIn) showError('Lost the connection to the server: you are no longer in the conversation.');
  else if (!wasGreeted) showError('Could not reach the server. Please try again.');
  else if (ev.code !== 1000) showError(`The server closed the connection (code ${ev.code}).`);
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ui.name.value.trim();
  const email = ui.email.value.trim();
  if (!name) {
    showError('Please enter your name.');
    ui.name.focus();
    return;
  }
  if (email && !ui.email.checkValidity()) {
    showError('Please enter a valid email address, or leave it empty.');
    ui.email.focus();
    return;
  }
  const msg = inviteRoom ? { type: 'join', room: inviteRoom, name } : { type: 'create', name };
  if (email) msg.email = email;
  request(msg);
});

ui.leave.addEventListener('click', () => {
  leaving = true;
  send({ type: 'leave' });
  setStatus('Leaving…');
});

ui.end.addEventListener('click', () => {
  send({ type: 'close' });
  setStatus('Ending the conversation…');
});

function toggle(button, on, offText, onText) {
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? onText : offText;
}

ui.mic.addEventListener('click', () => {
  const muted = ui.mic.getAttribute('aria-pressed') !== 'true';
  setMuted('audio', muted);
  toggle(ui.mic, muted, 'Mute microphone', 'Unmute microphone');
});

ui.camera.addEventListener('click', () => {
  const off = ui.camera.getAttribute('aria-pressed') !== 'true';
  setMuted('video', off);
  toggle(ui.camera, off, 'Turn camera off', 'Turn camera on');
});

ui.share.addEventListener('click', async () => {
  try {
    toggle(ui.share, await toggleScreen(), 'Share screen', 'Stop sharing');
  } catch (e) {
    showError(`The screen cannot be shared: ${e.message}`);
  }
});

ui.copy.addEventListener('click', async () => {
  const link = ui.joinLink.textContent;
  try {
    await navigator.clipboard.writeText(link);
    setStatus('Join link copied.');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(ui.joinLink);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    setStatus('Press Ctrl+C (or ⌘C) to copy the selected link.');
  }
});

if (inviteRoom) {
  ui.startTitle.textContent = 'Join a conversation';
  ui.inviteRoom.textContent = inviteRoom;
  ui.invite.hidden = false;
  ui.start.textContent = 'Join conversation';
}
ui.restart.href = location.pathname;
setState('idle');
