/**
 * Command-line options shared by the programs: `--host` (default localhost) and `--port`
 * (default 10000), plus each program's own flags.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Flags = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  host: string;
  port: number;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseOptions(argv: string[], flags: Flags = {}, allowPositionals = false): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { host: { type: 'string', default: 'localhost' }, port: { type: 'string', default: '10000' }, ...flags },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return { host: String(values.host), port: portOption('--port', values.port), values, positionals: parsed.positionals };
}

/** A port number given as `flag`'s value, or a UsageError that says what was expected. */
export function portOption(flag: string, value: string | boolean | undefined): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} must be an integer in [0, 65535], got ${String(value)}`);
  }
  return port;
}
