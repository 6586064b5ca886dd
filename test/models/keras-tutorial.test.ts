/**
 * GRU layers and the tutorial models of issue 10 against Keras 3 itself (JAX backend), on every
 * backend: test/fixtures/keras-tutorial.json, written by scripts/gen-keras-tutorial-fixtures.py (its header
 * says how to regenerate it), holds Keras's predictions for GRU(6) with every combination of
 * resetAfter, useBias, returnSequences and goBackwards, and for models 1, 2 and 4 at their full
 * sizes (model 2: three GRU(128) over 100 steps of 64 features and a deep relu head). The weights
 * and inputs are a formula both sides compute (wave()), in Keras's layouts; this file converts
 * them to gru-simd's (PyTorch's gate order r, z, n and [out, in] weights), so it also checks that
 * conversion, the one a Keras importer needs. Predictions agree within 1e-5, parameter counts
 * exactly. GRU_PRINT_ERRORS=1 prints each case's largest difference.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  layers,
  sequential,
  tensor,
  type DenseLayer,
  type GRULayer,
  type ModelLayer,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';

interface LayerSpec {
  kind: 'gru' | 'dense';
  units: number;
  activation?: string;
  resetAfter?: boolean;
  useBias?: boolean;
  returnSequences?: boolean;
  goBackwards?: boolean;
}

interface Case {
  title: string;
  layers: LayerSpec[];
  batch: number;
  steps: number;
  features: number;
  params: number;
  outputShape: number[];
  predict: number[];
}

const FIXTURES: { keras: string; backend: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../fixtures/keras-tutorial.json', import.meta.url), 'utf8'),
);

/** scale * sin(0.9137 i + 1.31 seed + 0.5) in float32: the fixture script's wave(). */
function wave(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sin(0.9137 * i + 1.31 * seed + 0.5);
  return out;
}

/** Keras's weights of one layer, in get_weights() order, with their shapes. */
function kerasShapes(l: LayerSpec, input: number): number[][] {
  if (l.kind === 'dense') return [[input, l.units], [l.units]];
  const H = l.units;
  const bias = l.useBias === false ? [] : [l.resetAfter === false ? [3 * H] : [2, 3 * H]];
  return [[input, 3 * H], [H, 3 * H], ...bias];
}

/** Keras's gate blocks are z, r, h; gru-simd's (PyTorch's) r, z, n: core gate g is Keras's block KERAS_BLOCK[g]. */
const KERAS_BLOCK = [1, 0, 2];

/** Keras [rows, 3H] (gate blocks in columns) -> gru-simd [3H, rows] (gate blocks in rows). */
function gateRows(k: Float32Array, rows: number, H: number): Float32Array {
  const out = new Float32Array(3 * H * rows);
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < H; j++)
      for (let f = 0; f < rows; f++)
        out[(g * H + j) * rows + f] = k[f * 3 * H + KERAS_BLOCK[g]! * H + j]!;
  return out;
}

function gateVector(b: Float32Array, H: number): Float32Array {
  const out = new Float32Array(3 * H);
  for (let g = 0; g < 3; g++)
    out.set(b.subarray(KERAS_BLOCK[g]! * H, (KERAS_BLOCK[g]! + 1) * H), g * H);
  return out;
}

/** Sets the formula's weights (Keras's layouts, converted) on every layer; returns the count. */
function setWaveWeights(model: readonly ModelLayer[], spec: LayerSpec[], features: number): void {
  let p = 0;
  let input = features;
  spec.forEach((l, i) => {
    const values = kerasShapes(l, input).map((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return wave(n, p++, 1 / Math.sqrt(shape[0]!));
    });
    if (l.kind === 'dense') {
      const core = (model[i] as DenseLayer).core;
      const [kernel, bias] = values as [Float32Array, Float32Array];
      const weight = new Float32Array(kernel.length);
      for (let o = 0; o < l.units; o++)
        for (let f = 0; f < input; f++) weight[o * input + f] = kernel[f * l.units + o]!;
      core.setParameter('weight', weight);
      core.setParameter('bias', bias);
    } else {
      const core = (model[i] as GRULayer).core;
      const H = l.units;
      core.setParameter('weight_ih_l0', gateRows(values[0]!, input, H));
      core.setParameter('weight_hh_l0', gateRows(values[1]!, H, H));
      const bias = values[2];
      if (bias !== undefined) {
        const resetAfter = l.resetAfter !== false;
        core.setParameter('bias_ih_l0', gateVector(bias.subarray(0, 3 * H), H));
        // Without resetAfter Keras has one bias, and the layer keeps bias_hh at zero.
        if (resetAfter) core.setParameter('bias_hh_l0', gateVector(bias.subarray(3 * H), H));
      }
    }
    input = l.units;
  });
}

forEachBackend(
  `models: GRU layers and tutorial models against Keras ${FIXTURES.keras} (${FIXTURES.backend})`,
  (backend) => {
    for (const c of FIXTURES.cases) {
      it(`${c.title}: parameter count and predictions within 1e-5`, function () {
        this.timeout(120_000);
        const model = sequential({
          backend,
          layers: c.layers.map(({ kind, ...o }, i) => {
            const first = i === 0 ? { inputShape: [c.steps, c.features] } : {};
            const args = { ...o, ...first } as never; // the fixture's names are the layers' own
            return kind === 'gru' ? layers.gru(args) : layers.dense(args);
          }),
        });
        try {
          assert.equal(model.countParams(), c.params, "parameter count (Keras's count_params())");
          setWaveWeights(model.layers, c.layers, c.features);
          const x = wave(c.batch * c.steps * c.features, 1000, 1);
          const y = model.predict(tensor(x, [c.batch, c.steps, c.features]));
          assert.deepEqual(y.shape, c.outputShape, 'output shape');
          let worst = 0;
          for (let i = 0; i < c.predict.length; i++)
            worst = Math.max(worst, Math.abs((y.data[i] as number) - c.predict[i]!));
          if (process.env.GRU_PRINT_ERRORS)
            console.log(`      ${backend.name}: ${c.title}: ${worst.toExponential(2)}`);
          assert.ok(worst <= 1e-5, `max |gru-simd - Keras| = ${worst.toExponential(2)} > 1e-5`);
        } finally {
          model.dispose();
        }
      });
    }
  },
);
