// wavecrew dashboard: pure formatting shared by the pages (no DOM, so `node --test` runs it;
// see crates/server/tests/js).

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  const total = Math.floor(s);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
  return `${seconds} s`;
}

export function fmtTokens(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '0';
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1000).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

export function fmtCost(usd) {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  if (usd > 0 && usd < 0.01) return '<$0.01';
  return `$${usd.toFixed(2)}`;
}

export function shortHash(commit) {
  return commit ? String(commit).slice(0, 10) : '';
}

/** Sum of numbers that may be null; null when every one is null. */
export function sumOrNull(values) {
  let total = null;
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) total = (total ?? 0) + v;
  return total;
}

export const FINAL_STATES = new Set(['succeeded', 'failed', 'cancelled']);
