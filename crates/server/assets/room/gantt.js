// The run's timeline (the room's `timeline`, from crates/engine/src/timeline.rs) as the
// geometry of a Gantt chart: one row per lane, bars scaled to the run's length, ticks on the
// time axis, the places where a resumed run's sessions meet, and the numbers as sentences.
// Pure (no DOM), so `node --test` runs it (crates/server/tests/js).

import { fmtDuration } from '../format.js';

/** The chart's sizes, in SVG user units. */
export const GEOMETRY = { width: 960, label: 176, row: 26, bar: 16, axis: 22, pad: 10 };

/** What each phase of a bar is, for people. */
export const PHASE_TEXT = {
  prepare: 'preparing the lane',
  agent: 'agent',
  verify: 'Verify',
  git: 'git',
  gate: 'gate round',
  waiting: 'waiting for a person',
  limit: 'waiting for a limit',
};

/** Phases where the lane waits rather than works: drawn thinner. */
const WAITS = new Set(['waiting', 'limit']);

const arr = (x) => (Array.isArray(x) ? x : []);
const num = (x) => (Number.isFinite(Number(x)) ? Number(x) : 0);

/** The characters of a lane's name that fit the label column (the whole name is its title). */
const LANE_CHARS = 18;

/** `text` cut to `max` characters, with `…` when something was cut. */
export function shorten(text, max) {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `share` (0 to 1) as a whole percentage. */
export function percent(share) {
  return `${Math.round(num(share) * 100)}%`;
}

/** A round step between ticks: about `most` of them over `ms`. */
export function tickStep(ms, most = 8) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];
  const step = steps.find((s) => ms / (s * 1000) <= most);
  return (step ?? Math.ceil(ms / most / 86_400_000) * 86400) * 1000;
}

/** Everything the chart draws: rows, bars, task names where they fit, ticks, session breaks. */
export function gantt(timeline, g = GEOMETRY) {
  const t = timeline || {};
  const lanes = arr(t.lanes);
  const makespan = Math.max(1, num(t.makespan_ms));
  const plot = g.width - g.label - g.pad;
  const x = (ms) => g.label + (Math.min(Math.max(num(ms), 0), makespan) / makespan) * plot;
  const rowOf = new Map(lanes.map((l, i) => [String(l.name), i]));
  const top = (i) => g.axis + i * g.row;

  const rows = lanes.map((l, i) => ({
    name: String(l.name ?? ''),
    agent: String(l.agent ?? ''),
    y: top(i),
    label: `${shorten(String(l.name ?? ''), LANE_CHARS)} · ${percent(l.utilization)}`,
    title: `${l.name ?? ''} (${l.agent ?? 'agent'}): busy ${fmtDuration(num(l.busy_ms))}, ${percent(l.utilization)} of the run`,
  }));
  const bars = arr(t.bars).filter((b) => rowOf.has(String(b.lane))).map((b) => {
    const [start, end] = [num(b.start_ms), Math.max(num(b.start_ms), num(b.end_ms))];
    const height = WAITS.has(b.phase) ? g.bar / 2 : g.bar;
    const phase = String(b.phase ?? '');
    return {
      task: String(b.task ?? ''),
      lane: String(b.lane),
      phase,
      attempt: num(b.attempt),
      critical: Boolean(b.critical),
      x: x(start),
      // A bar shorter than a pixel still shows.
      width: Math.max(1, x(end) - x(start)),
      y: top(rowOf.get(String(b.lane))) + (g.row - height) / 2,
      height,
      title: `${b.task} · ${PHASE_TEXT[phase] ?? phase} · attempt ${num(b.attempt)}: `
        + `${fmtDuration(start)} → ${fmtDuration(end)} (${fmtDuration(end - start)})${b.critical ? ' · critical path' : ''}`,
    };
  });
  // A task's name at its start, where its span is wide enough for it (about 7 units a character).
  const labels = arr(t.tasks)
    .filter((s) => rowOf.has(String(s.lane)))
    .map((s) => ({
      text: String(s.task ?? ''),
      x: x(s.start_ms) + 3,
      y: top(rowOf.get(String(s.lane))) + g.row / 2 + 4,
      room: x(s.end_ms) - x(s.start_ms),
      critical: Boolean(s.critical),
    }))
    .filter((l) => l.room >= 7 * l.text.length + 6)
    .map(({ room, ...l }) => l);
  const step = tickStep(makespan);
  const ticks = [];
  for (let ms = 0; ms <= makespan; ms += step) ticks.push({ x: x(ms), label: fmtDuration(ms) });
  // Where a resumed run's sessions meet (the time between them is left out).
  const breaks = arr(t.sessions).slice(1).map((s) => ({ x: x(s.start_ms) }));
  return { width: g.width, height: top(lanes.length) + g.pad, rows, bars, labels, ticks, breaks };
}

/** The numbers, one sentence a line (as `wavecrew report --timeline` prints them). */
export function timelineSummary(timeline) {
  const t = timeline || {};
  const w = t.waiting || {};
  const path = arr(t.critical_path).map(String);
  const makespan = num(t.makespan_ms);
  const ratio = makespan ? num(t.critical_path_ms) / makespan : 0;
  const lines = [
    `Makespan ${fmtDuration(makespan)}; critical-path bound ${fmtDuration(num(t.critical_path_ms))} (${percent(ratio)} of the makespan)`
      + (path.length ? `: ${path.join(' → ')}` : ''),
    `Speedup ${num(t.speedup).toFixed(2)}× over one task after another (${fmtDuration(num(t.serial_ms))})`,
    `Waiting: for people ${fmtDuration(num(w.people_ms))}, for limits ${fmtDuration(num(w.limits_ms))}, `
      + `in Verify ${fmtDuration(num(w.verify_ms))}, in git ${fmtDuration(num(w.git_ms))}`,
  ];
  if (arr(t.sessions).length > 1) lines.push(`Resumed: ${arr(t.sessions).length} sessions; the time between them is left out`);
  return lines;
}
