/**
 * The native backend: the N-API addon gru_simd.node (native/addon). The npm package ships it
 * prebuilt for some platforms (prebuilds/<platform>-<arch>/, made at pack time by
 * scripts/prebuild.mjs); elsewhere the install script builds it with cmake-js into
 * build/Release/ (node-gyp and sanitizer builds are used through GRU_SIMD_ADDON).
 *
 * The addon is one generic caller: bind(ABI, GruError) turns the C ABI's description
 * (abi.generated.ts) into one function per C function, which checks JS types, passes typed
 * arrays to the core without a copy (an async call on copies it owns), and throws
 * GruError(code, message) for a failed status.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GruError } from '../errors.js';
import { ABI, type AbiCalls } from './abi.generated.js';
import { type Backend, makeBackend } from './backend.js';
import { moduleUrl, packageRootFromSync } from './locate.js';

interface Addon {
  bind(abi: typeof ABI, errorClass: typeof GruError): AbiCalls;
}

/**
 * An async call's failure, with the stack of the caller captured before the call went off the
 * event loop (the addon makes its error on the JS thread after the join, with no JS frames).
 */
function withCallerStack<A extends unknown[], R>(
  start: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async function callsTheAddon(...args: A): Promise<R> {
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, callsTheAddon);
    try {
      return await start(...args);
    } catch (e) {
      const frames = site.stack?.indexOf('\n') ?? -1;
      if (e instanceof Error && frames >= 0)
        e.stack = `${e.name}: ${e.message}${(site.stack as string).slice(frames)}`;
      throw e;
    }
  };
}

/** How to get a native addon where there is none: shown when the default paths are empty. */
const HOW_TO_BUILD =
  'install a C++17 compiler and cmake, then run `npm rebuild gru-simd` ' +
  '(where npm blocks install scripts, first `npm install-scripts approve gru-simd`)';

/**
 * Where to load the addon from: options.addonPath, else the environment variable
 * GRU_SIMD_ADDON, else the first that exists of <package root>/build/Release/gru_simd.node (a
 * build from source, which wins over the shipped binary: a developer's fresh build, or the
 * install script's on a platform without a prebuild) and
 * <package root>/prebuilds/<platform>-<arch>/gru_simd.node. Throws when none exists.
 */
function addonLocation(addonPath: string | undefined): { path: string; source: string } {
  if (addonPath !== undefined) return { path: addonPath, source: 'options.addonPath' };
  const fromEnv = process.env.GRU_SIMD_ADDON;
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: 'GRU_SIMD_ADDON' };
  let root: string;
  try {
    root = fileURLToPath(packageRootFromSync(moduleUrl(), (u) => readFileSync(u, 'utf8')));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new GruError('ERR_GRU_BACKEND_UNAVAILABLE', `native addon not found: ${why}`);
  }
  const target = `${process.platform}-${process.arch}`;
  const candidates = [
    { path: join(root, 'build', 'Release', 'gru_simd.node'), source: 'the local build' },
    {
      path: join(root, 'prebuilds', target, 'gru_simd.node'),
      source: `the prebuilt binary for ${target}`,
    },
  ];
  const found = candidates.find((c) => existsSync(c.path));
  if (found) return found;
  throw new GruError(
    'ERR_GRU_BACKEND_UNAVAILABLE',
    `no native addon for ${target}: no prebuilt binary ships for it and none was built from source ` +
      `(looked for ${candidates.map((c) => c.path).join(' and ')}); for the native backend, ${HOW_TO_BUILD}`,
  );
}

/**
 * Loads the addon (see addonLocation for where) and returns a Backend over it.
 * Throws GruError ERR_GRU_BACKEND_UNAVAILABLE naming the path tried and why it failed.
 */
/**
 * Loads the addon (see addonLocation for where) and returns a Backend over it.
 * Throws GruError ERR_GRU_BACKEND_UNAVAILABLE naming the path tried and why it failed.
 */
export function loadNativeBackend(options?: { addonPath?: string }): Backend {
  const requireAddon = createRequire(moduleUrl());
  const location = addonLocation(options?.addonPath);
  const path = resolve(location.path); // a relative path is taken from the working directory, not a package
  const where = `${path} (${location.source})`;
  let addon: Addon;
  try {
    addon = requireAddon(path) as Addon;
  } catch (err) {
    // First line only: Node appends the whole "Require stack" to a missing module's message.
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon could not be loaded from ${where}: ${why}`,
    );
  }
  if (typeof addon?.bind !== 'function') {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon at ${where} is not gru_simd.node of this version: it exports no bind()`,
    );
  }
  let calls: AbiCalls;
  try {
    calls = addon.bind(ABI, GruError);
  } catch (err) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon at ${where}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const wrapped: Record<string, unknown> = { ...calls };
  for (const fn of ABI) {
    if (fn.async) {
      const key = `${fn.method}Async`;
      wrapped[key] = withCallerStack(
        (calls as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[key]!,
      );
    }
  }
  return makeBackend('native', wrapped as unknown as AbiCalls);
}
