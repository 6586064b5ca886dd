/**
 * HDF5 for Keras files, through h5wasm (the HDF5 C library compiled to WebAssembly; its ESM
 * build embeds the module, so it runs in Node and browsers alike). h5wasm is loaded on first use
 * (a dynamic import: code that never reads a Keras file never pays for it) and works on files of
 * its in-memory file system: each file is written there, opened, read and closed, and removed
 * again, whatever happens (no leak across many loads).
 *
 * Reading a hostile file safely:
 *  - HDF5's errors throw (h5wasm's throwing error handler, instead of printing to stderr) and
 *    every exception of h5wasm, a wasm trap included, becomes ERR_GRU_FORMAT naming what was
 *    being read. After a trap the module's state cannot be trusted: the next file gets a fresh
 *    instance of h5wasm where the platform can import one (fresh()).
 *  - The tree is walked to a bounded depth and number of objects (hard links can make cycles).
 *  - A dataset or attribute is read only after its declared size is checked against the file's:
 *    Keras never compresses, so a declared size above the file's bytes is a forged file.
 *  - Link names are normalized: '\' becomes '/' (tf.keras on Windows wrote 'layers\gru\cell' as
 *    one link name; test/fixtures/real-models/SOURCES.md).
 *
 * Over 400 lines: reading and writing share the one h5wasm instance, its loading and its guards.
 */
import { GruError } from '../errors.js';

type H5Wasm = typeof import('h5wasm');
type Entity = ReturnType<InstanceType<H5Wasm['File']>['get']>;

/** The deepest group path walked, and the most objects: Keras files have a few hundred. */
const MAX_DEPTH = 12;
const MAX_OBJECTS = 20000;
/** HDF5 type classes (H5T_class_t). */
const H5T_FLOAT = 1;
const H5T_INTEGER = 0;
const H5T_STRING = 3;

let loading: Promise<H5Wasm> | null = null;
let fileCount = 0;
/** Instances made; after a trap the next one is imported anew (see fresh()). */
let instances = 0;
let poisoned = false;

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/**
 * A fresh h5wasm: its module evaluated again (hdf5_hl.js makes its wasm instance when it is
 * evaluated), by importing its resolved URL with a query, which ES module loaders take as another
 * module. Where the platform cannot resolve it (a bundle, a browser without import maps), the
 * one instance is kept: its calls still throw, as GruErrors.
 */
async function fresh(): Promise<H5Wasm> {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (instances > 0 && typeof resolve === 'function') {
    try {
      return (await import(
        /* @vite-ignore */ `${resolve('h5wasm')}?instance=${instances}`
      )) as H5Wasm;
    } catch {
      // fall back to the module as imported first
    }
  }
  return import('h5wasm');
}

/** h5wasm, ready, with HDF5's errors thrown (not printed). */
async function h5wasm(): Promise<H5Wasm> {
  if (poisoned) {
    poisoned = false;
    loading = null;
  }
  loading ??= (async () => {
    let mod: H5Wasm;
    try {
      mod = await fresh();
      const m = await mod.ready;
      m.activate_throwing_error_handler();
      instances++;
    } catch (e) {
      loading = null;
      throw new GruError(
        'ERR_GRU_BACKEND_UNAVAILABLE',
        `h5wasm (HDF5 for Keras files) could not be loaded: ${(e as Error).message}`,
      );
    }
    return mod;
  })();
  return loading;
}

/** A wasm trap leaves h5wasm's state unknown: the next file gets a fresh instance. */
function afterError(e: unknown, what: string): never {
  if (e instanceof GruError) throw e;
  if (e instanceof WebAssembly.RuntimeError) poisoned = true;
  const text = e instanceof Error ? e.message : String(e);
  // HDF5's error stack: its last line says what failed (truncated file, bad signature, ...).
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const detail = lines.filter((l) => /^#\d+:/.test(l)).pop() ?? lines[0] ?? 'unknown error';
  fail(
    `${what}: not a readable HDF5 file (${detail.replace(/^#\d+:\s*\S+ line \d+ in /, '').slice(0, 200)})`,
  );
}

/** A dataset as the tree describes it: its shape and element type, not yet read. */
export interface H5DatasetInfo {
  shape: number[];
  /** 'float' (4 or 8 bytes), 'int', 'string' or 'other'. */
  kind: 'float' | 'int' | 'string' | 'other';
  bytesPerElement: number;
}

/** An open HDF5 file (read side): a normalized path index and guarded reads. */
export class H5File {
  readonly #file: InstanceType<H5Wasm['File']>;
  readonly #fsName: string;
  readonly #mod: H5Wasm;
  readonly #size: number;
  readonly what: string;
  /** Normalized path ('layers/gru/cell/vars/0') -> the path h5wasm opens. */
  readonly #paths = new Map<string, string>();
  readonly #kinds = new Map<string, 'group' | 'dataset'>();
  #closed = false;

  private constructor(
    mod: H5Wasm,
    file: InstanceType<H5Wasm['File']>,
    fsName: string,
    size: number,
    what: string,
  ) {
    this.#mod = mod;
    this.#file = file;
    this.#fsName = fsName;
    this.#size = size;
    this.what = what;
  }

  /**
   * Opens the bytes in h5wasm's in-memory file system and indexes the tree. `owned`: the bytes
   * are the reader's own (a .keras entry it inflated), and become the file without a copy;
   * otherwise (a caller's .h5 bytes) they are copied, once. Either way the file's bytes are held
   * at most twice (keras-zip.ts states the budget), and unlinking the file on close drops them.
   */
  static async open(bytes: Uint8Array, what: string, owned = false): Promise<H5File> {
    const mod = await h5wasm();
    if (
      bytes.length < 8 ||
      bytes[0] !== 0x89 ||
      bytes[1] !== 0x48 ||
      bytes[2] !== 0x44 ||
      bytes[3] !== 0x46
    )
      fail(`${what}: not an HDF5 file (no \\x89HDF signature at its start)`);
    const fsName = `/gru-simd-keras-${++fileCount}.h5`;
    const FS = mod.FS!;
    let opened: H5File | null = null;
    try {
      // canOwn: Emscripten's MEMFS keeps the buffer as the file (h5wasm's types omit the option)
      FS.writeFile(fsName, bytes, { canOwn: owned } as unknown as { flags?: string });
      const file = new mod.File(fsName, 'r');
      opened = new H5File(mod, file, fsName, bytes.length, what);
      opened.#index();
      return opened;
    } catch (e) {
      if (opened !== null) opened.close();
      else removeFsFile(mod, fsName);
      return afterError(e, what);
    }
  }

  /** Walks the tree breadth first, bounded, recording every object under its normalized path. */
  #index(): void {
    const queue: { real: string; norm: string; depth: number }[] = [
      { real: '/', norm: '', depth: 0 },
    ];
    let count = 0;
    while (queue.length > 0) {
      const { real, norm, depth } = queue.shift()!;
      const group = real === '/' ? this.#file : this.#file.get(real);
      if (group === null || !(group instanceof this.#mod.Group)) continue;
      for (const name of group.keys()) {
        if (++count > MAX_OBJECTS) fail(`${this.what}: more than ${MAX_OBJECTS} HDF5 objects`);
        const childReal = real === '/' ? `/${name}` : `${real}/${name}`;
        const childNorm = (norm === '' ? '' : `${norm}/`) + name.replace(/\\/g, '/');
        // Soft links and links to other files are not followed.
        const type = this.#file.get_type(childReal);
        const M = this.#mod.Module;
        const kind = type === M.H5G_GROUP ? 'group' : type === M.H5G_DATASET ? 'dataset' : null;
        if (kind === null) continue;
        if (this.#paths.has(childNorm))
          fail(`${this.what}: two objects named '${childNorm.slice(0, 80)}'`);
        this.#paths.set(childNorm, childReal);
        this.#kinds.set(childNorm, kind);
        // Intermediate groups of a name with backslashes ('layers\gru\cell' holds 'layers/gru').
        const parts = childNorm.split('/');
        for (let i = 1; i < parts.length; i++) {
          const p = parts.slice(0, i).join('/');
          if (!this.#kinds.has(p)) this.#kinds.set(p, 'group');
        }
        if (kind === 'group') {
          if (depth + 1 >= MAX_DEPTH)
            fail(`${this.what}: HDF5 groups nest deeper than ${MAX_DEPTH}`);
          queue.push({ real: childReal, norm: childNorm, depth: depth + 1 });
        }
      }
    }
  }

  #guard<T>(what: string, body: () => T): T {
    if (this.#closed) throw new GruError('ERR_GRU_STATE', `${this.what} is closed`);
    try {
      return body();
    } catch (e) {
      return afterError(e, `${this.what}: ${what}`);
    }
  }

  /** 'group', 'dataset' or null for a normalized path ('' is the root). */
  kind(path: string): 'group' | 'dataset' | null {
    if (path === '') return 'group';
    return this.#kinds.get(path) ?? null;
  }

  /** The names directly under a normalized group path, in the file's order. */
  children(path: string): string[] {
    const prefix = path === '' ? '' : `${path}/`;
    const out = new Set<string>();
    for (const p of this.#kinds.keys()) {
      if (!p.startsWith(prefix) || p === path) continue;
      const rest = p.slice(prefix.length);
      if (rest !== '') out.add(rest.split('/')[0]!);
    }
    return [...out];
  }

  #entity(path: string): InstanceType<H5Wasm['Group']> | InstanceType<H5Wasm['Dataset']> {
    const real = path === '' ? '/' : this.#paths.get(path);
    if (real === undefined) fail(`${this.what}: no HDF5 object '${path.slice(0, 120)}'`);
    const e: Entity = real === '/' ? this.#file : this.#file.get(real);
    if (!(e instanceof this.#mod.Group || e instanceof this.#mod.Dataset))
      fail(`${this.what}: HDF5 object '${path.slice(0, 120)}' cannot be opened`);
    return e;
  }

  /** A dataset's shape and type, without reading it. */
  dataset(path: string): H5DatasetInfo {
    return this.#guard(`dataset '${path.slice(0, 120)}'`, () => {
      const e = this.#entity(path);
      if (!(e instanceof this.#mod.Dataset))
        fail(`${this.what}: '${path.slice(0, 120)}' is not a dataset`);
      const m = e.metadata;
      const shape = m.shape ?? [];
      // Every dataset is checked, read or not: a declared size counts toward what a model built
      // from the file may allocate.
      this.#checkSize(path, shape.reduce((a, b) => a * b, 1) * m.size);
      return { shape: [...shape], kind: typeKind(m), bytesPerElement: m.size };
    });
  }

  /** A float dataset's values as float32, after checking its shape against `shape`. */
  readFloats(path: string, shape: readonly number[]): Float32Array {
    const info = this.dataset(path);
    if (info.kind !== 'float' || (info.bytesPerElement !== 4 && info.bytesPerElement !== 8))
      fail(
        `${this.what}: '${path.slice(0, 120)}' holds ${info.bytesPerElement}-byte ${info.kind} values; Keras weights are float32 (or float64)`,
      );
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i]))
      fail(
        `${this.what}: '${path.slice(0, 120)}' is [${info.shape.join(', ')}], the layer needs [${shape.join(', ')}]`,
      );
    const count = shape.reduce((a, b) => a * b, 1);
    return this.#guard(`reading '${path.slice(0, 120)}'`, () => {
      const e = this.#entity(path) as InstanceType<H5Wasm['Dataset']>;
      const v = e.value;
      if (!(v instanceof Float32Array || v instanceof Float64Array) || v.length !== count)
        fail(`${this.what}: '${path.slice(0, 120)}' did not read as ${count} floats`);
      return v instanceof Float32Array ? v : Float32Array.from(v);
    });
  }

  #checkSize(path: string, bytes: number): void {
    if (!Number.isFinite(bytes) || bytes > this.#size)
      fail(
        `${this.what}: '${path.slice(0, 120)}' declares ${bytes} bytes, more than the file's ${this.#size} (Keras never compresses): a forged or truncated file`,
      );
  }

  /** The names of an object's attributes. */
  attributeNames(path: string): string[] {
    return this.#guard(`attributes of '${path.slice(0, 120)}'`, () =>
      Object.keys(this.#entity(path).attrs),
    );
  }

  /**
   * A string attribute (one string, or an array of strings such as layer_names), undefined when
   * absent; ERR_GRU_FORMAT when it is something else.
   */
  attributeStrings(path: string, name: string): string[] | undefined {
    return this.#guard(`attribute '${name}' of '${path.slice(0, 120)}'`, () => {
      const attrs = this.#entity(path).attrs;
      if (!Object.hasOwn(attrs, name)) return undefined;
      const a = attrs[name]!;
      const count = (a.shape ?? []).reduce((x: number, y: number) => x * y, 1);
      // Keras 3's empty weight_names is a float64 array of length 0.
      if (count === 0) return [];
      if (typeKind(a.metadata) !== 'string')
        fail(`${this.what}: attribute '${name}' of '${path.slice(0, 120)}' is not a string`);
      this.#checkSize(`${path}@${name}`, count * a.metadata.size);
      const v = a.value as unknown;
      const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
      if (list === null || !list.every((s) => typeof s === 'string'))
        fail(
          `${this.what}: attribute '${name}' of '${path.slice(0, 120)}' did not read as strings`,
        );
      return list as string[];
    });
  }

  /** One string attribute, undefined when absent. */
  attributeString(path: string, name: string): string | undefined {
    const list = this.attributeStrings(path, name);
    if (list === undefined) return undefined;
    if (list.length !== 1)
      fail(`${this.what}: attribute '${name}' of '${path.slice(0, 120)}' must be one string`);
    return list[0];
  }

  /** Closes the file and removes it from h5wasm's file system (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.close();
    } catch {
      // a file h5wasm could not read may not close cleanly: its FS copy is removed all the same
    }
    removeFsFile(this.#mod, this.#fsName);
  }
}

function typeKind(m: { type: number; vlen?: boolean }): H5DatasetInfo['kind'] {
  if (m.type === H5T_FLOAT) return 'float';
  if (m.type === H5T_INTEGER) return 'int';
  if (m.type === H5T_STRING) return 'string';
  return 'other';
}

function removeFsFile(mod: H5Wasm, name: string): void {
  try {
    mod.FS?.unlink(name);
  } catch {
    // not there (never written)
  }
}

/** Reads `bytes` as HDF5, runs `body`, and closes the file whatever happens. */
export async function withH5File<T>(
  bytes: Uint8Array,
  what: string,
  body: (file: H5File) => T,
  owned = false,
): Promise<T> {
  const file = await H5File.open(bytes, what, owned);
  try {
    return body(file);
  } finally {
    file.close();
  }
}

/** What to write: groups (with string attributes) and float32 datasets, by '/' path. */
export interface H5Tree {
  groups: { path: string; attrs?: Record<string, string | string[]> }[];
  datasets: { path: string; shape: number[]; data: Float32Array }[];
  rootAttrs?: Record<string, string | string[]>;
}

/** The bytes of an HDF5 file holding `tree` (groups first, in order, then datasets). */
export async function writeH5(tree: H5Tree): Promise<Uint8Array> {
  const mod = await h5wasm();
  const fsName = `/gru-simd-keras-${++fileCount}.h5`;
  try {
    const file = new mod.File(fsName, 'w');
    try {
      const attrs = (
        g: InstanceType<H5Wasm['Group']>,
        a: Record<string, string | string[]> | undefined,
      ) => {
        for (const [k, v] of Object.entries(a ?? {})) g.create_attribute(k, v);
      };
      attrs(file, tree.rootAttrs);
      for (const g of tree.groups) attrs(file.create_group(g.path), g.attrs);
      for (const d of tree.datasets)
        file.create_dataset({ name: d.path, data: d.data, shape: d.shape, dtype: '<f4' });
      file.flush();
    } finally {
      file.close();
    }
    return new Uint8Array(mod.FS!.readFile(fsName));
  } catch (e) {
    if (e instanceof GruError) throw e;
    if (e instanceof WebAssembly.RuntimeError) poisoned = true;
    throw new GruError('ERR_GRU_IO', `writing HDF5 failed: ${(e as Error).message}`);
  } finally {
    removeFsFile(mod, fsName);
  }
}

/** @internal For tests: the files h5wasm's file system holds now (none after every load). */
export async function _h5FsFiles(): Promise<string[]> {
  const mod = await h5wasm();
  return (mod.FS!.readdir('/') as string[]).filter((n) => n.startsWith('gru-simd-keras-'));
}

/** @internal For tests: the bytes of each file h5wasm's file system holds now. */
export async function _h5FsContents(): Promise<Uint8Array[]> {
  const mod = await h5wasm();
  const FS = mod.FS as unknown as {
    lookupPath(path: string): { node: { contents: Uint8Array } };
  };
  return (await _h5FsFiles()).map((n) => FS.lookupPath(`/${n}`).node.contents);
}

/** @internal For tests: as after a wasm trap, the next file gets a fresh h5wasm instance. */
export function _h5Poison(): void {
  poisoned = true;
}

/** @internal For tests: the h5wasm instances made so far. */
export function _h5Instances(): number {
  return instances;
}

/** @internal For tests: the bytes h5wasm's wasm memory holds now. */
export async function _h5MemoryBytes(): Promise<number> {
  const mod = await h5wasm();
  return (await mod.ready).HEAPU8.length;
}
