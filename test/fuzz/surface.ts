/**
 * The public surface the fuzzer must cover, read at run time so that new API is seen the day it
 * lands: every export of ts/api.ts (a function: its name; a class: `new C` and every member of
 * its prototype chain up to Object / Error, getters and setters included, as `C.member`; a
 * namespace: `ns.fn`), and every function-valued member of the Backend object loadBackend()
 * returns (`Backend.method`: the generated C ABI methods, their Async variants and what
 * makeBackend adds).
 *
 * Left out: members whose name starts with '_' (@internal), and the members TypeScript declares
 * protected, which JavaScript cannot hide (PROTECTED). A new protected member must be added
 * there, with its class: the coverage test fails until it is either fuzzed or listed.
 */
import * as api from '../../ts/api.js';
import type { Backend } from '../../ts/backends/backend.js';
import { ModelLayer } from '../../ts/models/layer.js';
import { LRSchedule } from '../../ts/schedules.js';

/** [base class, member]: protected in TypeScript, on the prototypes of the base's subclasses. */
export const PROTECTED: readonly [{ prototype: object }, string][] = [
  [LRSchedule, 'lrAt'], // each schedule's formula, called by step()
  [ModelLayer, 'build'], // makes the core layers, called by Sequential
  [ModelLayer, 'expect'], // a shape check of build()
  [ModelLayer, 'lastAxisFeatures'], // build()'s shape check of last-axis layers
  [ModelLayer, 'input'], // forward()'s check of x
  [ModelLayer, 'gradient'], // backward()'s check of dy
  [ModelLayer, 'supportsMasking'], // whether _forwardMasked takes a mask
];

function isClass(fn: unknown): fn is new (...a: unknown[]) => unknown {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function isProtected(C: new (...a: unknown[]) => unknown, member: string): boolean {
  return PROTECTED.some(
    ([Base, m]) =>
      m === member &&
      (C.prototype === Base.prototype ||
        Object.prototype.isPrototypeOf.call(Base.prototype, C.prototype)),
  );
}

function members(C: new (...a: unknown[]) => unknown): string[] {
  const out = new Set<string>();
  for (
    let proto = C.prototype as object | null;
    proto && proto !== Object.prototype && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const m of Object.getOwnPropertyNames(proto))
      if (m !== 'constructor' && !m.startsWith('_') && !isProtected(C, m)) out.add(m);
  }
  for (const m of Object.getOwnPropertyNames(C))
    if (!['length', 'name', 'prototype'].includes(m) && !m.startsWith('_')) out.add(`static ${m}`);
  return [...out];
}

/** Every public name, as the fuzzer's ops are named. */
export function publicSurface(backend: Backend): string[] {
  const names = new Set<string>();
  for (const [name, value] of Object.entries(api)) {
    if (isClass(value)) {
      names.add(`new ${name}`);
      for (const m of members(value)) names.add(`${name}.${m}`);
    } else if (typeof value === 'function') {
      names.add(name);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value))
        if (typeof v === 'function') names.add(`${name}.${k}`);
    }
  }
  for (const [k, v] of Object.entries(backend))
    if (typeof v === 'function') names.add(`Backend.${k}`);
  return [...names].sort();
}
