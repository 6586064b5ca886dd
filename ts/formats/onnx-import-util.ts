/**
 * Small readers shared by the ONNX importer's files (onnx-import.ts, onnx-walk*.ts): node
 * attributes with their types checked, a node's name for messages, and weight reshuffles.
 */
import { formatError, type OnnxAttribute, type OnnxNode } from './onnx-proto.js';
import type { ConstValue } from './onnx-values.js';

export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}

export function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  if (a === undefined) return fallback;
  if (a.type !== 'int') formatError(`${where(node)}: attribute ${name} is not an INT`);
  return a.value;
}

export function floatAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  if (a === undefined) return fallback;
  if (a.type !== 'float') formatError(`${where(node)}: attribute ${name} is not a FLOAT`);
  return a.value;
}

export function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  if (a === undefined) return undefined;
  if (a.type !== 'ints') formatError(`${where(node)}: attribute ${name} is not INTS`);
  return a.value;
}

export function where(node: OnnxNode): string {
  return `node ${JSON.stringify(node.name)} (${node.opType})`;
}

export const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

/** HardSigmoid(alpha, beta) as one of the model API's names. */
export function hardSigmoid(
  alpha: number,
  beta: number,
  what: string,
): 'hardSigmoid' | 'hardSigmoidKeras2' {
  if (close(beta, 0.5) && close(alpha, 0.2)) return 'hardSigmoidKeras2';
  if (close(beta, 0.5) && close(alpha, 1 / 6)) return 'hardSigmoid';
  return formatError(
    `${what}: HardSigmoid with alpha ${alpha} and beta ${beta} (supported: alpha 0.2 or 1/6 with beta 0.5)`,
  );
}

export function intsOrFloats(a: OnnxAttribute | undefined): number[] | undefined {
  if (a === undefined) return undefined;
  if (a.type === 'floats' || a.type === 'ints') return a.value;
  return undefined;
}

export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/** A bias constant of `out` values ([out], [1, out], a scalar broadcast). */
export function broadcastBias(c: ConstValue, out: number, what: string): Float32Array {
  const f = c.floats!;
  if (f.length === out && c.dims.slice(0, -1).every((d) => d === 1)) return f.slice();
  if (f.length === 1) return new Float32Array(out).fill(f[0]!);
  return formatError(`${what}: a bias of shape [${c.dims.join(', ')}] for ${out} features`);
}
