/**
 * The safetensors container (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * length N, N bytes of JSON (the header: per tensor { dtype, shape, data_offsets: [begin, end] }
 * relative to the data, and an optional `__metadata__` map of strings), then the data. F32
 * tensors (gru-simd's contract is fp32), and I64 where the caller asks for it (PyTorch stores
 * BatchNorm's num_batches_tracked as an int64 scalar): other dtypes are refused with their name.
 *
 * Reading trusts nothing in the file and checks everything before it allocates anything the
 * file's size does not pay for: the header length (at most MAX_HEADER_BYTES and what the file
 * holds), UTF-8, JSON nesting and the count of entries (counted before JSON.parse: a tensor
 * entry is 2 levels deep; at most MAX_TENSORS), what JSON.parse would make of the header
 * (jsonParseCost: with the tensors' copies, within twice the file plus JSON_ALLOWANCE), each entry's keys and types, shapes of safe
 * integers whose product cannot overflow, offsets in range, and the tensors tiling the data exactly (sorted by offset: each begins where the one
 * before ends, the last ends at the end of the file: no overlap, no hole). Every failure is a
 * GruError ERR_GRU_FORMAT that says what is wrong; nothing else escapes.
 *
 * Browser-safe: no node: module. Nothing here knows a model; ts/models/model-file.ts maps a
 * model's layers onto these tensors and its architecture onto the metadata.
 */
import { GruError } from '../errors.js';

/** A tensor to write: its name, its shape and its values (row-major, as the layers hold them). */
export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  /** 'F32' (default), or 'I64': each value (an integer) written as a little-endian int64. */
  dtype?: SafetensorsDtype;
}

/** The dtypes this codec reads and writes. */
export type SafetensorsDtype = 'F32' | 'I64';

/** Options of decodeSafetensors. */
export interface DecodeOptions {
  /** Accept I64 tensors (read into float32; each value must be an integer within 2^53). */
  int64?: boolean;
}

/** A tensor read: its shape and a copy of its values. */
export interface TensorRead {
  shape: number[];
  data: Float32Array;
  /** The file's dtype (an I64 tensor's values are converted to float32). */
  dtype: SafetensorsDtype;
}

/** What a file holds: its metadata strings and its tensors by name, in the header's order. */
export interface SafetensorsContents {
  metadata: Record<string, string>;
  tensors: Map<string, TensorRead>;
}

/** The largest header read (the safetensors library's own limit: 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * The most tensors a file may declare (a model of a thousand layers has a few thousand): a
 * header of millions of empty entries would cost JSON.parse many times its size.
 */
export const MAX_TENSORS = 65_536;
/** The deepest JSON a header may nest: { name: { shape: [ ... ] } } is 3. */
const MAX_HEADER_DEPTH = 3;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/**
 * The deepest nesting of arrays and objects in a JSON text, counted outside strings, stopping
 * at `limit + 1`: JSON.parse then never sees a text nested deeper than the format allows.
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** How many arrays and objects a JSON text opens at nesting level `level` (outside strings). */
function jsonContainersAt(text: string, level: number): number {
  let depth = 0;
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth === level) count++;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return count;
}

/**
 * An upper bound of the bytes JSON.parse makes of a text (Node 20's V8, measured on texts of
 * 100,000 repeats of each shape: an empty object 64 bytes, an empty array 40, a number or a
 * repeated string 8 in its array, a distinct string 32, an object of one distinct key 184):
 * per object 64, per array 40, per value 24, per key 64 more (its hidden class), per string 32
 * plus 2 per character. A text of tiny containers (`[{},{},...]`) takes ~20x its length.
 */
export function jsonParseCost(text: string): number {
  let cost = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) {
        inString = false;
        cost += 32 + 2 * (i - start);
      }
    } else if (c === 0x22) {
      inString = true;
      start = i;
    } else if (c === 0x7b) cost += 64 + 24;
    else if (c === 0x5b) cost += 40 + 24;
    else if (c === 0x2c) cost += 24;
    else if (c === 0x3a) cost += 64;
  }
  return cost;
}

/** What parsing a file's JSON may take beyond what the file's size pays for (small files). */
export const JSON_ALLOWANCE = 1 << 20;

/**
 * JSON.parse of a text the file gave, nesting bounded first; ERR_GRU_FORMAT naming `what`.
 * `maxParsedBytes`: what parsing it may make (jsonParseCost, checked before parsing), for a text
 * that is part of a file (a header, a config: each reader derives it from the file's size).
 */
export function parseJson(
  text: string,
  what: string,
  maxDepth: number,
  maxParsedBytes = Infinity,
): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth)
    fail(`${what} nests deeper than ${maxDepth} levels: not a gru-simd file`);
  if (maxParsedBytes !== Infinity) {
    const cost = jsonParseCost(text);
    if (cost > maxParsedBytes)
      fail(
        `${what} would take ~${cost} bytes parsed, over the ${maxParsedBytes} its file's size allows (a text dense in tiny values)`,
      );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return fail(`${what} is not valid JSON (${(e as Error).message})`);
  }
}

/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The file's bytes: the header (tensors in the order given, each 4-byte aligned in the data as
 * they follow each other; the header padded with spaces to a multiple of 8, as the safetensors
 * library writes it), then every tensor's values, little-endian.
 */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header)
      throw new GruError(
        'ERR_GRU_ARG',
        `two tensors (or a tensor and the metadata) named ${t.name}`,
      );
    const dtype = t.dtype ?? 'F32';
    if (dtype === 'I64' && !t.data.every((v) => Number.isInteger(v)))
      throw new GruError('ERR_GRU_ARG', `tensor ${t.name}: an I64 tensor must hold integers`);
    const bytes = t.data.length * (dtype === 'I64' ? 8 : 4);
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    if (t.dtype === 'I64') {
      for (let i = 0; i < t.data.length; i++)
        view.setBigInt64(at + i * 8, BigInt(t.data[i]!), true);
      at += t.data.length * 8;
      continue;
    }
    if (LITTLE_ENDIAN)
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i]!, true);
    at += t.data.length * 4;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** One tensor entry of the header, checked; `dataBytes` is what follows the header. */
function entryOf(name: string, value: unknown, dataBytes: number, int64: boolean): Entry {
  const where = `tensor '${name.length > 80 ? name.slice(0, 80) + '…' : name}'`;
  if (!isPlainObject(value)) fail(`${where}: its header entry must be an object`);
  for (const k of Object.keys(value))
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets')
      fail(`${where}: unknown header key '${k.slice(0, 40)}'`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') fail(`${where}: dtype must be a string`);
  if (dtype !== 'F32' && !(int64 && dtype === 'I64'))
    fail(
      `${where}: dtype ${JSON.stringify(dtype.slice(0, 20))} is not supported (only F32${int64 ? ' and I64' : ''}: gru-simd computes in float32)`,
    );
  const size = dtype === 'I64' ? 8 : 4;
  if (!Array.isArray(shape)) fail(`${where}: shape must be an array of integers`);
  // The product is bounded by the data's size as it grows: it can never overflow.
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      fail(`${where}: shape must hold integers >= 0, got ${JSON.stringify(d)}`);
    count *= d;
    if (count * size > dataBytes)
      fail(`${where}: shape [${shape.join(', ')}] needs more bytes than the file holds`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  )
    fail(`${where}: data_offsets must be [begin, end], two integers >= 0`);
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataBytes)
    fail(`${where}: data_offsets [${begin}, ${end}] are outside the ${dataBytes} bytes of data`);
  if (end - begin !== count * size)
    fail(
      `${where}: data_offsets hold ${end - begin} bytes, shape [${shape.join(', ')}] of ${dtype} needs ${count * size}`,
    );
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * The metadata and tensors of a safetensors file, every byte of it checked first (see the top
 * of this file); then each tensor copied out (so the file's buffer may be reused, and the
 * values are aligned whatever the header's length). ERR_GRU_FORMAT for anything wrong.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  what = 'the file',
  options: DecodeOptions = {},
): SafetensorsContents {
  const int64 = options.int64 === true;
  if (bytes.length < 8)
    fail(
      `${what} is ${bytes.length} bytes: too short for a safetensors file (8-byte header length first)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_HEADER_BYTES)
    fail(
      `${what}: its header length (${high * 2 ** 32 + low} bytes) is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`,
    );
  if (low > bytes.length - 8)
    fail(
      `${what}: its header length (${low} bytes) is more than the ${bytes.length - 8} bytes after it: truncated or not a safetensors file`,
    );
  if (low < 2) fail(`${what}: its header (${low} bytes) cannot hold a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + low));
  } catch {
    return fail(`${what}: its header is not UTF-8 text`);
  }
  if (!text.startsWith('{')) fail(`${what}: its header must be a JSON object (it starts with '{')`);
  const declared = jsonContainersAt(text, 2); // the entries and the metadata
  if (declared > MAX_TENSORS + 1)
    fail(`${what}: its header declares over ${MAX_TENSORS} tensors: not a gru-simd file`);
  const dataBytes = bytes.length - 8 - low;
  // What reading allocates: the parsed header, then copies of the data (at most its bytes):
  // together within twice the file plus JSON_ALLOWANCE.
  const header = parseJson(
    text,
    `${what}'s header`,
    MAX_HEADER_DEPTH,
    2 * bytes.length - dataBytes + JSON_ALLOWANCE,
  );
  if (!isPlainObject(header)) fail(`${what}: its header must be a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value)) fail(`${what}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail(`${what}: __metadata__.${k.slice(0, 40)} must be a string`);
        metadata[k] = v;
      }
    } else entries.push(entryOf(name, value, dataBytes, int64));
  }
  // The tensors must tile the data: sorted by offset, no gap, no overlap, nothing after.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at)
      fail(
        `${what}: tensor '${e.name.slice(0, 80)}' begins at byte ${e.begin} of the data, expected ${at} (tensors overlap or leave a gap)`,
      );
    at = e.end;
  }
  if (at !== dataBytes)
    fail(`${what}: the tensors cover ${at} bytes of data, and ${dataBytes} follow the header`);
  const tensors = new Map<string, TensorRead>();
  const start = 8 + low;
  for (const e of entries) {
    if (e.dtype === 'I64') {
      const n = (e.end - e.begin) / 8;
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(start + e.begin + i * 8, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
          fail(`${what}: tensor '${e.name.slice(0, 80)}' holds an int64 beyond 2^53`);
        data[i] = Number(v);
      }
      tensors.set(e.name, { shape: e.shape, data, dtype: 'I64' });
      continue;
    }
    const n = (e.end - e.begin) / 4;
    const data = new Float32Array(n);
    if (LITTLE_ENDIAN)
      new Uint8Array(data.buffer).set(bytes.subarray(start + e.begin, start + e.end));
    else for (let i = 0; i < n; i++) data[i] = view.getFloat32(start + e.begin + i * 4, true);
    tensors.set(e.name, { shape: e.shape, data, dtype: 'F32' });
  }
  return { metadata, tensors };
}
