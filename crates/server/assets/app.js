// wavecrew dashboard: what both pages share.
//
// Everything shown on these pages comes from the JSON API and is hostile (plan text, agent
// output, log lines): the DOM is built with createElement and textContent only, never with
// innerHTML or anything that parses HTML. `h` and `svg` below are the only ways this code
// makes elements, and they refuse event-handler attributes.

/** The content of `<meta name=NAME>`; empty when the server left the placeholder. */
export function meta(name, placeholder) {
  const m = document.querySelector(`meta[name="${name}"]`);
  const value = m ? (m.getAttribute('content') || '').trim() : '';
  return value === placeholder ? '' : value;
}

/** The access token the server put in the page (empty when the request was not authorized). */
export const TOKEN = meta('wavecrew-token', '{{TOKEN}}');

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(key)) throw new Error(`refusing event handler attribute ${key}`);
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) { if (v !== null && v !== undefined) el.dataset[k] = String(v); }
    else if (key === 'text') el.textContent = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** An HTML element: `h('p', {class: 'x'}, 'text', child, [more])`. Strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** An SVG element, like `h`. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---------------------------------------------------------------------------------------------
// The API

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function headers(extra) {
  const hs = { Accept: 'application/json', ...extra };
  if (TOKEN) hs['X-Wavecrew-Token'] = TOKEN;
  return hs;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === 'string') message = body.error;
      else if (body && typeof body.message === 'string') message = body.message;
    } catch {
      if (text.trim()) message = `${message}: ${text.trim().slice(0, 300)}`;
    }
  } catch { /* the body is gone: the status says enough */ }
  return new ApiError(message, response.status);
}

async function request(path, init) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch (e) {
    throw new ApiError(`cannot reach the wavecrew server (${e.message})`, 0);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJSON(path) {
  return (await request(path, { headers: headers() })).json();
}

export async function getText(path) {
  return (await request(path, { headers: headers({ Accept: 'text/plain' }) })).text();
}

/** POSTs `body` as JSON; resolves to the server's message, rejects with its error. */
export async function post(path, body) {
  const response = await request(path, {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(body ?? {}),
  });
  let result = {};
  try { result = await response.json(); } catch { /* 200 without a body */ }
  if (result && result.error) throw new ApiError(String(result.error), response.status);
  return (result && result.message) ? String(result.message) : 'Done.';
}

/** A link to another dashboard page, keeping `?token=` if this page was opened with one. */
export function pageHref(path) {
  const token = new URLSearchParams(location.search).get('token');
  return token ? `${path}?token=${encodeURIComponent(token)}` : path;
}

// ---------------------------------------------------------------------------------------------
// Formatting (the pure part is in format.js, shared with the tests)

export {
  fmtDuration, fmtTokens, fmtCost, shortHash, sumOrNull, FINAL_STATES,
} from './format.js';

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A coloured badge naming a run or task state. */
export function stateBadge(state, attrs) {
  return h('span', { class: 'badge state', dataset: { state }, ...attrs }, String(state ?? 'unknown'));
}

// ---------------------------------------------------------------------------------------------
// Toasts: what an action did or why it failed.

export function toast(message, kind = 'info') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(region);
  }
  const item = h('div', { class: ['toast', kind], role: kind === 'error' ? 'alert' : null },
    h('span', { class: 'toast-text' }, String(message)),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×'));
  item.querySelector('button').addEventListener('click', () => item.remove());
  region.appendChild(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  setTimeout(() => item.remove(), kind === 'error' ? 12000 : 6000);
}
