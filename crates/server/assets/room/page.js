// The room page's place: which run it shows and where its API is.

import { meta } from '../app.js';

function runFromPath() {
  const parts = location.pathname.split('/').filter(Boolean);
  try { return decodeURIComponent(parts[parts.length - 1] || ''); } catch { return ''; }
}

export const RUN = meta('wavecrew-run', '{{RUN}}') || runFromPath();
export const enc = encodeURIComponent;
export const API = `/api/runs/${enc(RUN)}`;

/** The page's element with this id. */
export const $ = (id) => document.getElementById(id);
