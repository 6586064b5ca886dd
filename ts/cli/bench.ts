/**
 * `gru-simd bench`: the benchmark suite (bench/run.ts, README "Benchmarks") in its quick mode,
 * against the peers installed beside gru-simd. From the package it runs the suite's bundles
 * (dist/bench/run.mjs, made by scripts/build-ts.mjs); from a clone of the repository,
 * bench/run.ts through tsx. Without --only, the contestants are gru-simd's backends and the
 * peers that resolve from where the suite runs: a peer not installed is left out and named.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GruError } from '../errors.js';
import { COMMON_OPTIONS, UsageError, parse } from './usage.js';

/** Each contestant group of the suite (bench/cases.ts GROUPS) and the packages it needs. */
const PEERS: Record<string, string[]> = {
  native: [],
  'native-1t': [],
  'wasm-simd': [],
  wasm: [],
  'ort-node-1': ['onnxruntime-node'],
  'ort-node-2': ['onnxruntime-node'],
  'ort-web-1': ['onnxruntime-web'],
  'ort-web-2': ['onnxruntime-web'],
  'tfjs-wasm': ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  'tfjs-cpu': ['@tensorflow/tfjs'],
};

export const BENCH_HELP = `Usage: gru-simd bench [--full] [--only LIST] [--cases LIST] [--threads N] [--out DIR]

Runs gru-simd's benchmark suite (quick mode: a few minutes) on this machine: gru-simd's backends
(native, wasm-simd, wasm) and the peers installed beside it, on the same GRU workloads (README,
Benchmarks). Prints the tables; writes results.md, results.json and sweep.svg to --out.

Peers (optional, used when installed: npm install them next to gru-simd):
  onnxruntime-node, onnxruntime-web, @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm
The native contestants need the native addon (the prebuilt one, or a build); g++ measures the
CPU's peak if present (else the % of peak columns are left out).

Options:
  --full             the full suite (about 10 minutes) instead of the quick one
  --only LIST        contestants, comma-separated: ${Object.keys(PEERS).join(', ')}
  --cases LIST       workloads, comma-separated (A, B, C, D, E, F, sweep)
  --threads N        gru-simd's threads
  --rounds N         rounds of the contestants the targets compare
  --out DIR          where the result files go (default: gru-simd-bench in the current directory)
  -h, --help         this help`;

/** The suite's entry: the package's bundle, or the repository's source (with tsx). */
function suite(): { node: string[]; file: string } {
  const bundle = fileURLToPath(new URL('../../bench/run.mjs', import.meta.url));
  if (existsSync(bundle)) return { node: [], file: bundle };
  const source = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
  if (existsSync(source)) return { node: ['--import', 'tsx'], file: source };
  throw new GruError(
    'ERR_GRU_IO',
    'the benchmark suite is not here (neither dist/bench/run.mjs nor bench/run.ts): reinstall gru-simd, or run it from a clone of the repository',
  );
}

export async function bench(argv: string[]): Promise<void> {
  const { values } = parse(
    'bench',
    argv,
    {
      help: COMMON_OPTIONS.help,
      full: { type: 'boolean' },
      only: { type: 'string' },
      cases: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
    },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  if (values.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return;
  }
  for (const k of ['threads', 'rounds'] as const) {
    const v = values[k];
    if (v !== undefined && !/^[1-9][0-9]{0,3}$/.test(String(v)))
      throw new UsageError('bench', `--${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const given =
    typeof values.only === 'string' ? values.only.split(',').filter((s) => s !== '') : null;
  if (given !== null) {
    const unknown = given.filter((g) => !Object.hasOwn(PEERS, g));
    if (unknown.length > 0 || given.length === 0)
      throw new UsageError(
        'bench',
        `--only: unknown ${unknown.join(', ') || '(empty)'}; known: ${Object.keys(PEERS).join(', ')}`,
      );
  }
  const { node, file } = suite();
  const resolveFrom = createRequire(file);
  const installed = (pkg: string) => {
    try {
      resolveFrom.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  let only: string[];
  if (given !== null) only = given;
  else {
    only = Object.keys(PEERS).filter((g) => PEERS[g]!.every(installed));
    const missing = [
      ...new Set(
        Object.values(PEERS)
          .flat()
          .filter((p) => !installed(p)),
      ),
    ];
    if (missing.length > 0)
      process.stderr.write(`gru-simd bench: not installed, left out: ${missing.join(', ')}\n`);
  }
  const args = [
    ...node,
    file,
    ...(values.full ? [] : ['--quick']),
    '--only',
    only.join(','),
    '--out',
    (values.out as string | undefined) ?? 'gru-simd-bench',
  ];
  for (const k of ['cases', 'threads', 'rounds'] as const)
    if (typeof values[k] === 'string') args.push(`--${k}`, values[k] as string);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', () => resolve(1));
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new GruError('ERR_GRU_IO', `the benchmark suite exited with code ${code}`);
}
