// The dashboard's room page in a real browser (headless Chromium driven by playwright-core).
//
//   node room.mjs <room-url-with-token> <screenshot.png>
//     Follows a run live: a task card goes to running (or later) and then to committed without
//     a reload, a human-verify checkpoint's Approve button appears and is clicked, the run ends
//     succeeded, and the link to its report shows. Prints {"states_seen": {task: [states]},
//     "approved": TASK, "final": STATE, "report_link": HREF}.
//
//   node room.mjs --xss <room-url> <screenshot.png>
//     Opens the page of a run whose plan and output are full of markup and fails if any of it
//     ran (window.__xss) or became an element (a <script> that is not the page's own).
//
//   node room.mjs --reconnect <room-url> <screenshot.png>
//     Opens the room of a live run, sees its stream drop (the test stops the server, lets the
//     run finish, starts the server again on the same port) and come back without a reload,
//     then compares what it shows with a fresh load of the page. Prints {"conn_seen": [STATES],
//     "final": STATE, "same": BOOL, "reconnected": DIGEST, "fresh": DIGEST}.
//
//   node room.mjs --burst <room-url> <screenshot.png>
//     Opens the room of a run whose agents all wait for the page, then counts the rooms the
//     stream brings while they finish at once, and compares the end with a fresh load. Prints
//     {"seq_at_ready": N, "final_seq": N, "rooms": [ID], "final": STATE, "same": BOOL}.
//
//   node room.mjs --timeline <room-url> <screenshot.png>
//     Opens the page of a finished run and reads its Timeline section's Gantt chart. Prints
//     {"numbers": [TEXT], "lanes": [TEXT], "width": N, "bars": [{"task", "phase", "critical",
//     "x", "width"}], "legend": [TEXT]}.
//
//   node room.mjs --gates <room-url> <screenshot.png>
//     Opens the page of a finished run with quality gates and reads what its gates section
//     shows. Prints {"gates": [{"title": TEXT, "passed": BOOL, "rounds": [{"title": TEXT,
//     "passed": BOOL, "findings": [TEXT], "metrics": [TEXT], "fix": TEXT|null}]}]}.
//
//   node room.mjs --diff <room-url-with-token> <screenshot.png>
//     Reviews diffs in a live run whose task 1.1 lands and whose human-verify checkpoint 2.1
//     then waits: opens 1.1's diff from its card, switches to side by side, then on 2.1's card
//     (which lists its change's files) opens its diff, comments on its first added line, starts
//     a reason, reloads the page and finds both again in 2.1's diff, rejects with them, and
//     approves the next attempt. Prints {"files": [PATH], "split_rows": N, "card_files": [PATH],
//     "commented": "PATH:LINE", "restored": {"where": "PATH:LINE", "text": TEXT, "reason":
//     TEXT}, "drafts_left": N (review drafts in localStorage once rejected), "final": STATE}.
//
//   node room.mjs --preview <room-url-with-token> <screenshot.png>
//     On a live run whose human-verify checkpoint 1.1 waits: clicks "Preview this change" on its
//     card, waits for the link, opens it in a new page and reads the page it serves, then
//     approves the checkpoint, sees the link go and the address stop answering. Prints
//     {"href": URL, "heading": TEXT, "setup": TEXT, "gone": BOOL, "refused": BOOL, "final": STATE}.
//
//   node room.mjs --finding <room-url> <screenshot.png>
//     Opens the page of a finished run whose gate found something at a `file:line`, clicks the
//     finding's location and reads the diff it opens. Prints {"location": TEXT, "title": TEXT,
//     "path": PATH, "line": N, "text": TEXT} (the file, number and text of the line marked).
//
// playwright-core is loaded from $WAVECREW_BROWSER_DEPS/node_modules (npm install --prefix
// "$WAVECREW_BROWSER_DEPS" playwright-core@<the version in package.json>); the browser is
// $CHROMIUM or /usr/bin/chromium. Every step gives up after 30 s with a message saying which
// step, and the script exits 1; the page's own errors (uncaught exceptions, Content-Security-
// Policy violations) fail it too.

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';

const STEP_MS = 30_000;
const LATER_THAN_RUNNING = ['running', 'verifying', 'integrating', 'waiting', 'committed'];

function fail(message) {
  process.stderr.write(`room.mjs: ${message}\n`);
  process.exit(1);
}

function usage() {
  fail('usage: node room.mjs <room-url-with-token> <screenshot.png>\n'
    + '       node room.mjs --xss <room-url> <screenshot.png>\n'
    + '       node room.mjs --gates <room-url> <screenshot.png>\n'
    + '       node room.mjs --timeline <room-url> <screenshot.png>\n'
    + '       node room.mjs --reconnect <room-url> <screenshot.png>\n'
    + '       node room.mjs --burst <room-url> <screenshot.png>\n'
    + '       node room.mjs --diff <room-url-with-token> <screenshot.png>\n'
    + '       node room.mjs --preview <room-url-with-token> <screenshot.png>\n'
    + '       node room.mjs --finding <room-url> <screenshot.png>');
}

function loadPlaywright() {
  const deps = process.env.WAVECREW_BROWSER_DEPS;
  const places = deps ? [path.join(path.resolve(deps), 'node_modules', 'noop.js')] : [];
  places.push(import.meta.url); // a node_modules next to this script, if there is one
  for (const place of places) {
    try {
      return createRequire(place)('playwright-core');
    } catch { /* try the next place */ }
  }
  return fail(`cannot load playwright-core${deps ? ` from ${deps}/node_modules` : ''}: `
    + 'set WAVECREW_BROWSER_DEPS to a folder where `npm install --prefix <folder> playwright-core@1.64.1` ran');
}

const args = process.argv.slice(2);
const mode = ['--xss', '--gates', '--timeline', '--reconnect', '--burst', '--diff', '--finding', '--preview'].includes(args[0]) ? args.shift() : '--live';
if (args.length !== 2) usage();
const [url, screenshot] = args;

const { chromium } = loadPlaywright();
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

// Runs in the page before its own scripts, at every navigation: records every data-state a
// task card shows, in order, and every Content-Security-Policy violation.
function recorder() {
  window.__wc = { states: {}, csp: [], conn: [], rooms: [] };
  // Every `room` message of the page's streams, by id.
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('room', (m) => window.__wc.rooms.push(Number(m.lastEventId)));
    }
  };
  // Every state of the connection indicator, in order.
  const noteConn = () => {
    const state = document.getElementById('conn')?.getAttribute('data-conn');
    const seen = window.__wc.conn;
    if (state && seen[seen.length - 1] !== state) seen.push(state);
  };
  new MutationObserver(noteConn).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-conn'] });
  const note = (el) => {
    if (!(el instanceof Element) || !el.matches('article.task[data-task]')) return;
    const task = el.getAttribute('data-task');
    const state = el.getAttribute('data-state');
    const seen = (window.__wc.states[task] ||= []);
    if (state && seen[seen.length - 1] !== state) seen.push(state);
  };
  const scan = (node) => {
    if (!(node instanceof Element)) return;
    note(node);
    for (const el of node.querySelectorAll('article.task[data-task]')) note(el);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target);
      else for (const n of r.addedNodes) scan(n);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__wc.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || ''}:${e.lineNumber || ''})`);
  });
}

let browser;
let page;
const pageErrors = [];

async function step(name, fn, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } catch (e) {
    let detail = '';
    try {
      if (page) {
        const info = await page.evaluate(() => ({
          run: document.getElementById('run-state')?.getAttribute('data-state') ?? null,
          conn: document.getElementById('conn')?.textContent ?? null,
          states: window.__wc ? window.__wc.states : null,
          error: document.getElementById('load-error')?.textContent || null,
        }));
        detail = `\n  page: ${JSON.stringify(info)}`;
      }
    } catch { /* the page is gone */ }
    const errors = pageErrors.length ? `\n  page errors: ${pageErrors.join(' | ')}` : '';
    await browser?.close().catch(() => {});
    return fail(`step "${name}" failed: ${e.message.split('\n')[0]}${detail}${errors}`);
  } finally {
    clearTimeout(timer);
  }
}

async function checkPageHealth() {
  const csp = await page.evaluate(() => (window.__wc ? window.__wc.csp : []));
  if (csp.length) throw new Error(`Content-Security-Policy violations: ${csp.join('; ')}`);
  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join(' | ')}`);
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e)));
  await p.addInitScript(recorder);
  return p;
}

async function openRoom() {
  browser = await step('launch chromium', () => chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] }));
  page = await newPage();
  page.on('dialog', (d) => d.accept().catch(() => {}));
  await step('open the room page', async () => {
    const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: STEP_MS });
    if (!response || !response.ok()) throw new Error(`GET ${url.replace(/token=[^&]*/, 'token=…')} answered ${response ? response.status() : 'nothing'}`);
  });
  await step('wait for a task card', () => page.waitForSelector('article.task', { timeout: STEP_MS }));
  // The test may hold an agent until the page watches (the scripted agent's `wait_for`).
  if (process.env.WAVECREW_PAGE_READY) writeFileSync(process.env.WAVECREW_PAGE_READY, 'watching\n');
  // A marker that a reload would wipe out (the recorder comes back at every navigation, this does not).
  const marker = `wc-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((m) => { window.__wcMarker = m; }, marker);
  return marker;
}

async function assertNoReload(marker) {
  const { kept, type } = await page.evaluate((m) => ({
    kept: window.__wcMarker === m,
    type: performance.getEntriesByType('navigation')[0]?.type ?? null,
  }), marker);
  if (!kept || type === 'reload') throw new Error('the page was reloaded (or navigated away): updates must come live');
}

async function live() {
  const marker = await openRoom();

  await step('a task card goes to running and then to committed, without reload', async () => {
    const handle = await page.waitForFunction((later) => {
      const states = window.__wc ? window.__wc.states : {};
      for (const [task, seen] of Object.entries(states)) {
        const first = seen.findIndex((s) => later.includes(s) && s !== 'committed');
        if (first >= 0 && seen.indexOf('committed', first + 1) > first) return task;
      }
      return null;
    }, LATER_THAN_RUNNING, { timeout: STEP_MS, polling: 100 });
    await handle.jsonValue();
    await assertNoReload(marker);
  });

  const approved = await step('an Approve button appears (a human-verify checkpoint waits) and is clicked', async () => {
    const button = page.locator('article.task button[data-action="approve"]').first();
    await button.waitFor({ state: 'visible', timeout: STEP_MS });
    const task = await button.getAttribute('data-task');
    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/approve'),
      { timeout: STEP_MS },
    );
    await button.click({ timeout: STEP_MS });
    const response = await answered;
    if (!response.ok()) throw new Error(`POST ${new URL(response.url()).pathname} answered ${response.status()}: ${await response.text()}`);
    return task;
  });

  const final = await step('the run ends succeeded', async () => {
    const handle = await page.waitForFunction(() => {
      const s = document.getElementById('run-state')?.getAttribute('data-state');
      return ['succeeded', 'failed', 'cancelled'].includes(s) ? s : null;
    }, null, { timeout: STEP_MS, polling: 100 });
    const state = await handle.jsonValue();
    if (state !== 'succeeded') throw new Error(`the run ended ${state}`);
    await assertNoReload(marker);
    return state;
  });

  const reportLink = await step('the link to the run\'s report appears', async () => {
    const link = page.locator('#report-link');
    await link.waitFor({ state: 'visible', timeout: STEP_MS });
    return link.getAttribute('href');
  });
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  const statesSeen = await page.evaluate(() => window.__wc.states);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ states_seen: statesSeen, approved, final, report_link: reportLink })}\n`);
}

async function hostile() {
  await openRoom();
  // Give the live stream a moment to bring log lines (their markup must stay text too).
  await page.waitForFunction(() => document.querySelector('.lane-log .line:not(.mark):not(.sys)') !== null, null, { timeout: 5000 })
    .catch(() => {});
  await page.waitForTimeout(500);
  const found = await step('look for markup that ran or became elements', () => page.evaluate(() => {
    const own = (s) => s.type === 'module' && s.src && new URL(s.src).origin === location.origin
      && new URL(s.src).pathname.startsWith('/assets/');
    const scripts = [...document.querySelectorAll('script')];
    const handlers = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.getAttributeNames()) if (/^on/i.test(a)) handlers.push(`<${el.localName} ${a}>`);
    }
    const text = document.body ? document.body.textContent : '';
    return {
      xss: window.__xss !== undefined,
      scripts: scripts.length,
      foreign_scripts: scripts.filter((s) => !own(s)).map((s) => s.outerHTML.slice(0, 120)),
      handlers,
      images: [...document.querySelectorAll('img')].map((i) => i.outerHTML.slice(0, 120)),
      tasks: document.querySelectorAll('article.task').length,
      hostile_text_shown: text.includes('<script>') || text.includes('onerror='),
      log_lines: document.querySelectorAll('.lane-log .line:not(.mark):not(.sys)').length,
      // The pull request `wavecrew ship` opened, as the header links it (null: not shown).
      pull_request: document.getElementById('run-pr-fact')?.hidden === false
        ? { href: document.getElementById('run-pr').getAttribute('href'), text: document.getElementById('run-pr').textContent }
        : null,
    };
  }));
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  const problems = [];
  if (found.xss) problems.push('window.__xss was set: markup from the run was executed');
  if (found.foreign_scripts.length) problems.push(`script elements that are not the page's own: ${found.foreign_scripts.join(', ')}`);
  if (found.handlers.length) problems.push(`elements with event-handler attributes: ${found.handlers.join(', ')}`);
  if (found.images.length) problems.push(`img elements (the pages have none of their own): ${found.images.join(', ')}`);
  const csp = await page.evaluate(() => (window.__wc ? window.__wc.csp : []));
  if (csp.length) problems.push(`Content-Security-Policy violations: ${csp.join('; ')}`);
  if (pageErrors.length) problems.push(`errors in the page: ${pageErrors.join(' | ')}`);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ ...found, ok: problems.length === 0 })}\n`);
  if (problems.length) fail(problems.join('\n  '));
}

async function timeline() {
  await openRoom();
  const shown = await step('the timeline section draws the Gantt chart', async () => {
    await page.waitForSelector('#timeline-section:not([hidden]) svg.gantt rect.gantt-bar', { timeout: STEP_MS });
    return page.evaluate(() => {
      const chart = document.querySelector('#timeline svg.gantt');
      const texts = (selector) => [...document.querySelectorAll(selector)].map((el) => el.textContent);
      return {
        numbers: texts('#timeline .timeline-numbers li'),
        lanes: [...chart.querySelectorAll('text.gantt-lane')].map((t) => t.firstChild.textContent),
        width: chart.viewBox.baseVal.width,
        drawn_width: chart.getBoundingClientRect().width,
        bars: [...chart.querySelectorAll('rect.gantt-bar')].map((r) => ({
          task: r.dataset.task,
          phase: r.dataset.phase,
          critical: r.dataset.critical === 'yes',
          x: r.x.baseVal.value,
          width: r.width.baseVal.value,
          title: r.querySelector('title')?.textContent ?? '',
        })),
        legend: texts('#timeline .gantt-legend li'),
      };
    });
  });
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.locator('#timeline-section').screenshot({ path: screenshot }));
  await browser.close();
  process.stdout.write(`${JSON.stringify(shown)}\n`);
}

async function gates() {
  await openRoom();
  const shown = await step('the gates section shows every round', async () => {
    await page.waitForSelector('#gates article.gate section.gate-round', { timeout: STEP_MS }).catch(async (e) => {
      const html = await page.evaluate(() => document.getElementById('gates-section').outerHTML.slice(0, 3000));
      throw new Error(`${e.message}: ${html}`.replace(/\n/g, ' '));
    });
    return page.evaluate(() => [...document.querySelectorAll('#gates article.gate')].map((gate) => ({
      title: gate.querySelector('h3').textContent,
      passed: gate.dataset.passed === 'yes',
      rounds: [...gate.querySelectorAll('section.gate-round')].map((round) => ({
        title: round.querySelector('h4').textContent,
        passed: round.dataset.passed === 'yes',
        findings: [...round.querySelectorAll('.findings li')].map((li) => li.textContent),
        metrics: [...round.querySelectorAll('tbody tr')].map((tr) => tr.textContent),
        fix: round.querySelector('.fix')?.textContent ?? null,
      })),
    })));
  });
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  await browser.close();
  process.stdout.write(`${JSON.stringify({ gates: shown })}\n`);
}

/** What a room page shows of the run, the lanes' logs left out (a stream, not state). */
function digest(p) {
  return p.evaluate(() => {
    const main = document.getElementById('main').cloneNode(true);
    for (const log of main.querySelectorAll('.lane-log')) log.remove();
    const states = [...main.querySelectorAll('[data-state]')].map((el) => `${el.localName}.${el.className}:${el.dataset.state}`);
    const hidden = [...main.querySelectorAll('[id]')].filter((el) => el.hidden).map((el) => el.id);
    const text = main.textContent.replace(/\s+/g, ' ').trim();
    return { title: document.title, states, hidden, text };
  });
}

async function waitForEnd(p, ms = STEP_MS) {
  const handle = await p.waitForFunction(() => {
    const s = document.getElementById('run-state')?.getAttribute('data-state');
    return ['succeeded', 'failed', 'cancelled'].includes(s) ? s : null;
  }, null, { timeout: ms, polling: 100 });
  return handle.jsonValue();
}

/** Opens the room again in a new page and compares the two. */
async function sameAsFresh() {
  const fresh = await newPage();
  await fresh.goto(url, { waitUntil: 'domcontentloaded', timeout: STEP_MS });
  await waitForEnd(fresh);
  await fresh.waitForTimeout(300); // the last render
  const [shown, loaded] = [await digest(page), await digest(fresh)];
  return { same: JSON.stringify(shown) === JSON.stringify(loaded), shown, loaded };
}

async function reconnect() {
  const marker = await openRoom();
  await step('the stream drops when the server stops', () => page.waitForFunction(
    () => window.__wc.conn.includes('reconnecting'), null, { timeout: STEP_MS, polling: 100 },
  ));
  const final = await step('the page comes back, without a reload, and shows the run\'s end', async () => {
    const state = await waitForEnd(page, 2 * STEP_MS);
    await assertNoReload(marker);
    return state;
  }, 2 * STEP_MS + 1000);
  const compared = await step('the page equals a fresh load', sameAsFresh);
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  const connSeen = await page.evaluate(() => window.__wc.conn);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ conn_seen: connSeen, final, same: compared.same, reconnected: compared.shown, fresh: compared.loaded })}\n`);
}

async function review() {
  await openRoom();
  const dialog = page.locator('#diff-dialog');
  const files = await step('task 1.1 lands and its card opens its diff', async () => {
    const open = page.locator('article.task[data-task="1.1"][data-state="committed"] button.diff-open');
    await open.click({ timeout: STEP_MS });
    await dialog.locator('details.diff-file').first().waitFor({ state: 'visible', timeout: STEP_MS });
    return dialog.locator('details.diff-file').evaluateAll((all) => all.map((d) => d.dataset.path));
  });
  const splitRows = await step('the diff switches to side by side', async () => {
    await page.locator('#diff-split').click({ timeout: STEP_MS });
    await dialog.locator('table.diff-table.split').first().waitFor({ state: 'visible', timeout: STEP_MS });
    if (await dialog.locator('table.diff-table.unified').count()) throw new Error('a unified table is still shown');
    const rows = await dialog.locator('table.diff-table.split tr.diff-line').count();
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-code.png') });
    await page.locator('#diff-close').click();
    return rows;
  });
  const cardFiles = await step('the waiting checkpoint 2.1 lists its change\'s files on its card', async () => {
    const list = page.locator('article.task[data-task="2.1"][data-state="waiting"] .diff-summary button[data-diff]');
    await list.first().waitFor({ state: 'visible', timeout: STEP_MS });
    return list.evaluateAll((all) => all.map((b) => b.dataset.diffPath));
  });
  const commented = await step('a comment on the first added line of 2.1\'s diff', async () => {
    await page.locator('article.task[data-task="2.1"] .checkpoint button.diff-open').click({ timeout: STEP_MS });
    // Still side by side: the new file's column.
    const number = dialog.locator('table.diff-table.split tr.diff-line button.line-number[data-side="new"]').first();
    await number.click({ timeout: STEP_MS });
    await dialog.locator('textarea.comment-input').fill('Say hello to the whole room, not only to you');
    await dialog.locator('button[data-comment-save]').click();
    await dialog.locator('tr.comment-row .comment-where').waitFor({ state: 'visible', timeout: STEP_MS });
    await page.locator('#diff-reason').fill('The greeting is too narrow');
    return dialog.locator('tr.comment-row .comment-where').textContent();
  });
  await step('take the screenshot', () => page.screenshot({ path: screenshot }));
  const restored = await step('after a reload, 2.1\'s diff shows the comment and the reason again', async () => {
    await page.reload({ waitUntil: 'domcontentloaded', timeout: STEP_MS });
    const open = page.locator('article.task[data-task="2.1"][data-state="waiting"] .checkpoint button.diff-open');
    await open.click({ timeout: STEP_MS });
    const where = dialog.locator('tr.comment-row .comment-where');
    await where.waitFor({ state: 'visible', timeout: STEP_MS });
    return {
      where: await where.textContent(),
      text: await dialog.locator('tr.comment-row .comment-text').textContent(),
      reason: await page.locator('#diff-reason').inputValue(),
    };
  });
  await step('reject with comments', async () => {
    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/reject'),
      { timeout: STEP_MS },
    );
    await page.locator('#diff-reject').click({ timeout: STEP_MS });
    const response = await answered;
    if (!response.ok()) throw new Error(`POST reject answered ${response.status()}: ${await response.text()}`);
    await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });
  });
  const draftsLeft = await step('the sent review is no longer kept', () => page.evaluate(
    () => Object.keys(localStorage).filter((k) => k.startsWith('wavecrew-review:')).length,
  ));
  await step('the next attempt waits and is approved', async () => {
    const button = page.locator('article.task[data-task="2.1"] button[data-action="approve"]');
    await page.waitForFunction(() => {
      const card = document.querySelector('article.task[data-task="2.1"]');
      return card && card.dataset.state === 'waiting' && /attempt 2/.test(card.textContent);
    }, null, { timeout: STEP_MS, polling: 100 });
    await button.click({ timeout: STEP_MS });
  });
  const final = await step('the run ends', () => waitForEnd(page));
  await step('the page stayed healthy', checkPageHealth);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ files, split_rows: splitRows, card_files: cardFiles, commented, restored, drafts_left: draftsLeft, final })}\n`);
}

async function preview() {
  await openRoom();
  const card = page.locator('article.task[data-task="1.1"]');
  const href = await step('the waiting checkpoint\'s card starts its preview, then links it', async () => {
    await card.locator('button[data-preview="start"]').click({ timeout: STEP_MS });
    const link = card.locator('a.preview-link');
    await link.waitFor({ state: 'visible', timeout: 2 * STEP_MS });
    return link.getAttribute('href');
  }, 2 * STEP_MS + 1000);
  const served = await step('the link serves the checkpoint\'s version of the page', async () => {
    const other = await browser.newPage();
    const response = await other.goto(href, { waitUntil: 'domcontentloaded', timeout: STEP_MS });
    if (!response || !response.ok()) throw new Error(`GET ${href} answered ${response ? response.status() : 'nothing'}`);
    const seen = { heading: await other.locator('h1').textContent(), setup: await other.locator('#setup').textContent() };
    await other.close();
    return seen;
  });
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  await step('approve the checkpoint', async () => {
    await card.locator('button[data-action="approve"]').click({ timeout: STEP_MS });
  });
  const final = await step('the run ends', () => waitForEnd(page));
  const gone = await step('the preview link goes', async () => {
    await page.waitForFunction(() => !document.querySelector('a.preview-link'), null, { timeout: STEP_MS, polling: 100 });
    return true;
  });
  const refused = await step('the preview\'s address stops answering', async () => {
    for (;;) {
      const other = await browser.newPage();
      const answered = await other.goto(href, { timeout: 5_000 }).then(() => true, () => false);
      await other.close();
      if (!answered) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  await step('the page stayed healthy', checkPageHealth);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ href, ...served, gone, refused, final })}\n`);
}

async function finding() {
  await openRoom();
  const location = await step('a gate finding names its line and is clicked', async () => {
    const link = page.locator('#gates button.location').first();
    await link.waitFor({ state: 'visible', timeout: STEP_MS });
    const text = await link.textContent();
    await link.click({ timeout: STEP_MS });
    return text;
  });
  const shown = await step('the diff opens at that line', async () => {
    const row = page.locator('#diff-dialog tr.diff-line.target');
    await row.waitFor({ state: 'visible', timeout: STEP_MS });
    return row.evaluate((tr) => ({
      title: document.getElementById('diff-title').textContent,
      path: tr.closest('details.diff-file').dataset.path,
      line: Number(tr.dataset.new),
      text: tr.querySelector('td.code').textContent,
    }));
  });
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.screenshot({ path: screenshot }));
  await browser.close();
  process.stdout.write(`${JSON.stringify({ location, ...shown })}\n`);
}

async function burst() {
  const roomApi = new URL(url);
  roomApi.pathname = roomApi.pathname.replace(/^\/runs\//, '/api/runs/');
  const seqNow = () => page.evaluate(async (u) => (await (await fetch(u)).json()).seq, roomApi.toString());
  // openRoom lets the agents go; the room as of then tells where the burst starts.
  await openRoom();
  const seqAtReady = await step('read the room\'s sequence number', seqNow);
  const final = await step('the run ends', () => waitForEnd(page));
  const compared = await step('the page equals a fresh load', sameAsFresh);
  const finalSeq = await step('read the room\'s last sequence number', seqNow);
  await step('the page stayed healthy', checkPageHealth);
  await step('take the screenshot', () => page.screenshot({ path: screenshot, fullPage: true }));
  const rooms = (await page.evaluate(() => window.__wc.rooms)).filter((id) => id > seqAtReady);
  await browser.close();
  process.stdout.write(`${JSON.stringify({ seq_at_ready: seqAtReady, final_seq: finalSeq, rooms, final, same: compared.same, reconnected: compared.shown, fresh: compared.loaded })}\n`);
}

({
  '--xss': hostile, '--gates': gates, '--timeline': timeline, '--live': live, '--reconnect': reconnect, '--burst': burst, '--diff': review, '--finding': finding,
  '--preview': preview,
})[mode]().catch(async (e) => {
  await browser?.close().catch(() => {});
  fail(e && e.stack ? e.stack : String(e));
});
