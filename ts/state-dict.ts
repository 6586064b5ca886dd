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
 * layer's parameters. Every tensor is checked (type, length) before any is written.
 */
export function loadStateDictInto(
  layer: NamedParameters,
  dict: Record<string, Float32Array>,
  options: { strict?: boolean },
  what: string,
): void {
  const names = layer.parameterNames();
  const d = check.options('stateDict', dict);
  const strict = check.boolean(
    'strict',
    check.options('loadStateDict options', options).strict,
    true,
  );
  if (strict) {
    const missing = names.filter((n) => !(n in d));
    const extra = Object.keys(d).filter((n) => !names.includes(n));
    if (missing.length || extra.length) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `stateDict does not match this ${what}: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      );
    }
  }
  for (const name of names) {
    if (!(name in d)) continue;
    const shape = layer.parameterShape(name);
    check.float32ArrayOfLength(
      `stateDict.${name}`,
      d[name],
      shape.reduce((a, b) => a * b, 1),
      `shape [${shape.join(', ')}]`,
    );
  }
  for (const name of names) if (name in d) layer.setParameter(name, d[name] as Float32Array);
}
