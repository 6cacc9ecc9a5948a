/**
 * The SocketError family: Python's OSError subclasses, shaped like Node's own system errors
 * (`errno`, `code`, `syscall`). Native code never builds these itself; it calls {@link makeError},
 * handed to it at load, so the classes live in exactly one place.
 */
import { constants as osConstants } from 'node:os';

/** An error from a system call: `errno` is positive as in C, `code` its name, `syscall` the call. */
export class SocketError extends Error {
  /** The error number, positive as C's `errno` (for GaiError, the EAI_* value). */
  readonly errno: number;
  /** The error's name: `'ECONNREFUSED'`, `'EAGAIN'`, `'EAI_NONAME'`. */
  readonly code: string;
  /** The system call that failed: `'connect'`, `'recv'`, `'getaddrinfo'`. */
  readonly syscall: string;

  constructor(message: string, errno: number, code: string, syscall: string) {
    super(message);
    this.name = new.target.name;
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

/** EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY: the call would have to wait. */
export class BlockingIOError extends SocketError {}
/** Base of the connection errors, as in Python. */
export class ConnectionError extends SocketError {}
/** EPIPE, ESHUTDOWN: writing to a peer that has gone. Never a SIGPIPE. */
export class BrokenPipeError extends ConnectionError {}
/** ECONNABORTED: a connection was aborted before `accept()` took it. */
export class ConnectionAbortedError extends ConnectionError {}
/** ECONNREFUSED: nothing listens at the address connected to. */
export class ConnectionRefusedError extends ConnectionError {}
/** ECONNRESET: the peer reset the connection (an RST), for instance by closing with unread data. */
export class ConnectionResetError extends ConnectionError {}
/** A socket timeout (`settimeout(seconds)`) expired. */
export class TimeoutError extends SocketError {}
/** ENOENT: for instance, connecting to an AF_UNIX path that does not exist. */
export class FileNotFoundError extends SocketError {}
/** EACCES, EPERM: for instance, binding a port below 1024 without the privilege. */
export class PermissionError extends SocketError {}

/**
 * EINTR that ended a call: a signal named in {@link interrupt_on} arrived while the main thread
 * waited (Python raises KeyboardInterrupt there). Other EINTRs are retried, never seen (PEP 475).
 */
export class InterruptedError extends SocketError {
  /** The signal's name, `'SIGINT'`. */
  readonly signal: string;

  constructor(message: string, errno: number, code: string, syscall: string, signal: string) {
    super(message, errno, code, syscall);
    this.signal = signal;
  }
}

/** Name resolution failed: `errno` is the EAI_* value, `code` its name, as in Python's gaierror. */
export class GaiError extends SocketError {}

/**
 * A lookup of something that is not there, as Python's KeyError: a selector asked about a file
 * object that is not registered, or to register one twice.
 */
export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

type SocketErrorClass = new (message: string, errno: number, code: string, syscall: string) => SocketError;

const classByCode: Record<string, SocketErrorClass> = {
  EAGAIN: BlockingIOError,
  EWOULDBLOCK: BlockingIOError,
  EINPROGRESS: BlockingIOError,
  EALREADY: BlockingIOError,
  EPIPE: BrokenPipeError,
  ESHUTDOWN: BrokenPipeError,
  ECONNABORTED: ConnectionAbortedError,
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ETIMEDOUT: TimeoutError,
  ENOENT: FileNotFoundError,
  EACCES: PermissionError,
  EPERM: PermissionError,
};

function signalName(signo: number): string {
  for (const [name, value] of Object.entries(osConstants.signals)) if (value === signo) return name;
  return `signal ${signo}`;
}

/**
 * Builds the error for `(code, errno, syscall)`; the one factory native code calls. With `signo`,
 * the call was ended by that signal.
 */
export function makeError(code: string, errno: number, syscall: string, message: string, signo?: number): SocketError {
  if (signo !== undefined) {
    const signal = signalName(signo);
    return new InterruptedError(`${syscall} interrupted by ${signal}`, errno, code, syscall, signal);
  }
  const Class = code.startsWith('EAI_') ? GaiError : (classByCode[code] ?? SocketError);
  return new Class(message, errno, code, syscall);
}
