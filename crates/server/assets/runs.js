// wavecrew dashboard: the runs list (runs.html). GET /api/runs every 5 s and when the tab
// comes back; no live stream.

import { h, fill, getJSON, pageHref, fmtDuration, fmtCost, fmtTime, stateBadge } from './app.js';

const REFRESH_MS = 5000;
const body = document.getElementById('runs-body');
const table = document.getElementById('runs-table');
const empty = document.getElementById('runs-empty');
const status = document.getElementById('refresh-status');

let timer = null;
let loading = false;
let lastKey = '';

function progress(done, total) {
  const d = Number(done) || 0;
  const t = Number(total) || 0;
  const bar = h('progress', { max: String(Math.max(t, 1)), value: String(Math.min(d, Math.max(t, 1))), 'aria-label': `${d} of ${t} tasks done` });
  return h('span', { class: 'progress' }, bar, h('span', { class: 'progress-text' }, `${d}/${t}`));
}

function row(run) {
  const href = pageHref(`/runs/${encodeURIComponent(String(run.id))}`);
  const duration = run.state === 'running' && run.started_ms && !run.finished_ms
    ? Math.max(run.duration_ms || 0, Date.now() - run.started_ms)
    : run.duration_ms;
  return h('tr', { dataset: { run: run.id, state: run.state } },
    h('td', { class: 'col-id' }, h('a', { href }, String(run.id))),
    h('td', null, String(run.milestone ?? '')),
    h('td', { class: 'col-title' }, h('a', { href, class: 'title-link' }, String(run.title ?? ''))),
    h('td', null, stateBadge(run.state)),
    h('td', null, progress(run.tasks_done, run.tasks_total)),
    h('td', { class: 'nowrap' }, h('time', { datetime: run.started_ms ? new Date(run.started_ms).toISOString() : null }, fmtTime(run.started_ms))),
    h('td', { class: 'num nowrap' }, fmtDuration(duration)),
    h('td', { class: 'num nowrap' }, fmtCost(run.cost_usd)),
  );
}

async function refresh() {
  if (loading) return;
  loading = true;
  try {
    const runs = await getJSON('/api/runs');
    const list = Array.isArray(runs) ? runs : [];
    const key = JSON.stringify(list);
    if (key !== lastKey) {
      lastKey = key;
      fill(body, list.map(row));
    }
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
    status.textContent = `Updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
    status.classList.remove('error-text');
  } catch (e) {
    status.textContent = `Cannot refresh: ${e.message}`;
    status.classList.add('error-text');
  } finally {
    loading = false;
  }
}

function schedule() {
  clearInterval(timer);
  timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
}

document.getElementById('home-link').setAttribute('href', pageHref('/'));
window.addEventListener('focus', refresh);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
refresh();
schedule();
