/**
 * Model files in Node (storage.ts's FileAccess, registered by ts/platform-node.ts; browser
 * bundles never see this file).
 *
 * An atomic save: the bytes go to a new temporary file in the destination's directory (the same
 * file system, so rename is atomic), which is fsynced (its data on disk), renamed over the
 * destination (readers see the old file or the new one, never a part), and the directory is
 * fsynced (the rename itself survives a power cut). A process killed at any point leaves the
 * previous file whole, and at worst a stray '.<name>.<pid>.<random>.tmp' beside it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { GruError } from '../errors.js';
import type { FileAccess } from './storage.js';

function ioError(what: string, file: string, e: unknown): GruError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : (e as Error)?.message;
  return new GruError('ERR_GRU_IO', `${what} ${file}: ${reason}`);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return; // Windows cannot open a directory: its rename is durable enough there
  }
  try {
    await handle.sync();
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL, EISDIR): the rename still happened.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await handle.close();
  }
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await mkdir(dir, { recursive: true }); // as tfjs's file:// saving and Keras's checkpoints
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw ioError('cannot write', file, e);
  }
  try {
    await syncDirectory(dir);
  } catch (e) {
    throw ioError('cannot sync the directory of', file, e);
  }
}

async function read(file: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(file);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    throw ioError('cannot read', file, e);
  }
}

export const nodeFiles: FileAccess = { read, writeAtomic };
