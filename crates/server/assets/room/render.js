// Draws the room the server sent: one function per section of room.html, each rebuilding its
// part only when what it shows changed. Nothing here changes the room.
//
// A section may be a module of its own with a `render*(room)` function, added to SECTIONS
// below (the run's timeline: timeline.js).

import {
  h, fill, pageHref, fmtDuration, fmtTokens, fmtCost, shortHash, stateBadge, FINAL_STATES,
} from '../app.js';
import { buildGraph, updateGraph } from '../graph.js';
import {
  ACTIVE, currentTask, gateVerdict, metricValue, progressText, runDuration, tally, typeLabel,
} from './format.js';
import { API, $ } from './page.js';
import { store, busy } from './store.js';
import { changed, passBadge, table, verifyList, candidateList, checkpointBox } from './widgets.js';
import { laneLog } from './logs.js';
import { renderDialog } from './dialog.js';
import { renderTimeline } from './timeline.js';
import { diffButton, renderDiffSummaries } from './diffview.js';
import { findingTask, parseLocation } from './diff.js';

let renderTimer = null;
/** Draws the page soon (once for many changes). */
export function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => { renderTimer = null; render(); }, 16);
}

export function render() {
  const { room } = store;
  if (!room) return;
  for (const section of SECTIONS) section(room);
}

/** The run's duration, every second while it runs. */
export function tick() {
  if (store.room) $('run-duration').textContent = fmtDuration(runDuration(store.room.run, store.receivedAt, Date.now()));
}

function renderHeader(room) {
  const r = room.run;
  const counts = tally(room);
  const head = {
    id: r.id, milestone: r.milestone, title: r.title, state: r.state, branch: r.branch, base: r.base, pr: r.pull_request,
    ...counts, canAct: room.can_act, stopping: room.stopping, busy: busy.has('cancel'),
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
  // The pull request `wavecrew ship` opened: only an http(s) URL becomes a link.
  const pr = typeof r.pull_request === 'string' && /^https?:\/\//.test(r.pull_request) ? r.pull_request : '';
  $('run-pr-fact').hidden = !pr;
  $('run-pr').href = pr || '#';
  $('run-pr').textContent = pr;
  $('run-progress').textContent = progressText(counts);
  $('run-tokens').textContent = `${fmtTokens(counts.tokensIn)} in · ${fmtTokens(counts.tokensOut)} out`;
  $('run-cost').textContent = fmtCost(counts.cost);
  // The run's report, as `wavecrew report` prints it, once there is a verdict to read.
  const report = $('report-link');
  report.hidden = !FINAL_STATES.has(String(r.state ?? ''));
  report.href = pageHref(`${API}/report`);
  const cancel = $('cancel-run');
  cancel.hidden = !(room.can_act && r.state === 'running');
  cancel.disabled = busy.has('cancel') || Boolean(room.stopping);
  const ro = $('read-only');
  ro.hidden = room.can_act;
  if (!room.can_act) {
    fill(ro, 'Read-only: this page was opened without the access token, so it cannot answer checkpoints or cancel the run. ',
      'Open the address wavecrew printed (it carries the token), or answer from a terminal, e.g. ',
      h('code', null, `wavecrew approve ${r.id} TASK`), '.');
  }
  const st = $('stopping');
  st.hidden = !room.stopping || FINAL_STATES.has(r.state);
  st.textContent = room.stopping ? `Stopping: ${room.stopping}` : '';
  const held = $('held');
  held.hidden = room.held.length === 0 || FINAL_STATES.has(r.state);
  held.textContent = room.held.join('\n');
  tick();
}

function renderContext(room) {
  const text = typeof room.context === 'string' ? room.context : '';
  if (!changed('context', text)) return;
  $('context').textContent = text;
  $('context-section').hidden = !text.trim();
}

// Task cards ----------------------------------------------------------------------------------

const cards = new Map(); // task -> {key, el}
const columns = new Map(); // wave number -> {list, count, ids}

function card(t) {
  const facts = [
    stateBadge(t.state),
    t.lane ? h('span', { class: 'fact lane-name', title: 'Lane' }, String(t.lane)) : null,
    t.model ? h('span', { class: 'fact model', title: 'Model' }, String(t.model)) : null,
    t.candidates?.length ? h('span', { class: 'fact', title: 'Candidates side by side' }, `best of ${t.candidates.length}`)
      : t.attempts > 1 ? h('span', { class: 'fact', title: 'Attempts' }, `attempt ${t.attempts}`) : null,
    t.duration_ms ? h('span', { class: 'fact', title: 'Duration' }, fmtDuration(t.duration_ms)) : null,
    t.commit ? h('code', { class: 'fact commit', title: String(t.commit) }, shortHash(t.commit)) : null,
    diffButton(t),
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
  candidateList(t.candidates),
  showReason ? h('p', { class: `reason-text ${t.state === 'failed' ? 'error-text' : ''}` }, String(t.reason)) : null,
  t.budget_wait ? h('p', { class: 'reason-text muted small budget-wait' }, `Waits for a running task to end: ${t.budget_wait}`) : null,
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

function renderTasks(room) {
  const layout = room.waves.map((w) => [w.number, w.title, w.tasks]);
  const placed = new Set(room.waves.flatMap((w) => w.tasks));
  const loose = room.tasks.filter((t) => !placed.has(t.id)).map((t) => t.id);
  if (changed('waves', [layout, loose])) {
    const root = $('waves');
    root.replaceChildren();
    columns.clear();
    const waveList = room.waves.map((w) => ({ ...w }));
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
  for (const t of room.tasks) {
    const key = JSON.stringify([t, room.can_act, busy.has(t.id), room.run.id]);
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
  const stateOf = new Map(room.tasks.map((t) => [t.id, t.state]));
  for (const col of columns.values()) {
    const done = col.ids.filter((id) => stateOf.get(id) === 'committed').length;
    col.count.textContent = `${done}/${col.ids.length}`;
  }
}

// Lanes ---------------------------------------------------------------------------------------

const laneRows = new Map(); // lane -> {key, row, info}

function renderLanes(room) {
  $('lanes-section').hidden = room.lanes.length === 0;
  const root = $('lanes');
  for (const l of room.lanes) {
    const current = currentTask(room, l);
    const key = JSON.stringify([l.name, l.agent, l.model, l.tokens_in, l.tokens_out, l.cost_usd,
      current ? [current.id, current.title, current.state] : null]);
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

function renderGraph(room) {
  const g = room.graph;
  $('graph-section').hidden = g.nodes.length === 0;
  if (!g.nodes.length) return;
  const byId = new Map(room.tasks.map((t) => [t.id, t]));
  const stateOf = (id) => byId.get(String(id))?.state ?? 'pending';
  const titles = g.nodes.map((n) => [n.id, byId.get(String(n.id))?.title ?? n.title]);
  if (changed('graph', [g, room.waves.map((w) => [w.number, w.title, w.tasks]), titles]) || !graphEl) {
    const titleOf = (id) => String(byId.get(id)?.title ?? g.nodes.find((n) => String(n.id) === id)?.title ?? '');
    graphEl = buildGraph(g, room.waves, stateOf, titleOf);
    fill($('graph'), graphEl);
  }
  updateGraph(graphEl, stateOf);
}

// Gates, verification, checkpoint answers ------------------------------------------------------

/** A finding's location: a link to its line in the diff when it names one and a task shows it. */
function findingLocation(room, gate, location) {
  const at = parseLocation(location);
  const task = at ? findingTask(room.tasks, String(gate.task ?? ''), at.path) : null;
  if (!task) return h('code', { class: 'location' }, String(location));
  return h('button', { type: 'button', class: 'link location', dataset: { diff: task, diffPath: at.path, diffLine: at.line } },
    h('code', null, String(location)));
}

function renderGateRound(r, room, gate) {
  const unverified = Array.isArray(r.unverified) ? r.unverified : [];
  const findings = Array.isArray(r.findings) ? r.findings : [];
  const metrics = Array.isArray(r.metrics) ? r.metrics : [];
  const notes = Array.isArray(r.notes) ? r.notes : [];
  return h('section', { class: 'gate-round', dataset: { passed: r.passed ? 'yes' : 'no' } },
    h('h4', null, `Round ${r.round ?? 1}`, ' ', passBadge(r.passed, 'green', 'red')),
    unverified.length
      ? h('ul', { class: 'findings unverified' }, unverified.map((u) => h('li', null,
        h('span', { class: 'badge check' }, 'not checked'), ' ', h('span', { class: 'finding-message' }, String(u)))))
      : null,
    findings.length
      ? h('ul', { class: 'findings' }, findings.map((f) => h('li', null,
        h('span', { class: 'badge check' }, String(f.check ?? '')), ' ',
        h('span', { class: 'finding-message' }, String(f.message ?? '')),
        f.location ? [' ', findingLocation(room, gate, f.location)] : null)))
      : h('p', { class: 'small muted' }, 'No findings.'),
    metrics.length
      ? table(null, ['Metric', 'Value', 'Source'], metrics.map((m) => h('tr', null,
        h('td', null, String(m.name ?? '')),
        h('td', { class: 'num nowrap' }, metricValue(m)),
        h('td', null, m.source ? h('code', null, String(m.source)) : '—'))))
      : null,
    notes.length ? h('ul', { class: 'notes small' }, notes.map((n) => h('li', null, String(n)))) : null,
    r.fix_commit ? h('p', { class: 'small fix' }, 'Fixed in ', h('code', null, shortHash(r.fix_commit))) : null);
}

function renderGates(room) {
  const { gates } = room;
  $('gates-section').hidden = gates.length === 0;
  if (!changed('gates', [gates, room.tasks.map((t) => [t.id, t.commit, t.waiting?.commit])])) return;
  fill($('gates'), gates.map((g) => h('article', { class: 'gate', dataset: { passed: { green: 'yes', red: 'no', unverified: 'unverified' }[gateVerdict(g)] } },
    h('h3', null,
      h('span', null, `${g.skill ?? 'gate'}`), ' ',
      h('span', { class: 'muted small' }, `task ${g.task ?? '?'} · ${g.rounds.length} round${g.rounds.length === 1 ? '' : 's'}`), ' ',
      gateVerdict(g) === 'unverified'
        ? h('span', { class: 'badge verdict', dataset: { verdict: 'unverified' } }, 'unverified: needs a person')
        : passBadge(g.passed, 'green', 'red')),
    g.rounds.map((r) => renderGateRound(r, room, g)))));
}

function renderVerification(room) {
  const v = room.verification;
  $('verification-section').hidden = !v;
  if (!changed('verification', [v, room.can_act, busy.has('manual')]) || !v) return;
  const list = (x) => (Array.isArray(x) ? x : []);
  const manual = list(v.manual);
  const mustHaves = list(v.must_haves);
  const automated = list(v.automated);
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
        : room.can_act
          ? h('button', { type: 'button', class: 'primary', id: 'sign-off', disabled: busy.has('manual'), dataset: { action: 'manual' } }, 'Sign off the manual checklist')
          : h('p', { class: 'small muted' }, 'Not signed off. From a terminal: ', h('code', null, `wavecrew approve ${room.run.id} manual`)))
      : null);
}

function renderCheckpoints(room) {
  const list = room.checkpoints;
  $('checkpoints-section').hidden = list.length === 0;
  if (!changed('checkpoints', list)) return;
  fill($('checkpoints'), list.map((c) => h('li', null,
    h('button', { type: 'button', class: 'link task-ref', dataset: { open: String(c.task) } }, String(c.task)), ' ',
    h('span', { class: 'badge answer', dataset: { answer: String(c.answer ?? '') } }, String(c.answer ?? '')),
    c.detail ? [' ', h('span', { class: 'answer-detail' }, String(c.detail))] : null,
    c.commit ? [' ', h('code', { class: 'small', title: String(c.commit) }, shortHash(c.commit))] : null,
    c.auto ? h('span', { class: 'muted small' }, ' (auto-approved)') : null)));
}

/** The sections, in the page's order. */
const SECTIONS = [
  renderHeader,
  renderContext,
  renderTasks,
  renderLanes,
  renderGraph,
  renderTimeline,
  renderGates,
  renderVerification,
  renderCheckpoints,
  renderDialog,
  renderDiffSummaries,
];
