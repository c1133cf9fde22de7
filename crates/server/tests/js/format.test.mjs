// Unit tests of the dashboard's pure logic (assets/format.js, assets/room/format.js), run by
// `node --test crates/server/tests/js` (crates/server/tests/js.rs runs it with the suite).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtDuration, fmtCost, sumOrNull } from '../../assets/format.js';
import {
  normalise, replaces, runDuration, tally, progressText, verifyStatus, gateVerdict, metricValue,
  answerCommand, pendingOn, taken, currentTask, laneOf, cleanLine, logLine, addLines, seedLines, typeLabel,
  candidateLine, previewHref,
} from '../../assets/room/format.js';

/** A room as the server sends it, trimmed to what the tests read. */
function room(fields = {}) {
  return normalise({
    run: { id: 'r1', state: 'running', duration_ms: 5000 },
    seq: 7,
    tasks: [
      { id: '1.1', state: 'committed', lane: 'A', tokens_in: 10, tokens_out: 5, cost_usd: 0.5 },
      { id: '1.2', state: 'waiting', lane: 'B', waiting: { kind: 'human-verify', options: [] } },
      { id: 2.1, state: 'failed', tokens_in: 1, tokens_out: 1, cost_usd: null },
    ],
    lanes: [
      { name: 'A', tasks: ['1.1'], current_task: null, tokens_in: 0, tokens_out: 0, cost_usd: null },
      { name: 'B', tasks: ['1.2'], current_task: '1.2', tokens_in: 0, tokens_out: 0, cost_usd: null },
    ],
    ...fields,
  }, true);
}

test('the formatters of durations, costs and sums', () => {
  assert.equal(fmtDuration(null), '—');
  assert.equal(fmtDuration(250), '250 ms');
  assert.equal(fmtDuration(1500), '1.5 s');
  assert.equal(fmtDuration(75_000), '1 min 15 s');
  assert.equal(fmtDuration(3_660_000), '1 h 01 min');
  assert.equal(fmtCost(0.004), '<$0.01');
  assert.equal(fmtCost(undefined), '—');
  assert.equal(sumOrNull([null, undefined]), null);
  assert.equal(sumOrNull([1, null, 2]), 3);
});

test('a room from the server gets every list, ids as text, and what this page may do', () => {
  const r = normalise({ run: { id: 'r1' }, tasks: [{ id: 3.1 }], gates: [{ task: '3.1' }], stopping: '' }, false);
  assert.deepEqual(r.tasks[0], { id: '3.1', depends_on: [], files: [], verify: [] });
  assert.deepEqual(r.gates[0].rounds, []);
  assert.deepEqual([r.waves, r.lanes, r.checkpoints, r.graph.nodes, r.graph.edges], [[], [], [], [], []]);
  assert.equal(r.seq, 0);
  assert.equal(r.stopping, null);
  assert.equal(r.can_act, false);
  assert.equal(room({ can_act: false }).can_act, true, 'the page says, not the room');
});

test('a room replaces the one shown unless it is older', () => {
  const shown = room();
  assert.equal(replaces(null, { seq: 0 }), true);
  assert.equal(replaces(shown, { seq: 6 }), false);
  assert.equal(replaces(shown, { seq: 7 }), true, 'the same events: a reload after a sign-off');
  assert.equal(replaces(shown, { seq: 8 }), true);
});

test('a running run\'s duration ticks from when its room arrived; a finished one\'s does not', () => {
  assert.equal(runDuration({ state: 'running', duration_ms: 5000 }, 1000, 3500), 7500);
  assert.equal(runDuration({ state: 'running', duration_ms: 5000 }, 1000, 500), 5000, 'a clock that went back');
  assert.equal(runDuration({ state: 'succeeded', duration_ms: 5000 }, 1000, 99_000), 5000);
  assert.equal(runDuration({ state: 'failed', started_ms: 10, finished_ms: 40 }, 0, 0), 30);
});

test('the header counts tasks, and usage from the tasks until the lanes have some', () => {
  const t = tally(room());
  assert.deepEqual(t, { done: 1, failed: 1, skipped: 0, total: 3, tokensIn: 11, tokensOut: 6, cost: 0.5 });
  assert.equal(progressText(t), '1/3 committed (1 failed)');
  const lanes = room();
  lanes.lanes[0].tokens_in = 100;
  assert.equal(tally(lanes).tokensIn, 100, 'the lanes count reviews and the verifier too');
});

test('verify results, gate verdicts and metrics read as the page shows them', () => {
  assert.equal(verifyStatus({ passed: null }), 'pending');
  assert.equal(verifyStatus({ passed: true }), 'pass');
  assert.equal(verifyStatus({ passed: false }), 'fail');
  assert.equal(gateVerdict({ passed: false, unverified: ['x'] }), 'red');
  assert.equal(gateVerdict({ passed: true, unverified: ['x'] }), 'unverified');
  assert.equal(gateVerdict({ passed: true }), 'green');
  assert.equal(metricValue({ value: 1.23456, unit: '%' }), '1.23 %');
  assert.equal(metricValue({ value: 'n/a' }), 'n/a');
  assert.equal(typeLabel('checkpoint:decision'), 'decision');
  assert.equal(typeLabel(undefined), 'auto');
});

test('a read-only page names the command that answers a checkpoint', () => {
  assert.equal(answerCommand('r1', '1.3', { kind: 'decision', options: ['Postgres', 'SQLite'] }), 'wavecrew decide r1 1.3 Postgres');
  assert.equal(answerCommand('r1', '1.2', { kind: 'checkpoint:human-verify' }), 'wavecrew approve r1 1.2');
});

test('an answer is taken once the task no longer waits on the checkpoint it answered', () => {
  const waiting = { id: '1.2', state: 'waiting', waiting: { kind: 'human-verify', details: 'first' } };
  const sentOn = pendingOn(waiting);
  assert.equal(taken(waiting, sentOn), false);
  assert.equal(taken({ ...waiting, state: 'running', waiting: null }, sentOn), true);
  // Rejected, worked on again and waiting anew between two rooms: a new checkpoint.
  assert.equal(taken({ ...waiting, waiting: { kind: 'human-verify', details: 'second' } }, sentOn), true);
  assert.equal(taken(undefined, sentOn), true);
});

test('lines go to the lane the server names, else to their task\'s', () => {
  const r = room();
  assert.equal(currentTask(r, r.lanes[1]).id, '1.2');
  assert.equal(currentTask(r, r.lanes[0]), null);
  assert.equal(laneOf(r, { lane: 'Z', task: '1.1' }), 'Z');
  assert.equal(laneOf(r, { task: '1.1' }), 'A');
  assert.equal(laneOf(r, { task: '9.9' }), null);
  assert.equal(laneOf(null, { task: '1.1' }), null);
});

test('agent output loses terminal escapes and control characters, and is cut', () => {
  assert.equal(cleanLine('\x1b[31mred\x1b[0m\x07 text'), 'red text');
  assert.equal(cleanLine(null), '');
  const long = cleanLine('x'.repeat(5000));
  assert.equal(long.length, 4001);
  assert.ok(long.endsWith('…'));
});

test('the stream\'s log messages read as lines and marks', () => {
  assert.deepEqual(logLine({ task: '1.1', line: '<b>hi</b>' }), { text: '<b>hi</b>', kind: null });
  assert.deepEqual(logLine({ task: '1.1', attempt: 2, mark: 'attempt' }), { text: '── 1.1 · attempt 2 ──', kind: 'mark' });
  assert.deepEqual(logLine({ mark: 'prepared', duration_ms: 1500, detail: 'cargo fetch' }), { text: 'worktree ready (1.5 s): cargo fetch', kind: 'sys' });
  assert.deepEqual(logLine({ mark: 'prepared', duration_ms: 20, detail: '' }), { text: 'worktree ready (20 ms)', kind: 'sys' });
  assert.deepEqual(logLine({ mark: 'denied', process: 'agent', operation: 'write', path: '/home/u/.bashrc' }), { text: 'sandbox refused a write to /home/u/.bashrc (agent)', kind: 'err' });
  assert.deepEqual(logLine({ mark: 'denied', process: 'verify-1', operation: 'connect', path: '' }), { text: 'sandbox refused a connect (verify-1)', kind: 'err' });
  assert.deepEqual(logLine({ mark: 'budget', cap: '$0.50', spent: '$0.6000' }), { text: 'stopped: the task spent $0.6000 of its budget of $0.50', kind: 'err' });
  assert.deepEqual(logLine({ mark: 'error', detail: 'rate limited' }), { text: 'error: rate limited', kind: 'err' });
  assert.deepEqual(logLine({ mark: 'exited', code: 0, timed_out: false, duration_ms: 2000 }), { text: 'agent exited with code 0 after 2.0 s', kind: 'sys' });
  assert.deepEqual(logLine({ mark: 'exited', code: null, timed_out: true, duration_ms: 61_000 }), { text: 'agent exited (timed out) after 1 min 01 s', kind: 'sys' });
  assert.equal(logLine({ mark: 'something-newer' }), null);
});

test('a lane\'s log opens with the room\'s tail of it, a mark before each task', () => {
  const { lines, task } = seedLines([
    { task: '1.1', attempt: 1, line: 'one' },
    { task: '1.1', attempt: 1, line: 'two' },
    { task: '1.2', attempt: 1, line: '\x1b[1mthree' },
  ]);
  assert.deepEqual(lines, [
    { text: '── 1.1 ──', kind: 'mark' }, { text: 'one', kind: null }, { text: 'two', kind: null },
    { text: '── 1.2 ──', kind: 'mark' }, { text: 'three', kind: null },
  ]);
  assert.equal(task, '1.2');
  assert.deepEqual(seedLines(undefined), { lines: [], task: null });
});

test('a task\'s output that follows another\'s on a lane gets a mark first', () => {
  const out = (task, line) => ({ lane: 'A', task, attempt: 1, line });
  assert.deepEqual(addLines(out('1.1', 'x'), '1.1', 'line'), { lines: [{ text: 'x', kind: null }], task: '1.1' });
  assert.deepEqual(addLines(out('1.2', 'y'), '1.1', 'line'), {
    lines: [{ text: '── 1.2 ──', kind: 'mark' }, { text: 'y', kind: null }], task: '1.2',
  });
  // After a mark (the attempt's own), or on an empty log, no second one.
  assert.deepEqual(addLines(out('1.2', 'y'), '1.1', 'mark'), { lines: [{ text: 'y', kind: null }], task: '1.2' });
  assert.deepEqual(addLines(out('1.2', 'y'), null, null), { lines: [{ text: 'y', kind: null }], task: '1.2' });
  // An attempt's mark names the task whose lines follow; other marks change nothing.
  assert.deepEqual(addLines({ task: '1.3', attempt: 2, mark: 'attempt' }, '1.1', 'line'),
    { lines: [{ text: '── 1.3 · attempt 2 ──', kind: 'mark' }], task: '1.3' });
  assert.deepEqual(addLines({ task: '1.3', mark: 'error', detail: 'x' }, '1.1', 'line'),
    { lines: [{ text: 'error: x', kind: 'err' }], task: '1.1' });
  assert.deepEqual(addLines({ mark: 'newer' }, '1.1', 'line'), { lines: [], task: '1.1' });
});

test('a best-of candidate shows its verdict, its diff and its tokens', () => {
  const c = (fields) => ({ candidate: 2, verdict: 'passed', chosen: false, diff_lines: 12, outside_lines: 0, tokens: 300, ...fields });
  assert.deepEqual(candidateLine(c({ chosen: true })), { status: 'chosen', text: '#2 chosen: 12 lines, 300 tokens' });
  assert.deepEqual(candidateLine(c({ outside_lines: 3 })), { status: 'passed', text: '#2 passed, ranked lower: 12 lines, 3 outside its Files, 300 tokens' });
  assert.equal(candidateLine(c({ verdict: 'failed' })).status, 'failed');
  assert.equal(candidateLine(c({ verdict: 'verify_timed_out', diff_lines: null, tokens: undefined })).text, '#2 Verify timed out: 0 lines, 0 tokens');
});

test('a preview opens on the name the page reached the dashboard by', () => {
  assert.equal(previewHref('http://localhost:41873/', '127.0.0.1'), 'http://localhost:41873/');
  assert.equal(previewHref('http://localhost:41873/', 'localhost'), 'http://localhost:41873/');
  assert.equal(previewHref('http://localhost:41873/app/', 'devbox.lan'), 'http://devbox.lan:41873/app/');
  assert.equal(previewHref('http://localhost:41873/', '192.168.1.4'), 'http://192.168.1.4:41873/');
  assert.equal(previewHref('javascript:alert(1)', 'localhost'), null);
  assert.equal(previewHref('not a url', 'localhost'), null);
});
