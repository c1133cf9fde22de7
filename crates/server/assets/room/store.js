// What the room page holds: the room as the server last sent it (never changed here: the
// server replays the journal, the page shows the result), and the page's own state around
// it, the actions awaiting an answer and the reasons being typed.

import { TOKEN } from '../app.js';
import { normalise, replaces, taken, pendingOn } from './format.js';

/** The room shown (`null` until the first arrives) and when (local clock) it arrived: the
 *  run's duration ticks from then. */
export const store = { room: null, receivedAt: 0, canAct: false, canPreview: false };

/** Task (or `manual`, `cancel`) -> {timer, on}: an action was sent, its answer is awaited. */
export const busy = new Map();
/** Task -> the reject reason being typed. */
export const drafts = new Map();

let listener = () => {};
/** Says who draws the page when something changed. */
export function onChange(fn) { listener = fn; }
export function changed() { listener(); }

/** Takes a room from the API (`pageCanAct`: what the page may, which only a room from the API
 *  says) or from the stream; says whether it is now the one shown. */
export function setRoom(arrived, pageCanAct) {
  if (pageCanAct !== undefined) store.canAct = Boolean(pageCanAct) && Boolean(TOKEN);
  // Like `can_act`, only the room a page loads says whether the dashboard runs previews.
  if (arrived.can_preview !== undefined) store.canPreview = Boolean(arrived.can_preview);
  if (!replaces(store.room, arrived)) return false;
  store.room = normalise(arrived, store.canAct);
  store.receivedAt = Date.now();
  for (const [key, entry] of [...busy]) {
    if (key === 'cancel' || key === 'manual') continue;
    if (taken(store.room.tasks.find((t) => t.id === key), entry.on)) settle(key);
  }
  changed();
  return true;
}

export function settle(key) {
  clearTimeout(busy.get(key)?.timer);
  busy.delete(key);
}

export function markBusy(key) {
  settle(key);
  const task = store.room ? store.room.tasks.find((t) => t.id === key) : null;
  // If the run does not take the answer (it may wait for another kind), let the user try again.
  const timer = setTimeout(() => { busy.delete(key); changed(); }, 15000);
  busy.set(key, { timer, on: pendingOn(task) });
}
