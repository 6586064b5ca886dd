/**
 * model.fit()'s loop, on every backend: the seeded shuffle is reproducible (and shuffles),
 * validation (split and data), initialEpoch, callbacks and stopTraining, verbose output, and
 * bad input (y against x, compile missing, unknown or pending names) as GruErrors with a code.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { layers, metrics, sequential, tensor, type Sequential } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

const [N, T, F] = [24, 4, 2];
const x = tensor(uniform(N * T * F, -1, 1, rng(61)), [N, T, F]);
const y = tensor(uniform(N, -1, 1, rng(62)), [N, 1]);

function regression(backend: Backend, seed = 63): Sequential {
  const model = sequential({
    seed,
    backend,
    layers: [layers.gru({ units: 5, inputShape: [T, F] }), layers.dense({ units: 1 })],
  });
  model.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'mse' });
  return model;
}

function params(model: Sequential): Float32Array[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((n) => t.getParameter(n))),
  );
}

async function rejectsCode(p: Promise<unknown>, code: string, mentions: string[] = []) {
  await assert.rejects(p, (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${m}" in ${e.message}`);
    return true;
  });
}

/** Runs fn with console.log and process.stdout (isTTY, write) replaced; returns what they got. */
async function captured(tty: boolean, fn: () => Promise<unknown>) {
  const logged: string[] = [];
  const written: string[] = [];
  const { log } = console;
  const write = process.stdout.write;
  const had = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  console.log = (...a: unknown[]) => void logged.push(a.join(' '));
  process.stdout.write = ((s: string) => written.push(s) > 0) as typeof write;
  Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
  try {
    await fn();
  } finally {
    console.log = log;
    process.stdout.write = write;
    if (had) Object.defineProperty(process.stdout, 'isTTY', had);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  }
  return { logged, written };
}

forEachBackend('models: fit', (backend) => {
  it('the seeded shuffle is reproducible, and shuffles', async () => {
    const run = async (options: object, seed = 63) => {
      const model = regression(backend, seed);
      try {
        const h = await model.fit(x, y, { epochs: 3, batchSize: 5, verbose: 0, ...options });
        return { loss: h.history.loss, params: params(model) };
      } finally {
        model.dispose();
      }
    };
    const a = await run({});
    const b = await run({});
    assert.deepEqual(b, a);
    assert.notDeepEqual((await run({ shuffle: false })).loss, a.loss);
    assert.deepEqual(await run({ seed: 9 }), await run({ seed: 9 })); // fit's own seed
    assert.notDeepEqual((await run({ seed: 9 })).loss, a.loss);
  });

  it('validationSplit holds out the last samples (val_loss = evaluate on them); validationData; initialEpoch', async () => {
    const model = regression(backend);
    try {
      const h = await model.fit(x, y, {
        epochs: 4,
        initialEpoch: 2,
        validationSplit: 0.25,
        batchSize: 6,
        verbose: 0,
      });
      assert.deepEqual(h.epoch, [2, 3]);
      assert.equal(h.history.loss.length, 2);
      const tail = (t: typeof x, rows: number) =>
        tensor(t.data.slice(18 * rows), [6, ...t.shape.slice(1)]);
      assert.equal(
        h.history.val_loss![1],
        model.evaluate(tail(x, T * F), tail(y, 1), { batchSize: 6 }),
      );
      const v = await model.fit(x, y, { validationData: [x, y], verbose: 0 });
      assert.equal(v.history.val_loss![0], model.evaluate(x, y));
      await rejectsCode(model.fit(x, y, { validationSplit: 0.99 }), 'ERR_GRU_ARG', [
        'leaves no training samples',
      ]);
      await rejectsCode(model.fit(x, y, { validationData: [x] as never }), 'ERR_GRU_ARG', [
        '[x, y]',
      ]);
    } finally {
      model.dispose();
    }
  });

  it('callbacks are called in order and awaited, with the running loss; stopTraining stops after the batch', async () => {
    const model = regression(backend);
    try {
      const calls: string[] = [];
      const h = await model.fit(x, y, {
        epochs: 2,
        batchSize: 10,
        verbose: 0,
        callbacks: [
          {
            onTrainBegin: () => void calls.push('train'),
            onEpochBegin: (e) => void calls.push(`epoch ${e}`),
            onBatchEnd: async (b, logs) => {
              await new Promise((r) => setTimeout(r, 1));
              calls.push(`batch ${b} size ${logs!.size}`);
            },
            onEpochEnd: (e, logs) => void calls.push(`end ${e} ${logs!.loss}`),
            onTrainEnd: () => void calls.push('done'),
          },
        ],
      });
      const [l0, l1] = h.history.loss;
      assert.deepEqual(calls, [
        'train',
        'epoch 0',
        'batch 0 size 10',
        'batch 1 size 10',
        'batch 2 size 4',
        `end 0 ${l0}`,
        'epoch 1',
        'batch 0 size 10',
        'batch 1 size 10',
        'batch 2 size 4',
        `end 1 ${l1}`,
        'done',
      ]);
      let batchesRun = 0;
      const stopped = await model.fit(x, y, {
        epochs: 5,
        batchSize: 10,
        verbose: 0,
        callbacks: { onBatchEnd: () => void (++batchesRun === 2 && (model.stopTraining = true)) },
      });
      assert.equal(batchesRun, 2);
      assert.deepEqual(stopped.epoch, [0]);
    } finally {
      model.dispose();
    }
  });

  it('verbose 2 prints one line per epoch; verbose 1 draws a bar only on a terminal; verbose 0 nothing', async () => {
    const model = regression(backend);
    try {
      const two = await captured(false, () =>
        model.fit(x, y, { epochs: 3, verbose: 2, validationData: [x, y] }),
      );
      assert.equal(two.logged.length, 3);
      assert.match(
        two.logged[2]!,
        /^Epoch 3\/3 - 1\/1 - \d+s \d+ms\/step - loss: \d\.\d{4} - val_loss: \d\.\d{4}$/,
      );
      const quiet = await captured(false, () => model.fit(x, y, { epochs: 2 }));
      assert.deepEqual(quiet, { logged: [], written: [] });
      const tty = await captured(true, () => model.fit(x, y, { epochs: 2, verbose: 1 }));
      assert.equal(tty.logged.length, 0);
      // cli-progress moves the cursor and clears the line with ANSI sequences: left out here.
      // eslint-disable-next-line no-control-regex
      const text = tty.written.join('').replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '');
      assert.match(text, /Epoch 1\/2\n/);
      assert.match(text, /Epoch 1\/2\n0\/1 \[\.+\] - /);
      assert.match(text, /1\/1 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4}\nEpoch 2\/2\n/);
      assert.ok(
        tty.written.some((w) => w.startsWith('\x1b[')),
        'drawn by cli-progress',
      );
      assert.deepEqual(await captured(true, () => model.fit(x, y, { verbose: 0 })), {
        logged: [],
        written: [],
      });
      // A fit() that throws mid-epoch ends its bar: no redraw timer is left to keep Node alive.
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      await captured(true, () =>
        assert.rejects(
          model.fit(x, y, {
            epochs: 2,
            verbose: 1,
            callbacks: {
              onBatchEnd: () => {
                throw new Error('stop here');
              },
            },
          }),
          /stop here/,
        ),
      );
      assert.equal(timers(), before, 'timers left running after a failed fit()');
    } finally {
      model.dispose();
    }
  });

  it('bad input: each a GruError with a code naming what is wrong', async () => {
    const model = regression(backend);
    const fresh = sequential({ backend, layers: [layers.dense({ units: 1, inputShape: [3] })] });
    try {
      // Options left out are the defaults; null is not an options object.
      await rejectsCode(model.fit(x, y, null as never), 'ERR_GRU_ARG', ['fit options']);
      await rejectsCode(model.fitAsync(x, y, null as never), 'ERR_GRU_ARG', ['fit options']);
      await rejectsCode(
        model.fit(x, tensor(new Float32Array(N - 1), [N - 1, 1])),
        'ERR_GRU_SHAPE',
        ['y must have one sample per sample of x', 'x has 24', 'y has 23'],
      );
      await rejectsCode(model.fit(x, tensor(new Float32Array(2 * N), [N, 2])), 'ERR_GRU_SHAPE', [
        '(None, 1)',
        '(None, 2)',
      ]);
      await rejectsCode(fresh.fit([[1, 2, 3]], [[1]]), 'ERR_GRU_STATE', ['compile()']);
      assertThrowsCode(() => fresh.evaluate([[1, 2, 3]], [[1]]), 'ERR_GRU_STATE', ['compile()']);
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: 'bogusLoss' }),
        'ERR_GRU_ARG',
        [
          "unknown loss 'bogusLoss'",
          "'sparseCategoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError'",
        ],
      );
      assertThrowsCode(() => fresh.compile({ optimizer: 'adam', loss: 'poisson' }), 'ERR_GRU_ARG', [
        "loss 'poisson' is not available yet",
        'the core has no such loss',
      ]);
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: { name: 'mse', fromLogits: true } }),
        'ERR_GRU_ARG',
        ['loss \'meanSquaredError\' has an unknown option "fromLogits"'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: { name: 'bce', labelSmoothing: 0.1 } }),
        'ERR_GRU_ARG',
        ['labelSmoothing 0.1 is not available', 'no label smoothing'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: { name: 'huber', delta: 0 } }),
        'ERR_GRU_ARG',
        ['loss.delta'],
      );
      assertThrowsCode(
        () =>
          fresh.compile({
            optimizer: 'adam',
            loss: 'mse',
            metrics: [{ metric: 'auc', multiLabel: true }],
          }),
        'ERR_GRU_ARG',
        ['multiLabel'],
      );
      assertThrowsCode(
        () =>
          fresh.compile({
            optimizer: 'adam',
            loss: 'mse',
            metrics: [{ metric: 'auc', curve: 'pr' as never }],
          }),
        'ERR_GRU_ARG',
        ['curve', "'PR'"],
      );
      assertThrowsCode(
        () =>
          fresh.compile({
            optimizer: 'adam',
            loss: 'mse',
            metrics: [{ metric: 'accuracy', threshold: 0.2 }],
          }),
        'ERR_GRU_ARG',
        ["'accuracy' takes no options"],
      );
      assertThrowsCode(
        () =>
          fresh.compile({
            optimizer: 'adam',
            loss: 'mse',
            metrics: [{ metric: 'mae', threshold: 0.2 }],
          }),
        'ERR_GRU_ARG',
        ['threshold'],
      );
      // The factories check their options at once.
      assertThrowsCode(() => metrics.auc({ curve: 'x' as never }), 'ERR_GRU_ARG', ['curve']);
      assertThrowsCode(() => metrics.auc({ numThresholds: 1 }), 'ERR_GRU_ARG', ['numThresholds']);
      assertThrowsCode(() => metrics.auc({ name: '' }), 'ERR_GRU_ARG', ['name']);
      assertThrowsCode(() => metrics.precision({ numThresholds: 3 } as never), 'ERR_GRU_ARG', [
        'numThresholds',
      ]);
      assert.deepEqual(metrics.recall({ threshold: 0.2 }), { threshold: 0.2, metric: 'recall' });
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: 'mse', metrics: ['auc', metrics.auc()] }),
        'ERR_GRU_ARG',
        ["metric 'auc' is given twice"],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: 'mse', metrics: [42 as never] }),
        'ERR_GRU_ARG',
        ['a metric must be a name'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae', 'mae'] }),
        'ERR_GRU_ARG',
        ["metric 'mae' is given twice"],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: 'adam', loss: 'mse', metrics: ['f1'] }),
        'ERR_GRU_ARG',
        ["unknown metric 'f1'"],
      );
      assertThrowsCode(() => fresh.compile({ optimizer: 'nadam', loss: 'mse' }), 'ERR_GRU_ARG', [
        "optimizer 'nadam' is not available yet: the core has no Nadam yet",
      ]);
      assertThrowsCode(() => fresh.compile({ optimizer: 'bogus', loss: 'mse' }), 'ERR_GRU_ARG', [
        "unknown optimizer 'bogus'",
        "'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'",
      ]);
      assertThrowsCode(
        () => fresh.compile({ optimizer: { name: 'sgd', dampening: 0.1 }, loss: 'mse' }),
        'ERR_GRU_ARG',
        ['dampening'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: { name: 'adam', learningRate: -1 }, loss: 'mse' }),
        'ERR_GRU_ARG',
        ['learningRate'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: { name: 'sgd', learningRate: 0 }, loss: 'mse' }),
        'ERR_GRU_ARG',
        ['learningRate must be a finite float32 in (0, inf)'],
      );
      assertThrowsCode(
        () => fresh.compile({ optimizer: { name: 'adam', useEma: true }, loss: 'mse' }),
        'ERR_GRU_ARG',
        ['useEma'],
      );
      const labels = sequential({ backend, layers: [layers.dense({ units: 3, inputShape: [2] })] });
      labels.compile({
        optimizer: 'sgd',
        loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
      });
      await rejectsCode(labels.fit([[0, 1]], tensor(new Float32Array([1]), [1])), 'ERR_GRU_TYPE', [
        'int32',
      ]);
      await rejectsCode(labels.fit([[0, 1]], tensor(new Int32Array([3]), [1])), 'ERR_GRU_RANGE');
      assert.equal(((await labels.trainOnBatch([[0, 1]], [2])) as number) > 0, true);
      labels.dispose();
      await rejectsCode(model.fit(x, y, { validationFreq: 2 } as never), 'ERR_GRU_ARG', [
        'validationFreq is not available yet',
      ]);
      await rejectsCode(model.fit(x, y, { epoch: 3 } as never), 'ERR_GRU_ARG', [
        'unknown option "epoch"',
      ]);
      const running = model.fit(x, y, { epochs: 2, verbose: 0, batchSize: 4 });
      await rejectsCode(model.fit(x, y, { verbose: 0 }), 'ERR_GRU_BUSY');
      assertThrowsCode(() => model.compile({ optimizer: 'sgd', loss: 'mae' }), 'ERR_GRU_BUSY', [
        'compile() while fit() runs',
      ]);
      assertThrowsCode(() => model.add(layers.dense({ units: 1 })), 'ERR_GRU_BUSY');
      assertThrowsCode(() => model.dispose(), 'ERR_GRU_BUSY', ['stopTraining']);
      await running;
    } finally {
      model.dispose();
      fresh.dispose();
    }
  });
});
