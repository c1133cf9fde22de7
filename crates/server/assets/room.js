// wavecrew dashboard: one run (room.html).
//
// The server builds the run's room (crates/server/src/snapshot.rs replays the journal) and
// sends it again whenever the run moves; this page only draws it, shows the agents' lines as
// they come, and sends the person's answers. One module per role, in room/:
//   stream.js   the room from the API, then the live stream (rooms and log lines)
//   store.js    the room shown, and the actions awaiting an answer
//   render.js   the sections of the page (widgets.js: pieces they share; dialog.js: a task;
//               timeline.js: the run's Gantt chart, its geometry in gantt.js)
//   diffview.js a task's diff, comments on its lines, reject with comments (its pure logic
//               in diff.js)
//   logs.js     the lanes' logs
//   actions.js  buttons, keys and the POSTs they send
//   format.js   the pure logic, tested with `node --test` (crates/server/tests/js)

import { pageHref } from './app.js';
import { RUN, $ } from './room/page.js';
import { onChange } from './room/store.js';
import { render, scheduleRender, tick } from './room/render.js';
import { follow, offline, reloadSoon } from './room/stream.js';
import { listen, onAnswered } from './room/actions.js';
import { listenPreview } from './room/preview.js';

async function start() {
  $('home-link').setAttribute('href', pageHref('/'));
  if (!RUN) {
    const err = $('load-error');
    err.textContent = 'No run id in this page.';
    err.hidden = false;
    offline();
    return;
  }
  $('run-id').textContent = RUN;
  onChange(scheduleRender);
  onAnswered(reloadSoon); // the stream tells the rest; a finished run has no stream
  listen();
  listenPreview();
  if (!(await follow(RUN))) return;
  render();
  setInterval(tick, 1000);
}

start();
