// Unit tests of the diff review's pure logic (assets/room/diff.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normaliseDiff, withFile, sideBySide, statusText, languageOf, tokenize, parseLocation, lineTarget, commentKey,
  commentsToSend, findingTask,
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
