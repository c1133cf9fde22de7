// The room's Timeline section: the run's lanes over its time as a Gantt chart (SVG), the
// critical path's bars marked, the numbers above it and a legend below. The geometry is
// gantt.js's; this only makes the elements.

import { h, svg, fill } from '../app.js';
import { $ } from './page.js';
import { changed } from './widgets.js';
import { GEOMETRY, PHASE_TEXT, gantt, timelineSummary } from './gantt.js';

export function renderTimeline(room) {
  const t = room.timeline;
  const shown = Boolean(t && Array.isArray(t.bars) && t.bars.length);
  $('timeline-section').hidden = !shown;
  if (!shown || !changed('timeline', t)) return;
  const g = gantt(t);
  const chart = svg('svg', {
    class: 'gantt', viewBox: `0 0 ${g.width} ${g.height}`, role: 'img',
    'aria-label': `The run's ${g.rows.length} lanes over time; bars outlined are on the critical path`,
  },
  g.rows.map((r, i) => svg('g', { class: 'gantt-row', dataset: { lane: r.name, odd: i % 2 ? 'yes' : 'no' } },
    svg('rect', { class: 'gantt-band', x: 0, y: r.y, width: g.width, height: GEOMETRY.row }),
    svg('text', { class: 'gantt-lane', x: 6, y: r.y + GEOMETRY.row / 2 + 4 }, r.label, svg('title', null, r.title)))),
  g.ticks.map((k) => svg('g', { class: 'gantt-tick' },
    svg('line', { x1: k.x, x2: k.x, y1: GEOMETRY.axis - 4, y2: g.height - GEOMETRY.pad }),
    svg('text', { x: k.x + 3, y: GEOMETRY.axis - 8 }, k.label))),
  g.breaks.map((b) => svg('line', { class: 'gantt-break', x1: b.x, x2: b.x, y1: GEOMETRY.axis - 4, y2: g.height },
    svg('title', null, 'the run was resumed here'))),
  g.bars.map((b) => svg('rect', {
    class: 'gantt-bar', x: b.x, y: b.y, width: b.width, height: b.height, rx: 2,
    dataset: { task: b.task, phase: b.phase, critical: b.critical ? 'yes' : 'no' },
  }, svg('title', null, b.title))),
  g.labels.map((l) => svg('text', { class: 'gantt-task', x: l.x, y: l.y, dataset: { critical: l.critical ? 'yes' : 'no' } }, l.text)));
  const phases = [...new Set(g.bars.map((b) => b.phase))];
  fill($('timeline'),
    h('ul', { class: 'timeline-numbers' }, timelineSummary(t).map((line) => h('li', null, line))),
    h('div', { class: 'gantt-wrap' }, chart),
    h('ul', { class: 'gantt-legend small muted' },
      phases.map((p) => h('li', null, h('span', { class: 'swatch', dataset: { phase: p } }), PHASE_TEXT[p] ?? p)),
      h('li', null, h('span', { class: 'swatch', dataset: { critical: 'yes' } }), 'critical path')));
}
