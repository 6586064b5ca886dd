/**
 * The layers gru-simd's model API shares with TensorFlow.js, and issue 10's four models at small
 * sizes, against tfjs-layers itself (cpu backend), on every backend:
 * test/fixtures/tfjs-layers.json, written by scripts/gen-tfjs-fixtures.mjs (its header says how
 * to regenerate it and how tfjs's weights map to the core layers'), holds tfjs Sequential models
 * (reset-before GRUs in their variants, Dense with each shared activation on 2-D and 3-D input,
 * Embedding, LayerNormalization, BatchNormalization in inference, global pooling, Bidirectional
 * with each merge mode, Masking and Embedding maskZero with holes, through GRUs and
 * Bidirectionals), their weights and tfjs's predict. gru-simd's model, given the same layers and
 * weights, must agree within 1e-5, and count the parameters as tfjs does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layers, sequential, tensor, type ModelLayer } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';

interface Case {
  title: string;
  inputShape: number[];
  xInt: boolean;
  x: number[];
  layers: { type: string; args: Record<string, unknown>; weights: Record<string, number[]> }[];
  predict: number[];
  outputShape: number[];
  params: number;
  /**
   * Per step of a per-step output, 1 where it is compared: tfjs's Bidirectional outputs the
   * carried state at masked steps, Keras 3's and gru-simd's 0 (zero_output_for_mask).
   */
  validSteps?: number[];
}

const FIXTURES: { tfjs: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../fixtures/tfjs-layers.json', import.meta.url), 'utf8'),
);

const factories = layers as unknown as Record<string, (args: object) => ModelLayer>;

function make(type: string, args: Record<string, unknown>): ModelLayer {
  if (type === 'bidirectional')
    return layers.bidirectional({ ...args, layer: layers.gru(args.layer as { units: number }) });
  return factories[type]!(args);
}

forEachBackend(`models: layers against TensorFlow.js ${FIXTURES.tfjs} (cpu)`, (backend) => {
  for (const c of FIXTURES.cases) {
    it(`${c.title}: predict within 1e-5, parameter count`, () => {
      const N = c.x.length / c.inputShape.reduce((a, b) => a * b, 1);
      const model = sequential({
        backend,
        layers: c.layers.map((l, i) =>
          make(l.type, { ...l.args, ...(i === 0 ? { inputShape: c.inputShape } : {}) }),
        ),
      });
      try {
        assert.equal(model.countParams(), c.params, 'countParams');
        model.layers.forEach((l, i) => {
          const [core] = l.trainables();
          for (const [name, v] of Object.entries(c.layers[i]!.weights))
            core!.setParameter(name, Float32Array.from(v));
        });
        const xs = c.xInt ? Int32Array.from(c.x) : Float32Array.from(c.x);
        const y = model.predict(tensor(xs, [N, ...c.inputShape]));
        assert.deepEqual(y.shape, c.outputShape, 'output shape');
        assert.equal(y.data.length, c.predict.length);
        const width = c.validSteps ? c.predict.length / c.validSteps.length : 0;
        for (let i = 0; i < c.predict.length; i++) {
          if (c.validSteps && c.validSteps[Math.floor(i / width)] === 0) continue;
          const [a, t] = [y.data[i]!, c.predict[i]!];
          assert.ok(Math.abs(a - t) <= 1e-5, `predict[${i}]: ${a} vs tfjs ${t}`);
        }
      } finally {
        model.dispose();
      }
    });
  }
});
