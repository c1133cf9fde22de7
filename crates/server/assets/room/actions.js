// What the person does on the room page: answer a checkpoint (approve, reject with a reason,
// decide), sign the manual checklist off, cancel the run, open a task. Each answer is POSTed
// to the API; the room that the stream brings next shows what the run made of it.

import { post, toast } from '../app.js';
import { API, enc, $ } from './page.js';
import { store, drafts, markBusy, settle, changed } from './store.js';
import { openTask } from './dialog.js';
import { openDiff } from './diffview.js';

/** Set by the stream: fetches the room again soon (a finished run has no stream to bring it). */
let reload = () => {};
export function onAnswered(fn) { reload = fn; }

async function act(key, path, body, what) {
  markBusy(key);
  changed();
  try {
    const message = await post(path, body);
    toast(message, 'ok');
    reload();
  } catch (e) {
    settle(key);
    toast(`${what}: ${e.message}`, 'error');
  }
  changed();
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

/** Listens to the page's buttons, keys and inputs. */
export function listen() {
  document.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    if (button) { if (!button.disabled) onAction(button); return; }
    const diff = e.target.closest('[data-diff]');
    if (diff) {
      const { diffPath, diffLine } = diff.dataset;
      openDiff(diff.dataset.diff, diffPath ? { path: diffPath, line: Number(diffLine) || null } : null);
      return;
    }
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
    if (!store.room) return;
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Cancel run ${store.room.run.id}? Running agents are stopped; committed tasks stay.`)) return;
    act('cancel', `${API}/cancel`, {}, 'Cancelling');
  });
}
