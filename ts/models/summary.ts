/**
 * model.summary()'s text, as Keras prints it: one row per layer (name (type), output shape with
 * None for the batch, parameter count), then the totals with their float32 size.
 */
import { formatShape, type Shape } from './tensor.js';

export interface SummaryRow {
  name: string;
  className: string;
  outputShape: Shape;
  params: number;
}

/** Keras's readable_memory_size: 1024-based units, two decimals. */
export function readableBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v / 1024 >= 1 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

export function summaryLines(
  modelName: string,
  rows: readonly SummaryRow[],
  trainable: number,
  nonTrainable: number,
): string[] {
  const cells = rows.map((r) => [
    `${r.name} (${r.className})`,
    formatShape([null, ...r.outputShape]),
    count(r.params),
  ]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)) + 2);
  widths[0] = Math.max(widths[0]!, 29);
  widths[1] = Math.max(widths[1]!, 26);
  const line = (row: readonly string[]): string =>
    row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('');
  const total = widths.reduce((a, b) => a + b, 0);
  const bytes = (n: number): string => `${count(n)} (${readableBytes(n * 4)})`;
  return [
    `Model: "${modelName}"`,
    '_'.repeat(total),
    line(head),
    '='.repeat(total),
    ...cells.flatMap((row, i) => (i === 0 ? [line(row)] : ['', line(row)])),
    '='.repeat(total),
    `Total params: ${bytes(trainable + nonTrainable)}`,
    `Trainable params: ${bytes(trainable)}`,
    `Non-trainable params: ${bytes(nonTrainable)}`,
    '_'.repeat(total),
  ];
}
