// The diff review: a task's commit (or the change its human-verify checkpoint waits on) in a
// dialog, unified or side by side, files collapsible, coloured, paged as the server pages it
// (`/api/runs/<id>/tasks/<task>/diff`). A person clicks a line number to comment on it; on a
// waiting checkpoint "Reject with comments" sends them with the reason (the server writes them
// into the reason the agent's next prompt holds). A review being written (comments and reason)
// is kept in the browser's localStorage per run, task and commit, so a reload or a closed
// dialog loses nothing; it is forgotten once sent or once the checkpoint was answered. The card
// of a waiting human-verify checkpoint lists the files of its change.

import { h, fill, getJSON, post, toast, shortHash } from '../app.js';
import { checkpointKind } from './format.js';
import {
  normaliseDiff, withFile, sideBySide, statusText, languageOf, tokenize, lineTarget, commentKey, commentsToSend,
  draftStore, waitsOn, draftSpent,
} from './diff.js';
import { RUN, API, enc, $ } from './page.js';
import { store, markBusy, settle, changed } from './store.js';

const dialog = $('diff-dialog');
/** What the dialog shows: task, its diff page, the view, and a line to show. */
const view = { task: null, diff: null, page: 0, only: null, split: false, target: null, editing: null, error: null };
/** Task -> {commit, comments: Map(key -> {path, line, side, text}), reason, waiting}: the
 *  reviews being written, each also kept in storage (`drafts`). */
const reviews = new Map();
/** Commit -> its first page, for the checkpoint cards' file lists. */
const summaries = new Map();

/** The most lines "show more" asks for (the server's cap). */
const MORE_LINES = 20000;

const taskOf = (id) => store.room?.tasks.find((t) => t.id === id) ?? null;

/** The commit whose diff a task shows: the one it landed, else the one it waits on. */
export function commitOf(t) {
  return t?.commit ?? t?.waiting?.commit ?? null;
}

/** The reviews' drafts in the browser's storage (memory only where it cannot be used). */
const drafts = draftStore(() => window.localStorage);

/** The review of `task`'s `commit`: the one in memory, else the draft stored for it, else a
 *  new one. */
function review(task, commit) {
  let r = reviews.get(task);
  if (!r || r.commit !== commit) {
    const stored = drafts.open(RUN, task, commit, Date.now());
    r = { commit, comments: stored.comments, reason: stored.reason, waiting: stored.waiting };
    reviews.set(task, r);
  }
  return r;
}

/** Forgets, in memory and in storage, the drafts of this run that `room` shows spent: their
 *  task shows another change, or their checkpoint was answered. */
function forgetSpent(room) {
  const taskIn = (id) => room.tasks.find((t) => t.id === id) ?? null;
  for (const [task, r] of [...reviews]) {
    if (r.commit && draftSpent(r.commit, r.waiting, taskIn(task))) reviews.delete(task);
  }
  drafts.forgetSpent(RUN, taskIn);
}

/** The review changed: remember whether it was written on a waiting checkpoint, and keep it. */
function edited(t, r) {
  r.waiting = r.waiting || waitsOn(t, r.commit);
  drafts.save(RUN, t.id, r, Date.now());
}

/** Whether the task waits on a person who may reject it with comments here. */
function rejectable(t) {
  if (!store.room?.can_act || t?.state !== 'waiting' || !t.waiting) return false;
  const kind = checkpointKind(t.waiting);
  return kind === 'human-verify' || kind === 'gate';
}

async function load() {
  const { task } = view;
  const params = new URLSearchParams();
  if (view.only) {
    params.set('file', view.only);
    params.set('lines', String(MORE_LINES));
  } else params.set('page', String(view.page));
  try {
    const diff = normaliseDiff(await getJSON(`${API}/tasks/${enc(task)}/diff?${params}`));
    if (view.task !== task) return;
    view.diff = diff;
    view.error = null;
  } catch (e) {
    if (view.task !== task) return;
    view.diff = null;
    view.error = e.message;
  }
  draw();
}

/** Opens the diff of `task`; with `target` ({path, line}), that file, scrolled to that line. */
export function openDiff(task, target = null) {
  if (!taskOf(task)) return;
  Object.assign(view, { task, diff: null, page: 0, only: target?.path ?? null, target, editing: null, error: null });
  if (!dialog.open) dialog.showModal();
  draw();
  load();
}

async function showMore(path) {
  const { task } = view;
  try {
    const more = normaliseDiff(await getJSON(`${API}/tasks/${enc(task)}/diff?file=${enc(path)}&lines=${MORE_LINES}`));
    if (view.task !== task || !view.diff || !more.files[0]) return;
    view.diff = withFile(view.diff, more.files[0]);
    draw();
  } catch (e) {
    toast(`Loading ${path}: ${e.message}`, 'error');
  }
}

// Drawing --------------------------------------------------------------------------------------

function code(text, lang) {
  return h('code', null, tokenize(text, lang).map((t) => (t.kind ? h('span', { class: `tok-${t.kind}` }, t.text) : t.text)));
}

const SIGN = { added: '+', deleted: '-', context: ' ' };

/** The number cell of a line: a button that opens a comment on it. */
function numberCell(path, line, number) {
  if (!line || number === undefined || number === null) return h('td', { class: 'num' });
  const target = lineTarget(path, line);
  return h('td', { class: 'num' }, h('button', {
    type: 'button', class: 'line-number', title: `Comment on ${path}:${target.line}`,
    dataset: { comment: commentKey(target), path, line: target.line, side: target.side },
  }, String(number)));
}

function commentRows(path, lines, colspan, r) {
  const rows = [];
  for (const line of lines) {
    if (!line) continue;
    const key = commentKey(lineTarget(path, line));
    if (rows.some((row) => row.dataset.key === key)) continue;
    const comment = r.comments.get(key);
    if (view.editing === key) {
      const area = h('textarea', { class: 'comment-input', rows: 3, placeholder: 'What should change here', dataset: { key } });
      area.value = comment?.text ?? '';
      rows.push(h('tr', { class: 'comment-row editing', dataset: { key } }, h('td', { colspan },
        area,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', dataset: { commentSave: key } }, 'Save comment'),
          h('button', { type: 'button', dataset: { commentCancel: key } }, comment ? 'Remove' : 'Cancel')))));
    } else if (comment) {
      rows.push(h('tr', { class: 'comment-row', dataset: { key } }, h('td', { colspan },
        h('span', { class: 'comment-where' }, `${comment.path}:${comment.line}${comment.side === 'old' ? ' (old)' : ''}`), ' ',
        h('span', { class: 'comment-text' }, comment.text), ' ',
        h('button', { type: 'button', class: 'link', dataset: { commentEdit: key } }, 'edit'))));
    }
  }
  return rows;
}

function rowAttrs(kinds, line) {
  return { class: `diff-line ${kinds}`, dataset: { old: line?.old ?? null, new: line?.new ?? null } };
}

function unifiedRows(file, hunk, lang, r) {
  return hunk.lines.flatMap((line) => [
    h('tr', rowAttrs(line.kind, line),
      numberCell(file.path, line, line.old),
      numberCell(file.path, line, line.new),
      h('td', { class: 'sign', 'aria-hidden': 'true' }, SIGN[line.kind] ?? ' '),
      h('td', { class: 'code' }, code(line.text, lang), line.no_newline ? h('span', { class: 'no-newline', title: 'No newline at end of file' }, ' ⏎̸') : null)),
    ...commentRows(file.path, [line], 4, r),
  ]);
}

function splitRows(file, hunk, lang, r) {
  return sideBySide(hunk.lines).flatMap(({ left, right }) => {
    const same = left === right;
    const cell = (line, side) => h('td', { class: `code ${line ? (same ? 'context' : line.kind) : 'empty'}`, dataset: { side } },
      line ? code(line.text, lang) : null);
    return [
      h('tr', { class: 'diff-line split', dataset: { old: left?.old ?? null, new: right?.new ?? null } },
        numberCell(file.path, left, left?.old), cell(left, 'old'),
        numberCell(file.path, right, right?.new), cell(right, 'new')),
      ...commentRows(file.path, same ? [left] : [left, right], 4, r),
    ];
  });
}

function fileBlock(file, r) {
  const lang = languageOf(file.path);
  const counts = file.binary ? h('span', { class: 'muted small' }, 'binary')
    : [h('span', { class: 'added-count' }, `+${file.added ?? 0}`), ' ', h('span', { class: 'deleted-count' }, `−${file.deleted ?? 0}`)];
  const body = [];
  if (file.binary) body.push(h('p', { class: 'small muted diff-note' }, 'Binary file: not shown.'));
  else if (!file.hunks.length && !file.truncated) body.push(h('p', { class: 'small muted diff-note' }, 'No change to its text.'));
  for (const hunk of file.hunks) {
    const widths = view.split ? ['num', 'code', 'num', 'code'] : ['num', 'num', 'sign', 'code'];
    body.push(h('table', { class: `diff-table ${view.split ? 'split' : 'unified'}` },
      h('colgroup', null, widths.map((w) => h('col', { class: `col-${w}` }))),
      h('tbody', null,
        h('tr', { class: 'hunk-head' }, h('td', { colspan: 4 },
          `@@ -${hunk.old_start},${hunk.old_lines} +${hunk.new_start},${hunk.new_lines} @@ ${hunk.section ?? ''}`)),
        view.split ? splitRows(file, hunk, lang, r) : unifiedRows(file, hunk, lang, r))));
  }
  if (file.truncated) {
    const left = Math.max(0, (file.lines_total ?? 0) - (file.lines_shown ?? 0));
    body.push(h('p', { class: 'diff-note' },
      h('button', { type: 'button', dataset: { showMore: file.path } }, `Show ${left} more line${left === 1 ? '' : 's'}`)));
  }
  return h('details', { class: 'diff-file', open: true, dataset: { path: file.path, status: file.status } },
    h('summary', null,
      h('span', { class: 'badge diff-status', dataset: { status: file.status } }, statusText(file)), ' ',
      h('code', { class: 'diff-path' }, file.path), ' ', counts),
    body);
}

function draw() {
  const t = taskOf(view.task);
  if (!t) return;
  const commit = view.diff?.commit || commitOf(t) || '';
  const r = review(t.id, commit);
  $('diff-title').textContent = `${t.id} ${t.title ?? ''}`.trim();
  $('diff-commit').textContent = commit ? shortHash(commit) : '';
  $('diff-commit').title = commit;
  $('diff-unified').setAttribute('aria-pressed', String(!view.split));
  $('diff-split').setAttribute('aria-pressed', String(view.split));
  const d = view.diff;
  const nav = [];
  if (view.only) {
    nav.push(h('button', { type: 'button', dataset: { diffAll: '1' } }, 'All files'));
  } else if (d && d.pages > 1) {
    const first = d.page * 40 + 1;
    nav.push(
      h('button', { type: 'button', disabled: d.page === 0, dataset: { diffPage: d.page - 1 } }, '← Previous files'),
      h('span', { class: 'small muted' }, ` Files ${first}–${Math.min(first + d.files.length - 1, d.files_total)} of ${d.files_total} `),
      h('button', { type: 'button', disabled: d.page + 1 >= d.pages, dataset: { diffPage: d.page + 1 } }, 'Next files →'));
  }
  fill($('diff-body'),
    view.error ? h('p', { class: 'notice error' }, `Cannot load the diff: ${view.error}`)
      : !d ? h('p', { class: 'small muted' }, 'Loading…')
        : [
          h('p', { class: 'small muted' }, `${d.files_total} file${d.files_total === 1 ? '' : 's'} changed`, d.base ? ` since ${shortHash(d.base)}` : ''),
          nav.length ? h('div', { class: 'diff-nav' }, nav) : null,
          d.files.map((f) => fileBlock(f, r)),
          nav.length > 1 ? h('div', { class: 'diff-nav' }, nav.map((n) => n.cloneNode(true))) : null,
        ]);
  drawReview(t, r);
  if (view.target && d) {
    const { path, line } = view.target;
    const block = [...$('diff-body').querySelectorAll('details.diff-file')].find((x) => x.dataset.path === path);
    const row = block && [...block.querySelectorAll('tr.diff-line')].find((x) => x.dataset.new === String(line));
    if (row) {
      row.classList.add('target');
      row.scrollIntoView({ block: 'center' });
    }
    view.target = null;
  }
}

function drawReview(t, r) {
  const count = commentsToSend(r.comments).length;
  const box = $('diff-review');
  if (!rejectable(t)) {
    fill(box, count ? h('p', { class: 'small muted' }, `${count} comment${count === 1 ? '' : 's'} (this change waits on no one: they stay here)`) : null);
    return;
  }
  const input = h('input', { type: 'text', id: 'diff-reason', class: 'reason', placeholder: 'What is wrong, in a sentence', autocomplete: 'off' });
  input.value = r.reason ?? '';
  fill(box,
    h('p', { class: 'small' }, count
      ? `${count === 1 ? 'Your comment goes' : `Your ${count} comments go`} to the agent with the reason.`
      : 'Click a line number to comment on the line.'),
    h('div', { class: 'actions reject' },
      h('label', { for: 'diff-reason', class: 'visually-hidden' }, `Reason to reject ${t.id}`),
      input,
      h('button', { type: 'button', class: 'danger', id: 'diff-reject', disabled: count === 0 && !(r.reason ?? '').trim() }, count ? 'Reject with comments' : 'Reject')));
}

async function reject() {
  const t = taskOf(view.task);
  if (!t) return;
  const r = review(t.id, view.diff?.commit || commitOf(t) || '');
  const comments = commentsToSend(r.comments);
  const reason = ($('diff-reason')?.value ?? '').trim();
  if (!reason && !comments.length) return;
  markBusy(t.id);
  changed();
  try {
    const message = await post(`${API}/tasks/${enc(t.id)}/reject`, { reason: reason || null, comments });
    toast(message, 'ok');
    r.comments.clear();
    r.reason = '';
    drafts.save(RUN, t.id, r, Date.now());
    dialog.close();
  } catch (e) {
    settle(t.id);
    toast(`Rejecting ${t.id}: ${e.message}`, 'error');
  }
  changed();
}

// The checkpoint cards' file lists ---------------------------------------------------------------

/** Fills every waiting human-verify card's file list (fetched once per commit), and forgets the
 *  review drafts this room shows spent. */
export function renderDiffSummaries(room) {
  forgetSpent(room);
  for (const slot of document.querySelectorAll('[data-diff-summary]')) {
    const t = room.tasks.find((x) => x.id === slot.dataset.diffSummary);
    const commit = commitOf(t);
    if (!commit || slot.dataset.filled === commit) continue;
    const summary = summaries.get(commit);
    if (summary === undefined) {
      summaries.set(commit, null);
      getJSON(`${API}/tasks/${enc(t.id)}/diff?lines=0`)
        .then((d) => { summaries.set(commit, normaliseDiff(d)); renderDiffSummaries(store.room); })
        .catch(() => summaries.delete(commit));
      continue;
    }
    if (!summary) continue;
    slot.dataset.filled = commit;
    fill(slot,
      h('ul', { class: 'diff-summary' }, summary.files.map((f) => h('li', null,
        h('button', { type: 'button', class: 'link', dataset: { diff: t.id, diffPath: f.path } }, f.path), ' ',
        f.binary ? h('span', { class: 'muted small' }, 'binary')
          : [h('span', { class: 'added-count small' }, `+${f.added ?? 0}`), ' ', h('span', { class: 'deleted-count small' }, `−${f.deleted ?? 0}`)]))),
      summary.files_total > summary.files.length ? h('p', { class: 'small muted' }, `and ${summary.files_total - summary.files.length} more files`) : null);
  }
}

/** The card's slot for its change's file list. */
export function diffSummarySlot(t) {
  return commitOf(t) ? h('div', { class: 'diff-summary-slot', dataset: { diffSummary: t.id } }) : null;
}

/** The card's button that opens its diff. */
export function diffButton(t, label = 'Diff') {
  return commitOf(t) ? h('button', { type: 'button', class: 'diff-open', dataset: { diff: t.id, focus: 'diff' } }, label) : null;
}

// Events -----------------------------------------------------------------------------------------

function saveComment(key) {
  const t = taskOf(view.task);
  const area = [...$('diff-body').querySelectorAll('textarea.comment-input')].find((x) => x.dataset.key === key);
  if (!t || !area) return;
  const r = review(t.id, view.diff?.commit || commitOf(t) || '');
  const [side, line, ...path] = key.split(':');
  const text = area.value.trim();
  if (text) r.comments.set(key, { path: path.join(':'), line: Number(line), side, text });
  else r.comments.delete(key);
  edited(t, r);
  view.editing = null;
  draw();
}

dialog.addEventListener('click', (e) => {
  if (e.target === dialog) { dialog.close(); return; }
  const b = e.target.closest('button');
  if (!b) return;
  const t = taskOf(view.task);
  const r = t ? review(t.id, view.diff?.commit || commitOf(t) || '') : null;
  const d = b.dataset;
  if (d.comment) { view.editing = d.comment; draw(); $('diff-body').querySelector('textarea.comment-input')?.focus(); }
  else if (d.commentSave) saveComment(d.commentSave);
  else if (d.commentCancel) {
    if (r) { r.comments.delete(d.commentCancel); edited(t, r); }
    view.editing = null;
    draw();
  }
  else if (d.commentEdit) { view.editing = d.commentEdit; draw(); }
  else if (d.showMore) showMore(d.showMore);
  else if (d.diffPage !== undefined) { view.page = Number(d.diffPage); view.diff = null; draw(); load(); }
  else if (d.diffAll) { view.only = null; view.page = 0; view.diff = null; draw(); load(); }
  else if (b.id === 'diff-reject') reject();
});
dialog.addEventListener('input', (e) => {
  if (e.target.id !== 'diff-reason') return;
  const t = taskOf(view.task);
  if (!t) return;
  const r = review(t.id, view.diff?.commit || commitOf(t) || '');
  r.reason = e.target.value;
  edited(t, r);
  const button = $('diff-reject');
  if (button) button.disabled = !commentsToSend(r.comments).length && !r.reason.trim();
});
dialog.addEventListener('close', () => { view.task = null; });
$('diff-close').addEventListener('click', () => dialog.close());
$('diff-unified').addEventListener('click', () => { view.split = false; draw(); });
$('diff-split').addEventListener('click', () => { view.split = true; draw(); });
