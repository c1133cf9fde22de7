// Unit tests of the timeline's Gantt geometry (assets/room/gantt.js), run by
// `node --test crates/server/tests/js` (crates/server/tests/js.rs runs it with the suite).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GEOMETRY, gantt, percent, shorten, tickStep, timelineSummary } from '../../assets/room/gantt.js';

/** A timeline as the room carries it: two lanes, 1.2 → 2.1 the critical path, 8 s long. */
function timeline(fields = {}) {
  return {
    makespan_ms: 8000,
    critical_path_ms: 8000,
    critical_path: ['1.2', '2.1'],
    serial_ms: 10000,
    speedup: 1.25,
    lanes: [
      { name: 'Worker A', agent: 'claude', busy_ms: 2000, utilization: 0.25 },
      { name: 'Worker B', agent: 'claude', busy_ms: 8000, utilization: 1 },
    ],
    tasks: [
      { task: '1.1', lane: 'Worker A', start_ms: 0, end_ms: 2000, critical: false },
      { task: '1.2', lane: 'Worker B', start_ms: 0, end_ms: 4000, critical: true },
      { task: '2.1', lane: 'Worker B', start_ms: 4000, end_ms: 8000, critical: true },
    ],
    bars: [
      { task: '1.1', lane: 'Worker A', attempt: 1, phase: 'agent', start_ms: 0, end_ms: 2000, critical: false },
      { task: '1.2', lane: 'Worker B', attempt: 1, phase: 'agent', start_ms: 0, end_ms: 3000, critical: true },
      { task: '1.2', lane: 'Worker B', attempt: 1, phase: 'waiting', start_ms: 3000, end_ms: 4000, critical: true },
      { task: '2.1', lane: 'Worker B', attempt: 2, phase: 'verify', start_ms: 4000, end_ms: 4001, critical: true },
      { task: '9.9', lane: 'gone', attempt: 1, phase: 'agent', start_ms: 0, end_ms: 10, critical: false },
    ],
    waiting: { people_ms: 1000, limits_ms: 0, verify_ms: 1, git_ms: 0 },
    sessions: [{ start_ms: 0, end_ms: 8000 }],
    ...fields,
  };
}

test('bars are scaled to the run, one row per lane, waits thinner, bars of unknown lanes left out', () => {
  const g = gantt(timeline());
  const plot = GEOMETRY.width - GEOMETRY.label - GEOMETRY.pad;
  assert.deepEqual(g.rows.map((r) => [r.name, r.y, r.label]), [
    ['Worker A', GEOMETRY.axis, 'Worker A · 25%'],
    ['Worker B', GEOMETRY.axis + GEOMETRY.row, 'Worker B · 100%'],
  ]);
  assert.equal(g.bars.length, 4);
  const [a, b, wait, tiny] = g.bars;
  assert.equal(a.x, GEOMETRY.label);
  assert.equal(a.width, plot / 4);
  assert.equal(b.width, (plot * 3) / 8);
  assert.equal(wait.height, GEOMETRY.bar / 2);
  assert.ok(wait.y > b.y, 'a wait sits in the middle of its row');
  assert.equal(tiny.width, 1, 'a bar of a millisecond still shows');
  assert.deepEqual(g.bars.map((x) => x.critical), [false, true, true, true]);
  assert.match(wait.title, /^1\.2 · waiting for a person · attempt 1: 3\.0 s → 4\.0 s \(1\.0 s\) · critical path$/);
  assert.equal(g.height, GEOMETRY.axis + 2 * GEOMETRY.row + GEOMETRY.pad);
});

test('a long lane name is shortened in the label column, whole in its title', () => {
  const name = 'Backend engineer for the payments service';
  const g = gantt(timeline({ lanes: [{ name, agent: 'claude', busy_ms: 1, utilization: 0.5 }], bars: [], tasks: [] }));
  assert.equal(g.rows[0].label, 'Backend engineer … · 50%');
  assert.ok(g.rows[0].title.startsWith(`${name} (claude)`));
  assert.equal(shorten('Worker A', 18), 'Worker A');
  assert.equal(shorten('ééééé', 3), 'éé…');
});

test('a task is named on its bar only where its name fits', () => {
  const narrow = gantt(timeline({ tasks: [{ task: '1.1', lane: 'Worker A', start_ms: 0, end_ms: 10 }] }));
  assert.deepEqual(narrow.labels, []);
  const wide = gantt(timeline());
  assert.deepEqual(wide.labels.map((l) => [l.text, l.critical]), [['1.1', false], ['1.2', true], ['2.1', true]]);
});

test('ticks fall on round times and sessions of a resumed run are marked where they meet', () => {
  assert.equal(tickStep(8000), 1000);
  assert.equal(tickStep(45_000), 10_000);
  assert.equal(tickStep(3 * 3600_000), 1800_000);
  const g = gantt(timeline({ sessions: [{ start_ms: 0, end_ms: 5000 }, { start_ms: 5000, end_ms: 8000 }] }));
  assert.deepEqual(g.ticks.map((t) => t.label), ['0 ms', '1.0 s', '2.0 s', '3.0 s', '4.0 s', '5.0 s', '6.0 s', '7.0 s', '8.0 s']);
  assert.equal(g.breaks.length, 1);
  assert.equal(g.breaks[0].x, GEOMETRY.label + ((GEOMETRY.width - GEOMETRY.label - GEOMETRY.pad) * 5) / 8);
});

test('the numbers read as sentences, and nothing breaks on an empty timeline', () => {
  assert.deepEqual(timelineSummary(timeline()), [
    'Makespan 8.0 s; critical-path bound 8.0 s (100% of the makespan): 1.2 → 2.1',
    'Speedup 1.25× over one task after another (10 s)',
    'Waiting: for people 1.0 s, for limits 0 ms, in Verify 1 ms, in git 0 ms',
  ]);
  assert.equal(percent(0.333), '33%');
  const empty = gantt(undefined);
  assert.deepEqual([empty.rows, empty.bars, empty.labels, empty.breaks], [[], [], [], []]);
  assert.equal(timelineSummary(null)[0], 'Makespan 0 ms; critical-path bound 0 ms (0% of the makespan)');
});
