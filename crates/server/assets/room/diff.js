// The pure logic of the diff review (room/diffview.js draws it): lines paired side by side, a
// small tokenizer for syntax colours, "show more" merged into a page, gate finding locations,
// the comments a person writes on lines, and their drafts kept in a storage the page passes in
// (the tests pass a fake). Tested with `node --test` (crates/server/tests/js).

/** The diff's files, made safe to draw: whatever the server sent, arrays are arrays. */
export function normaliseDiff(diff) {
  const files = Array.isArray(diff?.files) ? diff.files : [];
  return {
    commit: String(diff?.commit ?? ''),
    base: diff?.base ? String(diff.base) : null,
    files_total: Number(diff?.files_total ?? files.length) || 0,
    page: Number(diff?.page ?? 0) || 0,
    pages: Math.max(1, Number(diff?.pages ?? 1) || 1),
    files: files.map((f) => ({
      ...f,
      path: String(f?.path ?? ''),
      hunks: (Array.isArray(f?.hunks) ? f.hunks : []).map((hunk) => ({
        ...hunk, lines: Array.isArray(hunk?.lines) ? hunk.lines : [],
      })),
    })),
  };
}

/** The page with `file` (its longer version, from "show more") in place of the one it had. */
export function withFile(diff, file) {
  return { ...diff, files: diff.files.map((f) => (f.path === file.path ? file : f)) };
}

/** A hunk's lines as rows of two columns: context on both sides; a run of deletions beside the
 *  run of additions that follows it, row by row, the longer run's rest beside nothing. */
export function sideBySide(lines) {
  const rows = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.kind === 'context') {
      rows.push({ left: line, right: line });
      i += 1;
      continue;
    }
    const deleted = [];
    while (i < lines.length && lines[i].kind === 'deleted') deleted.push(lines[i++]);
    const added = [];
    while (i < lines.length && lines[i].kind === 'added') added.push(lines[i++]);
    for (let k = 0; k < Math.max(deleted.length, added.length); k += 1) {
      rows.push({ left: deleted[k] ?? null, right: added[k] ?? null });
    }
  }
  return rows;
}

/** The words "added", "renamed from x" ... a file's header says. */
export function statusText(file) {
  const status = String(file.status ?? 'modified');
  if ((status === 'renamed' || status === 'copied') && file.old_path) return `${status} from ${file.old_path}`;
  return status.replace('_', ' ');
}

// Syntax colours ------------------------------------------------------------------------------

const C_LIKE = ['if', 'else', 'for', 'while', 'do', 'return', 'break', 'continue', 'switch', 'case', 'default',
  'const', 'static', 'struct', 'enum', 'true', 'false', 'null', 'void', 'new', 'class', 'public', 'private',
  'protected', 'import', 'package', 'try', 'catch', 'throw', 'finally', 'this', 'int', 'char', 'long', 'float',
  'double', 'bool', 'boolean', 'unsigned', 'typedef', 'sizeof', 'namespace', 'template', 'virtual', 'extends',
  'implements', 'interface', 'final', 'abstract', 'goto', 'auto', 'extern', 'inline', 'nullptr', 'using'];

const LANGUAGES = {
  rust: { line: '//', block: true, words: ['as', 'async', 'await', 'break', 'const', 'continue', 'crate', 'dyn',
    'else', 'enum', 'extern', 'false', 'fn', 'for', 'if', 'impl', 'in', 'let', 'loop', 'match', 'mod', 'move', 'mut',
    'pub', 'ref', 'return', 'self', 'Self', 'static', 'struct', 'super', 'trait', 'true', 'type', 'unsafe', 'use',
    'where', 'while', 'Some', 'None', 'Ok', 'Err'] },
  js: { line: '//', block: true, backtick: true, words: ['async', 'await', 'break', 'case', 'catch', 'class', 'const',
    'continue', 'default', 'delete', 'do', 'else', 'export', 'extends', 'false', 'finally', 'for', 'from', 'function',
    'if', 'import', 'in', 'instanceof', 'let', 'new', 'null', 'of', 'return', 'static', 'super', 'switch', 'this',
    'throw', 'true', 'try', 'typeof', 'undefined', 'var', 'void', 'while', 'yield', 'interface', 'type', 'enum',
    'implements', 'readonly', 'as'] },
  python: { line: '#', words: ['and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
    'elif', 'else', 'except', 'False', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda',
    'None', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'True', 'try', 'while', 'with', 'yield', 'self'] },
  go: { line: '//', block: true, backtick: true, words: ['break', 'case', 'chan', 'const', 'continue', 'default',
    'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto', 'if', 'import', 'interface', 'map', 'package',
    'range', 'return', 'select', 'struct', 'switch', 'type', 'var', 'nil', 'true', 'false'] },
  c: { line: '//', block: true, words: C_LIKE },
  shell: { line: '#', words: ['if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case',
    'esac', 'function', 'return', 'local', 'export', 'set', 'echo', 'exit'] },
  ruby: { line: '#', words: ['def', 'end', 'if', 'elsif', 'else', 'unless', 'while', 'until', 'for', 'in', 'do',
    'return', 'class', 'module', 'self', 'nil', 'true', 'false', 'and', 'or', 'not', 'yield', 'require', 'begin',
    'rescue', 'ensure'] },
  css: { block: true, words: ['important', 'inherit', 'initial', 'none', 'auto'] },
  toml: { line: '#', words: ['true', 'false'] },
  yaml: { line: '#', words: ['true', 'false', 'null', 'yes', 'no'] },
  sql: { line: '--', block: true, caseless: true, words: ['select', 'from', 'where', 'insert', 'into', 'values',
    'update', 'set', 'delete', 'create', 'table', 'index', 'drop', 'alter', 'join', 'left', 'right', 'inner', 'on',
    'and', 'or', 'not', 'null', 'primary', 'key', 'references', 'order', 'by', 'group', 'limit', 'as', 'integer',
    'text', 'unique', 'default'] },
};
for (const lang of Object.values(LANGUAGES)) lang.set = new Set(lang.caseless ? lang.words.map((w) => w.toLowerCase()) : lang.words);

const EXTENSIONS = {
  rs: 'rust', js: 'js', mjs: 'js', cjs: 'js', jsx: 'js', ts: 'js', tsx: 'js', mts: 'js', py: 'python', go: 'go',
  c: 'c', h: 'c', cc: 'c', cpp: 'c', hpp: 'c', java: 'c', kt: 'c', cs: 'c', swift: 'c', scala: 'c', sh: 'shell',
  bash: 'shell', zsh: 'shell', rb: 'ruby', css: 'css', scss: 'css', toml: 'toml', yml: 'yaml', yaml: 'yaml', sql: 'sql',
};

/** The language of a path, by its extension (or name); `null` when it has no colours here. */
export function languageOf(path) {
  const name = String(path).split('/').pop() ?? '';
  if (name === 'Dockerfile' || name === 'Makefile') return 'shell';
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : '';
  return EXTENSIONS[ext] ?? null;
}

/** Splits a line into tokens `{kind, text}` where kind is `keyword`, `string`, `comment`,
 *  `number` or `null` (plain). One line at a time: a comment or string that spans lines is
 *  coloured from where it starts on this line only, which is what a small tokenizer can know. */
export function tokenize(text, language) {
  const lang = LANGUAGES[language];
  const s = String(text);
  if (!lang) return [{ kind: null, text: s }];
  const tokens = [];
  let plain = '';
  const push = (kind, part) => {
    if (plain) { tokens.push({ kind: null, text: plain }); plain = ''; }
    tokens.push({ kind, text: part });
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (lang.line && s.startsWith(lang.line, i)) { push('comment', s.slice(i)); break; }
    if (lang.block && s.startsWith('/*', i)) {
      const end = s.indexOf('*/', i + 2);
      const stop = end < 0 ? s.length : end + 2;
      push('comment', s.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === "'" && language === 'rust') {
      // In Rust a quote starts a character (`'x'`, `'\n'`) or a lifetime (`'a`), never a string.
      const m = /^'(\\[^']{1,8}|[^'\\])'/.exec(s.slice(i));
      if (m) push('string', m[0]);
      else plain += c;
      i += m ? m[0].length : 1;
      continue;
    }
    if (c === '"' || c === "'" || (c === '`' && lang.backtick)) {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      const stop = Math.min(j + 1, s.length);
      push('string', s.slice(i, stop));
      i = stop;
      continue;
    }
    if (/[0-9]/.test(c) && !/[A-Za-z0-9_]/.test(s[i - 1] ?? '')) {
      const m = /^(0x[0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9]+)?)[A-Za-z0-9_]*/.exec(s.slice(i));
      push('number', m[0]);
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_]/.test(s[i - 1] ?? '')) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))[0];
      if (lang.set.has(lang.caseless ? word.toLowerCase() : word)) push('keyword', word);
      else plain += word;
      i += word.length;
      continue;
    }
    plain += c;
    i += 1;
  }
  if (plain) tokens.push({ kind: null, text: plain });
  return tokens;
}

// Gate findings and comments ------------------------------------------------------------------

/** `src/a.rs:12` or `src/a.rs:12:5` (a finding's location) -> `{path, line}`; `null` when it
 *  names no line. */
export function parseLocation(location) {
  const m = /^(.+?):([0-9]+)(?::[0-9]+)?$/.exec(String(location ?? '').trim());
  if (!m) return null;
  const line = Number(m[2]);
  return line > 0 ? { path: m[1].replace(/^\.\//, ''), line } : null;
}

/** Where a comment sits: the line's new number, or its old one for a deleted line. */
export function lineTarget(path, line) {
  return line.kind === 'deleted'
    ? { path, line: line.old, side: 'old' }
    : { path, line: line.new, side: 'new' };
}

/** The key of a line for the comments map. */
export function commentKey(target) {
  return `${target.side}:${target.line}:${target.path}`;
}

/** The comments to send, in file and line order: `{path, line, side, text}`, the empty ones
 *  left out. */
export function commentsToSend(comments) {
  return [...comments.values()]
    .map((c) => ({ path: c.path, line: c.line, side: c.side, text: String(c.text ?? '').trim() }))
    .filter((c) => c.text)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
}

/** The task whose diff shows a gate finding in `path`: the last task with a commit, other than
 *  the gate, that lists `path` in its Files (the change the gate reviewed), else the gate's own
 *  commit, else the last task with a commit; `null` when no task has one. */
export function findingTask(tasks, gateTask, path) {
  const withCommit = tasks.filter((t) => t.commit || t.waiting?.commit);
  const last = (list) => (list.length ? list[list.length - 1].id : null);
  const named = withCommit.filter((t) => t.id !== gateTask && Array.isArray(t.files) && t.files.includes(path));
  return last(named) ?? withCommit.find((t) => t.id === gateTask)?.id ?? last(withCommit);
}

// Drafts kept across reloads -------------------------------------------------------------------
// A task's comments (and the reason being typed) are written to the browser's localStorage
// under one key per run, task and commit: a new commit is a new review. What comes back from
// storage is checked like input from anywhere (another version of the page, a person's
// console), and whatever does not fit is left out.

const DRAFT_PREFIX = 'wavecrew-review:';
/** The most comments a draft keeps (the server takes at most 200 per rejection). */
const MAX_DRAFT_COMMENTS = 200;
/** Drafts untouched this long are dropped (their runs are long over). */
export const DRAFT_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** The storage key of the draft review of `task`'s `commit` in `run`. */
export function draftKey(run, task, commit) {
  return `${DRAFT_PREFIX}${encodeURIComponent(run)}/${encodeURIComponent(task)}/${encodeURIComponent(commit)}`;
}

/** `{run, task, commit}` of a draft's key; `null` for any other key. */
export function parseDraftKey(key) {
  const s = String(key ?? '');
  if (!s.startsWith(DRAFT_PREFIX)) return null;
  const parts = s.slice(DRAFT_PREFIX.length).split('/');
  if (parts.length !== 3) return null;
  try {
    const [run, task, commit] = parts.map(decodeURIComponent);
    return run && task && commit ? { run, task, commit } : null;
  } catch {
    return null;
  }
}

/** The text stored for a draft `{comments: Map, reason, waiting}` (`waiting`: written while the
 *  checkpoint waited on this commit), or `null` when there is nothing to keep. */
export function serialiseDraft(draft, now) {
  const comments = commentsToSend(draft.comments ?? new Map());
  const reason = String(draft.reason ?? '');
  if (!comments.length && !reason.trim()) return null;
  return JSON.stringify({ v: 1, saved: now, waiting: Boolean(draft.waiting), reason, comments });
}

const validComment = (c) => c && typeof c === 'object'
  && typeof c.path === 'string' && c.path.trim() !== '' && c.path.length <= 4096
  && Number.isSafeInteger(c.line) && c.line >= 1
  && (c.side === 'old' || c.side === 'new')
  && typeof c.text === 'string' && c.text.trim() !== '';

/** A stored draft read back: `{comments: Map(key -> {path, line, side, text}), reason, waiting,
 *  saved}`. Anything that is not a draft reads as an empty one; a comment that is not one is
 *  left out, the others kept. */
export function parseDraft(text) {
  const empty = { comments: new Map(), reason: '', waiting: false, saved: 0 };
  let value;
  try {
    value = JSON.parse(String(text ?? ''));
  } catch {
    return empty;
  }
  if (!value || typeof value !== 'object' || value.v !== 1) return empty;
  const comments = new Map();
  for (const c of Array.isArray(value.comments) ? value.comments : []) {
    if (comments.size >= MAX_DRAFT_COMMENTS) break;
    if (!validComment(c)) continue;
    const comment = { path: c.path, line: c.line, side: c.side, text: c.text.trim() };
    comments.set(commentKey(comment), comment);
  }
  return {
    comments,
    reason: typeof value.reason === 'string' ? value.reason : '',
    waiting: value.waiting === true,
    saved: Number.isFinite(value.saved) ? value.saved : 0,
  };
}

/** Whether `task`'s diff shows `commit` while its checkpoint waits on it (a draft written then
 *  is spent once the checkpoint is answered). */
export function waitsOn(task, commit) {
  return task?.state === 'waiting' && task.waiting?.commit === commit;
}

/** Whether a draft of `commit` is spent now that the room shows `task` (`null`: the room does
 *  not list it): the task shows another change (a new attempt, the next commit), or the draft
 *  was written on a waiting checkpoint that no longer waits (it was answered, here or from a
 *  terminal). */
export function draftSpent(commit, waiting, task) {
  if (!task) return false;
  const shown = task.commit ?? task.waiting?.commit ?? null;
  return shown !== commit || (waiting && !waitsOn(task, commit));
}

/** The keys of `keys` to drop when `task` of `run` shows `commit`: its drafts of other commits,
 *  and any draft whose `saved` time (from `savedOf(key)`) is older than the age limit. */
export function staleDraftKeys(keys, run, task, commit, savedOf, now) {
  return keys.filter((key) => {
    const d = parseDraftKey(key);
    if (!d) return false;
    if (d.run === run && d.task === task && d.commit !== commit) return true;
    return now - savedOf(key) > DRAFT_MAX_AGE_MS;
  });
}

/** The drafts kept in `getStorage()` (the page passes `() => window.localStorage`). Storage may
 *  be unavailable (the getter throws), refuse or be full (a call throws): each method then does
 *  nothing (or reads nothing), so the page's reviews live in memory only and nothing breaks. */
export function draftStore(getStorage) {
  const storage = () => {
    try {
      return getStorage() ?? null;
    } catch {
      return null;
    }
  };
  const keys = (s) => {
    const all = [];
    try {
      for (let i = 0; i < s.length; i += 1) all.push(s.key(i));
    } catch { /* unreadable: as if empty */ }
    return all.filter((k) => typeof k === 'string');
  };
  const read = (s, key) => {
    try {
      return parseDraft(s.getItem(key));
    } catch {
      return parseDraft(null);
    }
  };
  const forget = (s, list) => {
    for (const key of list) {
      try { s.removeItem(key); } catch { /* refused: it ages out */ }
    }
  };
  return {
    /** The draft of `task`'s `commit` in `run` (empty when none), once the task's drafts of
     *  other commits and drafts past the age limit are dropped. */
    open(run, task, commit, now) {
      const s = storage();
      if (!s || !commit) return parseDraft(null);
      forget(s, staleDraftKeys(keys(s), run, task, commit, (key) => read(s, key).saved, now));
      return read(s, draftKey(run, task, commit));
    },
    /** Keeps `draft` ({commit, comments, reason, waiting}), or removes it when it holds nothing. */
    save(run, task, draft, now) {
      const s = storage();
      if (!s || !draft.commit) return;
      const key = draftKey(run, task, draft.commit);
      const text = serialiseDraft(draft, now);
      try {
        if (text) s.setItem(key, text);
        else s.removeItem(key);
      } catch { /* full or refused: the draft lives in memory */ }
    },
    /** Drops the drafts of `run` that `taskOf(id)` shows spent (see `draftSpent`). */
    forgetSpent(run, taskOf) {
      const s = storage();
      if (!s) return;
      forget(s, keys(s).filter((key) => {
        const d = parseDraftKey(key);
        return d !== null && d.run === run && draftSpent(d.commit, read(s, key).waiting, taskOf(d.task));
      }));
    },
  };
}
