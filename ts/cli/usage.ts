/**
 * The command line's shared pieces: its usage error (exit code 2, against 1 for a failure of
 * the work itself), option parsing over node:util's parseArgs (strict: an unknown option or a
 * missing value is a usage error naming it), and the backend option every command takes.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Backend, BackendName } from '../backends/backend.js';
import { init, loadBackend } from '../index.js';
import { currentBackend } from '../loader.js';

/** A command used wrongly: printed with a pointer to its --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  backend: { type: 'string' },
} as const satisfies Options;

export const BACKEND_HELP = `  --backend NAME     native, wasm-simd or wasm (default: native if its addon loads, else wasm-simd)
  -h, --help         this help`;

/** argv parsed for `command`: its values and positionals (counted), or a UsageError. */
export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  positionals: { min: number; max: number; names: string },
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(command, (e as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return { values, positionals: parsed.positionals };
  const b = values.backend;
  if (b !== undefined && b !== 'native' && b !== 'wasm-simd' && b !== 'wasm')
    throw new UsageError(
      command,
      `--backend must be native, wasm-simd or wasm, got ${JSON.stringify(b)}`,
    );
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max)
    throw new UsageError(
      command,
      `expected ${positionals.names}, got ${n === 0 ? 'nothing' : parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  return { values, positionals: parsed.positionals };
}

/** The backend of --backend, or init()'s choice (native, else wasm-simd, else wasm). */
export async function backendOf(name: unknown): Promise<Backend> {
  if (name === undefined) {
    await init({ quiet: true });
    return currentBackend();
  }
  return loadBackend(name as BackendName);
}
