// Pieces of the room page that several sections draw (a verdict badge, a table, a task's
// Verify list, a checkpoint's answer box), and the memory of what each section shows, so
// that a section is rebuilt only when what it shows changed (a card being typed in is not
// rebuilt under the user's fingers).

import { h, shortHash, fmtDuration } from '../app.js';
import { KIND_TEXT, answerCommand, candidateLine, checkpointKind, verifyStatus } from './format.js';
import { store, busy, drafts } from './store.js';
import { diffButton, diffSummarySlot } from './diffview.js';
import { previewLine } from './preview.js';

const shown = new Map(); // section -> the key of what it shows

/** Whether `section` must be drawn again to show `value`; remembers it. */
export function changed(section, value) {
  const key = JSON.stringify(value);
  if (shown.get(section) === key) return false;
  shown.set(section, key);
  return true;
}

/** Forgets what `section` shows: it is drawn next time. */
export function forget(section) {
  shown.delete(section);
}

export function passBadge(passed, yes = 'passed', no = 'failed') {
  return h('span', { class: 'badge verdict', dataset: { verdict: passed ? 'passed' : 'failed' } }, passed ? yes : no);
}

export function table(caption, headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'report' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows)));
}

export function verifyList(verify) {
  if (!verify.length) return null;
  return h('ul', { class: 'verify', 'aria-label': 'Verify commands' }, verify.map((v) => {
    const status = verifyStatus(v);
    const mark = { pending: '…', pass: '✓', fail: '✗' }[status];
    const label = { pending: 'running', pass: 'passed', fail: 'failed' }[status];
    return h('li', { class: `check ${status}`, title: String(v.command ?? '') },
      h('span', { class: 'mark', 'aria-label': label, role: 'img' }, mark),
      h('code', { class: 'cmd' }, String(v.command ?? '')),
      status === 'fail' && v.exit_code !== null && v.exit_code !== undefined ? h('span', { class: 'muted small' }, ` exit ${v.exit_code}`) : null,
      v.duration_ms !== null && v.duration_ms !== undefined ? h('span', { class: 'muted small dur' }, fmtDuration(v.duration_ms)) : null);
  }));
}

/** A best-of task's candidates: each one's verdict, diff size and tokens; the reason of a
 *  failed one and the ref of each in its tooltip. */
export function candidateList(candidates) {
  if (!Array.isArray(candidates) || !candidates.length) return null;
  return h('ul', { class: 'verify candidates', 'aria-label': 'Best-of candidates' }, candidates.map((c) => {
    const line = candidateLine(c);
    const mark = { chosen: '★', passed: '✓', failed: '✗' }[line.status];
    const tip = [c.why ?? c.reason ?? '', c.reference ?? ''].filter(Boolean).join('\n');
    return h('li', { class: `check ${line.status === 'failed' ? 'fail' : 'pass'}`, title: tip },
      h('span', { class: 'mark', 'aria-label': line.status, role: 'img' }, mark),
      h('span', { class: 'cmd' }, line.text));
  }));
}

/** The box of a task waiting for a person: what it asks, and the buttons that answer. */
export function checkpointBox(t) {
  const { room } = store;
  const w = t.waiting;
  const kind = checkpointKind(w);
  const options = Array.isArray(w.options) ? w.options : [];
  const sending = busy.has(t.id);
  const parts = [
    h('h4', null, KIND_TEXT[kind] ?? `Waiting: ${kind}`),
    w.details ? h('pre', { class: 'details' }, String(w.details)) : null,
    w.commit ? h('p', { class: 'small' }, 'Commit ', h('code', { title: String(w.commit) }, shortHash(w.commit)), ' ',
      diffButton(t, 'Review the diff')) : null,
    w.commit && kind === 'human-verify' ? diffSummarySlot(t) : null,
    w.commit ? previewLine(t) : null,
  ];
  if (!room.can_act) {
    parts.push(h('p', { class: 'small muted' }, 'Read-only page. Answer from a terminal: ',
      h('code', null, answerCommand(room.run.id, t.id, w))));
  } else if (kind === 'decision' && options.length) {
    parts.push(h('div', { class: 'actions options', role: 'group', 'aria-label': 'Options' },
      options.map((o) => h('button', {
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
