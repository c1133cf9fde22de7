// wavecrew dashboard: the task graph of the room page, an inline SVG built with
// createElementNS. Waves are columns, tasks are rounded rectangles (their title in a <title>
// tooltip), dependencies are paths from the right side of a task to the left side of the next.
// Colours come from style.css through the nodes' data-state, as on the task cards.

import { svg } from './app.js';

const COL_W = 168;
const NODE_W = 120;
const NODE_H = 34;
const ROW_H = 50;
const PAD_X = 12;
const PAD_TOP = 34;
const PAD_BOTTOM = 12;

/** Where each task goes: {id: {x, y, col}}, and the size of the picture. */
function layout(graph, waves) {
  const columns = [];
  const placed = new Set();
  const waveIndex = new Map();
  for (const wave of waves) {
    waveIndex.set(wave.number, columns.length);
    columns.push({ wave, ids: [] });
  }
  const nodes = new Map(graph.nodes.map((n) => [String(n.id), n]));
  // The order of the waves' task lists first, then the graph's own nodes in their waves.
  for (const [i, wave] of waves.entries()) {
    for (const id of wave.tasks || []) {
      if (!placed.has(String(id))) { columns[i].ids.push(String(id)); placed.add(String(id)); }
    }
  }
  for (const node of graph.nodes) {
    const id = String(node.id);
    if (placed.has(id)) continue;
    let col = waveIndex.get(node.wave);
    if (col === undefined) {
      col = columns.length;
      waveIndex.set(node.wave, col);
      columns.push({ wave: { number: node.wave, title: '' }, ids: [] });
    }
    columns[col].ids.push(id);
    placed.add(id);
  }
  const pos = new Map();
  columns.forEach((column, col) => {
    column.ids.forEach((id, row) => {
      pos.set(id, { x: PAD_X + col * COL_W, y: PAD_TOP + row * ROW_H, col });
    });
  });
  const rows = Math.max(1, ...columns.map((c) => c.ids.length));
  const width = PAD_X * 2 + Math.max(1, columns.length) * COL_W - (COL_W - NODE_W);
  const height = PAD_TOP + rows * ROW_H - (ROW_H - NODE_H) + PAD_BOTTOM;
  return { columns, pos, nodes, width, height };
}

function edgePath(a, b) {
  const y1 = a.y + NODE_H / 2;
  const y2 = b.y + NODE_H / 2;
  if (b.col > a.col) {
    const x1 = a.x + NODE_W;
    const x2 = b.x - 6; // leave room for the arrow head
    const dx = Math.max(20, (x2 - x1) / 2);
    return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  }
  // Same wave (or backwards, which a valid plan does not have): bow out to the right.
  const x = a.x + NODE_W;
  const bow = 24 + Math.abs(y2 - y1) / 6;
  return `M${x},${y1} C${x + bow},${y1} ${x + bow},${y2} ${x + 6},${y2}`;
}

/**
 * Builds the SVG. `stateOf(id)` gives a task's state; `label(id)` the text of its tooltip.
 * Nodes carry data-task, so a click handler on the SVG can open the task.
 */
export function buildGraph(graph, waves, stateOf, titleOf) {
  const { columns, pos, width, height } = layout(graph, waves);
  const root = svg('svg', {
    class: 'graph',
    viewBox: `0 0 ${width} ${height}`,
    width: String(width),
    height: String(height),
    role: 'group',
    'aria-label': 'Task dependency graph',
  });
  const defs = svg('defs', null,
    svg('marker', { id: 'wc-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'g-arrow' })),
    svg('pattern', { id: 'wc-stripes', width: '8', height: '8', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: '8', height: '8', class: 'g-stripe-bg' }),
      svg('rect', { width: '4', height: '8', class: 'g-stripe' })));
  root.appendChild(defs);

  columns.forEach((column, col) => {
    const x = PAD_X + col * COL_W;
    const label = `Wave ${column.wave.number}${column.wave.title ? `: ${column.wave.title}` : ''}`;
    root.appendChild(svg('text', { class: 'g-wave', x: String(x), y: '18' },
      label.length > 21 ? `${label.slice(0, 20)}…` : label,
      svg('title', null, label)));
  });

  const edges = svg('g', { class: 'g-edges' });
  for (const edge of graph.edges) {
    const a = pos.get(String(edge.from));
    const b = pos.get(String(edge.to));
    if (!a || !b) continue;
    edges.appendChild(svg('path', {
      class: 'g-edge', d: edgePath(a, b), 'marker-end': 'url(#wc-arrow)',
      dataset: { from: edge.from, to: edge.to },
    }));
  }
  root.appendChild(edges);

  const nodes = svg('g', { class: 'g-nodes' });
  for (const [id, p] of pos) {
    const title = titleOf(id);
    const text = id.length > 14 ? `${id.slice(0, 13)}…` : id;
    nodes.appendChild(svg('g', {
      class: 'g-node', tabindex: '0', role: 'button',
      'aria-label': `${id} ${title}`.trim(),
      transform: `translate(${p.x},${p.y})`,
      dataset: { task: id, state: stateOf(id) },
    },
    svg('title', null, `${id} ${title}`.trim()),
    svg('rect', { width: String(NODE_W), height: String(NODE_H), rx: '8', ry: '8' }),
    svg('text', { x: String(NODE_W / 2), y: String(NODE_H / 2), 'dominant-baseline': 'central', 'text-anchor': 'middle' }, text)));
  }
  root.appendChild(nodes);
  return root;
}

/** Recolours the nodes (and the edges leaving them) without rebuilding the picture. */
export function updateGraph(root, stateOf) {
  for (const node of root.querySelectorAll('.g-node')) {
    const state = stateOf(node.dataset.task);
    if (node.dataset.state !== state) node.dataset.state = state;
  }
  for (const edge of root.querySelectorAll('.g-edge')) {
    const state = stateOf(edge.dataset.from);
    if (edge.dataset.state !== state) edge.dataset.state = state;
  }
}
