// wavecrew dashboard: one run (room.html).
//
// The page loads the run's snapshot (GET /api/runs/<id>), then follows its journal over
// Server-Sent Events (/api/runs/<id>/events?after=<seq>). Cheap changes (a task starts,
// verifies, waits, commits) are applied to the snapshot in memory; events that carry report
// sections (gates, verification, checkpoint answers, the end of the run) also fetch the
// snapshot again, debounced. Rendering compares each piece with what is on screen and replaces
// only what changed, so a card being typed in is not rebuilt under the user's fingers.

import {
  h, fill, meta, TOKEN, getJSON, getText, post, pageHref, toast,
  fmtDuration, fmtTokens, fmtCost, shortHash, sumOrNull, stateBadge, FINAL_STATES,
} from './app.js';
import { buildGraph, updateGraph } from './graph.js';

function runFromPath() {
  const parts = location.pathname.split('/').filter(Boolean);
  try { return decodeURIComponent(parts[parts.length - 1] || ''); } catch { return ''; }
}

const RUN = meta('wavecrew-run', '{{RUN}}') || runFromPath();
const enc = encodeURIComponent;
const API = `/api/runs/${enc(RUN)}`;
const LOG_LINES = 200;
const REFETCH_ON = new Set([
  'run_started', 'run_resumed', 'gate_checked', 'gate_fix_committed', 'run_verified',
  'checkpoint_answered', 'run_finished',
]);
const ACTIVE = new Set(['running', 'verifying', 'integrating', 'waiting']);

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// State

let snap = null; // the snapshot, with the events since applied to it
let fetchedAt = 0; // when (local clock) the snapshot arrived: the run's duration ticks from it
let lastSeq = 0; // the last journal event applied
let recent = []; // events applied since the snapshot's seq, replayed over a newer-fetched older snapshot
let stopping = null; // the reason of a `stopping` event
const tasks = new Map();
const lanes = new Map();
const busy = new Map(); // task (or 'manual', 'cancel') -> timer: an action was sent, its answer is awaited
const drafts = new Map(); // task -> the reject reason being typed

function arr(v) { return Array.isArray(v) ? v : []; }

function normalise(s) {
  s.run = s.run || {};
  s.run.id = s.run.id ?? RUN;
  s.waves = arr(s.waves).map((w) => ({ ...w, tasks: arr(w.tasks).map(String) }));
  s.tasks = arr(s.tasks).map((t) => ({
    ...t, id: String(t.id), depends_on: arr(t.depends_on), files: arr(t.files), verify: arr(t.verify),
  }));
  s.lanes = arr(s.lanes).map((l) => ({ ...l, tasks: arr(l.tasks) }));
  s.graph = s.graph || {};
  s.graph.nodes = arr(s.graph.nodes);
  s.graph.edges = arr(s.graph.edges);
  // Every round of each gate, in order; a snapshot from before rounds were kept has the last one only.
  s.gates = arr(s.gates).map((g) => ({ ...g, rounds: arr(g.rounds).length ? arr(g.rounds) : [gateRound(g)] }));
  s.checkpoints = arr(s.checkpoints);
  s.seq = Number(s.seq) || 0;
  s.can_act = Boolean(s.can_act) && Boolean(TOKEN);
  return s;
}

function gateRound(g) {
  return {
    round: g.round ?? 1, passed: Boolean(g.passed), findings: arr(g.findings), metrics: arr(g.metrics),
    notes: arr(g.notes), unverified: arr(g.unverified), fix_commit: g.fix_commit ?? null,
  };
}

function reindex() {
  tasks.clear();
  for (const t of snap.tasks) tasks.set(t.id, t);
  lanes.clear();
  for (const l of snap.lanes) lanes.set(l.name, l);
}

function lane(name, fields) {
  if (!name) return null;
  let l = lanes.get(name);
  if (!l) {
    l = { name, agent: '', model: null, tasks: [], current_task: null, tokens_in: 0, tokens_out: 0, cost_usd: null };
    snap.lanes.push(l);
    lanes.set(name, l);
  }
  if (fields) Object.assign(l, fields);
  return l;
}

function laneOfTask(id) {
  const t = tasks.get(id);
  if (t && t.lane && lanes.has(t.lane)) return lanes.get(t.lane);
  for (const l of lanes.values()) if (l.current_task === id) return l;
  for (const l of lanes.values()) if (l.tasks.includes(id)) return l;
  return null;
}

function freeLane(id) {
  for (const l of lanes.values()) if (l.current_task === id) l.current_task = null;
}

function addNum(a, b) {
  if (typeof b !== 'number' || !Number.isFinite(b)) return a;
  return (typeof a === 'number' && Number.isFinite(a) ? a : 0) + b;
}

// ---------------------------------------------------------------------------------------------
// Journal events -> snapshot

function apply(e, replaying) {
  const t = e.task !== undefined ? tasks.get(String(e.task)) : undefined;
  switch (e.event) {
    case 'run_started':
      Object.assign(snap.run, {
        milestone: e.milestone ?? snap.run.milestone, title: e.title ?? snap.run.title,
        branch: e.branch ?? snap.run.branch, base: e.base ?? snap.run.base, state: 'running',
      });
      for (const l of arr(e.lanes)) lane(l.name, { agent: l.agent, model: l.model ?? null, tasks: arr(l.tasks) });
      break;
    case 'run_resumed':
      snap.run.state = 'running';
      snap.run.finished_ms = null;
      stopping = null;
      break;
    case 'attempt_started':
      if (t) Object.assign(t, { state: 'running', attempts: e.attempt ?? t.attempts, lane: e.lane ?? t.lane, verify: [], waiting: null, started_at: e.at_ms });
      // A task runs on its own row's model; reviews and the verifier say theirs on the lane only.
      if (t && !e.role && e.model !== undefined) t.model = e.model;
      if (e.lane) {
        const l = lane(e.lane, { current_task: String(e.task) });
        if (e.agent) l.agent = e.agent;
        if (e.model !== undefined) l.model = e.model;
        if (!l.tasks.includes(String(e.task))) l.tasks.push(String(e.task));
        if (!replaying) logMark(l.name, `── ${e.task} · attempt ${e.attempt ?? 1} ──`, 'mark');
        laneLog(l.name).task = String(e.task);
      }
      break;
    case 'lane_prepared':
      if (e.lane && !replaying) logMark(e.lane, `worktree ready (${fmtDuration(e.duration_ms)})${e.detail ? `: ${e.detail}` : ''}`, 'sys');
      break;
    case 'agent_activity':
      if (e.kind === 'usage') {
        const l = laneOfTask(String(e.task));
        for (const target of [t, l]) {
          if (!target) continue;
          target.tokens_in = addNum(target.tokens_in, e.tokens_in);
          target.tokens_out = addNum(target.tokens_out, e.tokens_out);
          target.cost_usd = addNum(target.cost_usd, e.cost_usd) ?? target.cost_usd ?? null;
        }
      } else if (e.kind === 'error' && !replaying) {
        const l = laneOfTask(String(e.task));
        if (l) logMark(l.name, `error: ${e.detail ?? ''}`, 'err');
      }
      break;
    case 'agent_exited':
      if (!replaying) {
        const l = laneOfTask(String(e.task));
        if (l) logMark(l.name, `agent exited${e.code === null || e.code === undefined ? '' : ` with code ${e.code}`}${e.timed_out ? ' (timed out)' : ''} after ${fmtDuration(e.duration_ms)}`, 'sys');
      }
      break;
    case 'verify_started':
      if (t) {
        t.state = 'verifying';
        t.verify = t.verify.filter((v) => v.command !== e.command);
        t.verify.push({ command: e.command, passed: null, exit_code: null, duration_ms: null });
      }
      break;
    case 'verify_finished':
      if (t) {
        const result = { command: e.command, passed: Boolean(e.passed), exit_code: e.exit_code ?? null, duration_ms: e.duration_ms ?? null };
        const i = t.verify.findIndex((v) => v.command === e.command);
        if (i >= 0) t.verify[i] = result; else t.verify.push(result);
      }
      break;
    case 'checkpoint_waiting':
      if (t) {
        t.state = 'waiting';
        t.waiting = { kind: e.kind, options: arr(e.options), commit: e.commit ?? null, details: e.details ?? '' };
      }
      break;
    case 'checkpoint_answered':
      if (t) {
        if (t.state === 'waiting') t.state = 'running';
        t.waiting = null;
      }
      settle(String(e.task));
      if (!snap.checkpoints.some((c) => c.task === e.task && c.answer === e.answer && c.detail === (e.detail ?? null))) {
        snap.checkpoints.push({ task: e.task, answer: e.answer, detail: e.detail ?? null, auto: Boolean(e.auto), commit: e.commit ?? null });
      }
      break;
    case 'gate_checked': {
      const round = { ...gateRound(e), seq: e.seq };
      let gate = snap.gates.find((g) => g.task === e.task && g.skill === e.skill);
      if (!gate) {
        gate = { task: e.task, skill: e.skill, rounds: [] };
        snap.gates.push(gate);
      }
      if (gate.rounds.some((r) => r.seq !== undefined && r.seq === e.seq)) break;
      gate.rounds.push(round);
      Object.assign(gate, { round: round.round, passed: round.passed, findings: round.findings, metrics: round.metrics, notes: round.notes, unverified: round.unverified });
      break;
    }
    case 'gate_fix_committed':
      // The fix answers the latest check of that round, for every skill of the gate.
      for (const g of snap.gates.filter((x) => x.task === e.task)) {
        const r = [...g.rounds].reverse().find((x) => x.round === e.round);
        if (r) r.fix_commit = e.commit ?? null;
      }
      break;
    case 'integrating':
      if (t) Object.assign(t, { state: 'integrating', commit: e.commit ?? t.commit });
      break;
    case 'task_committed': {
      if (t) Object.assign(t, { state: 'committed', commit: e.commit ?? t.commit, waiting: null, reason: null });
      // Started before this page loaded: the snapshot's `started_ms` says when.
      const began = t ? (t.started_at ?? t.started_ms) : null;
      if (t && began && e.at_ms) t.duration_ms = Math.max(t.duration_ms || 0, e.at_ms - began);
      freeLane(String(e.task));
      settle(String(e.task));
      break;
    }
    case 'attempt_failed':
      if (t) t.reason = `attempt ${e.attempt ?? ''} failed: ${e.reason ?? ''}`;
      break;
    case 'task_failed':
      if (t) Object.assign(t, { state: 'failed', reason: e.reason ?? t.reason, attempts: e.attempts ?? t.attempts, waiting: null });
      freeLane(String(e.task));
      settle(String(e.task));
      break;
    case 'task_skipped':
      if (t) {
        const because = String(e.because ?? '');
        Object.assign(t, { state: 'skipped', waiting: null, reason: tasks.has(because) ? `skipped: ${because} failed` : `skipped: ${because}` });
      }
      break;
    case 'run_verified':
      snap.verification = {
        verdict: e.verdict, must_haves: arr(e.must_haves), automated: arr(e.automated),
        manual: arr(e.manual), manual_signed_off: Boolean(snap.verification && snap.verification.manual_signed_off),
      };
      break;
    case 'stopping':
      stopping = e.reason ?? 'stopping';
      break;
    case 'run_finished':
      Object.assign(snap.run, {
        state: e.state ?? snap.run.state,
        duration_ms: e.duration_ms ?? snap.run.duration_ms,
        finished_ms: e.at_ms ?? Date.now(),
      });
      fetchedAt = Date.now();
      for (const l of lanes.values()) l.current_task = null;
      break;
    default:
      break; // agent_spawned and anything newer: nothing to show
  }
}

function onJournal(message) {
  let e;
  try { e = JSON.parse(message.data); } catch { return; }
  if (!e || typeof e !== 'object') return;
  const seq = Number(e.seq ?? message.lastEventId) || 0;
  if (seq && seq <= lastSeq) return; // already in the snapshot, or seen before a reconnect
  if (seq) lastSeq = seq;
  if (!snap) return;
  recent.push(e);
  if (recent.length > 5000) recent = recent.slice(-2500);
  apply(e, false);
  if (REFETCH_ON.has(e.event)) refetchSoon();
  if (e.event === 'run_finished' && FINAL_STATES.has(snap.run.state)) closeStream('final');
  scheduleRender();
}

// ---------------------------------------------------------------------------------------------
// Loading the snapshot and following the stream

async function loadSnapshot() {
  const fresh = normalise(await getJSON(API));
  snap = fresh;
  fetchedAt = Date.now();
  reindex();
  // Events that arrived while the snapshot was on its way, newer than it: apply them again.
  recent = recent.filter((e) => (Number(e.seq) || 0) > fresh.seq);
  for (const e of recent) apply(e, true);
  lastSeq = Math.max(lastSeq, fresh.seq);
  seedLaneLogs(fresh);
  for (const task of [...busy.keys()]) if (task !== 'cancel' && task !== 'manual') {
    const t = tasks.get(task);
    if (!t || t.state !== 'waiting') settle(task);
  }
  $('load-error').hidden = true;
  if (FINAL_STATES.has(snap.run.state) && source) closeStream('final');
  scheduleRender();
}

let refetchTimer = null;
function refetchSoon() {
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(() => {
    loadSnapshot().catch((e) => toast(`Cannot refresh the run: ${e.message}`, 'error'));
  }, 200);
}

let source = null;
let retryTimer = null;
let retryDelay = 1000;

function setConn(state, text) {
  const el = $('conn');
  el.dataset.conn = state;
  el.textContent = text ?? {
    connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', final: 'finished', offline: 'offline',
  }[state] ?? state;
}

function openStream() {
  if (source || !snap) return;
  if (FINAL_STATES.has(snap.run.state)) { setConn('final'); return; }
  const query = new URLSearchParams({ after: String(lastSeq) });
  if (TOKEN) query.set('token', TOKEN);
  const es = new EventSource(`${API}/events?${query}`);
  source = es;
  setConn('connecting');
  es.addEventListener('open', () => { retryDelay = 1000; setConn('live'); });
  es.addEventListener('journal', onJournal);
  es.addEventListener('log', onLog);
  es.addEventListener('error', () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (the server answered with an error, or not with a stream): try
      // again ourselves, from the snapshot, a little later each time.
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
    await loadSnapshot();
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

// ---------------------------------------------------------------------------------------------
// Agent output

const laneLogs = new Map(); // lane name -> {pre, task}
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

function cleanLine(line) {
  const s = String(line ?? '').replace(ANSI, '');
  return s.length > 4000 ? `${s.slice(0, 4000)}…` : s;
}

function laneLog(name) {
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

function appendTo(pre, text, kind) {
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  pre.appendChild(h('span', { class: kind ? `line ${kind}` : 'line' }, `${text}\n`));
  while (pre.childNodes.length > LOG_LINES) pre.firstChild.remove();
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function logMark(laneName, text, kind) {
  appendTo(laneLog(laneName).pre, cleanLine(text), kind);
}

// A page opened mid-run (or after it) starts each lane's log with the snapshot's tail of it;
// the stream adds to it from then on.
function seedLaneLogs(fresh) {
  for (const l of fresh.lanes || []) {
    const tail = Array.isArray(l.log_tail) ? l.log_tail : [];
    const entry = laneLog(l.name);
    if (!tail.length || entry.pre.childNodes.length) continue;
    for (const d of tail) {
      const task = String(d.task ?? '');
      if (entry.task !== task) {
        entry.task = task;
        appendTo(entry.pre, `── ${task} ──`, 'mark');
      }
      appendTo(entry.pre, cleanLine(d.line), null);
    }
  }
}

function onLog(message) {
  let d;
  try { d = JSON.parse(message.data); } catch { return; }
  if (!d || !snap) return;
  const task = String(d.task ?? '');
  const l = laneOfTask(task);
  if (!l) return;
  const entry = laneLog(l.name);
  if (entry.task !== task) {
    entry.task = task;
    if (entry.pre.lastChild && !entry.pre.lastChild.classList.contains('mark')) appendTo(entry.pre, `── ${task} ──`, 'mark');
  }
  appendTo(entry.pre, cleanLine(d.line), null);
}

// ---------------------------------------------------------------------------------------------
// Rendering

let renderTimer = null;
function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => { renderTimer = null; render(); }, 16);
}

function render() {
  if (!snap) return;
  renderHeader();
  renderContext();
  renderTasks();
  renderLanes();
  renderGraph();
  renderGates();
  renderVerification();
  renderCheckpoints();
  renderDialog();
}

const shown = new Map(); // section -> the key of what it shows
function changed(section, value) {
  const key = JSON.stringify(value);
  if (shown.get(section) === key) return false;
  shown.set(section, key);
  return true;
}

function runDuration() {
  const r = snap.run;
  const base = Number(r.duration_ms) || 0;
  if (r.state === 'running') return base + Math.max(0, Date.now() - fetchedAt);
  return r.duration_ms ?? (r.finished_ms && r.started_ms ? r.finished_ms - r.started_ms : null);
}

function typeLabel(type) {
  const s = String(type ?? 'auto');
  return s.startsWith('checkpoint:') ? s.slice('checkpoint:'.length) : s;
}

function renderHeader() {
  const r = snap.run;
  const ts = snap.tasks;
  const count = (state) => ts.filter((t) => t.state === state).length;
  const laneList = snap.lanes;
  const useLanes = laneList.some((l) => (l.tokens_in || 0) + (l.tokens_out || 0) > 0 || l.cost_usd !== null && l.cost_usd !== undefined);
  const usage = useLanes ? laneList : ts;
  const tokensIn = sumOrNull(usage.map((x) => x.tokens_in)) ?? 0;
  const tokensOut = sumOrNull(usage.map((x) => x.tokens_out)) ?? 0;
  const cost = sumOrNull(usage.map((x) => x.cost_usd));
  const head = {
    id: r.id, milestone: r.milestone, title: r.title, state: r.state, branch: r.branch, base: r.base,
    done: count('committed'), failed: count('failed'), skipped: count('skipped'), total: ts.length,
    tokensIn, tokensOut, cost, canAct: snap.can_act, stopping, busy: busy.has('cancel'),
  };
  if (!changed('header', head)) return;
  document.title = `${r.milestone ? `${r.milestone} ` : ''}${r.title || r.id} · wavecrew`;
  $('run-id').textContent = String(r.id ?? '');
  $('run-milestone').textContent = String(r.milestone ?? '');
  $('run-title-text').textContent = String(r.title ?? '');
  const badge = $('run-state');
  badge.dataset.state = String(r.state ?? '');
  badge.textContent = String(r.state ?? 'unknown');
  $('run-branch').textContent = String(r.branch ?? '—');
  $('run-base').textContent = r.base ? ` from ${r.base}` : '';
  const extra = [head.failed ? `${head.failed} failed` : '', head.skipped ? `${head.skipped} skipped` : ''].filter(Boolean).join(', ');
  $('run-progress').textContent = `${head.done}/${head.total} committed${extra ? ` (${extra})` : ''}`;
  $('run-tokens').textContent = `${fmtTokens(tokensIn)} in · ${fmtTokens(tokensOut)} out`;
  $('run-cost').textContent = fmtCost(cost);
  // The run's report, as `wavecrew report` prints it, once there is a verdict to read.
  const report = $('report-link');
  report.hidden = !FINAL_STATES.has(String(r.state ?? ''));
  report.href = pageHref(`${API}/report`);
  const cancel = $('cancel-run');
  cancel.hidden = !(snap.can_act && r.state === 'running');
  cancel.disabled = busy.has('cancel') || Boolean(stopping);
  const ro = $('read-only');
  ro.hidden = snap.can_act;
  if (!snap.can_act) {
    fill(ro, 'Read-only: this page was opened without the access token, so it cannot answer checkpoints or cancel the run. ',
      'Open the address wavecrew printed (it carries the token), or answer from a terminal, e.g. ',
      h('code', null, `wavecrew approve ${r.id} TASK`), '.');
  }
  const st = $('stopping');
  st.hidden = !stopping || FINAL_STATES.has(r.state);
  st.textContent = stopping ? `Stopping: ${stopping}` : '';
  tick();
}

function tick() {
  if (snap) $('run-duration').textContent = fmtDuration(runDuration());
}

function renderContext() {
  const text = typeof snap.context === 'string' ? snap.context : '';
  if (!changed('context', text)) return;
  $('context').textContent = text;
  $('context-section').hidden = !text.trim();
}

// Task cards ----------------------------------------------------------------------------------

const cards = new Map(); // task -> {key, el}
const columns = new Map(); // wave number -> list element

function verifyList(verify) {
  if (!verify.length) return null;
  return h('ul', { class: 'verify', 'aria-label': 'Verify commands' }, verify.map((v) => {
    const status = v.passed === null || v.passed === undefined ? 'pending' : v.passed ? 'pass' : 'fail';
    const mark = { pending: '…', pass: '✓', fail: '✗' }[status];
    const label = { pending: 'running', pass: 'passed', fail: 'failed' }[status];
    return h('li', { class: `check ${status}`, title: String(v.command ?? '') },
      h('span', { class: 'mark', 'aria-label': label, role: 'img' }, mark),
      h('code', { class: 'cmd' }, String(v.command ?? '')),
      status === 'fail' && v.exit_code !== null && v.exit_code !== undefined ? h('span', { class: 'muted small' }, ` exit ${v.exit_code}`) : null,
      v.duration_ms !== null && v.duration_ms !== undefined ? h('span', { class: 'muted small dur' }, fmtDuration(v.duration_ms)) : null);
  }));
}

const KIND_TEXT = {
  'human-verify': 'Check this change, then approve or reject it',
  decision: 'Pick one option',
  'human-action': 'Do this by hand, then approve',
  gate: 'The gate found nothing wrong, but could not check everything it asks for: sign it off, or reject it',
};

function checkpointBox(t) {
  const w = t.waiting;
  const kind = String(w.kind ?? '').replace(/^checkpoint:/, '');
  const sending = busy.has(t.id);
  const parts = [
    h('h4', null, KIND_TEXT[kind] ?? `Waiting: ${kind}`),
    w.details ? h('pre', { class: 'details' }, String(w.details)) : null,
    w.commit ? h('p', { class: 'small' }, 'Commit ', h('code', { title: String(w.commit) }, shortHash(w.commit))) : null,
  ];
  if (!snap.can_act) {
    const cli = kind === 'decision' && w.options.length
      ? `wavecrew decide ${snap.run.id} ${t.id} ${w.options[0]}`
      : `wavecrew approve ${snap.run.id} ${t.id}`;
    parts.push(h('p', { class: 'small muted' }, 'Read-only page. Answer from a terminal: ', h('code', null, cli)));
  } else if (kind === 'decision' && w.options.length) {
    parts.push(h('div', { class: 'actions options', role: 'group', 'aria-label': 'Options' },
      w.options.map((o) => h('button', {
        type: 'button', class: 'primary', disabled: sending,
        dataset: { action: 'decide', task: t.id, option: String(o), focus: `decide:${o}` },
      }, String(o)))));
  } else {
    parts.push(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', disabled: sending, dataset: { action: 'approve', task: t.id, focus: 'approve' } }, 'Approve')));
    if (kind === 'human-verify' || kind === 'gate') {
      const inputId = `reason-${t.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
      const input = h('input', {
        type: 'text', id: inputId, class: 'reason', placeholder: 'What is wrong', autocomplete: 'off',
        disabled: sending, dataset: { field: 'reason', task: t.id, focus: 'reason' },
      });
      input.value = drafts.get(t.id) ?? '';
      parts.push(h('div', { class: 'actions reject' },
        h('label', { for: inputId, class: 'visually-hidden' }, `Reason to reject ${t.id}`),
        input,
        h('button', { type: 'button', class: 'danger', disabled: sending, dataset: { action: 'reject', task: t.id, focus: 'reject' } }, 'Reject')));
    }
  }
  if (sending) parts.push(h('p', { class: 'small muted' }, 'Sent; waiting for the run to take the answer…'));
  return h('section', { class: 'checkpoint', 'aria-label': `Checkpoint ${t.id}` }, parts);
}

function card(t) {
  const facts = [
    stateBadge(t.state),
    t.lane ? h('span', { class: 'fact lane-name', title: 'Lane' }, String(t.lane)) : null,
    t.model ? h('span', { class: 'fact model', title: 'Model' }, String(t.model)) : null,
    t.attempts > 1 ? h('span', { class: 'fact', title: 'Attempts' }, `attempt ${t.attempts}`) : null,
    t.duration_ms ? h('span', { class: 'fact', title: 'Duration' }, fmtDuration(t.duration_ms)) : null,
    t.commit ? h('code', { class: 'fact commit', title: String(t.commit) }, shortHash(t.commit)) : null,
  ];
  const showReason = t.reason && (t.state === 'failed' || t.state === 'skipped' || ACTIVE.has(t.state));
  return h('article', {
    class: 'task', dataset: { task: t.id, state: t.state, type: t.type ?? 'auto' },
    'aria-label': `Task ${t.id}: ${t.title ?? ''} (${t.state})`,
  },
  h('div', { class: 'task-top' },
    h('button', { type: 'button', class: 'task-open', 'aria-haspopup': 'dialog', dataset: { open: t.id, focus: 'open' } },
      h('span', { class: 'task-id' }, t.id),
      h('span', { class: 'task-title' }, String(t.title ?? ''))),
    h('span', { class: 'badge type', dataset: { type: typeLabel(t.type) } }, typeLabel(t.type))),
  h('div', { class: 'task-facts' }, facts),
  verifyList(t.verify),
  showReason ? h('p', { class: `reason-text ${t.state === 'failed' ? 'error-text' : ''}` }, String(t.reason)) : null,
  t.state === 'waiting' && t.waiting ? checkpointBox(t) : null);
}

function replaceKeepingFocus(oldEl, newEl) {
  const active = document.activeElement;
  let focusKey = null;
  let selection = null;
  if (active && oldEl.contains(active) && active.dataset) {
    focusKey = active.dataset.focus;
    if (active.tagName === 'INPUT') selection = [active.selectionStart, active.selectionEnd];
  }
  oldEl.replaceWith(newEl);
  if (focusKey) {
    const again = [...newEl.querySelectorAll('[data-focus]')].find((x) => x.dataset.focus === focusKey);
    if (again && !again.disabled) {
      again.focus({ preventScroll: true });
      if (selection && again.setSelectionRange) try { again.setSelectionRange(...selection); } catch { /* not a text input */ }
    }
  }
}

function renderTasks() {
  const layout = snap.waves.map((w) => [w.number, w.title, w.tasks]);
  const placed = new Set(snap.waves.flatMap((w) => w.tasks));
  const loose = snap.tasks.filter((t) => !placed.has(t.id)).map((t) => t.id);
  if (changed('waves', [layout, loose])) {
    const root = $('waves');
    root.replaceChildren();
    columns.clear();
    const waveList = snap.waves.map((w) => ({ ...w }));
    if (loose.length) waveList.push({ number: 'other', title: 'Other tasks', tasks: loose });
    for (const w of waveList) {
      const list = h('div', { class: 'wave-tasks' });
      const count = h('span', { class: 'wave-count muted small' });
      root.appendChild(h('section', { class: 'wave', dataset: { wave: w.number }, 'aria-label': `Wave ${w.number}` },
        h('h3', { class: 'wave-head' },
          h('span', { class: 'wave-number' }, typeof w.number === 'number' ? `Wave ${w.number}` : ''),
          h('span', { class: 'wave-title' }, String(w.title ?? '')), count),
        list));
      columns.set(String(w.number), { list, count, ids: w.tasks });
      for (const id of w.tasks) {
        const c = cards.get(id);
        if (c) list.appendChild(c.el);
      }
    }
  }
  for (const t of snap.tasks) {
    const key = JSON.stringify([t, snap.can_act, busy.has(t.id), snap.run.id]);
    const c = cards.get(t.id);
    if (c && c.key === key && c.el.isConnected) continue;
    const el = card(t);
    if (c && c.el.isConnected) replaceKeepingFocus(c.el, el);
    else {
      const col = [...columns.values()].find((x) => x.ids.includes(t.id));
      if (col) {
        // keep the wave's order
        const after = col.ids.slice(col.ids.indexOf(t.id) + 1).map((id) => cards.get(id)).find((x) => x && x.el.parentNode === col.list);
        col.list.insertBefore(el, after ? after.el : null);
      }
    }
    cards.set(t.id, { key, el });
  }
  for (const col of columns.values()) {
    const done = col.ids.filter((id) => tasks.get(id)?.state === 'committed').length;
    col.count.textContent = `${done}/${col.ids.length}`;
  }
}

// Lanes ---------------------------------------------------------------------------------------

const laneRows = new Map(); // lane -> {key, row, info}

function renderLanes() {
  $('lanes-section').hidden = snap.lanes.length === 0;
  const root = $('lanes');
  for (const l of snap.lanes) {
    const current = l.current_task ? tasks.get(String(l.current_task)) : null;
    const key = JSON.stringify([l, current ? current.state : null]);
    let entry = laneRows.get(l.name);
    if (!entry) {
      const info = h('div', { class: 'lane-info' });
      const row = h('div', { class: 'lane', dataset: { lane: l.name } }, info, laneLog(l.name).pre);
      root.appendChild(row);
      entry = { key: '', row, info };
      laneRows.set(l.name, entry);
    }
    if (entry.key === key) continue;
    entry.key = key;
    entry.row.dataset.busy = current ? 'yes' : 'no';
    fill(entry.info,
      h('h3', { class: 'lane-name' }, String(l.name)),
      h('p', { class: 'lane-agent small' }, String(l.agent || 'agent'), l.model ? h('span', { class: 'muted' }, ` · ${l.model}`) : null),
      h('p', { class: 'lane-current small' },
        current
          ? [h('button', { type: 'button', class: 'link', dataset: { open: current.id } }, `${current.id} ${current.title ?? ''}`.trim()), ' ', stateBadge(current.state)]
          : h('span', { class: 'muted' }, 'idle')),
      h('p', { class: 'lane-usage small muted' },
        `${fmtTokens(l.tokens_in)} in · ${fmtTokens(l.tokens_out)} out · ${fmtCost(l.cost_usd)}`));
  }
}

// Graph ---------------------------------------------------------------------------------------

let graphEl = null;
const stateOf = (id) => tasks.get(String(id))?.state ?? 'pending';

function renderGraph() {
  const g = snap.graph;
  $('graph-section').hidden = g.nodes.length === 0;
  if (!g.nodes.length) return;
  const titles = g.nodes.map((n) => [n.id, tasks.get(String(n.id))?.title ?? n.title]);
  if (changed('graph', [g, snap.waves.map((w) => [w.number, w.title, w.tasks]), titles]) || !graphEl) {
    const titleOf = (id) => String(tasks.get(id)?.title ?? g.nodes.find((n) => String(n.id) === id)?.title ?? '');
    graphEl = buildGraph(g, snap.waves, stateOf, titleOf);
    fill($('graph'), graphEl);
  }
  updateGraph(graphEl, stateOf);
}

// Gates, verification, checkpoint answers ------------------------------------------------------

function passBadge(passed, yes = 'passed', no = 'failed') {
  return h('span', { class: 'badge verdict', dataset: { verdict: passed ? 'passed' : 'failed' } }, passed ? yes : no);
}

function table(caption, headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'report' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows)));
}

function renderGateRound(r) {
  return h('section', { class: 'gate-round', dataset: { passed: r.passed ? 'yes' : 'no' } },
    h('h4', null, `Round ${r.round ?? 1}`, ' ', passBadge(r.passed, 'green', 'red')),
    arr(r.unverified).length
      ? h('ul', { class: 'findings unverified' }, arr(r.unverified).map((u) => h('li', null,
        h('span', { class: 'badge check' }, 'not checked'), ' ', h('span', { class: 'finding-message' }, String(u)))))
      : null,
    arr(r.findings).length
      ? h('ul', { class: 'findings' }, arr(r.findings).map((f) => h('li', null,
        h('span', { class: 'badge check' }, String(f.check ?? '')), ' ',
        h('span', { class: 'finding-message' }, String(f.message ?? '')),
        f.location ? [' ', h('code', { class: 'location' }, String(f.location))] : null)))
      : h('p', { class: 'small muted' }, 'No findings.'),
    arr(r.metrics).length
      ? table(null, ['Metric', 'Value', 'Source'], arr(r.metrics).map((m) => h('tr', null,
        h('td', null, String(m.name ?? '')),
        h('td', { class: 'num nowrap' }, `${typeof m.value === 'number' ? Number(m.value.toFixed(2)) : String(m.value ?? '')}${m.unit ? ` ${m.unit}` : ''}`),
        h('td', null, m.source ? h('code', null, String(m.source)) : '—'))))
      : null,
    arr(r.notes).length ? h('ul', { class: 'notes small' }, arr(r.notes).map((n) => h('li', null, String(n)))) : null,
    r.fix_commit ? h('p', { class: 'small fix' }, 'Fixed in ', h('code', null, shortHash(r.fix_commit))) : null);
}

function renderGates() {
  const gates = snap.gates;
  $('gates-section').hidden = gates.length === 0;
  if (!changed('gates', gates)) return;
  // Unverified: nothing found wrong, but something the gate asks for could not be checked.
  const verdictOf = (g) => (!g.passed ? 'red' : arr(g.unverified).length ? 'unverified' : 'green');
  fill($('gates'), gates.map((g) => h('article', { class: 'gate', dataset: { passed: { green: 'yes', red: 'no', unverified: 'unverified' }[verdictOf(g)] } },
    h('h3', null,
      h('span', null, `${g.skill ?? 'gate'}`), ' ',
      h('span', { class: 'muted small' }, `task ${g.task ?? '?'} · ${g.rounds.length} round${g.rounds.length === 1 ? '' : 's'}`), ' ',
      verdictOf(g) === 'unverified'
        ? h('span', { class: 'badge verdict', dataset: { verdict: 'unverified' } }, 'unverified: needs a person')
        : passBadge(g.passed, 'green', 'red')),
    g.rounds.map(renderGateRound))));
}

function renderVerification() {
  const v = snap.verification;
  $('verification-section').hidden = !v;
  if (!changed('verification', [v, snap.can_act, busy.has('manual')]) || !v) return;
  const manual = arr(v.manual);
  const mustHaves = arr(v.must_haves);
  const automated = arr(v.automated);
  fill($('verification'),
    h('p', null, 'Verdict ', h('span', { class: 'badge verdict', dataset: { verdict: String(v.verdict ?? '') } }, String(v.verdict ?? 'unknown'))),
    mustHaves.length ? table('Must-haves', ['Kind', 'Item', 'Verdict', 'Evidence'], mustHaves.map((m) => h('tr', null,
      h('td', null, String(m.kind ?? '')),
      h('td', null, h('code', null, String(m.item ?? ''))),
      h('td', null, h('span', { class: 'badge verdict', dataset: { verdict: String(m.verdict ?? '') } }, String(m.verdict ?? ''))),
      h('td', { class: 'evidence' }, String(m.evidence ?? ''))))) : null,
    automated.length ? table('Automated', ['Command', 'Result', 'Detail'], automated.map((a) => h('tr', null,
      h('td', null, h('code', null, String(a.command ?? '')),
        a.expectation ? h('div', { class: 'small muted' }, `expects ${a.expectation}`) : null),
      h('td', { class: 'nowrap' },
        a.status === 'unchecked'
          ? h('span', { class: 'badge verdict', dataset: { verdict: 'unchecked' } }, 'unchecked: a person checks it')
          : passBadge(a.status ? a.status === 'passed' : a.passed),
        a.exit_code !== null && a.exit_code !== undefined ? h('span', { class: 'small muted' }, ` exit ${a.exit_code}`) : null),
      h('td', { class: 'evidence' }, String(a.detail ?? ''))))) : null,
    manual.length ? h('div', { class: 'manual' },
      h('h3', null, 'Manual checklist'),
      h('ol', null, manual.map((m) => h('li', null, String(m)))),
      v.manual_signed_off
        ? h('p', { class: 'signed' }, '✓ Signed off')
        : snap.can_act
          ? h('button', { type: 'button', class: 'primary', id: 'sign-off', disabled: busy.has('manual'), dataset: { action: 'manual' } }, 'Sign off the manual checklist')
          : h('p', { class: 'small muted' }, 'Not signed off. From a terminal: ', h('code', null, `wavecrew approve ${snap.run.id} manual`)))
      : null);
}

function renderCheckpoints() {
  const list = snap.checkpoints;
  $('checkpoints-section').hidden = list.length === 0;
  if (!changed('checkpoints', list)) return;
  fill($('checkpoints'), list.map((c) => h('li', null,
    h('button', { type: 'button', class: 'link task-ref', dataset: { open: String(c.task) } }, String(c.task)), ' ',
    h('span', { class: 'badge answer', dataset: { answer: String(c.answer ?? '') } }, String(c.answer ?? '')),
    c.detail ? [' ', h('span', { class: 'answer-detail' }, String(c.detail))] : null,
    c.commit ? [' ', h('code', { class: 'small', title: String(c.commit) }, shortHash(c.commit))] : null,
    c.auto ? h('span', { class: 'muted small' }, ' (auto-approved)') : null)));
}

// The task dialog -----------------------------------------------------------------------------

const dialog = $('task-dialog');
let dialogTask = null;
let dialogLogTimer = null;

function fact(label, ...value) {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

function renderDialog() {
  if (!dialogTask || !dialog.open) return;
  const t = tasks.get(dialogTask);
  if (!t) return;
  if (!changed('dialog', [t, snap.can_act])) return;
  $('dialog-title').textContent = `${t.id} ${t.title ?? ''}`.trim();
  fill($('dialog-body'),
    h('dl', { class: 'facts dialog-facts' },
      fact('State', stateBadge(t.state)),
      fact('Type', typeLabel(t.type)),
      fact('Wave', String(t.wave ?? '—')),
      fact('Lane', String(t.lane ?? '—')),
      fact('Model', String(t.model ?? '—')),
      fact('Attempts', String(t.attempts ?? 0)),
      fact('Duration', t.duration_ms ? fmtDuration(t.duration_ms) : '—'),
      fact('Tokens', `${fmtTokens(t.tokens_in)} in · ${fmtTokens(t.tokens_out)} out`),
      fact('Cost', fmtCost(t.cost_usd)),
      fact('Commit', t.commit ? h('code', { class: 'commit-full' }, String(t.commit)) : '—'),
      t.depends_on.length ? fact('Depends on', t.depends_on.map(String).join(', ')) : null,
      t.files.length ? fact('Files', h('span', { class: 'files' }, t.files.map((f) => h('code', null, String(f))))) : null),
    t.reason ? h('p', { class: t.state === 'failed' ? 'notice error' : 'notice' }, String(t.reason)) : null,
    t.waiting ? checkpointBox(t) : null,
    t.verify.length
      ? table('Verify', ['Command', 'Result', 'Time'], t.verify.map((v) => h('tr', null,
        h('td', null, h('code', null, String(v.command ?? ''))),
        h('td', { class: 'nowrap' }, v.passed === null || v.passed === undefined ? h('span', { class: 'muted' }, 'running…') : passBadge(v.passed),
          v.exit_code !== null && v.exit_code !== undefined ? h('span', { class: 'small muted' }, ` exit ${v.exit_code}`) : null),
        h('td', { class: 'num nowrap' }, fmtDuration(v.duration_ms)))))
      : h('p', { class: 'small muted' }, 'No Verify results yet.'));
}

async function loadDialogLog() {
  const id = dialogTask;
  if (!id) return;
  const pre = $('dialog-log');
  try {
    const text = await getText(`${API}/tasks/${enc(id)}/log?bytes=65536`);
    if (dialogTask !== id) return;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8 || !pre.textContent;
    pre.textContent = text.split('\n').map(cleanLine).join('\n') || '(empty)';
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    if (dialogTask !== id) return;
    pre.textContent = e.status === 404 ? 'No log yet.' : `Cannot load the log: ${e.message}`;
  }
}

function openTask(id) {
  if (!tasks.has(id)) return;
  dialogTask = id;
  shown.delete('dialog');
  $('dialog-log').textContent = 'Loading…';
  if (!dialog.open) dialog.showModal();
  renderDialog();
  loadDialogLog();
  clearInterval(dialogLogTimer);
  dialogLogTimer = setInterval(() => {
    const t = tasks.get(dialogTask);
    if (t && ACTIVE.has(t.state) && t.state !== 'waiting') loadDialogLog();
  }, 3000);
}

dialog.addEventListener('close', () => {
  dialogTask = null;
  clearInterval(dialogLogTimer);
});
dialog.addEventListener('click', (e) => {
  if (e.target === dialog) dialog.close(); // a click on the backdrop
});
$('dialog-close').addEventListener('click', () => dialog.close());
$('dialog-log-reload').addEventListener('click', loadDialogLog);

// ---------------------------------------------------------------------------------------------
// Actions

function settle(key) {
  clearTimeout(busy.get(key));
  busy.delete(key);
}

function markBusy(key) {
  settle(key);
  // If the run does not take the answer (it may wait for another kind), let the user try again.
  busy.set(key, setTimeout(() => { busy.delete(key); scheduleRender(); }, 15000));
}

async function act(key, path, body, what) {
  markBusy(key);
  scheduleRender();
  try {
    const message = await post(path, body);
    toast(message, 'ok');
    refetchSoon(); // the journal tells the rest; a sign-off may not be in it
  } catch (e) {
    settle(key);
    toast(`${what}: ${e.message}`, 'error');
  }
  scheduleRender();
}

function onAction(button) {
  const { action } = button.dataset;
  const task = button.dataset.task;
  if (action === 'approve') {
    act(task, `${API}/tasks/${enc(task)}/approve`, { note: null }, `Approving ${task}`);
  } else if (action === 'reject') {
    const box = button.closest('.checkpoint');
    const input = box && box.querySelector('input[data-field="reason"]');
    const reason = input ? input.value.trim() : '';
    if (!reason) {
      if (input) {
        input.setCustomValidity('Say why you reject it.');
        input.reportValidity();
        input.focus();
      }
      return;
    }
    drafts.delete(task);
    act(task, `${API}/tasks/${enc(task)}/reject`, { reason }, `Rejecting ${task}`);
  } else if (action === 'decide') {
    act(task, `${API}/tasks/${enc(task)}/decide`, { option: button.dataset.option }, `Deciding ${task}`);
  } else if (action === 'manual') {
    act('manual', `${API}/manual`, { note: null }, 'Signing off');
  }
}

document.addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (button) { if (!button.disabled) onAction(button); return; }
  const open = e.target.closest('[data-open]');
  if (open) { openTask(open.dataset.open); return; }
  const node = e.target.closest('.g-node');
  if (node) { openTask(node.dataset.task); return; }
  const taskCard = e.target.closest('article.task');
  if (taskCard && !e.target.closest('input, textarea, select, a, label, .checkpoint, pre')
      && !String(window.getSelection() || '')) openTask(taskCard.dataset.task);
});

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' && e.key !== ' ') return;
  const node = e.target.closest && e.target.closest('.g-node');
  if (node) { e.preventDefault(); openTask(node.dataset.task); return; }
  if (e.key === 'Enter' && e.target.matches && e.target.matches('input[data-field="reason"]')) {
    e.preventDefault();
    const button = e.target.closest('.checkpoint')?.querySelector('button[data-action="reject"]');
    if (button && !button.disabled) onAction(button);
  }
});

document.addEventListener('input', (e) => {
  if (e.target.matches && e.target.matches('input[data-field="reason"]')) {
    drafts.set(e.target.dataset.task, e.target.value);
    e.target.setCustomValidity('');
    // Keep the card's key as it is: the draft lives in `drafts`, the card need not change.
  }
});

$('cancel-run').addEventListener('click', () => {
  if (!snap) return;
  // eslint-disable-next-line no-alert
  if (!window.confirm(`Cancel run ${snap.run.id}? Running agents are stopped; committed tasks stay.`)) return;
  act('cancel', `${API}/cancel`, {}, 'Cancelling');
});

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  $('home-link').setAttribute('href', pageHref('/'));
  if (!RUN) {
    const err = $('load-error');
    err.textContent = 'No run id in this page.';
    err.hidden = false;
    setConn('offline');
    return;
  }
  $('run-id').textContent = RUN;
  for (;;) {
    try {
      await loadSnapshot();
      break;
    } catch (e) {
      const err = $('load-error');
      err.textContent = `Cannot load run ${RUN}: ${e.message}${e.status === 404 ? '' : ' (retrying)'}`;
      err.hidden = false;
      setConn('offline');
      if (e.status === 404 || e.status === 401 || e.status === 403) return;
      await new Promise((resolve) => { setTimeout(resolve, 3000); });
    }
  }
  render();
  openStream();
  setInterval(tick, 1000);
  // A finished run has no stream; look now and then whether it was resumed (or signed off).
  setInterval(() => {
    if (!snap || source || document.hidden || !FINAL_STATES.has(snap.run.state)) return;
    loadSnapshot().then(() => { if (!FINAL_STATES.has(snap.run.state)) openStream(); }, () => {});
  }, 20000);
}

start();
