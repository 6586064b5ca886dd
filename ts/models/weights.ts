/**
 * Keras's sample_weight and class_weight for fit() and evaluate(), as one float32 tensor of
 * weights per sample ([samples]) or per step ([samples, steps] for an output per step), which
 * the batches carry beside x and y and the core losses take (ts/losses.ts: W weights for R rows
 * weigh blocks of R / W rows, Keras's broadcast of weights over the steps and the last axis).
 *
 * Both are checked (and class weights turned into sample weights) once per call, before any
 * step: a bad weight never leaves a model half-trained. That is one pass over the samples in
 * JavaScript, on the data's way in (Keras does it in its data adapter), never per batch.
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { formatShape, toTensor, type Shape, type Tensor } from './tensor.js';

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * sampleWeight for `samples` samples of a model whose per-sample output is `output`: shape
 * [samples], or [samples, ...steps] for an output [...steps, features] (a trailing 1 is taken
 * too, as Keras squeezes it); each weight finite and >= 0.
 */
export function sampleWeightTensor(
  name: string,
  value: unknown,
  samples: number,
  output: readonly number[],
): Tensor {
  const w = toTensor(name, value, 'float32');
  const steps = output.slice(0, -1);
  const s = w.shape.slice(1);
  const fits = (t: readonly number[]) => same(s, t) || same(s, [...t, 1]);
  if (w.shape[0] !== samples || !(fits([]) || (steps.length > 0 && fits(steps)))) {
    const per = steps.length > 0 ? ` or [${[samples, ...steps].join(', ')}] (per step)` : '';
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${name} must have the shape [${samples}] (one weight per sample)${per} for an output of shape ${formatShape([null, ...output])}, got [${w.shape.join(', ')}]`,
    );
  }
  const data = w.data as Float32Array;
  for (let i = 0; i < data.length; i++) {
    if (!(data[i]! >= 0 && data[i]! <= check.FLT_MAX)) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `${name} must hold finite weights >= 0, got ${data[i]} at flat index ${i}`,
      );
    }
  }
  return { data, shape: w.shape };
}

/** classWeight { [classIndex]: weight } as a map from class to weight. */
function classWeightMap(value: unknown): Map<number, number> {
  const o = check.options('classWeight', value);
  const map = new Map<number, number>();
  for (const [k, v] of Object.entries(o)) {
    if (!/^(0|[1-9]\d*)$/.test(k) || Number(k) > 2 ** 31 - 1) {
      throw new GruError(
        'ERR_GRU_ARG',
        `classWeight keys must be class indices (integers >= 0), got '${k}'`,
      );
    }
    map.set(Number(k), check.finiteNumber(`classWeight[${k}]`, v, { min: 0, max: check.FLT_MAX }));
  }
  return map;
}

/** numpy's round: halves to even (Keras rounds y with np.round). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Keras 3's class_weight_to_sample_weights (keras/src/trainers/data_adapters/
 * data_adapter_utils.py): each sample's class is argmax y (one-hot rows) or round(y) (a class id
 * or a 0/1 label), and its weight classWeight[class], 1 for a class not listed. One class per
 * sample: for an output per step (`output` of rank > 1) Keras's rule has no meaning, so it is
 * refused (give sampleWeight [samples, steps] instead).
 */
export function classWeightTensor(value: unknown, y: Tensor, output: Shape): Tensor {
  const map = classWeightMap(value);
  const n = y.shape[0]!;
  const s = y.shape.slice(1);
  if (output.length > 1) {
    throw new GruError(
      'ERR_GRU_ARG',
      `classWeight gives one weight per sample from its class, and the output ${formatShape([null, ...output])} has one per step: give sampleWeight [samples, steps] instead`,
    );
  }
  const k = s.length === 0 ? 1 : s[s.length - 1]!;
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    if (k === 1) c = roundHalfEven(y.data[i]!);
    else for (let j = 1; j < k; j++) if (y.data[i * k + j]! > y.data[i * k + c]!) c = j; // first max
    w[i] = map.get(c) ?? 1;
  }
  return { data: w, shape: [n] };
}
