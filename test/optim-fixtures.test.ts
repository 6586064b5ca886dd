/**
 * The optimizers against the frameworks themselves, on every backend: 20 steps of each
 * configuration over a fixed gradient sequence (test/fixtures/optim-torch.json and
 * optim-keras.json, written by scripts/gen-optim-fixtures.py, whose header says how to
 * regenerate them). PyTorch's formulas are ts/optim.ts's classes; Keras's are compile()'s
 * optimizers (ts/models/optimizers.ts) with their learning-rate schedules and clipping. The
 * parameters after 20 steps must agree within 1e-4 relative (test/optim-compare.ts).
 *
 * The gradients reach the core exactly: each parameter tensor is the weight [n, 1] of a Dense
 * layer without bias, and backward at input x = [1] with dy = g makes its gradient g * 1 = g.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Adagrad, Adam, AdamW, Dense, RMSprop, SGD, type Optimizer } from '../ts/index.js';
import type { Backend } from '../ts/backends/backend.js';
import { parseKerasOptimizer } from '../ts/models/optimizers.js';
import { forEachBackend } from './backends.js';
import { RELATIVE, relativeError } from './optim-compare.js';

interface Case {
  optimizer: string;
  options: Record<string, unknown>;
  expected: number[][];
}

interface Fixture {
  init: number[][];
  grads: number[][][];
  cases: Case[];
}

const load = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Fixture;
const TORCH = load('optim-torch.json');
const KERAS = load('optim-keras.json');

/** One Dense(1 -> n, no bias) per tensor, holding its initial values. */
function holders(backend: Backend, init: number[][]): Dense[] {
  return init.map((values) => {
    const d = new Dense({ inFeatures: 1, outFeatures: values.length, bias: false, backend });
    d.setParameter('weight', Float32Array.from(values));
    return d;
  });
}

/** Makes each holder's weight gradient exactly g. */
function setGradients(layers: Dense[], grads: number[][]): void {
  layers.forEach((d, i) => {
    d.zeroGrad();
    d.forward(Float32Array.of(1), { train: true });
    d.backward(Float32Array.from(grads[i]!));
  });
}

function title(c: Case): string {
  return `${c.optimizer} ${JSON.stringify(c.options)}`;
}

const TORCH_CLASSES: Record<string, new (p: Dense[], o: never) => Optimizer> = {
  sgd: SGD,
  adam: Adam,
  adamw: AdamW,
  rmsprop: RMSprop,
  adagrad: Adagrad,
};

/** PyTorch's option values as ts/optim.ts takes them (SGD requires lr: the fixture gives it). */
function torchOptions(c: Case): never {
  return { ...c.options } as never;
}

const worst: Record<string, number> = {};

forEachBackend('optimizers against torch.optim (20 steps, fixed gradients)', (backend) => {
  for (const c of TORCH.cases) {
    it(title(c), () => {
      const layers = holders(backend, TORCH.init);
      const opt = new TORCH_CLASSES[c.optimizer]!(layers, torchOptions(c));
      for (const step of TORCH.grads) {
        setGradients(layers, step);
        opt.step();
      }
      layers.forEach((d, i) => {
        const err = relativeError(d.getParameter('weight'), c.expected[i]!);
        worst[`torch ${c.optimizer}`] = Math.max(worst[`torch ${c.optimizer}`] ?? 0, err);
        assert.ok(err <= RELATIVE, `tensor ${i}: relative error ${err} > ${RELATIVE}`);
      });
      opt.dispose();
      layers.forEach((d) => d.dispose());
    });
  }
});

forEachBackend(
  'compile() optimizers against keras.optimizers (20 steps, fixed gradients)',
  (backend) => {
    for (const c of KERAS.cases) {
      it(title(c), () => {
        const layers = holders(backend, KERAS.init);
        const opt = parseKerasOptimizer(c.optimizer, c.options)(layers, new Int32Array(0));
        for (const step of KERAS.grads) {
          setGradients(layers, step);
          opt.kerasStep();
        }
        layers.forEach((d, i) => {
          const err = relativeError(d.getParameter('weight'), c.expected[i]!);
          worst[`keras ${c.optimizer}`] = Math.max(worst[`keras ${c.optimizer}`] ?? 0, err);
          assert.ok(err <= RELATIVE, `tensor ${i}: relative error ${err} > ${RELATIVE}`);
        });
        opt.dispose();
        layers.forEach((d) => d.dispose());
      });
    }

    it('a skipped tensor is left out of clipping (globalClipnorm: the others scale as without it)', () => {
      // Keras has two tensors; gru-simd a third that Keras does not (a GRU's zero bias_hh): skipped,
      // it must change neither the global norm nor its own gradient.
      const c = KERAS.cases.find((k) => k.options.globalClipnorm !== undefined)!;
      const layers = holders(backend, KERAS.init);
      const opt = parseKerasOptimizer(c.optimizer, c.options)(layers, Int32Array.of(2));
      const twoTensors = holders(backend, KERAS.init.slice(0, 2));
      const ref = parseKerasOptimizer(c.optimizer, c.options)(twoTensors, new Int32Array(0));
      const big = KERAS.grads[0]!.map((g, i) => (i === 2 ? g.map((v) => v * 1000) : g));
      setGradients(layers, big);
      setGradients(twoTensors, big.slice(0, 2));
      opt._clipKeras(1, 1.0, Int32Array.of(2));
      ref._clipKeras(1, 1.0, new Int32Array(0));
      for (let i = 0; i < 2; i++)
        assert.deepEqual(layers[i]!.getGradient('weight'), twoTensors[i]!.getGradient('weight'));
      assert.deepEqual(layers[2]!.getGradient('weight'), Float32Array.from(big[2]!));
      for (const o of [opt, ref]) o.dispose();
      for (const d of [...layers, ...twoTensors]) d.dispose();
    });
  },
);

after(() => {
  const rows = Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
  if (rows.length > 0) console.log(`      max relative error per optimizer: ${rows.join(', ')}`);
});
