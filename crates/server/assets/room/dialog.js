// The task dialog: a task's facts, its checkpoint, its Verify results and the tail of its
// latest attempt's log (read from the API while the task works).

import { h, fill, getText, fmtDuration, fmtTokens, fmtCost, stateBadge } from '../app.js';
import { ACTIVE, cleanLine, typeLabel } from './format.js';
import { API, enc, $ } from './page.js';
import { store } from './store.js';
import { changed, forget, passBadge, table, checkpointBox } from './widgets.js';

const dialog = $('task-dialog');
let dialogTask = null;
let dialogLogTimer = null;

const taskOf = (id) => store.room?.tasks.find((t) => t.id === id) ?? null;

function fact(label, ...value) {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

export function renderDialog(room) {
  if (!dialogTask || !dialog.open) return;
  const t = taskOf(dialogTask);
  if (!t) return;
  if (!changed('dialog', [t, room.can_act])) return;
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

export function openTask(id) {
  if (!taskOf(id)) return;
  dialogTask = id;
  forget('dialog');
  $('dialog-log').textContent = 'Loading…';
  if (!dialog.open) dialog.showModal();
  renderDialog(store.room);
  loadDialogLog();
  clearInterval(dialogLogTimer);
  dialogLogTimer = setInterval(() => {
    const t = taskOf(dialogTask);
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
