// Following the run: the room from the API, then the live stream of the server
// (/api/runs/<id>/events?after=<seq>): `room` messages, the run's whole room each time its
// journal moved (the server coalesces bursts), and `log` messages, the agents' lines. The
// browser reconnects by itself with Last-Event-ID, and the server then sends the newest room
// if the page is behind: a reconnected page shows what a fresh load shows.

import { TOKEN, getJSON, toast, FINAL_STATES } from '../app.js';
import { API, $ } from './page.js';
import { store, setRoom } from './store.js';
import { seed, onLog } from './logs.js';

let source = null;
let retryTimer = null;
let retryDelay = 1000;

const isFinal = () => Boolean(store.room) && FINAL_STATES.has(store.room.run.state);

function setConn(state, text) {
  const el = $('conn');
  el.dataset.conn = state;
  el.textContent = text ?? {
    connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', final: 'finished', offline: 'offline',
  }[state] ?? state;
}

/** Loads the room from the API (it carries the lanes' log tails and what this page may do). */
export async function load() {
  const room = await getJSON(API);
  if (setRoom(room, room.can_act)) seed(store.room);
  $('load-error').hidden = true;
  if (isFinal() && source) closeStream('final');
}

let reloadTimer = null;
/** Loads the room again soon (once for several calls). */
export function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    load().catch((e) => toast(`Cannot refresh the run: ${e.message}`, 'error'));
  }, 200);
}

function onRoom(message) {
  let room;
  try { room = JSON.parse(message.data); } catch { return; }
  if (!room || typeof room !== 'object') return;
  setRoom(room);
  if (isFinal()) closeStream('final');
}

export function openStream() {
  if (source || !store.room) return;
  if (isFinal()) { setConn('final'); return; }
  const query = new URLSearchParams({ after: String(store.room.seq) });
  if (TOKEN) query.set('token', TOKEN);
  const es = new EventSource(`${API}/events?${query}`);
  source = es;
  setConn('connecting');
  es.addEventListener('open', () => { retryDelay = 1000; setConn('live'); });
  es.addEventListener('room', onRoom);
  es.addEventListener('log', onLog);
  es.addEventListener('error', () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (the server answered with an error, or not with a stream): try
      // again ourselves, from the API's room, a little later each time.
      source = null;
      es.close();
      setConn('reconnecting');
      clearTimeout(retryTimer);
      retryTimer = setTimeout(reconnect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    } else {
      setConn('reconnecting'); // the browser reconnects by itself, with Last-Event-ID
    }
  });
}

async function reconnect() {
  try {
    await load();
    openStream();
  } catch {
    setConn('reconnecting');
    retryTimer = setTimeout(reconnect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
}

function closeStream(state) {
  if (source) { source.close(); source = null; }
  clearTimeout(retryTimer);
  setConn(state);
}

/** Loads the room, retrying while the server cannot answer; follows the run once it did.
 *  A finished run has no stream: the page looks now and then whether it was resumed. */
export async function follow(run) {
  for (;;) {
    try {
      await load();
      break;
    } catch (e) {
      const err = $('load-error');
      err.textContent = `Cannot load run ${run}: ${e.message}${e.status === 404 ? '' : ' (retrying)'}`;
      err.hidden = false;
      setConn('offline');
      if (e.status === 404 || e.status === 401 || e.status === 403) return false;
      await new Promise((resolve) => { setTimeout(resolve, 3000); });
    }
  }
  openStream();
  setInterval(() => {
    if (!store.room || source || document.hidden || !isFinal()) return;
    load().then(() => { if (!isFinal()) openStream(); }, () => {});
  }, 20000);
  return true;
}

/** The page has no run to follow. */
export function offline() {
  setConn('offline');
}
