#!/usr/bin/env node
/**
 * The `gru-simd` command (package.json "bin": dist/esm/cli/main.js; from the repository:
 * node --import tsx ts/cli/main.ts): inspect, convert, predict and bench, one file each.
 * Results go to stdout, progress and warnings to stderr. Exit codes: 0 done, 1 the work failed
 * (a GruError: its code and message on one line), 2 the command was used wrongly.
 */
import { GruError } from '../errors.js';
import { VERSION } from '../version.js';
import { BENCH_HELP, bench } from './bench.js';
import { CONVERT_HELP, convert } from './convert.js';
import { FORMATS } from './formats.js';
import { INSPECT_HELP, inspect } from './inspect.js';
import { PREDICT_HELP, predict } from './predict.js';
import { UsageError } from './usage.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  inspect: { run: inspect, help: INSPECT_HELP },
  convert: { run: convert, help: CONVERT_HELP },
  predict: { run: predict, help: PREDICT_HELP },
  bench: { run: bench, help: BENCH_HELP },
};

const first = (help: string) => help.split('\n')[0]!.replace(/^Usage: /, '');

export const HELP = `gru-simd ${VERSION}: GRU models from the command line

Usage: gru-simd COMMAND [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${first(c.help)}`)
  .join('\n')}

Formats:
${FORMATS.map((f) => `  ${f.name.padEnd(16)} ${f.summary}`).join('\n')}

Options:
  -h, --help         this help; 'gru-simd COMMAND --help' for a command's
  -v, --version      gru-simd's version

Exit codes: 0 done, 1 failed (the error's code and message on stderr), 2 wrong usage.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  try {
    if (c === undefined)
      throw new UsageError(
        '',
        `unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    await c.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      const who = e.command === '' ? 'gru-simd' : `gru-simd ${e.command}`;
      process.stderr.write(`${who}: ${e.message}\nRun '${who} --help' for its usage.\n`);
      return 2;
    }
    if (e instanceof GruError) {
      process.stderr.write(`gru-simd ${command}: ${e.code}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(
      `gru-simd ${command}: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`,
    );
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Exit once stdout is flushed (a pipe may still hold the output), whatever handles remain open.
process.stdout.write('', () => process.exit(code));
