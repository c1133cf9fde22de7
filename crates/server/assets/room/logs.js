// The lanes' logs: what each lane's agent prints, as the stream brings it, with a mark where
// an attempt starts, its worktree is ready, its agent reports an error or exits. These lines
// are a stream, not state: they are not in the room, and not kept by the server.

import { h } from '../app.js';
import { LOG_LINES, addLines, laneOf, seedLines } from './format.js';
import { store } from './store.js';

const laneLogs = new Map(); // lane name -> {pre, task}

/** The log element of a lane (made the first time). */
export function laneLog(name) {
  let entry = laneLogs.get(name);
  if (!entry) {
    entry = {
      pre: h('pre', { class: 'log lane-log', tabindex: '0', 'aria-label': `Output of ${name}`, dataset: { lane: name } }),
      task: null,
    };
    laneLogs.set(name, entry);
  }
  return entry;
}

function append(pre, text, kind) {
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  pre.appendChild(h('span', { class: kind ? `line ${kind}` : 'line' }, `${text}\n`));
  while (pre.childNodes.length > LOG_LINES) pre.firstChild.remove();
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

/** A page opened mid-run (or after it) starts each empty lane log with the room's tail of it
 *  (only a room from the API has one); the stream adds to it from then on. */
export function seed(room) {
  for (const l of room.lanes) {
    const entry = laneLog(l.name);
    if (!Array.isArray(l.log_tail) || !l.log_tail.length || entry.pre.childNodes.length) continue;
    const { lines, task } = seedLines(l.log_tail);
    for (const line of lines) append(entry.pre, line.text, line.kind);
    entry.task = task;
  }
}

/** A `log` message of the stream. */
export function onLog(message) {
  let m;
  try { m = JSON.parse(message.data); } catch { return; }
  if (!m || typeof m !== 'object') return;
  const lane = laneOf(store.room, m);
  if (!lane) return;
  const entry = laneLog(lane);
  const last = entry.pre.lastChild;
  const { lines, task } = addLines(m, entry.task, last ? (last.classList.contains('mark') ? 'mark' : 'line') : null);
  for (const line of lines) append(entry.pre, line.text, line.kind);
  entry.task = task;
}
