/**
 * ONNX export (ts/formats/onnx-export.ts) on every backend: each export feature (GRU in both
 * reset variants, goBackwards, Bidirectional with every merge mode, stacked GRUs, the last
 * state, Dense, every activation, Embedding as Gather, Dropout, masks as sequence lengths,
 * LayerNormalization, BatchNormalization, the global poolings with and without masks)
 * exported, run by onnxruntime-node inside the test, and compared with the model's own
 * predict() within 1e-5; the exports read back by loadOnnxModel where they have no mask; and
 * what has no ONNX form refused with a GruError naming it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Backend } from '../ts/backends/backend.js';
import { exportOnnx, loadOnnxModel, onnxModelBytes } from '../ts/index.js';
import {
  layers,
  ModelLayer,
  sequential,
  type Sequential,
  type Shape,
  type Tensor,
} from '../ts/models/index.js';
import { ACTIVATIONS } from '../ts/activations.js';
import { forEachBackend } from './backends.js';
import { assertRejectsCode, assertThrowsCode, rng, uniform } from './util.js';

const B = 3;
const T = 6;

/** Runs ONNX bytes with onnxruntime-node on x (and sequence_lens when given). */
async function runOrt(
  bytes: Uint8Array,
  x: Tensor,
  lens?: Int32Array,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor(x.data instanceof Int32Array ? 'int32' : 'float32', x.data, x.shape),
  };
  if (lens) feeds.sequence_lens = new ort.Tensor('int32', lens, [lens.length]);
  const out = (await session.run(feeds)).output!;
  return { data: out.data as Float32Array, dims: out.dims };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function features(f: number, seed: number): Tensor {
  return { data: uniform(B * T * f, -2, 2, rng(seed)), shape: [B, T, f] };
}

/** Padded at the end: sample b keeps its first lengths[b] steps, the rest are zeros. */
function padded(x: Tensor, lengths: number[], value = 0): Tensor {
  const f = x.shape[2]!;
  const data = (x.data as Float32Array).slice();
  lengths.forEach((n, b) => data.fill(value, (b * T + n) * f, (b + 1) * T * f));
  return { data, shape: x.shape };
}

function ids(vocab: number, seed: number, lengths?: number[]): Tensor {
  const r = rng(seed);
  const data = Int32Array.from({ length: B * T }, () => 1 + Math.floor(r() * (vocab - 1)));
  lengths?.forEach((n, b) => data.fill(0, b * T + n, (b + 1) * T));
  return { data, shape: [B, T] };
}

/** Randomises every parameter (zero biases would hide a bias-order bug). */
function randomize(model: Sequential, seed: number): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const core = (layer as unknown as { core?: import('../ts/layer.js').Layer }).core;
    if (!core || !('parameterNames' in core)) continue;
    for (const name of core.parameterNames()) {
      if (name.startsWith('bias_hh') && (layer as { resetAfter?: boolean }).resetAfter === false)
        continue; // kept at 0 by layers.gru (Keras's single bias)
      if (name === 'num_batches_tracked') continue;
      const n = core.getParameter(name).length;
      // A variance stays positive.
      const [lo, hi] = name === 'running_var' ? [0.5, 1.5] : [-0.6, 0.6];
      core.setParameter(name, uniform(n, lo, hi, r));
    }
  }
}

interface Case {
  name: string;
  build: (backend: Backend) => Sequential;
  x: Tensor;
  lens?: number[];
  /** The export reads back into an equal model (no mask). */
  roundTrip: boolean;
  args?: Parameters<typeof onnxModelBytes>[1];
}

const LENGTHS = [6, 3, 1];

const CASES: Case[] = [
  {
    name: 'GRU reset-after, every step, Dense per step',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.gru({ units: 5, returnSequences: true, inputShape: [null, 4] }),
          layers.dense({ units: 3 }),
        ],
      }),
    x: features(4, 1),
    roundTrip: true,
  },
  {
    name: 'GRU reset-before (Keras 1 bias), last state, Dense tanh',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.gru({ units: 4, resetAfter: false, inputShape: [T, 3] }),
          layers.dense({ units: 2, activation: 'tanh' }),
        ],
      }),
    x: features(3, 2),
    roundTrip: true,
  },
  {
    name: 'GRU relu / hardSigmoid, goBackwards, every step',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.gru({
            units: 4,
            returnSequences: true,
            goBackwards: true,
            activation: 'relu',
            recurrentActivation: 'hardSigmoid',
            inputShape: [null, 3],
          }),
        ],
      }),
    x: features(3, 3),
    roundTrip: false, // a reverse GRU's per-step output has no layer on import (aligned steps)
  },
  {
    name: 'GRU goBackwards, last state, hardSigmoidKeras2',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.gru({
            units: 4,
            goBackwards: true,
            recurrentActivation: 'hardSigmoidKeras2',
            inputShape: [null, 3],
          }),
        ],
      }),
    x: features(3, 4),
    roundTrip: true,
  },
  {
    name: 'stacked: Bidirectional concat -> GRU -> Dense softmax',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.bidirectional({
            layer: layers.gru({ units: 4, returnSequences: true }),
            inputShape: [null, 3],
          }),
          layers.dropout({ rate: 0.3 }),
          layers.gru({ units: 5, returnSequences: true }),
          layers.gru({ units: 3 }),
          layers.dense({ units: 4, activation: 'softmax' }),
        ],
      }),
    x: features(3, 5),
    roundTrip: true,
  },
  ...(['sum', 'ave', 'mul'] as const).flatMap((mergeMode, i): Case[] => [
    {
      name: `Bidirectional ${mergeMode}, every step`,
      build: (backend) =>
        sequential({
          backend,
          layers: [
            layers.bidirectional({
              layer: layers.gru({ units: 4, returnSequences: true }),
              mergeMode,
              inputShape: [null, 3],
            }),
          ],
        }),
      x: features(3, 10 + i),
      roundTrip: true,
    },
    {
      name: `Bidirectional ${mergeMode}, last states, hardSigmoid, reset-before`,
      build: (backend) =>
        sequential({
          backend,
          layers: [
            layers.bidirectional({
              layer: layers.gru({
                units: 4,
                recurrentActivation: 'hardSigmoid',
                resetAfter: false,
              }),
              mergeMode,
              inputShape: [null, 3],
            }),
          ],
        }),
      x: features(3, 20 + i),
      roundTrip: true,
    },
  ]),
  {
    name: 'Bidirectional concat, last states, relu',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.bidirectional({
            layer: layers.gru({ units: 3, activation: 'relu' }),
            inputShape: [null, 2],
          }),
          layers.dense({ units: 2, activation: 'sigmoid' }),
        ],
      }),
    x: features(2, 6),
    roundTrip: true,
  },
  {
    name: 'every activation layer',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.dense({ units: 6, inputShape: [null, 3] }),
          ...Object.keys(ACTIVATIONS).flatMap((activation) => [
            layers.activation({ activation }),
            layers.dense({ units: 6 }),
          ]),
        ],
      }),
    x: features(3, 7),
    roundTrip: false, // GELUs are written as their formulas (Erf, Pow), not read back
  },
  {
    name: 'Embedding (Gather) -> GRU -> Dense',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.embedding({ inputDim: 11, outputDim: 4, inputShape: [null] }),
          layers.gru({ units: 5 }),
          layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
    x: ids(11, 8),
    roundTrip: true,
  },
  {
    name: 'Masking -> GRU (zeroOutputForMask) -> GRU, prefix masks as sequence lengths',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.masking({ maskValue: 0, inputShape: [null, 3] }),
          layers.gru({ units: 4, returnSequences: true, zeroOutputForMask: true }),
          layers.gru({ units: 3 }),
          layers.dense({ units: 2 }),
        ],
      }),
    x: padded(features(3, 9), LENGTHS),
    roundTrip: true,
  },
  {
    name: 'Masking -> GRU carried state, last state',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.masking({ maskValue: -1, inputShape: [null, 3] }),
          layers.gru({ units: 4, returnSequences: true }),
          layers.gru({ units: 3, goBackwards: true }),
        ],
      }),
    x: padded(features(3, 12), LENGTHS, -1),
    roundTrip: true,
  },
  {
    name: 'Masking -> GRU zeroOutputForMask, last state (0 where the last step is padding)',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.masking({ inputShape: [null, 3] }),
          layers.gru({ units: 4, zeroOutputForMask: true }),
        ],
      }),
    x: padded(features(3, 13), LENGTHS),
    roundTrip: false,
  },
  {
    name: 'Embedding maskZero -> GRU -> Bidirectional last states, lengths computed in the graph',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [null] }),
          layers.gru({ units: 3, returnSequences: true }),
          layers.bidirectional({ layer: layers.gru({ units: 2 }) }),
        ],
      }),
    x: ids(9, 15, LENGTHS),
    roundTrip: true,
  },
  {
    name: 'Embedding maskZero -> Bidirectional every step -> Dense, sequence_lens as an input',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [null] }),
          layers.bidirectional({ layer: layers.gru({ units: 3, returnSequences: true }) }),
          layers.dense({ units: 2 }),
        ],
      }),
    x: ids(9, 14, LENGTHS),
    lens: LENGTHS,
    args: { sequenceLens: 'input' },
    roundTrip: false,
  },
  {
    name: 'GRU -> LayerNormalization -> GlobalAveragePooling1D -> BatchNormalization -> Dense',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.gru({ units: 5, returnSequences: true, inputShape: [null, 3] }),
          layers.layerNormalization({ epsilon: 1e-4 }),
          layers.globalAveragePooling1d(),
          layers.batchNormalization(),
          layers.dense({ units: 2 }),
        ],
      }),
    x: features(3, 15),
    roundTrip: false,
  },
  {
    name: 'GlobalMaxPooling1D, LayerNormalization without center and scale',
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.layerNormalization({ center: false, scale: false, inputShape: [null, 4] }),
          layers.globalMaxPooling1d(),
        ],
      }),
    x: features(4, 16),
    roundTrip: false,
  },
  ...(['globalAveragePooling1d', 'globalMaxPooling1d'] as const).map((pool, i): Case => ({
    name: `Masking -> GRU (zeroOutputForMask) -> ${pool} over the valid steps (one sample all padding)`,
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.masking({ inputShape: [null, 3] }),
          layers.gru({ units: 4, returnSequences: true, zeroOutputForMask: true }),
          layers[pool](),
        ],
      }),
    x: padded(features(3, 17 + i), [6, 2, 0]),
    roundTrip: false,
  })),
];

forEachBackend('ONNX export', (backend) => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: onnxruntime gives predict() within 1e-5`, async () => {
      const model = c.build(backend);
      try {
        randomize(model, 100 + i);
        const ours = model.predict(c.x);
        const bytes = onnxModelBytes(model, c.args);
        const theirs = await runOrt(bytes, c.x, c.lens ? Int32Array.from(c.lens) : undefined);
        assert.deepEqual([...theirs.dims], ours.shape);
        const diff = maxDiff(theirs.data, ours.data);
        assert.ok(diff < 1e-5, `max |onnxruntime - predict| = ${diff}`);
        if (c.roundTrip) {
          const back = await loadOnnxModel(bytes, { backend });
          try {
            const again = back.predict(c.x);
            assert.ok(maxDiff(again.data, ours.data) < 1e-5, 'read back by loadOnnxModel');
            assert.equal(back.countParams(), model.countParams());
          } finally {
            back.dispose();
          }
        }
      } finally {
        model.dispose();
      }
    });
  }

  it('exportOnnx writes the file onnxruntime runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gru-onnx-'));
    const model = CASES[0]!.build(backend);
    try {
      const file = path.join(dir, 'model.onnx');
      await exportOnnx(model, file);
      const out = await runOrt(new Uint8Array(readFileSync(file)), CASES[0]!.x);
      assert.ok(maxDiff(out.data, model.predict(CASES[0]!.x).data) < 1e-5);
      await assertRejectsCode(() => exportOnnx(model, ''), 'ERR_GRU_ARG');
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('what has no ONNX form is refused, naming it', () => {
    /** A user's own layer (the identity): the exporter has no operators for it. */
    class Custom extends ModelLayer {
      readonly className = 'MyLayer';
      protected readonly prefix = 'my_layer';
      constructor() {
        super('my layer options', {}, []);
      }
      protected build(input: Shape): Shape {
        return input;
      }
      forward(x: Tensor): Tensor {
        return x;
      }
      backward(dy: Float32Array): Float32Array {
        return dy;
      }
      protected _release(): void {}
    }
    const custom = sequential({
      backend,
      layers: [layers.gru({ units: 3, inputShape: [null, 2] }), new Custom()],
    });
    assertThrowsCode(() => onnxModelBytes(custom), 'ERR_GRU_ARG', ['MyLayer', 'no ONNX mapping']);
    custom.dispose();
    const stateful = sequential({
      backend,
      layers: [layers.gru({ units: 3, stateful: true, inputShape: [4, 2] })],
    });
    assertThrowsCode(() => onnxModelBytes(stateful), 'ERR_GRU_ARG', ['stateful']);
    stateful.dispose();
    const carried = sequential({
      backend,
      layers: [
        layers.masking({ inputShape: [null, 2] }),
        layers.gru({ units: 3, returnSequences: true }),
      ],
    });
    assertThrowsCode(() => onnxModelBytes(carried), 'ERR_GRU_ARG', ['zeroOutputForMask']);
    carried.dispose();
    const unbuilt = sequential({ backend, layers: [layers.gru({ units: 3 })] });
    assertThrowsCode(() => onnxModelBytes(unbuilt), 'ERR_GRU_STATE', ['not built']);
    assertThrowsCode(() => onnxModelBytes(unbuilt, { sequenceLens: 'x' } as never), 'ERR_GRU_ARG', [
      'sequenceLens',
    ]);
    assertThrowsCode(
      () => onnxModelBytes(unbuilt, { sequenceLens: null } as never),
      'ERR_GRU_ARG',
      ['sequenceLens'],
    );
    assertThrowsCode(() => onnxModelBytes(unbuilt, { inputName: null } as never), 'ERR_GRU_ARG', [
      'inputName',
    ]);
    assertThrowsCode(() => onnxModelBytes(unbuilt, { colour: 1 } as never), 'ERR_GRU_ARG', [
      'colour',
    ]);
    assertThrowsCode(() => onnxModelBytes({} as never), 'ERR_GRU_ARG', ['Sequential']);
    unbuilt.dispose();
    assertThrowsCode(() => onnxModelBytes(unbuilt), 'ERR_GRU_DISPOSED');
  });
});
