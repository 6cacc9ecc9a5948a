/**
 * The live view's page: plain HTML, CSS and a little JavaScript, no build step and nothing fetched
 * from elsewhere. It listens to /events and draws the last select() call (what went in, what came
 * back), the clients with their queued bytes, and a log. Text from the network is only ever set
 * with textContent, never parsed as HTML.
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
</style>
</head>
<body>
<header><strong>select() live view</strong><span id="where">select-reactor echo server</span><span id="status">connecting…</span></header>
<main>
  <section>
    <h2>select() call <span id="n">–</span></h2>
    <table>
      <tr><th>going in</th><td class="list">inputs</td><td id="inputs"></td></tr>
      <tr><th></th><td class="list">outputs</td><td id="outputs"></td></tr>
      <tr><th></th><td class="list">xlist</td><td class="empty">inputs again</td></tr>
      <tr><th>came back</th><td class="list">readable</td><td id="readable"></td></tr>
      <tr><th></th><td class="list">writable</td><td id="writable"></td></tr>
      <tr><th></th><td class="list">exceptional</td><td id="exceptional"></td></tr>
    </table>
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

function chips(el, names, cls) {
  if (names.length === 0) {
    const empty = document.createElement('span');
    empty.className = 'empty';
    empty.textContent = '[]';
    return el.replaceChildren(empty);
  }
  el.replaceChildren(...names.map((name) => {
    const chip = document.createElement('span');
    chip.className = 'chip ' + cls;
    chip.textContent = name;
    return chip;
  }));
}

function log(text, cls) {
  const ol = $('log');
  const following = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 8;
  const li = document.createElement('li');
  li.textContent = text;
  if (cls) li.className = cls;
  ol.append(li);
  while (ol.children.length > 1000) ol.firstElementChild.remove();
  if (following) ol.scrollTop = ol.scrollHeight;
}

function clients(queued) {
  const names = Object.keys(queued);
  const most = Math.max(1, ...Object.values(queued));
  $('clients').replaceChildren(...names.map((name) => {
    const tr = document.createElement('tr');
    tr.className = 'client';
    const who = document.createElement('td');
    who.className = 'list';
    who.textContent = name;
    const bytes = document.createElement('td');
    bytes.textContent = queued[name] + ' B queued';
    const bar = document.createElement('td');
    bar.style.width = '45%';
    const fill = document.createElement('div');
    fill.className = 'bar';
    fill.style.width = (100 * queued[name] / most) + '%';
    if (queued[name] > 0) bar.append(fill);
    tr.append(who, bytes, bar);
    return tr;
  }));
  if (names.length === 0) $('clients').innerHTML = '<tr><td class="empty">no clients yet</td></tr>';
}

const list = (names) => '[' + names.join(', ') + ']';
const events = new EventSource('/events');
events.onopen = () => { $('status').textContent = 'live'; };
events.onerror = () => { $('status').textContent = 'reconnecting…'; };
events.onmessage = (message) => {
  const e = JSON.parse(message.data);
  if (e.type === 'hello') {
    $('where').textContent = 'echo server on ' + e.listener;
    $('log').replaceChildren();
    clients(e.queued);
    for (const old of e.log) log(old.line);
  } else if (e.type === 'select') {
    $('n').textContent = '#' + e.n;
    chips($('inputs'), e.inputs, '');
    chips($('outputs'), e.outputs, '');
    chips($('readable'), e.readable, 'r');
    chips($('writable'), e.writable, 'w');
    chips($('exceptional'), e.exceptional, 'x');
    clients(e.queued);
    log('select() #' + e.n + ' -> readable=' + list(e.readable) + ' writable=' + list(e.writable) + ' exceptional=' + list(e.exceptional), 'select');
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
