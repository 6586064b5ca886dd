/**
 * fit()'s built-in callbacks against Keras 3: test/fixtures/keras-callbacks.json (written by
 * scripts/gen-keras-callbacks-fixtures.py) gives, for chosen sequences of a monitored value fed
 * through the logs by a first callback, the epochs Keras ran, the epoch whose weights the model
 * held at the end (EarlyStopping's restoreBestWeights) and the learning rate of each epoch. The
 * same model shape and sequences here must give the same, on every backend. Then: the order of
 * callbacks and logs, 'auto' mode's directions, a monitor that is missing, and bad options.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Backend } from '../../ts/backends/backend.js';
import {
  callbacks,
  layers,
  schedules,
  sequential,
  tensor,
  type CustomCallbackArgs,
  type DenseLayer,
  type FitCallback,
  type Sequential,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

interface CallbackCase {
  callback: 'earlyStopping' | 'reduceLROnPlateau' | 'learningRateScheduler';
  options?: Record<string, unknown> & { monitor: string };
  schedule?: 'halveFrom2' | 'inverse';
  values: number[];
  epochs: number;
  heldEpoch: number | null;
  learningRate: number[];
}

const FIXTURES = JSON.parse(readFileSync('test/fixtures/keras-callbacks.json', 'utf8')) as {
  keras: string;
  cases: CallbackCase[];
};

const SCHEDULES = {
  halveFrom2: (epoch: number, lr: number) => (epoch >= 2 ? lr * 0.5 : lr),
  inverse: (epoch: number) => 0.05 / (epoch + 1),
};

function tinyModel(backend: Backend, lr = 0.1): Sequential {
  const model = sequential({
    seed: 3,
    backend,
    layers: [layers.dense({ units: 1, inputShape: [3] })],
  });
  model.compile({ optimizer: { name: 'sgd', learningRate: lr }, loss: 'mse', metrics: ['mae'] });
  return model;
}

const x = tensor(uniform(8 * 3, -1, 1, rng(30)), [8, 3]);
const y = tensor(uniform(8, -1, 1, rng(31)), [8, 1]);

/** Sets logs[monitor] to values[epoch] and keeps each epoch's weights (Keras's Feed). */
function feed(model: Sequential, monitor: string, values: number[]) {
  const weights: Float32Array[] = [];
  const current = () => {
    const d = (model.layers[0] as DenseLayer).core.stateDict();
    return Float32Array.of(...d.weight!, ...d.bias!);
  };
  const cb: CustomCallbackArgs = {
    onEpochEnd: (epoch, logs) => {
      logs![monitor] = values[epoch]!;
      weights.push(current());
    },
  };
  const held = () => {
    const final = current();
    let held: number | null = null;
    weights.forEach((w, i) => {
      if (w.every((v, j) => Object.is(v, final[j]))) held = i;
    });
    return held;
  };
  return { cb, held };
}

function builtin(c: CallbackCase): FitCallback {
  if (c.callback === 'learningRateScheduler')
    return callbacks.learningRateScheduler(SCHEDULES[c.schedule!]);
  return c.callback === 'earlyStopping'
    ? callbacks.earlyStopping(c.options)
    : callbacks.reduceLROnPlateau(c.options);
}

forEachBackend(`models: callbacks against Keras ${FIXTURES.keras}`, (backend) => {
  for (const c of FIXTURES.cases) {
    const what = `${c.callback} ${JSON.stringify(c.options ?? c.schedule)}`;
    it(`${what}: ${c.epochs} epochs, weights of epoch ${c.heldEpoch} held at the end`, async () => {
      const model = tinyModel(backend);
      try {
        const monitor = c.options?.monitor ?? 'unused';
        const f = feed(model, monitor, c.values);
        const h = await model.fit(x, y, {
          epochs: c.values.length,
          batchSize: 4,
          shuffle: false,
          verbose: 0,
          callbacks: [f.cb, builtin(c)],
        });
        assert.equal(h.epoch.length, c.epochs, 'epochs run');
        assert.equal(f.held(), c.heldEpoch, 'the epoch whose weights the model holds');
        const lrs = h.history.learning_rate ?? [];
        assert.equal(lrs.length, c.learningRate.length, 'learning_rate logged per epoch');
        lrs.forEach((lr, i) =>
          assert.ok(
            Math.abs(lr - c.learningRate[i]!) <= 1e-6 * c.learningRate[i]!,
            `learning_rate of epoch ${i}: ${lr} vs Keras ${c.learningRate[i]}`,
          ),
        );
      } finally {
        model.dispose();
      }
    });
  }

  it('hooks run in order with logs as Keras: learning_rate reaches later callbacks and the History; stopTraining stops after the batch', async () => {
    const model = tinyModel(backend);
    try {
      const events: string[] = [];
      const spy: CustomCallbackArgs = {
        onTrainBegin: (logs) => void events.push(`trainBegin ${JSON.stringify(logs)}`),
        onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
        onBatchBegin: (b, logs) => void events.push(`batchBegin ${b} size ${logs!.size}`),
        onBatchEnd: (b, logs) => {
          events.push(`batchEnd ${b} ${Object.keys(logs!).join(',')}`);
          if (b === 0 && events.filter((e) => e.startsWith('epochBegin')).length === 2)
            model.stopTraining = true;
        },
        onEpochEnd: (e, logs) => void events.push(`epochEnd ${e} ${Object.keys(logs!).join(',')}`),
        onTrainEnd: () => void events.push('trainEnd'),
      };
      const h = await model.fit(x, y, {
        epochs: 3,
        batchSize: 4,
        verbose: 0,
        callbacks: [callbacks.learningRateScheduler(() => 0.05), spy],
      });
      assert.deepEqual(events, [
        'trainBegin {}',
        'epochBegin 0',
        'batchBegin 0 size 4',
        'batchEnd 0 batch,size,loss,mae',
        'batchBegin 1 size 4',
        'batchEnd 1 batch,size,loss,mae',
        'epochEnd 0 loss,mae,learning_rate',
        'epochBegin 1',
        'batchBegin 0 size 4',
        'batchEnd 0 batch,size,loss,mae',
        'epochEnd 1 loss,mae,learning_rate',
        'trainEnd',
      ]);
      assert.deepEqual(h.epoch, [0, 1]);
      assert.deepEqual(h.history.learning_rate, [Math.fround(0.05), Math.fround(0.05)]);
      assert.equal(model._getLearningRate(), Math.fround(0.05));
    } finally {
      model.dispose();
    }
  });

  it('a callback cannot set a rate that a schedule given to compile() drives (ERR_GRU_STATE, as Keras)', async () => {
    const model = sequential({
      seed: 3,
      backend,
      layers: [layers.dense({ units: 1, inputShape: [3] })],
    });
    try {
      model.compile({
        optimizer: {
          name: 'sgd',
          learningRate: schedules.exponentialDecay({
            initialLearningRate: 0.1,
            decaySteps: 2,
            decayRate: 0.5,
          }),
        },
        loss: 'mse',
      });
      await assert.rejects(
        model.fit(x, y, {
          epochs: 2,
          verbose: 0,
          callbacks: [callbacks.learningRateScheduler(() => 0.05)],
        }),
        (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_STATE',
      );
    } finally {
      model.dispose();
    }
  });

  it("'auto' mode: the loss and mae go down, accuracy-like metrics up; an unknown monitor needs a mode; a missing one is skipped", async () => {
    const model = tinyModel(backend);
    try {
      // mae going up never improves in 'auto' (min): patience 1 stops at epoch 1.
      const up = feed(model, 'val_mae', [0.1, 0.2, 0.3, 0.4, 0.5]);
      let h = await model.fit(x, y, {
        epochs: 5,
        verbose: 0,
        callbacks: [up.cb, callbacks.earlyStopping({ monitor: 'val_mae', patience: 1 })],
      });
      assert.equal(h.epoch.length, 2);
      const auc = tinyModel(backend);
      try {
        auc.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['auc'] });
        const f = feed(auc, 'auc', [0.1, 0.2, 0.3, 0.4, 0.5]);
        h = await auc.fit(x, y, {
          epochs: 5,
          verbose: 0,
          callbacks: [f.cb, callbacks.earlyStopping({ monitor: 'auc', patience: 1 })],
        });
        assert.equal(h.epoch.length, 5, 'auc going up keeps improving');
      } finally {
        auc.dispose();
      }
      await assert.rejects(
        model.fit(x, y, {
          verbose: 0,
          callbacks: callbacks.earlyStopping({ monitor: 'my_score' }),
        }),
        (e: { code?: string; message: string }) =>
          e.code === 'ERR_GRU_ARG' && e.message.includes("give mode 'min' or 'max'"),
      );
      const warn = console.warn;
      const warned: string[] = [];
      console.warn = (m: string) => void warned.push(m);
      try {
        h = await model.fit(x, y, {
          epochs: 3,
          verbose: 0,
          callbacks: callbacks.earlyStopping({ monitor: 'val_loss', mode: 'min' }),
        });
      } finally {
        console.warn = warn;
      }
      assert.equal(h.epoch.length, 3, 'no val_loss: nothing to stop on');
      assert.equal(warned.length, 1);
      assert.match(warned[0]!, /monitor 'val_loss' is not in the logs/);
    } finally {
      model.dispose();
    }
  });

  it('bad options: each a GruError naming the option', async () => {
    assertThrowsCode(() => callbacks.earlyStopping({ patience: -1 }), 'ERR_GRU_ARG', ['patience']);
    assertThrowsCode(() => callbacks.earlyStopping({ mode: 'up' as never }), 'ERR_GRU_ARG', [
      'mode',
    ]);
    assertThrowsCode(() => callbacks.earlyStopping({ monitor: '' }), 'ERR_GRU_ARG', ['monitor']);
    assertThrowsCode(() => callbacks.earlyStopping({ minDelta: NaN }), 'ERR_GRU_ARG', ['minDelta']);
    assertThrowsCode(() => callbacks.earlyStopping({ baseline: Infinity }), 'ERR_GRU_ARG', [
      'baseline',
    ]);
    assertThrowsCode(
      () => callbacks.earlyStopping({ restoreBestWeights: 1 as never }),
      'ERR_GRU_ARG',
      ['restoreBestWeights'],
    );
    assertThrowsCode(() => callbacks.earlyStopping({ verbose: 2 as never }), 'ERR_GRU_ARG', [
      'verbose',
    ]);
    assertThrowsCode(() => callbacks.earlyStopping({ bogus: 1 } as never), 'ERR_GRU_ARG', [
      'bogus',
    ]);
    assertThrowsCode(() => callbacks.reduceLROnPlateau({ factor: 1 }), 'ERR_GRU_ARG', ['factor']);
    assertThrowsCode(() => callbacks.reduceLROnPlateau({ minLr: -1 }), 'ERR_GRU_ARG', ['minLr']);
    assertThrowsCode(() => callbacks.reduceLROnPlateau({ cooldown: 0.5 }), 'ERR_GRU_ARG', [
      'cooldown',
    ]);
    assertThrowsCode(() => callbacks.learningRateScheduler(5 as never), 'ERR_GRU_ARG', [
      'schedule',
    ]);
    const model = tinyModel(backend);
    try {
      await assert.rejects(
        model.fit(x, y, { verbose: 0, callbacks: callbacks.learningRateScheduler(() => NaN) }),
        (e: { code?: string; message: string }) =>
          e.code === 'ERR_GRU_ARG' && e.message.includes('finite learning rate'),
      );
    } finally {
      model.dispose();
    }
  });
});
