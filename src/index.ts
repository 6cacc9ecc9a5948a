/**
 * select-reactor: POSIX sockets and select() with Python's names. This file is the public API and
 * only re-exports: the socket, select, selectors and resource modules, the errors and the
 * constants. Programs, the CLI's included, import the library from here alone.
 */
export * from './constants';
export * from './errors';
export {
  Socket,
  Outbox,
  socket,
  socketpair,
  fromfd,
  getaddrinfo,
  create_connection,
  create_server,
  htons,
  ntohs,
  htonl,
  ntohl,
  interrupt_on,
  interrupt_off,
  formatAddress,
} from './socket';
export type { Address, Data, ServerOptions } from './socket';
export { select, selectAsync } from './select';
export type { Selectable } from './select';
export * as selectors from './selectors';
export * as resource from './resource';
