/**
 * Finds the root of the gru-simd package (the directory of its package.json) from the URL of
 * this module, so that files shipped beside the code (wasm/*.wasm, prebuilt addons) are found
 * under Node whether the code runs from ts/backends/ (tsx), dist/esm/backends/ (after tsc) or
 * the CommonJS bundle, in the repo or under node_modules.
 *
 * Browser-safe: it references no node: module; the caller passes its own file reader. (In a
 * browser the wasm modules are found by a literal URL instead: see defaultWasmUrl in wasm.ts.)
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
  return new Error(
    `no package.json with name "${PACKAGE_NAME}" in ${start.href} or any directory above it`,
  );
}

/**
 * Walks up from the directory of `start` to the nearest package.json named gru-simd and
 * returns that directory as a URL ending in '/'. `readText` returns the file's text, or
 * throws / returns null when it is absent. Synchronous so a Node-only caller (the native
 * backend) can pass `(u) => fs.readFileSync(u, 'utf8')` from its own static import of fs.
 */
export function packageRootFromSync(
  start: string | URL,
  readText: (file: URL) => string | null,
): URL {
  const first = new URL('.', start);
  for (let dir = first; ;) {
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
