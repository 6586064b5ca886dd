/**
 * gru-simd on workload F (bench/model-f.ts): the model built with the model API (sequential,
 * layers, compile) on a backend whose core calls are timed (bench/call-timer.ts), so the step's
 * time splits into the core's calls and the model API's own work: the overhead that issue 10
 * wants under 5 % of a step (measured by overhead(), after the timing).
 *
 * Timed: Keras 3's GRU (resetAfter true, the library's default). Checked: the same model with
 * resetAfter false (tfjs's equation, whose one bias is the core's bias_ih with bias_hh zero) and
 * without dropout (its masks are random in every framework), first-step loss against tfjs's.
 */
import { timedBackend } from '../call-timer.js';
import type { Overhead } from '../cases.js';
import { batchF, F, optionalLayer, variant, weightsF } from '../model-f.js';
import { stateDict } from './gru-simd.js';
import type { Prepared } from './types.js';
import * as gs from '../../ts/index.js';

type Backend = Awaited<ReturnType<typeof gs.loadBackend>>;

/** Batches in the fit() part of the overhead measurement. */
const FIT_BATCHES = 8;

function build(backend: Backend, resetAfter: boolean, dropout: number): gs.Sequential {
  const full = variant().full;
  const norm = (): gs.ModelLayer[] => (full ? [optionalLayer('batchNormalization')!()] : []);
  const drops = full ? { dropout, recurrentDropout: dropout } : {};
  const model = gs.sequential({
    seed: 1,
    backend,
    layers: [
      gs.layers.embedding({ inputDim: F.vocabulary, outputDim: F.dim, inputLength: F.length }),
      ...norm(),
      gs.layers.gru({ units: F.units, returnSequences: true, resetAfter, ...drops }),
      ...norm(),
      gs.layers.gru({ units: F.units, resetAfter, ...drops }),
      gs.layers.dense({ units: F.classes, activation: 'softmax' }),
    ],
  });
  const w = weightsF();
  const grus = [w.gru1, w.gru2];
  for (const layer of model.layers) {
    const [core] = layer.trainables();
    if (layer.className === 'Embedding') core!.setParameter('weight', w.embedding);
    if (layer.className === 'GRU') core!.loadStateDict(stateDict(grus.shift()!, !resetAfter));
    if (layer.className === 'Dense') {
      core!.setParameter('weight', w.denseWeight);
      core!.setParameter('bias', w.denseBias);
    }
  }
  model.compile({
    optimizer: { name: 'adam', learningRate: 1e-3 },
    loss: 'categoricalCrossentropy',
  });
  return model;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export function prepareModelF(inner: Backend, resetAfter = true): Prepared {
  const timer = timedBackend(inner);
  const model = build(timer.backend, resetAfter, F.dropout);
  const { ids, labels } = batchF();
  const x = gs.tensor(ids, [F.batch, F.length]);
  const y = gs.tensor(labels, [F.batch, F.classes]);
  const step = async (m: gs.Sequential): Promise<number> => (await m.trainOnBatch(x, y)) as number;
  return {
    async: true,
    run: async () => void (await step(model)),
    probe: async () => {
      if (!variant().full) return { probe: { kind: 'loss', value: await step(model) }, calls: 1 };
      const check = build(inner, resetAfter, 0);
      try {
        const value = await step(check);
        await step(model); // the timed model's warm-up
        return { probe: { kind: 'loss', value }, calls: 2 };
      } finally {
        check.dispose();
      }
    },
    overhead: async (steps: number): Promise<Overhead> => {
      const wall: number[] = [];
      const core: number[] = [];
      let calls = 0;
      const byName = new Map<string, number>();
      for (let i = 0; i < steps; i++) {
        timer.reset();
        const t0 = performance.now();
        await step(model);
        wall.push((performance.now() - t0) / 1000);
        core.push(timer.times.seconds);
        calls = timer.times.calls;
        for (const [n, e] of timer.times.byName) byName.set(n, (byName.get(n) ?? 0) + e.seconds);
      }
      const total = [...byName.values()].reduce((a, b) => a + b, 0);
      const top = [...byName.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([n, s]) => `${n} ${((s / total) * 100).toFixed(0)}%`)
        .join(', ');
      // fit() over FIT_BATCHES batches, shuffled: adds its batching (a row copy per sample).
      const n = FIT_BATCHES * F.batch;
      const xs = new Int32Array(n * F.length);
      const ys = new Float32Array(n * F.classes);
      for (let b = 0; b < FIT_BATCHES; b++) {
        xs.set(ids, b * ids.length);
        ys.set(labels, b * labels.length);
      }
      timer.reset();
      const t0 = performance.now();
      await model.fit(gs.tensor(xs, [n, F.length]), gs.tensor(ys, [n, F.classes]), {
        epochs: 1,
        batchSize: F.batch,
        verbose: 0,
      });
      const fitSeconds = (performance.now() - t0) / 1000;
      const ratios = wall.map((t, i) => (t - core[i]!) / t);
      return {
        steps,
        stepSeconds: median(wall),
        coreSeconds: median(core),
        overheadPercent: median(ratios) * 100,
        callsPerStep: calls,
        top,
        fit: {
          batches: FIT_BATCHES,
          seconds: fitSeconds,
          coreSeconds: timer.times.seconds,
          overheadPercent: ((fitSeconds - timer.times.seconds) / fitSeconds) * 100,
        },
      };
    },
    dispose: () => model.dispose(),
  };
}
