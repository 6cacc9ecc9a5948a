#!/usr/bin/env node
'use strict';
// Why a socket sits in `outputs` only while it has bytes to send (docs/three-lists.md): for one
// second each, a loop calls select() with an idle connected socket in the write list, then without.
//
//   node scripts/idle-in-outputs.js
const sr = require('..');

const server = sr.create_server(['127.0.0.1', 0]);
const client = sr.create_connection(['127.0.0.1', server.getsockname()[1]]);
const [conn] = server.accept();
conn.setblocking(false);
for (const outputs of [[conn], []]) {
  let calls = 0;
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    sr.select([conn], outputs, [conn], Math.max(0, (end - Date.now()) / 1000));
    calls++;
  }
  console.log(`outputs=${outputs.length > 0 ? '[idle client]' : '[]'}: ${calls} select() calls in one second`);
}
for (const s of [conn, client, server]) s.close();
