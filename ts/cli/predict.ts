/**
 * `gru-simd predict FILE --input data.json`: the model's predictions for the samples in a JSON
 * file (nested arrays, batch first, or { shape, data }), printed as JSON { shape, data } (or
 * written to --output). Integer ids for a model that starts with an Embedding. Large inputs run
 * in chunks, with progress on stderr.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { GruError } from '../errors.js';
import { tensor, type Tensor } from '../index.js';
import { isPlainObject, parseJson } from '../formats/safetensors.js';
import { detectFormat, resolveInput } from './formats.js';
import { progress } from './progress.js';
import { BACKEND_HELP, COMMON_OPTIONS, UsageError, backendOf, parse } from './usage.js';

export const PREDICT_HELP = `Usage: gru-simd predict FILE --input DATA.json [--output OUT.json]

Runs the model in FILE (any format holding a model: gru-simd, tfjs) on the samples in DATA.json
and prints its output as JSON { "shape": [...], "data": [...] } (data flat, row-major).

DATA.json: nested arrays, samples first ([[[0.1, 0.2], ...], ...]: [samples, steps, features],
or [samples, steps] of integer ids for a model starting with an Embedding), or
{ "shape": [...], "data": [...] } with data flat, row-major.

Options:
  -i, --input FILE   the samples (required)
  -o, --output FILE  write the output there instead of stdout
  --batch-size N     samples per forward pass (default 32)
  -q, --quiet        no progress on stderr
${BACKEND_HELP}`;

/** The most JSON read as input (a JSON text of numbers is ~10x the floats' bytes). */
const MAX_INPUT_BYTES = 1 << 30;

/** DATA.json's samples as a tensor of the model's input dtype. */
function inputTensor(json: unknown, ids: boolean): Tensor {
  const dtype = ids ? 'int32' : 'float32';
  const v = isPlainObject(json) && isPlainObject(json.input) ? json.input : json; // expected.json style
  if (Array.isArray(v)) return tensor(v as never, undefined, dtype);
  if (isPlainObject(v) && Array.isArray(v.data) && Array.isArray(v.shape)) {
    const data = v.data as unknown[];
    if (!data.every((d) => typeof d === 'number'))
      throw new GruError('ERR_GRU_ARG', '--input: data must hold numbers only');
    return tensor(
      ids ? Int32Array.from(data as number[]) : Float32Array.from(data as number[]),
      v.shape as number[],
    );
  }
  throw new GruError(
    'ERR_GRU_ARG',
    '--input must hold nested arrays (samples first) or { "shape": [...], "data": [...] }',
  );
}

export async function predict(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'predict',
    argv,
    {
      ...COMMON_OPTIONS,
      input: { type: 'string', short: 'i' },
      output: { type: 'string', short: 'o' },
      'batch-size': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
    { min: 1, max: 1, names: 'one FILE' },
  );
  if (values.help) {
    process.stdout.write(`${PREDICT_HELP}\n`);
    return;
  }
  if (typeof values.input !== 'string')
    throw new UsageError('predict', '--input DATA.json is required');
  const batch = values['batch-size'] === undefined ? 32 : Number(values['batch-size']);
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new UsageError(
      'predict',
      `--batch-size must be a positive integer, got ${JSON.stringify(values['batch-size'])}`,
    );
  const say = progress(values.quiet === true);
  const file = resolveInput(positionals[0]!);
  const format = await detectFormat(file);
  if (format.load === undefined)
    throw new UsageError(
      'predict',
      `${positionals[0]} is a ${format.name} file, which holds no model to run`,
    );
  let text: string;
  try {
    const bytes = await readFile(values.input);
    if (bytes.length > MAX_INPUT_BYTES)
      throw new GruError('ERR_GRU_ARG', `--input is over ${MAX_INPUT_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof GruError) throw e;
    throw new GruError(
      'ERR_GRU_IO',
      `cannot read --input ${values.input}: ${(e as Error).message}`,
    );
  }
  const json = parseJson(text, `--input ${values.input}`, 64);
  const backend = await backendOf(values.backend);
  say.note(`loading ${file} (${format.name})`);
  const model = await format.load(file, backend);
  try {
    const x = inputTensor(json, model.layers[0]!.takesIds);
    const n = x.shape[0]!;
    const per = x.data.length / n;
    // Chunks of whole batches, so progress moves and the output is the same as one call's.
    const chunk = batch * Math.max(1, Math.floor(1024 / batch));
    const bar = say.bar(n, 'predict');
    const parts: Tensor[] = [];
    for (let at = 0; at < n; at += chunk) {
      const m = Math.min(chunk, n - at);
      const part = {
        data: x.data.subarray(at * per, (at + m) * per),
        shape: [m, ...x.shape.slice(1)],
      } as Tensor;
      parts.push(model.predict(part, { batchSize: batch }));
      bar.update(at + m);
    }
    bar.stop();
    const shape = [n, ...parts[0]!.shape.slice(1)];
    const data: number[] = [];
    for (const p of parts) for (const v of p.data) data.push(v);
    const out = `${JSON.stringify({ shape, data })}\n`;
    if (typeof values.output === 'string') {
      await writeFile(values.output, out).catch((e: Error) => {
        throw new GruError('ERR_GRU_IO', `cannot write --output ${values.output}: ${e.message}`);
      });
      say.note(`wrote ${values.output}: output shape [${shape.join(', ')}]`);
    } else process.stdout.write(out);
  } finally {
    model.dispose();
  }
}
