/**
 * Finds the root of the gru-simd package (the directory of its package.json) from the URL of
 * this module, so that files shipped beside the code (wasm/*.wasm, prebuilt addons) are found
 * whether the code runs from ts/backends/ (tsx) or dist/esm/backends/ (after tsc), in the repo
 * or under node_modules.
 *
 * Browser-safe: no static import of a node: module. Node reads with fs (dynamic import),
 * browsers walk up with fetch.
 */

const PACKAGE_NAME = 'gru-simd';

/** The URL of this module: the one place the loader code uses import.meta. */
export function moduleUrl(): string {
  return import.meta.url;
}

/** True under Node (not a browser, not a worker of one). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function isOurPackageJson(text: string): boolean {
  try {
    return (JSON.parse(text) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

function notFound(start: URL): Error {
  return new Error(`no package.json with name "${PACKAGE_NAME}" in ${start.href} or any directory above it`);
}

/**
 * Walks up from the directory of `start` to the nearest package.json named gru-simd and
 * returns that directory as a URL ending in '/'. `readText` returns the file's text, or
 * throws / returns null when it is absent. Synchronous so a Node-only caller (the native
 * backend) can pass `(u) => fs.readFileSync(u, 'utf8')` from its own static import of fs.
 */
export function packageRootFromSync(start: string | URL, readText: (file: URL) => string | null): URL {
  const first = new URL('.', start);
  for (let dir = first; ; ) {
    let text: string | null;
    try {
      text = readText(new URL('package.json', dir));
    } catch {
      text = null;
    }
    if (text !== null && isOurPackageJson(text)) return dir;
    const parent = new URL('..', dir);
    if (parent.href === dir.href) throw notFound(first);
    dir = parent;
  }
}

async function packageRootFrom(start: string | URL, readText: (file: URL) => Promise<string | null>): Promise<URL> {
  const first = new URL('.', start);
  for (let dir = first; ; ) {
    let text: string | null;
    try {
      text = await readText(new URL('package.json', dir));
    } catch {
      text = null;
    }
    if (text !== null && isOurPackageJson(text)) return dir;
    const parent = new URL('..', dir);
    if (parent.href === dir.href) throw notFound(first);
    dir = parent;
  }
}

let rootUrl: Promise<URL> | undefined;

/**
 * The package root as a URL ending in '/': a file: URL under Node, an http(s): URL in a
 * browser (found by fetching package.json in each parent directory of this module's URL).
 */
export function packageRootUrl(): Promise<URL> {
  rootUrl ??= (async () => {
    if (isNode()) {
      const fs = await import('node:fs/promises');
      return packageRootFrom(moduleUrl(), (u) => fs.readFile(u, 'utf8'));
    }
    return packageRootFrom(moduleUrl(), async (u) => {
      const res = await fetch(u);
      return res.ok ? res.text() : null;
    });
  })();
  // Do not cache a failure: a later call may succeed (e.g. a server that was not up yet).
  rootUrl.catch(() => {
    rootUrl = undefined;
  });
  return rootUrl;
}

/** Node only: the package root as a filesystem path (no trailing separator). */
export async function packageRoot(): Promise<string> {
  if (!isNode()) throw new Error('packageRoot() is for Node; use packageRootUrl() in a browser');
  const { fileURLToPath } = await import('node:url');
  const path = fileURLToPath(await packageRootUrl());
  return path.length > 1 ? path.replace(/[\\/]$/, '') : path;
}
