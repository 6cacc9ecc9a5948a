/**
 * The live view's page: plain HTML, CSS and a little JavaScript, no build step and nothing fetched
 * from elsewhere. It listens to /events and draws the last select() call (what went in, what came
 * back, what the loop did with each socket), the lab's controls (pause, step, resume, with Space,
 * S or → and I on the keyboard) and scenarios, a timeline of the last calls, the clients with
 * their queued bytes, and a log. Text from the network is only ever set with textContent, never
 * parsed as HTML.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>select() live view · select-reactor</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1c2230; }
  header { background: #1c2230; color: #fff; padding: 10px 18px; display: flex; gap: 18px; align-items: baseline; }
  header strong { font-size: 16px; }
  #status { margin-left: auto; font-size: 12px; opacity: .8; }
  main { display: grid; grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr); gap: 12px; padding: 12px; }
  section { background: #fff; border: 1px solid #d9dde4; border-radius: 6px; padding: 8px 14px 12px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #5a6272; margin: 6px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  td, th { padding: 3px 6px; text-align: left; vertical-align: top; }
  th { color: #5a6272; font-weight: 500; width: 6.5em; }
  td.list { width: 7.5em; font-family: ui-monospace, monospace; color: #5a6272; }
  .chip { font: 12px ui-monospace, monospace; display: inline-block; padding: 1px 7px; margin: 1px 3px 1px 0; border-radius: 4px; background: #eceef2; }
  .chip.r { background: #cdeed5; } .chip.w { background: #cfe2f8; } .chip.x { background: #f9d4d2; }
  .empty { color: #9aa1ad; font-family: ui-monospace, monospace; }
  .bar { height: 6px; background: #e5b73b; border-radius: 3px; min-width: 2px; }
  #log { height: 300px; overflow-y: auto; margin: 0; padding: 0 0 0 3.5em; font: 12px/1.5 ui-monospace, monospace; background: #fafbfc; border: 1px solid #eceef2; }
  #log li.select { color: #5a6272; } #log li.conn { color: #1d7a3a; font-weight: 600; } #log li.warn { color: #b3261e; }
  button { font: inherit; padding: 4px 12px; border: 1px solid #9aa1ad; border-radius: 4px; background: #fff; cursor: pointer; }
  button.primary { background: #1c2230; color: #fff; border-color: #1c2230; }
  .testclient { display: flex; gap: 6px; align-items: center; margin-top: 6px; font-family: ui-monospace, monospace; font-size: 12px; }
  .testclient input { flex: 1; font: inherit; padding: 3px 6px; }
  #lab { display: flex; gap: 8px; align-items: center; padding: 8px 12px 0; flex-wrap: wrap; }
  #lab button:disabled { opacity: .45; cursor: default; }
  #labstate { font-weight: 600; margin-left: 6px; }
  #labstate.paused { color: #b3261e; } #labstate.stepping { color: #8a5a00; }
  kbd { font: 11px ui-monospace, monospace; border: 1px solid #c3c8d0; border-radius: 3px; padding: 0 4px; background: #fff; }
  .hint { color: #5a6272; font-size: 12px; }
  #phase { font-weight: 400; text-transform: none; letter-spacing: 0; margin-left: 6px; }
  .count { color: #5a6272; font: 12px ui-monospace, monospace; margin-left: 4px; }
  #next { background: #fdecea; border: 1px solid #f3c5c0; border-radius: 5px; padding: 6px 10px; margin-top: 8px; font-size: 13px; }
  #next .list { font-family: ui-monospace, monospace; color: #5a6272; margin-left: 8px; }
  #did { margin: 4px 0 0; padding-left: 1.2em; font-size: 13px; }
  #did li { margin: 2px 0; } #did li b { font-family: ui-monospace, monospace; font-weight: 600; }
  #did li.why { background: #fff4d6; border-radius: 4px; padding: 1px 4px; }
  #scenarios { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 8px; }
  #scenario { font-size: 13px; } #lookfor { margin: 4px 0; } #scenario-phase { color: #1d7a3a; font-weight: 600; }
  #timeline { width: 100%; height: 120px; background: #fafbfc; border: 1px solid #eceef2; display: block; }
  .legend span { display: inline-block; margin-right: 12px; font-size: 12px; color: #5a6272; }
  .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
  #keyspanel { display: none; } body.selectors #keyspanel { display: block; } body.selectors .xlist { display: none; }
</style>
</head>
<body>
<header><strong>select() live view</strong><span id="where">select-reactor echo server</span><span id="rate"></span><span id="status">connecting…</span></header>
<div id="lab">
  <button id="pause" class="primary" title="Space">Pause</button>
  <button id="step" disabled title="S or →">Step</button>
  <button id="step10" disabled>Step ×10</button>
  <button id="stepInputs" disabled title="I">Step until inputs changes</button>
  <button id="resume" disabled title="Space">Resume</button>
  <span id="labstate">running</span>
  <span class="hint"><kbd>Space</kbd> pause/resume · <kbd>S</kbd> or <kbd>→</kbd> one select() · <kbd>I</kbd> until a socket joins or leaves inputs</span>
</div>
<main>
  <section>
    <h2>select() call <span id="n">–</span><span id="phase"></span></h2>
    <table>
      <tr><th>going in</th><td class="list" id="label-inputs">inputs</td><td><span id="inputs"></span><span class="count" id="inputs-count"></span></td></tr>
      <tr><th></th><td class="list" id="label-outputs">outputs</td><td><span id="outputs"></span><span class="count" id="outputs-count"></span></td></tr>
      <tr class="xlist"><th></th><td class="list">xlist</td><td class="empty">inputs again</td></tr>
      <tr><th>came back</th><td class="list">readable</td><td id="readable"></td></tr>
      <tr><th></th><td class="list">writable</td><td id="writable"></td></tr>
      <tr class="xlist"><th></th><td class="list">exceptional</td><td id="exceptional"></td></tr>
    </table>
    <div id="next" hidden><strong>Paused before select() <span id="next-n"></span>.</strong> Going in:
      <span class="list" id="next-label-inputs">inputs</span> <span id="next-inputs"></span><span class="count" id="next-inputs-count"></span>
      <span class="list" id="next-label-outputs">outputs</span> <span id="next-outputs"></span><span class="count" id="next-outputs-count"></span>
      <div id="next-keys"></div></div>
    <h2 id="did-title">What the loop did</h2>
    <ul id="did"><li class="empty">nothing yet</li></ul>
  </section>
  <section>
    <h2>Scenarios: one rule each</h2>
    <div id="scenarios"></div>
    <div id="scenario"><div><strong id="scenario-title">Pick one.</strong> <button id="stopScenario" disabled>Stop and close its clients</button></div>
      <p id="lookfor" class="hint">Pause first to follow it one select() at a time.</p>
      <div id="scenario-phase"></div></div>
  </section>
  <section id="keyspanel" class="wide">
    <h2>Registered keys (selector) and the events select() returned</h2>
    <table><tr><th>registered</th><td id="keys"></td></tr><tr><th>returned</th><td id="ready"></td></tr></table>
  </section>
  <section class="wide">
    <h2>Timeline: the last <span id="timeline-count">0</span> select() calls</h2>
    <svg id="timeline" viewBox="0 0 900 120" preserveAspectRatio="none"></svg>
    <div class="legend"><span><i style="background:#8792a8"></i>time blocked (log scale)</span><span><i style="background:#e0483e"></i>returned at once</span>
      <span><i style="background:#c3c8d0"></i>inputs going in</span><span><i style="background:#9cc3ef"></i>outputs going in</span>
      <span><i style="background:#3fa45b"></i>readable</span><span><i style="background:#2f7fd8"></i>writable</span><span><i style="background:#d1352b"></i>exceptional</span></div>
  </section>
  <section>
    <h2>Clients and their queued bytes</h2>
    <table id="clients"></table>
    <p><button id="open" class="primary">Open a test client</button></p>
    <div id="testclients"></div>
  </section>
  <section class="wide">
    <h2>Log</h2>
    <ol id="log"></ol>
  </section>
</main>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
const SHOWN = 16; // chips per list; the rest are counted

function chips(el, names, cls) {
  if (names.length === 0) {
    const empty = document.createElement('span');
    empty.className = 'empty';
    empty.textContent = '[]';
    return el.replaceChildren(empty);
  }
  const shown = names.slice(0, SHOWN).map((name) => {
    const chip = document.createElement('span');
    chip.className = 'chip ' + cls;
    chip.textContent = name;
    return chip;
  });
  if (names.length > SHOWN) {
    const more = document.createElement('span');
    more.className = 'empty';
    more.textContent = '… and ' + (names.length - SHOWN) + ' more';
    shown.push(more);
  }
  el.replaceChildren(...shown);
}

function goingIn(prefix, inputs, outputs) {
  chips($(prefix + 'inputs'), inputs, '');
  chips($(prefix + 'outputs'), outputs, '');
  $(prefix + 'inputs-count').textContent = '(' + inputs.length + ')';
  $(prefix + 'outputs-count').textContent = '(' + outputs.length + ')';
}

// Lines wait here until the next frame, which appends them all and scrolls once: an event per
// select() call can come hundreds of times a second, and each scroll costs a layout.
let lines = [];
function log(text, cls) {
  lines.push([text, cls]);
  schedule();
}
function appendLines() {
  if (lines.length === 0) return;
  const ol = $('log');
  const following = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 8;
  const fragment = document.createDocumentFragment();
  for (const [text, cls] of lines.slice(-1000)) {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    fragment.append(li);
  }
  lines = [];
  ol.append(fragment);
  while (ol.children.length > 1000) ol.firstElementChild.remove();
  if (following) ol.scrollTop = ol.scrollHeight;
}

function clients(queued) {
  const names = Object.keys(queued);
  const most = Math.max(1, ...Object.values(queued));
  $('clients').replaceChildren(...names.slice(0, 40).map((name) => {
    const tr = document.createElement('tr');
    tr.className = 'client';
    const who = document.createElement('td');
    who.className = 'list';
    who.textContent = name;
    const bytes = document.createElement('td');
    bytes.className = 'queued';
    bytes.textContent = queued[name].toLocaleString('en') + ' B queued';
    const bar = document.createElement('td');
    bar.style.width = '45%';
    const fill = document.createElement('div');
    fill.className = 'bar';
    fill.style.width = (100 * queued[name] / most) + '%';
    if (queued[name] > 0) bar.append(fill);
    tr.append(who, bytes, bar);
    return tr;
  }));
  if (names.length > 40) {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td class="empty" colspan="3"></td>';
    tr.firstChild.textContent = '… and ' + (names.length - 40) + ' more clients';
    $('clients').append(tr);
  }
  if (names.length === 0) $('clients').innerHTML = '<tr><td class="empty">no clients yet</td></tr>';
}

const pairs = (list) => list.map(([name, mask]) => name + ' ' + mask);

// The lab's state, as the server last said it.
let paused = false;
function labState(state, next, steps) {
  paused = state !== 'running';
  const el = $('labstate');
  el.className = state;
  if (state === 'running') el.textContent = 'running';
  else if (state === 'paused') el.textContent = 'paused before select() #' + next;
  else el.textContent = 'in select() #' + next + ': it returns once one of the loop\u2019s sockets is ready' + (steps > 1 ? ' (' + steps + ' steps to go)' : '');
  $('next').hidden = state !== 'paused';
  $('pause').disabled = paused;
  $('resume').disabled = !paused;
  for (const id of ['step', 'step10', 'stepInputs']) $(id).disabled = !paused;
}

// The timeline: one column per select() call, newest on the right.
const MARKS = 300;
let marks = [];
let redraw = false;
function mark(m) {
  if (marks.length > 0 && m[0] <= marks[marks.length - 1][0]) return;
  marks.push(m);
  if (marks.length > MARKS) marks.splice(0, marks.length - MARKS);
  redraw = true;
  schedule();
}
const SVG = 'http://www.w3.org/2000/svg';
function rect(x, y, w, h, fill) {
  const r = document.createElementNS(SVG, 'rect');
  r.setAttribute('x', x); r.setAttribute('y', y); r.setAttribute('width', w); r.setAttribute('height', Math.max(0, h));
  r.setAttribute('fill', fill);
  return r;
}
const lane = (count) => count === 0 ? 0 : Math.min(14, 2 + 3 * Math.log2(1 + count));
function draw() {
  if (!redraw) return;
  redraw = false;
  const svg = $('timeline');
  const w = 900 / MARKS;
  const cols = marks.map(([n, ms, ins, outs, r, wr, x], i) => {
    const g = document.createElementNS(SVG, 'g');
    g.setAttribute('class', 'col');
    g.dataset.n = n;
    const left = 900 - (marks.length - i) * w;
    const title = document.createElementNS(SVG, 'title');
    title.textContent = 'select() #' + n + ': blocked ' + ms + ' ms; going in ' + ins + ' inputs, ' + outs + ' outputs; came back ' + r + ' readable, ' + wr + ' writable, ' + x + ' exceptional';
    g.append(title, rect(left, 0, w, 120, 'transparent'));
    const h = Math.min(56, 56 * Math.log10(1 + ms * 10) / 5);
    if (ms < 0.1) g.append(rect(left, 54, w, 4, '#e0483e'));
    else g.append(rect(left, 58 - h, w * 0.8, h, '#8792a8'));
    g.append(rect(left, 76 - lane(ins), w * 0.8, lane(ins), '#c3c8d0'));
    g.append(rect(left, 76, w * 0.8, lane(outs), '#9cc3ef'));
    let y = 120;
    for (const [count, fill] of [[r, '#3fa45b'], [wr, '#2f7fd8'], [x, '#d1352b']]) {
      const hh = lane(count) * 0.9;
      y -= hh;
      if (hh > 0) g.append(rect(left, y, w * 0.8, hh, fill));
    }
    return g;
  });
  svg.replaceChildren(...cols);
  $('timeline-count').textContent = marks.length;
}

// select() calls per second: counted here from the calls shown, or said by the server while the
// loop spins (it then sends a summary each second instead of every call).
let shownAt = [];
let said = null;
setInterval(() => {
  const now = Date.now();
  shownAt = shownAt.filter((t) => now - t < 1000);
  const rate = said && now - said.at < 1500 ? Math.max(said.perSecond, shownAt.length) : shownAt.length;
  $('rate').textContent = rate.toLocaleString('en') + ' select() calls/s';
}, 250);

let words = { inputs: 'inputs', outputs: 'outputs' };
const list = (names) => '[' + names.join(', ') + ']';
const events = new EventSource('/events');
events.onopen = () => { $('status').textContent = 'live'; };
events.onerror = () => { $('status').textContent = 'reconnecting…'; };
// Events are handled as they come; what they draw is drawn once a frame, from the latest.
let scheduled = false;
let latest = {};
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}
function render() {
  scheduled = false;
  const { select: e, did, lab } = latest;
  latest = {};
  if (e) {
    $('n').textContent = '#' + e.n;
    $('phase').textContent = 'came back after ' + e.blocked + ' ms';
    goingIn('', e.inputs, e.outputs);
    chips($('readable'), e.readable, 'r');
    chips($('writable'), e.writable, 'w');
    chips($('exceptional'), e.exceptional, 'x');
    if (e.keys) {
      chips($('keys'), pairs(e.keys), '');
      chips($('ready'), pairs(e.ready), 'r');
    }
    clients(e.queued);
  }
  if (did) showDid(did);
  if (lab) {
    labState(lab.state, lab.next, lab.steps);
    if (lab.state === 'paused') {
      $('next-n').textContent = '#' + lab.next;
      goingIn('next-', lab.inputs, lab.outputs);
      if (lab.keys) chips($('next-keys'), pairs(lab.keys), '');
      clients(lab.queued);
    }
  }
  appendLines();
  draw();
}

function showDid(e) {
  $('did-title').textContent = 'What the loop did after select() #' + e.n + ' came back';
  const items = e.deeds.map((d) => {
    const li = document.createElement('li');
    li.className = 'deed';
    const who = document.createElement('b');
    who.textContent = d.name;
    li.append(who, ': ' + d.did.join('; '));
    if (d.did.some((t) => t.startsWith('leaves ') || t.startsWith('back in ') || t.startsWith('recv()') || t.startsWith('in the exceptional'))) li.classList.add('why');
    return li;
  });
  if (items.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'nothing to its own sockets';
    items.push(li);
  }
  if (items.length > 12) {
    const more = document.createElement('li');
    more.className = 'empty';
    more.textContent = '… and ' + (items.length - 12) + ' more sockets';
    items.splice(12, items.length - 12, more);
  }
  $('did').replaceChildren(...items);
}

events.onmessage = (message) => {
  const e = JSON.parse(message.data);
  if (e.type === 'hello') {
    $('where').textContent = 'echo server on ' + e.listener + (e.lab.mode === 'selectors' ? ' (selectors loop)' : '');
    document.body.classList.toggle('selectors', e.lab.mode === 'selectors');
    words = e.words;
    for (const prefix of ['', 'next-']) {
      $(prefix + 'label-inputs').textContent = words.inputs;
      $(prefix + 'label-outputs').textContent = words.outputs;
    }
    $('log').replaceChildren();
    lines = [];
    clients(e.queued);
    for (const old of e.log) log(old.line);
    scenarioButtons(e.scenarios);
    marks = [];
    for (const m of e.marks) mark(m);
    labState(e.lab.paused ? 'paused' : 'running', e.lab.calls + 1, 0);
  } else if (e.type === 'select') {
    shownAt.push(Date.now());
    latest.select = e;
    mark([e.n, e.blocked, e.inputs.length, e.outputs.length, e.readable.length, e.writable.length, e.exceptional.length]);
    log('select() #' + e.n + ' -> readable=' + list(e.readable) + ' writable=' + list(e.writable) + ' exceptional=' + list(e.exceptional), 'select');
  } else if (e.type === 'did') {
    latest.did = e;
    schedule();
  } else if (e.type === 'lab') {
    latest.lab = e;
    schedule();
  } else if (e.type === 'rate') {
    said = { perSecond: e.perSecond, at: Date.now() };
    for (const m of e.marks) mark(m);
  } else if (e.type === 'scenario') {
    $('scenario-title').textContent = e.title;
    if (e.lookFor) $('lookfor').textContent = e.lookFor;
    $('scenario-phase').textContent = e.phase + ': ' + e.text;
    $('stopScenario').disabled = e.phase === 'stopped';
  } else if (e.type === 'connect') {
    log('connected: ' + e.name, 'conn');
  } else if (e.type === 'disconnect') {
    log('disconnected: ' + e.name, 'conn');
  } else if (e.type === 'log') {
    log(e.line);
  } else if (e.type === 'skipped') {
    log('(this page fell behind and missed ' + e.count + ' events)', 'warn');
  }
};

async function post(path) {
  const answer = await fetch(path, { method: 'POST' });
  const body = await answer.json();
  if (body.error) log(body.error, 'warn');
  return body;
}

function scenarioButtons(scenarios) {
  $('scenarios').replaceChildren(...scenarios.map((sc) => {
    const b = document.createElement('button');
    b.className = 'scenario';
    b.dataset.name = sc.name;
    b.textContent = sc.title;
    b.title = sc.lookFor;
    b.onclick = () => {
      $('scenario-title').textContent = sc.title;
      $('lookfor').textContent = sc.lookFor;
      $('scenario-phase').textContent = '';
      $('stopScenario').disabled = false;
      post('/lab/scenario?name=' + encodeURIComponent(sc.name));
    };
    return b;
  }));
}

const pause = () => post('/lab/pause');
const resume = () => post('/lab/resume');
const step = (query) => { if (paused) post('/lab/step' + (query || '')); };
$('pause').onclick = pause;
$('resume').onclick = resume;
$('step').onclick = () => step('');
$('step10').onclick = () => step('?count=10');
$('stepInputs').onclick = () => step('?until=inputs');
$('stopScenario').onclick = () => post('/lab/scenario/stop');
document.addEventListener('keydown', (k) => {
  if (k.target instanceof HTMLInputElement || k.ctrlKey || k.metaKey || k.altKey) return;
  if (k.key === ' ') { k.preventDefault(); (paused ? resume : pause)(); }
  else if (k.key === 's' || k.key === 'S' || k.key === 'ArrowRight') { k.preventDefault(); step(''); }
  else if (k.key === 'i' || k.key === 'I') { k.preventDefault(); step('?until=inputs'); }
});
// Space pauses and resumes, and does not also press the button that has the focus.
document.addEventListener('keyup', (k) => {
  if (k.key === ' ' && !(k.target instanceof HTMLInputElement)) k.preventDefault();
});

function testClient(name) {
  const row = document.createElement('div');
  row.className = 'testclient';
  const label = document.createElement('span');
  label.textContent = name;
  const text = document.createElement('input');
  text.value = 'another line';
  const send = document.createElement('button');
  send.textContent = 'send';
  send.onclick = () => post('/client/send?name=' + encodeURIComponent(name) + '&text=' + encodeURIComponent(text.value));
  const close = document.createElement('button');
  close.textContent = 'close';
  close.onclick = () => post('/client/close?name=' + encodeURIComponent(name)).then(() => row.remove());
  row.append(label, text, send, close);
  $('testclients').append(row);
}

$('open').onclick = async () => {
  const { name } = await post('/client');
  if (name) testClient(name);
};
</script>
</body>
</html>
`;
