/**
 * Where model files go and come from (save(), saveWeights(), loadModel(), loadWeights()):
 *   a file path           Node only (a 'file://' URL too) (ts/models/storage-node.ts, registered by the Node entry);
 *                         written atomically: a temporary file beside it, fsync, rename
 *   'indexeddb://name'    browsers: IndexedDB database 'gru-simd', store 'models', key name
 *                         (one transaction: the old record or the new one, never half)
 *   'http(s)://...', URL  loading only, with fetch (in browsers any other string is a URL too)
 *   Uint8Array, ArrayBuffer  loading only: the bytes themselves (toBytes() gives them)
 * Browser-safe: no node: module here; the Node entry adds file access through setFileAccess().
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';

/** Where a model file is read from. */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

/** @internal What the Node entry gives: files, written atomically. */
export interface FileAccess {
  read(path: string): Promise<Uint8Array>;
  writeAtomic(path: string, bytes: Uint8Array): Promise<void>;
}

let files: FileAccess | null = null;

/** @internal Called once by ts/platform-node.ts. */
export function setFileAccess(access: FileAccess): void {
  files = access;
}

const INDEXEDDB = 'indexeddb://';
const DB_NAME = 'gru-simd';
const STORE = 'models';

function io(message: string): never {
  throw new GruError('ERR_GRU_IO', message);
}

/** The IndexedDB key of 'indexeddb://name', or null for another string. */
function indexedDbKey(name: string, value: string): string | null {
  if (!value.startsWith(INDEXEDDB)) return null;
  const key = value.slice(INDEXEDDB.length);
  if (key === '')
    throw new GruError('ERR_GRU_ARG', `${name}: 'indexeddb://' needs a name after it`);
  return key;
}

function openDb(): Promise<IDBDatabase> {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (idb === undefined)
    io(
      "IndexedDB is not available here ('indexeddb://' is for browsers; in Node give a file path)",
    );
  return new Promise((resolve, reject) => {
    const req = idb.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new GruError('ERR_GRU_IO', `IndexedDB: ${req.error?.message}`));
  });
}

async function inStore<T>(
  mode: IDBTransactionMode,
  body: (s: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = body(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = tx.onabort = () =>
        reject(new GruError('ERR_GRU_IO', `IndexedDB: ${(tx.error ?? req.error)?.message}`));
    });
  } finally {
    db.close();
  }
}

/** The path of a 'file://' URL (Node takes them as paths), or the string itself. */
function fileUrlPath(value: string): string {
  if (!/^file:\/\//i.test(value)) return value;
  try {
    return decodeURIComponent(new URL(value).pathname);
  } catch {
    return value;
  }
}

/** Writes the bytes to `destination` (a path, or 'indexeddb://name'). */
export async function writeModelBytes(
  name: string,
  destination: unknown,
  bytes: Uint8Array,
): Promise<void> {
  if (typeof destination !== 'string' || destination === '') {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a file path or 'indexeddb://name' (toBytes() gives the bytes), got ${check.describe(destination)}`,
    );
  }
  const key = indexedDbKey(name, destination);
  if (key !== null) {
    await inStore('readwrite', (s) => s.put(bytes, key));
    return;
  }
  const target = fileUrlPath(destination);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name}: saving to ${check.describe(destination)} is not supported: give a file path (Node) or 'indexeddb://name', or send toBytes() yourself`,
    );
  }
  if (files === null)
    io(`${name}: files are written in Node only; in browsers use 'indexeddb://name' or toBytes()`);
  await files.writeAtomic(target, bytes);
}

/** The bytes of a model file from `source` (see the top of this file). */
export async function readModelBytes(name: string, source: unknown): Promise<Uint8Array> {
  if (check.isRevokedProxy(source))
    throw new GruError('ERR_GRU_ARG', `${name} must be a path, URL or bytes, got a revoked Proxy`);
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  let where: string;
  if (source instanceof URL) where = source.href;
  else if (typeof source === 'string' && source !== '') where = source;
  else {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a file path, a URL, 'indexeddb://name', a Uint8Array or an ArrayBuffer, got ${check.describe(source)}`,
    );
  }
  const key = indexedDbKey(name, where);
  if (key !== null) {
    const value = await inStore<unknown>('readonly', (s) => s.get(key));
    if (value === undefined) io(`IndexedDB has no model named ${JSON.stringify(key)}`);
    if (!(value instanceof Uint8Array))
      io(`IndexedDB's record ${JSON.stringify(key)} is not a model file`);
    return value;
  }
  const url = /^https?:\/\//i.test(where) || files === null;
  if (!url) return files!.read(fileUrlPath(where));
  let response: Response;
  try {
    response = await fetch(where);
  } catch (e) {
    return io(`fetching ${where} failed: ${(e as Error).message}`);
  }
  if (!response.ok) io(`fetching ${where} failed: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}
