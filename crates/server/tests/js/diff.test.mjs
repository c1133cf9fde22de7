// Unit tests of the diff review's pure logic (assets/room/diff.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normaliseDiff, withFile, sideBySide, statusText, languageOf, tokenize, parseLocation, lineTarget, commentKey,
  commentsToSend, findingTask, draftKey, parseDraftKey, serialiseDraft, parseDraft, waitsOn, draftSpent, staleDraftKeys,
  DRAFT_MAX_AGE_MS, draftStore,
} from '../../assets/room/diff.js';

const ctx = (old, nw, text) => ({ kind: 'context', old, new: nw, text });
const del = (old, text) => ({ kind: 'deleted', old, text });
const add = (nw, text) => ({ kind: 'added', new: nw, text });

test('side by side pairs a run of deletions with the additions after it', () => {
  const lines = [ctx(1, 1, 'a'), del(2, 'b'), del(3, 'c'), add(2, 'B'), ctx(4, 3, 'd'), add(4, 'e'), del(5, 'f')];
  const rows = sideBySide(lines).map((r) => [r.left?.text ?? null, r.right?.text ?? null]);
  assert.deepEqual(rows, [['a', 'a'], ['b', 'B'], ['c', null], ['d', 'd'], [null, 'e'], ['f', null]]);
});

test('side by side of nothing is nothing, and every line appears once per side', () => {
  assert.deepEqual(sideBySide([]), []);
  const lines = [add(1, 'x'), add(2, 'y'), del(1, 'z')];
  const rows = sideBySide(lines);
  assert.equal(rows.filter((r) => r.right).length, 2);
  assert.equal(rows.filter((r) => r.left).length, 1);
});

test('a diff from the server is normalised and a longer file replaces its short version', () => {
  const diff = normaliseDiff({ commit: 'abc', files_total: 2, pages: 0, files: [{ path: 'a.rs', hunks: [{}] }, { path: 'b.rs' }] });
  assert.equal(diff.pages, 1);
  assert.deepEqual(diff.files[0].hunks[0].lines, []);
  assert.deepEqual(diff.files[1].hunks, []);
  const more = withFile(diff, { path: 'b.rs', hunks: [{ lines: [add(1, 'x')] }], truncated: false });
  assert.equal(more.files[1].hunks[0].lines[0].text, 'x');
  assert.equal(more.files[0], diff.files[0]);
  assert.deepEqual(normaliseDiff(null).files, []);
});

test('a file says how it changed', () => {
  assert.equal(statusText({ status: 'renamed', old_path: 'old.rs' }), 'renamed from old.rs');
  assert.equal(statusText({ status: 'type_changed' }), 'type changed');
  assert.equal(statusText({ status: 'added' }), 'added');
});

test('languages are known by extension', () => {
  assert.equal(languageOf('src/main.rs'), 'rust');
  assert.equal(languageOf('web/App.TSX'), 'js');
  assert.equal(languageOf('Makefile'), 'shell');
  assert.equal(languageOf('notes.txt'), null);
  assert.equal(languageOf('README'), null);
});

const kinds = (text, lang) => tokenize(text, lang).filter((t) => t.kind).map((t) => [t.kind, t.text]);

test('the tokenizer colours keywords, strings, numbers and comments and keeps every character', () => {
  const line = 'let x = "a // b" + 42; // the end';
  assert.deepEqual(kinds(line, 'rust'), [['keyword', 'let'], ['string', '"a // b"'], ['number', '42'], ['comment', '// the end']]);
  assert.equal(tokenize(line, 'rust').map((t) => t.text).join(''), line);
  assert.deepEqual(kinds("fn f<'a>(x: &'a str) {}", 'rust'), [['keyword', 'fn']], 'lifetimes are not strings');
  assert.deepEqual(kinds('def f(): return None  # no', 'python'), [['keyword', 'def'], ['keyword', 'return'], ['keyword', 'None'], ['comment', '# no']]);
  assert.deepEqual(kinds('const s = `x ${y}`; /* c */ x2', 'js'), [['keyword', 'const'], ['string', '`x ${y}`'], ['comment', '/* c */']]);
  assert.deepEqual(kinds('SELECT id FROM t', 'sql'), [['keyword', 'SELECT'], ['keyword', 'FROM']]);
  assert.deepEqual(tokenize('plain <b>', null), [{ kind: null, text: 'plain <b>' }]);
  assert.deepEqual(kinds('"unterminated \\', 'js'), [['string', '"unterminated \\']]);
});

test('the tokenizer keeps arbitrary text whole', () => {
  const samples = ['', '\'', '"\\"', '/*', '0x', 'a1 1a _9 9_', '// ', '#', '`', "'a' 'b", '\u00e9t\u00e9 = 1'];
  for (const lang of ['rust', 'js', 'python', 'go', 'c', 'shell', 'ruby', 'css', 'toml', 'yaml', 'sql']) {
    for (const s of samples) assert.equal(tokenize(s, lang).map((t) => t.text).join(''), s, `${lang}: ${s}`);
  }
});

test('a gate finding location names a file and line', () => {
  assert.deepEqual(parseLocation('src/a.rs:12'), { path: 'src/a.rs', line: 12 });
  assert.deepEqual(parseLocation('./src/a.rs:12:5'), { path: 'src/a.rs', line: 12 });
  assert.equal(parseLocation('src/a.rs'), null);
  assert.equal(parseLocation('src/a.rs:0'), null);
  assert.equal(parseLocation(null), null);
});

test('comments sit on the new line, or the old one for a deletion, and go out sorted without the empty', () => {
  assert.deepEqual(lineTarget('a.rs', add(3, 'x')), { path: 'a.rs', line: 3, side: 'new' });
  assert.deepEqual(lineTarget('a.rs', del(7, 'x')), { path: 'a.rs', line: 7, side: 'old' });
  assert.deepEqual(lineTarget('a.rs', ctx(7, 9, 'x')), { path: 'a.rs', line: 9, side: 'new' });
  const comments = new Map();
  for (const [path, line, text] of [['b.rs', 2, 'two'], ['a.rs', 10, ' ten '], ['a.rs', 9, ''], ['a.rs', 3, 'three']]) {
    const target = { path, line, side: 'new' };
    comments.set(commentKey(target), { ...target, text });
  }
  assert.deepEqual(commentsToSend(comments).map((c) => `${c.path}:${c.line} ${c.text}`), ['a.rs:3 three', 'a.rs:10 ten', 'b.rs:2 two']);
});

test('a gate finding opens the diff of the task that changed its file', () => {
  const tasks = [
    { id: '1.1', commit: 'a', files: ['src/a.rs'] },
    { id: '1.2', commit: 'b', files: ['src/b.rs'] },
    { id: '1.3', files: ['src/a.rs'] },
    { id: '2.1', commit: null, files: [] },
  ];
  assert.equal(findingTask(tasks, '2.1', 'src/a.rs'), '1.1');
  assert.equal(findingTask(tasks, '2.1', 'src/c.rs'), '1.2');
  const gate = { id: '2.1', commit: 'fix', files: ['src/a.rs'] };
  assert.equal(findingTask([...tasks.slice(0, 3), gate], '2.1', 'src/a.rs'), '1.1', 'the change the gate reviewed');
  assert.equal(findingTask([tasks[2], gate], '2.1', 'src/a.rs'), '2.1');
  assert.equal(findingTask([{ id: '1.1', files: [] }], '2.1', 'x'), null);
});

const commentsOf = (...list) => new Map(list.map((c) => [commentKey(c), c]));

test('a draft\'s key names its run, task and commit, and reads back; other keys are not drafts', () => {
  const key = draftKey('20261203-run/x', '2.1', 'abc123');
  assert.deepEqual(parseDraftKey(key), { run: '20261203-run/x', task: '2.1', commit: 'abc123' });
  assert.notEqual(draftKey('r', '1.1', 'c'), draftKey('r', '1.1', 'd'), 'a new commit is a new review');
  for (const other of ['theme', 'wavecrew-review:', 'wavecrew-review:r/1.1', 'wavecrew-review:r/1.1/c/d', 'wavecrew-review:%E0%A4%A/1.1/c', 'wavecrew-review:r//c', null]) {
    assert.equal(parseDraftKey(other), null, String(other));
  }
});

test('a draft is stored and read back whole: comments, reason, whether its checkpoint waited', () => {
  const comments = commentsOf(
    { path: 'src/a.rs', line: 12, side: 'new', text: ' off by one ' },
    { path: 'src/a.rs', line: 3, side: 'old', text: 'keep this\nline' },
    { path: 'b.rs', line: 1, side: 'new', text: '  ' },
  );
  const text = serialiseDraft({ comments, reason: 'wrong bounds', waiting: true }, 1000);
  const back = parseDraft(text);
  assert.deepEqual([...back.comments.values()], [
    { path: 'src/a.rs', line: 3, side: 'old', text: 'keep this\nline' },
    { path: 'src/a.rs', line: 12, side: 'new', text: 'off by one' },
  ]);
  assert.deepEqual(commentsToSend(back.comments), commentsToSend(comments));
  assert.deepEqual([back.reason, back.waiting, back.saved], ['wrong bounds', true, 1000]);
  // The keys are those the page draws the comments under.
  assert.ok(back.comments.has(commentKey({ path: 'src/a.rs', line: 12, side: 'new' })));
  assert.equal(serialiseDraft({ comments: commentsOf({ path: 'a', line: 1, side: 'new', text: '' }), reason: ' ' }, 1), null, 'nothing to keep');
  assert.equal(parseDraft(serialiseDraft({ comments: new Map(), reason: 'half a sen' }, 5)).reason, 'half a sen');
});

test('what storage gives back is checked: garbage reads as an empty draft, a bad comment is left out', () => {
  for (const bad of [null, '', 'not json', '[]', '42', 'null', '{"v":2,"comments":[]}', '{"comments":[{"path":"a","line":1,"side":"new","text":"x"}]}']) {
    const d = parseDraft(bad);
    assert.deepEqual([d.comments.size, d.reason, d.waiting], [0, '', false], String(bad));
  }
  const good = { path: 'a.rs', line: 2, side: 'new', text: 'fine' };
  const stored = JSON.stringify({ v: 1, saved: 'yesterday', waiting: 'yes', reason: 7, comments: [
    good, null, 'a.rs:1:x', { ...good, line: 0 }, { ...good, line: 1.5 }, { ...good, line: '3' }, { ...good, side: 'left' },
    { ...good, path: '' }, { ...good, path: 7 }, { ...good, text: ' ' }, { ...good, text: { html: '<b>' } }, { ...good, line: 9, extra: 1 },
  ] });
  const d = parseDraft(stored);
  assert.deepEqual([...d.comments.values()], [good, { ...good, line: 9 }]);
  assert.deepEqual([d.reason, d.waiting, d.saved], ['', false, 0]);
  const many = JSON.stringify({ v: 1, comments: Array.from({ length: 500 }, (_, i) => ({ ...good, line: i + 1 })) });
  assert.equal(parseDraft(many).comments.size, 200, 'at most what one rejection carries');
});

test('a draft is spent once its task shows another change or its checkpoint was answered', () => {
  const waiting = { id: '2.1', state: 'waiting', waiting: { kind: 'checkpoint:human-verify', commit: 'c1' } };
  assert.equal(waitsOn(waiting, 'c1'), true);
  assert.equal(waitsOn(waiting, 'c2'), false);
  assert.equal(draftSpent('c1', true, waiting), false, 'still waiting on it');
  assert.equal(draftSpent('c1', true, { id: '2.1', state: 'running' }), true, 'rejected: the next attempt runs');
  assert.equal(draftSpent('c1', true, { id: '2.1', state: 'waiting', waiting: { commit: 'c2' } }), true, 'a new commit waits');
  assert.equal(draftSpent('c1', true, { id: '2.1', state: 'committed', commit: 'c1' }), true, 'approved, landed as it was');
  assert.equal(draftSpent('c1', false, { id: '1.1', state: 'committed', commit: 'c1' }), false, 'comments on a landed change stay');
  assert.equal(draftSpent('c1', false, { id: '1.1', state: 'committed', commit: 'c0' }), true);
  assert.equal(draftSpent('c1', true, null), false, 'a task the room does not list: nothing is known');
});

test('opening a task\'s diff drops its drafts of other commits and drafts past the age limit', () => {
  const now = 100 * DRAFT_MAX_AGE_MS;
  const keys = [draftKey('r', '2.1', 'c1'), draftKey('r', '2.1', 'c2'), draftKey('r', '1.1', 'c0'), draftKey('s', '2.1', 'c9'), draftKey('old', '1.1', 'c'), 'theme'];
  const saved = { [draftKey('old', '1.1', 'c')]: now - DRAFT_MAX_AGE_MS - 1 };
  const stale = staleDraftKeys(keys, 'r', '2.1', 'c2', (key) => saved[key] ?? now - 1000, now);
  assert.deepEqual(stale, [draftKey('r', '2.1', 'c1'), draftKey('old', '1.1', 'c')]);
});

/** A stand-in for the browser's localStorage (the Storage interface), whose writes can fail
 *  as a full one's do. */
class FakeStorage {
  constructor() { this.items = new Map(); this.full = false; }
  get length() { return this.items.size; }
  key(i) { return [...this.items.keys()][i] ?? null; }
  getItem(k) { return this.items.has(k) ? this.items.get(k) : null; }
  setItem(k, v) {
    if (this.full) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    this.items.set(k, String(v));
  }
  removeItem(k) { this.items.delete(k); }
}

test('the draft store keeps a review across pages, drops other commits\' and forgets spent ones', () => {
  const storage = new FakeStorage();
  storage.setItem('theme', 'dark');
  const drafts = draftStore(() => storage);
  const comments = commentsOf({ path: 'a.rs', line: 4, side: 'new', text: 'why' });
  drafts.save('r', '2.1', { commit: 'c1', comments, reason: 'half', waiting: true }, 10);
  drafts.save('r', '1.1', { commit: 'c0', comments, reason: '', waiting: false }, 10);
  // Another page (a reload) reads it back.
  const again = draftStore(() => storage).open('r', '2.1', 'c1', 20);
  assert.deepEqual([[...again.comments.values()], again.reason, again.waiting], [[...comments.values()], 'half', true]);
  // A new commit of 2.1 is a new review: the old draft goes.
  assert.equal(drafts.open('r', '2.1', 'c2', 30).comments.size, 0);
  assert.equal(storage.getItem(draftKey('r', '2.1', 'c1')), null);
  drafts.save('r', '2.1', { commit: 'c2', comments, reason: '', waiting: true }, 40);
  // The room shows 2.1 answered (running again) and 1.1 landed as commented: 2.1's draft goes.
  const tasks = { '2.1': { id: '2.1', state: 'running' }, '1.1': { id: '1.1', state: 'committed', commit: 'c0' } };
  drafts.forgetSpent('r', (id) => tasks[id] ?? null);
  assert.deepEqual([...storage.items.keys()], ['theme', draftKey('r', '1.1', 'c0')]);
  // A sent review holds nothing: its draft is removed.
  drafts.save('r', '1.1', { commit: 'c0', comments: new Map(), reason: '' }, 50);
  assert.deepEqual([...storage.items.keys()], ['theme']);
});

test('a draft store without a usable storage does nothing and throws nothing', () => {
  const draft = { commit: 'c1', comments: commentsOf({ path: 'a.rs', line: 1, side: 'new', text: 'x' }), reason: 'r' };
  const unavailable = draftStore(() => { throw Object.assign(new Error('denied'), { name: 'SecurityError' }); });
  const full = new FakeStorage();
  full.setItem(draftKey('r', '2.1', 'c1'), '{not json');
  full.full = true;
  const broken = { get length() { throw new Error('gone'); }, getItem() { throw new Error('gone'); }, setItem() { throw new Error('gone'); }, removeItem() { throw new Error('gone'); }, key() { throw new Error('gone'); } };
  for (const drafts of [unavailable, draftStore(() => null), draftStore(() => full), draftStore(() => broken)]) {
    drafts.save('r', '2.1', draft, 1);
    const back = drafts.open('r', '2.1', 'c1', 2);
    assert.deepEqual([back.comments.size, back.reason], [0, '']);
    drafts.forgetSpent('r', () => ({ id: '2.1', state: 'running' }));
  }
  assert.equal(full.items.size, 0, 'removing works on a full storage');
});
