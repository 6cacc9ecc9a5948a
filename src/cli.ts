#!/usr/bin/env node
/**
 * The `select-reactor` command: one subcommand per program.
 *
 *   select-reactor <command> [--host localhost] [--port 10000] [options]
 */
import * as bench from './bench';
import { SocketError } from './index';
import * as blockingEchoServer from './programs/blocking-servers/blocking-echo-server';
import * as chatServer from './programs/chat-server/main';
import * as echoClient from './programs/echo-client/main';
import * as echoServer from './programs/echo-server/main';
import * as framingDemo from './programs/lessons/framing-demo';
import * as byteorderDemo from './programs/lessons/byteorder-demo';
import * as oobDemo from './programs/lessons/oob-demo';
import * as shutdownDemo from './programs/lessons/shutdown-demo';
import * as forkingEchoServer from './programs/blocking-servers/forking-echo-server';
import * as threadedEchoServer from './programs/blocking-servers/threaded-echo-server';
import { UsageError } from './programs/support/options';
import { writeAll } from './programs/support/say';

interface Program {
  main(argv: string[]): number | Promise<number>;
}

const programs: Record<string, [Program, string]> = {
  'echo-server': [echoServer, 'the select() echo server [--quiet] [--trace] [--ui PORT] [--max-queue BYTES] [--selector select|poll|epoll] [--workers N]'],
  'echo-client': [echoClient, 'the echo client [message ...]'],
  'blocking-echo-server': [blockingEchoServer, 'one connection, blocking calls, then exit'],
  'threaded-echo-server': [threadedEchoServer, 'blocking calls, a worker thread per connection'],
  'forking-echo-server': [forkingEchoServer, 'blocking calls, a child process per connection'],
  'chat-server': [chatServer, 'every line a client sends goes to every other client [--quiet] [--max-queue BYTES]'],
  'framing-demo': [framingDemo, 'length-prefixed messages of 1 B to 1 MiB through tiny buffers'],
  'shutdown-demo': [shutdownDemo, 'a request, shutdown(SHUT_WR), the server reads to EOF and answers'],
  'byteorder-demo': [byteorderDemo, 'htons/htonl on the wire, the bytes in hex on both sides'],
  'oob-demo': [oobDemo, 'urgent data (MSG_OOB) in select()\'s exceptional list'],
  bench: [bench, 'the benchmark against Node net (libuv) [--quick] [--help]'],
};

function usage(): string {
  const width = Math.max(...Object.keys(programs).map((name) => name.length));
  const lines = Object.entries(programs).map(([name, [, what]]) => `  ${name.padEnd(width)}  ${what}`);
  return `usage: select-reactor <command> [--host localhost] [--port 10000] [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    writeAll(1, usage());
    return command === undefined ? 2 : 0;
  }
  const entry = programs[command];
  if (!entry) {
    writeAll(2, `select-reactor: unknown command '${command}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await entry[0].main(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      writeAll(2, `select-reactor ${command}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SocketError) {
      writeAll(2, `select-reactor ${command}: ${err.name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    writeAll(2, `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
