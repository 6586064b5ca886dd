/**
 * The `.keras` container: a zip (Keras 3, and tf.keras 2.13+ in its "v3" format) holding
 *   metadata.json      { keras_version, date_saved }
 *   config.json        the model's architecture (module, class_name, config, build_config, ...)
 *   model.weights.h5   the variables, one HDF5 group per layer (./keras-h5.ts)
 *   assets/            layers' files (text vocabularies): none for the layers gru-simd offers
 * read and written with fflate. Reading checks each entry's declared size before inflating it
 * (at most twice the zip's bytes plus 1 MiB, so a zip bomb is refused, not expanded), and an
 * inflate that yields more or less than declared is a format error.
 */
import type { Unzipped } from 'fflate';
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

/** The three entries of a `.keras` zip (see the top of this file). */
export async function readKerasZip(bytes: Uint8Array, what: string): Promise<KerasZip> {
  const { unzipSync } = await zipLib();
  if (!isZip(bytes)) fail(`${what}: not a .keras file (a zip starts with 'PK')`);
  const limit = 2 * bytes.length + (1 << 20);
  const declared = new Map<string, number>();
  let files: Unzipped;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (!WANTED.includes(f.name)) return false;
        if (declared.has(f.name)) fail(`${what}: the zip holds '${f.name}' twice`);
        if (!(f.originalSize >= 0) || f.originalSize > limit)
          fail(
            `${what}: '${f.name}' declares ${f.originalSize} bytes uncompressed, over the ${limit} a zip of ${bytes.length} bytes may hold here`,
          );
        if (f.compression !== 0 && f.compression !== 8)
          fail(
            `${what}: '${f.name}' uses zip compression method ${f.compression} (only stored and deflate)`,
          );
        declared.set(f.name, f.originalSize);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof GruError) throw e;
    return fail(`${what}: not a readable zip (${(e as Error).message})`);
  }
  for (const [name, size] of declared)
    if (files[name]?.length !== size)
      fail(`${what}: '${name}' inflated to ${files[name]?.length} bytes, its header says ${size}`);
  const text = (name: string): string | null => {
    const b = files[name];
    if (b === undefined) return null;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return fail(`${what}: '${name}' is not UTF-8 text`);
    }
  };
  const config = text('config.json');
  if (config === null) fail(`${what}: the zip has no config.json (not a .keras model file)`);
  const weights = files['model.weights.h5'];
  if (weights === undefined)
    fail(`${what}: the zip has no model.weights.h5 (a .keras file without its weights)`);
  return { config, metadata: text('metadata.json'), weights };
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
