/**
 * State dicts, shared by GRU, Dense and Embedding: every parameter by name, and loading one back
 * with every tensor checked before any is written.
 */
import { GruError } from './errors.js';
import * as check from './validate.js';

/** What a layer with named parameters offers. */
export interface NamedParameters {
  parameterNames(): string[];
  parameterShape(name: string): number[];
  getParameter(name: string): Float32Array;
  setParameter(name: string, data: Float32Array): void;
}

/** Every parameter of the layer, copied, by name. */
export function stateDictOf(layer: NamedParameters): Record<string, Float32Array> {
  const dict: Record<string, Float32Array> = {};
  for (const name of layer.parameterNames()) dict[name] = layer.getParameter(name);
  return dict;
}

/**
 * Sets the layer's parameters from dict. strict (default): the dict must hold exactly the
 * layer's parameters. All or nothing: each entry is read once and copied, every copy is checked
 * (type, length), and only then is any written; a getter that answers differently on a second
 * read, or throws, changes nothing.
 */
export function loadStateDictInto(
  layer: NamedParameters,
  dict: Record<string, Float32Array>,
  options: { strict?: boolean },
  what: string,
): void {
  const names = layer.parameterNames();
  const o = check.options('loadStateDict options', options);
  check.knownKeys('loadStateDict options', o, ['strict']);
  const strict = check.boolean('strict', o.strict, true);
  const d = check.options('stateDict', dict);
  const present = names.filter((n) => n in d);
  if (strict) {
    const extra = Object.keys(d).filter((n) => !names.includes(n));
    const missing = names.filter((n) => !present.includes(n));
    if (missing.length || extra.length) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `stateDict does not match this ${what}: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      );
    }
  }
  const snapshot: [string, Float32Array][] = [];
  for (const name of present) {
    const shape = layer.parameterShape(name);
    const value = check.float32ArrayOfLength(
      `stateDict.${name}`,
      d[name], // the one read of this entry
      shape.reduce((a, b) => a * b, 1),
      `shape [${shape.join(', ')}]`,
    );
    snapshot.push([name, new Float32Array(value)]); // a copy, made without user code (no species)
  }
  for (const [name, value] of snapshot) layer.setParameter(name, value);
}
