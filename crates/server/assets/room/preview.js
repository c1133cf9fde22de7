// The preview of the change a checkpoint waits on (`[preview] command`): a button that asks
// the dashboard to start it, then the link where it answers, or why it failed. The server runs
// it (crates/server/src/preview.rs) and the room says where it is (`task.preview`).

import { h, post, toast } from '../app.js';
import { API, enc } from './page.js';
import { store } from './store.js';
import { previewHref } from './format.js';

/** The preview line of a waiting checkpoint's box, or nothing when there is none to show. */
export function previewLine(t) {
  const p = t.preview;
  const may = store.room?.can_act && store.canPreview;
  const button = (action, text, cls = '') => h('button', {
    type: 'button', class: cls, dataset: { preview: action, task: t.id, focus: `preview-${action}` },
  }, text);
  if (p?.state === 'ready') {
    const href = previewHref(p.url, location.hostname);
    return h('p', { class: 'preview small', dataset: { state: 'ready' } }, 'Preview: ',
      href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'preview-link' }, href) : String(p.url),
      may ? [' ', button('stop', 'Stop')] : null);
  }
  if (p?.state === 'starting') {
    return h('p', { class: 'preview small muted', dataset: { state: 'starting' } },
      'Starting the preview: its worktree, its setup, then the command…');
  }
  if (p?.state === 'failed') {
    return h('div', { class: 'preview', dataset: { state: 'failed' } },
      h('p', { class: 'small error-text' }, 'The preview failed:'),
      h('pre', { class: 'details' }, String(p.detail ?? '')),
      may ? button('start', 'Try the preview again') : null);
  }
  return may ? h('p', { class: 'preview small' }, button('start', 'Preview this change', 'primary')) : null;
}

/** Listens to the preview buttons. */
export function listenPreview() {
  document.addEventListener('click', async (e) => {
    const button = e.target.closest && e.target.closest('button[data-preview]');
    if (!button || button.disabled) return;
    const { preview, task } = button.dataset;
    button.disabled = true;
    const path = preview === 'stop' ? 'preview/stop' : 'preview';
    try {
      toast(await post(`${API}/tasks/${enc(task)}/${path}`, {}), 'ok');
    } catch (err) {
      button.disabled = false;
      toast(`Preview of ${task}: ${err.message}`, 'error');
    }
  });
}
