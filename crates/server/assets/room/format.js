// The room page's pure logic: what to show of the room the server sent, as values (no DOM,
// no fetch, so `node --test` runs it; see crates/server/tests/js). The room's state itself is
// built by the server from the journal (crates/server/src/snapshot.rs); nothing here replays
// events.

import { fmtDuration, sumOrNull } from '../format.js';

/** Task states in which a task holds its lane. */
export const ACTIVE = new Set(['running', 'verifying', 'integrating', 'waiting']);

/** What a checkpoint asks of the person, by kind. */
export const KIND_TEXT = {
  'human-verify': 'Check this change, then approve or reject it',
  decision: 'Pick one option',
  'human-action': 'Do this by hand, then approve',
  gate: 'The gate found nothing wrong, but could not check everything it asks for: sign it off, or reject it',
};

/** The lines a lane's log keeps. */
export const LOG_LINES = 200;

function arr(v) { return Array.isArray(v) ? v : []; }

/** The server's room with every list present, and `can_act` as this page may (the live
 *  stream's rooms do not carry it: every page of the run shares them). */
export function normalise(s, canAct) {
  s.run = s.run || {};
  s.waves = arr(s.waves).map((w) => ({ ...w, tasks: arr(w.tasks).map(String) }));
  s.tasks = arr(s.tasks).map((t) => ({
    ...t, id: String(t.id), depends_on: arr(t.depends_on), files: arr(t.files), verify: arr(t.verify),
  }));
  s.lanes = arr(s.lanes).map((l) => ({ ...l, tasks: arr(l.tasks) }));
  s.graph = s.graph || {};
  s.graph.nodes = arr(s.graph.nodes);
  s.graph.edges = arr(s.graph.edges);
  s.gates = arr(s.gates).map((g) => ({ ...g, rounds: arr(g.rounds) }));
  s.checkpoints = arr(s.checkpoints);
  s.seq = Number(s.seq) || 0;
  s.stopping = typeof s.stopping === 'string' && s.stopping ? s.stopping : null;
  s.held = arr(s.held).filter((line) => typeof line === 'string');
  s.can_act = Boolean(canAct);
  return s;
}

/** Whether a room that arrived replaces the one shown: not if it is older (a reload that
 *  crossed a newer room from the stream). */
export function replaces(shown, arrived) {
  return !shown || (Number(arrived.seq) || 0) >= shown.seq;
}

export function typeLabel(type) {
  const s = String(type ?? 'auto');
  return s.startsWith('checkpoint:') ? s.slice('checkpoint:'.length) : s;
}

/** The run's duration: as the server counted it, plus, while it runs, the time since. */
export function runDuration(run, receivedAt, now) {
  const base = Number(run.duration_ms) || 0;
  if (run.state === 'running') return base + Math.max(0, now - receivedAt);
  return run.duration_ms ?? (run.finished_ms && run.started_ms ? run.finished_ms - run.started_ms : null);
}

/** The header's numbers: tasks by state, and tokens and cost (the lanes', which include
 *  reviews and the verifier, when they have any; else the tasks'). */
export function tally(room) {
  const ts = room.tasks;
  const count = (state) => ts.filter((t) => t.state === state).length;
  const useLanes = room.lanes.some((l) => (l.tokens_in || 0) + (l.tokens_out || 0) > 0
    || (l.cost_usd !== null && l.cost_usd !== undefined));
  const usage = useLanes ? room.lanes : ts;
  return {
    done: count('committed'),
    failed: count('failed'),
    skipped: count('skipped'),
    total: ts.length,
    tokensIn: sumOrNull(usage.map((x) => x.tokens_in)) ?? 0,
    tokensOut: sumOrNull(usage.map((x) => x.tokens_out)) ?? 0,
    cost: sumOrNull(usage.map((x) => x.cost_usd)),
  };
}

export function progressText(t) {
  const extra = [t.failed ? `${t.failed} failed` : '', t.skipped ? `${t.skipped} skipped` : ''].filter(Boolean).join(', ');
  return `${t.done}/${t.total} committed${extra ? ` (${extra})` : ''}`;
}

/** A Verify command's result: `pending` (running), `pass` or `fail`. */
export function verifyStatus(v) {
  if (v.passed === null || v.passed === undefined) return 'pending';
  return v.passed ? 'pass' : 'fail';
}

/** A best-of candidate as its card line shows it: `chosen`, `passed` (ranked lower) or
 *  `failed`, and what it changed and used. */
export function candidateLine(c) {
  const status = c.chosen ? 'chosen' : c.verdict === 'passed' ? 'passed' : 'failed';
  const outside = c.outside_lines ? `, ${c.outside_lines} outside its Files` : '';
  const verdict = { chosen: 'chosen', passed: 'passed, ranked lower', failed: c.verdict === 'verify_timed_out' ? 'Verify timed out' : 'failed' }[status];
  return { status, text: `#${c.candidate} ${verdict}: ${c.diff_lines ?? 0} lines${outside}, ${c.tokens ?? 0} tokens` };
}

/** A gate's verdict: red, green, or unverified (nothing found wrong, but something it asks
 *  for could not be checked: a person signs it off). */
export function gateVerdict(g) {
  if (!g.passed) return 'red';
  return arr(g.unverified).length ? 'unverified' : 'green';
}

export function metricValue(m) {
  const value = typeof m.value === 'number' ? Number(m.value.toFixed(2)) : String(m.value ?? '');
  return `${value}${m.unit ? ` ${m.unit}` : ''}`;
}

/** The checkpoint's kind without its `checkpoint:` prefix. */
export function checkpointKind(waiting) {
  return String(waiting.kind ?? '').replace(/^checkpoint:/, '');
}

/** The command that answers a checkpoint from a terminal. */
export function answerCommand(runId, task, waiting) {
  const options = arr(waiting.options);
  return checkpointKind(waiting) === 'decision' && options.length
    ? `wavecrew decide ${runId} ${task} ${options[0]}`
    : `wavecrew approve ${runId} ${task}`;
}

/** Where a checkpoint's preview opens from this page: the server names it on `localhost`
 *  (the dev server listens on the dashboard's machine); a page that reached the dashboard by
 *  another name (`--bind` to a network) reaches the preview by that name too. Anything but an
 *  http(s) URL is no link. */
export function previewHref(url, pageHost) {
  let parsed;
  try { parsed = new URL(String(url)); } catch { return null; }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const host = String(pageHost ?? '');
  const loopback = host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host) || host === '';
  if (!loopback) parsed.hostname = host;
  return parsed.href;
}

/** What a busy action waits for, remembered when it is sent: the task's checkpoint. */
export function pendingOn(task) {
  return JSON.stringify(task ? [task.state, task.waiting ?? null] : null);
}

/** Whether the run took an answer sent while its task showed `sentOn` (`pendingOn`): the
 *  task's checkpoint is no longer the one answered. */
export function taken(task, sentOn) {
  return !task || task.state !== 'waiting' || pendingOn(task) !== sentOn;
}

/** The task a lane works on now, if any. */
export function currentTask(room, lane) {
  return lane.current_task ? room.tasks.find((t) => t.id === String(lane.current_task)) ?? null : null;
}

/** The lane a line belongs to: the one the server names, else the task's. */
export function laneOf(room, message) {
  if (message.lane) return String(message.lane);
  const task = String(message.task ?? '');
  const t = room ? room.tasks.find((x) => x.id === task) : null;
  if (t && t.lane) return String(t.lane);
  const l = room ? room.lanes.find((x) => x.current_task === task || x.tasks.includes(task)) : null;
  return l ? l.name : null;
}

// Agent output -------------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/** A line of agent output as shown: terminal escapes and control characters removed, cut. */
export function cleanLine(line) {
  const s = String(line ?? '').replace(ANSI, '');
  return s.length > 4000 ? `${s.slice(0, 4000)}…` : s;
}

/** A `log` message of the stream as a line of its lane's log: `{text, kind}`, where kind is
 *  null (what the agent printed), `mark`, `sys` or `err` (what happened on the lane). */
export function logLine(m) {
  switch (m.mark) {
    case undefined:
    case null:
      return { text: cleanLine(m.line), kind: null };
    case 'attempt':
      return { text: cleanLine(`── ${m.task} · attempt ${m.attempt ?? 1} ──`), kind: 'mark' };
    case 'prepared':
      return { text: cleanLine(`worktree ready (${fmtDuration(m.duration_ms)})${m.detail ? `: ${m.detail}` : ''}`), kind: 'sys' };
    case 'error':
      return { text: cleanLine(`error: ${m.detail ?? ''}`), kind: 'err' };
    case 'denied': {
      const to = m.path ? ` to ${m.path}` : '';
      return { text: cleanLine(`sandbox refused a ${m.operation ?? 'write'}${to} (${m.process ?? 'agent'})`), kind: 'err' };
    }
    case 'budget':
      return { text: cleanLine(`stopped: the task spent ${m.spent ?? '?'} of its budget of ${m.cap ?? '?'}`), kind: 'err' };
    case 'exited': {
      const code = m.code === null || m.code === undefined ? '' : ` with code ${m.code}`;
      return { text: cleanLine(`agent exited${code}${m.timed_out ? ' (timed out)' : ''} after ${fmtDuration(m.duration_ms)}`), kind: 'sys' };
    }
    default:
      return null; // a mark this page does not know: nothing to show
  }
}

/** What a `log` message adds to its lane's log, which shows `shown`'s lines last and ends
 *  with `last` (`'mark'`, another line, or `null` when empty): `{lines, task}`, the task whose
 *  lines it shows last after them. A task's output that follows another's gets a mark first. */
export function addLines(m, shown, last) {
  const line = logLine(m);
  if (!line) return { lines: [], task: shown };
  const task = String(m.task ?? '');
  if (line.kind === 'mark') return { lines: [line], task };
  if (line.kind !== null || task === shown) return { lines: [line], task: shown };
  const mark = last !== null && last !== 'mark' ? [{ text: `── ${task} ──`, kind: 'mark' }] : [];
  return { lines: [...mark, line], task };
}

/** The lines that open a lane's log on a page loaded mid-run (or after): the room's tail of
 *  it, with a mark before each task's lines. */
export function seedLines(tail) {
  const lines = [];
  let task = null;
  for (const d of arr(tail)) {
    const t = String(d.task ?? '');
    if (t !== task) {
      task = t;
      lines.push({ text: `── ${t} ──`, kind: 'mark' });
    }
    lines.push({ text: cleanLine(d.line), kind: null });
  }
  return { lines, task };
}
