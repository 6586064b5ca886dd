/**
 * `gru-simd inspect FILE`: the file's format, what it says of itself, its layers (class, output
 * shape, parameters, options) or its tensors, and the parameter count; --json for programs.
 */
import { formatShape } from '../models/tensor.js';
import { detectFormat, resolveInput, type Description } from './formats.js';
import { BACKEND_HELP, COMMON_OPTIONS, backendOf, parse } from './usage.js';

export const INSPECT_HELP = `Usage: gru-simd inspect FILE [--json]

Prints FILE's format, its layers (type, output shape, parameters, options) or tensors, and its
parameter count. FILE: a gru-simd model file, a TensorFlow.js model.json (or its directory), a
safetensors state dict; run 'gru-simd --help' for the list of formats.

Options:
  --json             the description as JSON (format, details, inputShape, layers, params, tensors, notes)
${BACKEND_HELP}`;

const count = (n: number) => n.toLocaleString('en-US');

/** An option as text: a layer inside (Bidirectional's GRU) as Class(key=value ...). */
function option(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'className' in v && 'config' in v) {
    const { className, config } = v as { className: string; config: Record<string, unknown> };
    return `${className}(${Object.entries(config)
      .map(([k, c]) => `${k}=${option(c)}`)
      .join(' ')})`;
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The description as text (what a person reads). */
export function describeText(d: Description): string[] {
  const lines = [`${d.file}: ${d.format}`];
  for (const [k, v] of Object.entries(d.details)) lines.push(`  ${k}: ${v}`);
  if (d.inputShape) lines.push(`  input: ${formatShape(d.inputShape)}`);
  if (d.layers) {
    const rows = d.layers.map((l) => [
      `${l.name} (${l.className})`,
      formatShape(l.outputShape),
      count(l.params),
      Object.entries(l.options)
        .map(([k, v]) => `${k}=${option(v)}`)
        .join(' '),
    ]);
    const head = ['Layer (type)', 'Output shape', 'Params', 'Options'];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) =>
      `  ${r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : c === 3 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd();
    lines.push(line(head), ...rows.map(line));
  }
  if (d.tensors) {
    lines.push(`  ${d.tensors.length} tensors:`);
    for (const t of d.tensors) lines.push(`    ${t.name} ${t.dtype} [${t.shape.join(', ')}]`);
  }
  lines.push(`  parameters: ${count(d.params)}`);
  for (const n of d.notes) lines.push(`  note: ${n}`);
  return lines;
}

export async function inspect(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'inspect',
    argv,
    { ...COMMON_OPTIONS, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'one FILE' },
  );
  if (values.help) {
    process.stdout.write(`${INSPECT_HELP}\n`);
    return;
  }
  const file = resolveInput(positionals[0]!);
  const format = await detectFormat(file);
  const backend = await backendOf(values.backend);
  const d = await format.describe(file, backend);
  process.stdout.write(
    values.json ? `${JSON.stringify(d, null, 2)}\n` : `${describeText(d).join('\n')}\n`,
  );
}
