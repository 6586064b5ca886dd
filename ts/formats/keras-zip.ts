/**
 * The `.keras` container: a zip (Keras 3, and tf.keras 2.13+ in its "v3" format) holding
 *   metadata.json      { keras_version, date_saved }
 *   config.json        the model's architecture (module, class_name, config, build_config, ...)
 *   model.weights.h5   the variables, one HDF5 group per layer (./keras-h5.ts)
 *   assets/            layers' files (text vocabularies): none for the layers gru-simd offers
 * read and written with fflate.
 *
 * Reading is bounded by the file's size: the zip's central directory (read here: a few fixed
 * offsets) gives each entry's declared uncompressed size, and the entries read must declare at
 * most twice the zip's bytes together plus 1 MiB (ZIP_ALLOWANCE), or the file is refused before
 * anything is inflated (a zip bomb is refused, not expanded). Each entry is then inflated into a buffer of its declared size
 * by fflate's streaming Inflate, fed 512 bytes at a time: an entry that inflates to more than it
 * declares is refused as soon as it does (what one 512-byte push can yield, at most ~0.5 MiB at
 * deflate's 1032:1, is the only transient beyond the declared bytes), and one that yields less
 * is refused at its end. model.weights.h5's buffer then becomes h5wasm's file itself (keras-h5.ts,
 * `owned`): no further copy. Parsing config.json and metadata.json takes what is left of the same
 * budget (jsonBudget): reading a .keras file holds at most 2x its size + 1 MiB.
 */
import { GruError } from '../errors.js';

type Fflate = typeof import('fflate');
let fflate: Promise<Fflate> | null = null;

/**
 * fflate, imported on the first Keras file (as h5wasm: ./keras-h5.ts), so that the library's
 * module graph has no bare import a page without a bundler or import map could not resolve.
 */
function zipLib(): Promise<Fflate> {
  fflate ??= import('fflate').catch((e: unknown) => {
    fflate = null;
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `fflate (zip for .keras files) could not be loaded: ${(e as Error).message}`,
    );
  });
  return fflate;
}

export interface KerasZip {
  config: string;
  metadata: string | null;
  weights: Uint8Array;
  /** The bytes the entries read take (their declared sizes), charged to the file's budget. */
  held: number;
}

/**
 * What parsing a Keras file's JSON (config.json and metadata.json, or an .h5's model_config)
 * may take: what is left of twice the file plus 1 MiB once `held` bytes are taken (a .keras:
 * its entries; an .h5: h5wasm's copy of the file). Reading a Keras file then holds at most
 * 2x its size + 1 MiB besides the weights' values (each checked against the file's bytes).
 */
export function jsonBudget(fileBytes: number, held: number): number {
  return 2 * fileBytes + ZIP_ALLOWANCE - held;
}

/** The entries read; others (assets/) are left unread. */
const WANTED = ['config.json', 'metadata.json', 'model.weights.h5'];

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/** Whether the bytes start as a zip does ('PK\x03\x04'). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4
  );
}

/** An entry of the zip's central directory. */
interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Where its local header starts. */
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The entries of the central directory (zip's APPNOTE 4.3.12, 4.3.16). */
function centralDirectory(bytes: Uint8Array, what: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // the end-of-central-directory record: 22 bytes and a comment of up to 65535, at the end
  let end = bytes.length - 22;
  const lowest = Math.max(0, bytes.length - 22 - 65535);
  while (end >= lowest && view.getUint32(end, true) !== EOCD) end--;
  if (end < lowest) fail(`${what}: not a readable zip (no end of central directory)`);
  const count = view.getUint16(end + 10, true);
  const size = view.getUint32(end + 12, true);
  const offset = view.getUint32(end + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff)
    fail(`${what}: a zip64 archive (over 4 GiB or 65535 entries): not supported`);
  if (offset + size > end) fail(`${what}: not a readable zip (its directory runs past its end)`);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > offset + size || view.getUint32(at, true) !== CENTRAL)
      fail(`${what}: not a readable zip (directory entry ${i} is damaged)`);
    const nameLength = view.getUint16(at + 28, true);
    const next =
      at + 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (next > offset + size)
      fail(`${what}: not a readable zip (directory entry ${i} runs past it)`);
    if (view.getUint16(at + 8, true) & 1) fail(`${what}: the zip is encrypted`);
    entries.push({
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at = next;
  }
  return entries;
}

/** An entry's compressed bytes: after its local header (whose name and extra lengths may differ). */
function entryData(bytes: Uint8Array, e: ZipEntry, what: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = e.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL)
    fail(`${what}: not a readable zip ('${e.name}' has no local header where its directory says)`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + e.compressedSize > bytes.length)
    fail(`${what}: '${e.name}' runs past the end of the zip (a truncated file)`);
  return bytes.subarray(start, start + e.compressedSize);
}

/** Bytes of compressed data fed to the inflater at once (see the top of this file). */
const INFLATE_STEP = 512;

/** An entry's bytes, into a buffer of its declared size; refused as soon as it yields more. */
function inflateEntry(fflate: Fflate, data: Uint8Array, e: ZipEntry, what: string): Uint8Array {
  if (e.method === 0) {
    if (e.compressedSize !== e.size)
      fail(
        `${what}: stored '${e.name}' holds ${e.compressedSize} bytes, its header says ${e.size}`,
      );
    return data.slice(); // a copy of its own: h5wasm's file system may own it
  }
  const out = new Uint8Array(e.size);
  let written = 0;
  let ended = false;
  const inflate = new fflate.Inflate((chunk, final) => {
    if (written + chunk.length > e.size)
      fail(`${what}: '${e.name}' inflates to more than the ${e.size} bytes its header declares`);
    out.set(chunk, written);
    written += chunk.length;
    ended ||= final;
  });
  try {
    for (let at = 0; at < data.length; at += INFLATE_STEP)
      inflate.push(data.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= data.length);
    if (data.length === 0) inflate.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof GruError) throw err;
    return fail(`${what}: '${e.name}' does not inflate (${(err as Error).message})`);
  }
  if (!ended || written !== e.size)
    fail(`${what}: '${e.name}' inflated to ${written} bytes, its header says ${e.size}`);
  return out;
}

/**
 * What the entries may declare beyond twice the zip: Keras's HDF5 files pad every group and
 * dataset (20 KB for a model of 200 parameters), so a small .keras re-zipped with deflate
 * shrinks ~8x (gru-reset-after.keras: 24,699 bytes stored, 2,933 deflated).
 */
const ZIP_ALLOWANCE = 1 << 20;

/** The three entries of a `.keras` zip (see the top of this file). */
export async function readKerasZip(bytes: Uint8Array, what: string): Promise<KerasZip> {
  const fflate = await zipLib();
  if (!isZip(bytes)) fail(`${what}: not a .keras file (a zip starts with 'PK')`);
  const wanted = new Map<string, ZipEntry>();
  for (const e of centralDirectory(bytes, what)) {
    if (!WANTED.includes(e.name)) continue;
    if (wanted.has(e.name)) fail(`${what}: the zip holds '${e.name}' twice`);
    if (e.method !== 0 && e.method !== 8)
      fail(
        `${what}: '${e.name}' uses zip compression method ${e.method} (only stored and deflate)`,
      );
    wanted.set(e.name, e);
  }
  // The budget: what the entries declare, together, against twice the zip's bytes (+ 1 MiB).
  const limit = 2 * bytes.length + ZIP_ALLOWANCE;
  const declared = [...wanted.values()].reduce((sum, e) => sum + e.size, 0);
  if (declared > limit)
    fail(
      `${what}: its entries declare ${declared} bytes uncompressed (${[...wanted.values()].map((e) => `'${e.name}' ${e.size}`).join(', ')}), over the ${limit} (twice the file, plus 1 MiB) a zip of ${bytes.length} bytes may take`,
    );
  const files = new Map<string, Uint8Array>();
  for (const e of wanted.values())
    files.set(e.name, inflateEntry(fflate, entryData(bytes, e, what), e, what));
  const text = (name: string): string | null => {
    const b = files.get(name);
    if (b === undefined) return null;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return fail(`${what}: '${name}' is not UTF-8 text`);
    }
  };
  const config = text('config.json');
  if (config === null) fail(`${what}: the zip has no config.json (not a .keras model file)`);
  const weights = files.get('model.weights.h5');
  if (weights === undefined)
    fail(`${what}: the zip has no model.weights.h5 (a .keras file without its weights)`);
  return { config, metadata: text('metadata.json'), weights, held: declared };
}

/** A `.keras` zip of the three entries (deflated JSON, stored HDF5: Keras reads both). */
export async function writeKerasZip(zip: {
  config: string;
  metadata: string;
  weights: Uint8Array;
}): Promise<Uint8Array> {
  const { strToU8, zipSync } = await zipLib();
  // A fixed date: the same model gives the same zip.
  const mtime = new Date(Date.UTC(2020, 0, 1));
  return zipSync(
    {
      'metadata.json': [strToU8(zip.metadata), { level: 6, mtime }],
      'config.json': [strToU8(zip.config), { level: 6, mtime }],
      'model.weights.h5': [zip.weights, { level: 0, mtime }],
    },
    {},
  );
}
