/**
 * callbacks.modelCheckpoint against Keras 3's ModelCheckpoint: test/fixtures/keras-checkpoint.json
 * (scripts/gen-keras-checkpoint-fixtures.py) lists the files Keras wrote for chosen sequences of
 * a monitored value (fed through the logs by a first callback): when it saved, and the filepath
 * formatted. The same options here must write the same names, on every backend. Then: what the
 * files hold (a model, or the weights alone), a monitor missing from the logs, the filepath's
 * formats, and bad options.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../../ts/backends/backend.js';
import { decodeSafetensors } from '../../ts/formats/safetensors.js';
import {
  callbacks,
  layers,
  loadModel,
  sequential,
  tensor,
  type CustomCallbackArgs,
  type ModelCheckpointArgs,
  type Sequential,
} from '../../ts/index.js';
import { formatFilepath } from '../../ts/models/model-checkpoint.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

interface CheckpointCase {
  filepath: string;
  options: Omit<ModelCheckpointArgs, 'filepath'> & { monitor: string };
  values: number[];
  written: string[];
}

const FIXTURES = JSON.parse(readFileSync('test/fixtures/keras-checkpoint.json', 'utf8')) as {
  keras: string;
  cases: CheckpointCase[];
};

function tinyModel(backend: Backend): Sequential {
  const model = sequential({
    seed: 3,
    backend,
    layers: [layers.dense({ units: 1, inputShape: [3] })],
  });
  model.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'mse', metrics: ['mae'] });
  return model;
}

const x = tensor(uniform(8 * 3, -1, 1, rng(30)), [8, 3]);
const y = tensor(uniform(8, -1, 1, rng(31)), [8, 1]);

const feed = (monitor: string, values: number[]): CustomCallbackArgs => ({
  onEpochEnd: (epoch, logs) => {
    logs![monitor] = values[epoch]!;
  },
});

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gru-simd-ckpt-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

forEachBackend(`models: modelCheckpoint against Keras ${FIXTURES.keras}`, (backend) => {
  for (const c of FIXTURES.cases) {
    it(`${c.filepath} ${JSON.stringify(c.options)}: writes ${c.written.join(', ')}`, async () => {
      await withDir(async (dir) => {
        const model = tinyModel(backend);
        try {
          const checkpoint = callbacks.modelCheckpoint({
            filepath: path.join(dir, c.filepath),
            ...c.options,
          });
          await model.fit(x, y, {
            epochs: c.values.length,
            batchSize: 4,
            shuffle: false,
            verbose: 0,
            callbacks: [feed(c.options.monitor, c.values), checkpoint],
          });
          assert.deepEqual(readdirSync(dir).sort(), c.written);
          const kind = c.options.saveWeightsOnly ? 'weights' : 'model';
          for (const f of c.written) {
            const file = decodeSafetensors(new Uint8Array(readFileSync(path.join(dir, f))));
            assert.equal(file.metadata.contents, kind, f);
          }
        } finally {
          model.dispose();
        }
      });
    });
  }
});

forEachBackend('models: modelCheckpoint', (backend) => {
  it('the last file holds the model as it was at that epoch, loadable', async () => {
    await withDir(async (dir) => {
      const model = tinyModel(backend);
      const at: Float32Array[] = [];
      await model.fit(x, y, {
        epochs: 3,
        batchSize: 4,
        verbose: 0,
        callbacks: [
          callbacks.modelCheckpoint({ filepath: path.join(dir, 'm{epoch}') }),
          {
            onEpochEnd: () =>
              void at.push(model.layers[0]!.trainables()[0]!.getParameter('weight')),
          },
        ],
      });
      for (const e of [1, 2, 3]) {
        const loaded = await loadModel(path.join(dir, `m${e}`), { backend });
        assert.deepEqual(loaded.layers[0]!.trainables()[0]!.getParameter('weight'), at[e - 1]);
        loaded.dispose();
      }
      model.dispose();
    });
  });

  it('saveBestOnly with the monitor missing from the logs saves anyway, warned (Keras 3)', async () => {
    await withDir(async (dir) => {
      const model = tinyModel(backend);
      const warn = console.warn;
      const warned: string[] = [];
      console.warn = (m: string) => void warned.push(m);
      try {
        await model.fit(x, y, {
          epochs: 2,
          verbose: 0,
          callbacks: [
            callbacks.modelCheckpoint({
              filepath: path.join(dir, 'm{epoch}'),
              monitor: 'val_loss',
              saveBestOnly: true,
            }),
          ],
        });
      } finally {
        console.warn = warn;
      }
      assert.deepEqual(readdirSync(dir).sort(), ['m1', 'm2']);
      assert.ok(
        warned.some((w) => w.includes("'val_loss'")),
        warned.join('\n'),
      );
      model.dispose();
    });
  });

  it('refuses in fit(): a field not in the logs, a monitor whose direction is unknown', async () => {
    await withDir(async (dir) => {
      const model = tinyModel(backend);
      await assert.rejects(
        model.fit(x, y, {
          epochs: 1,
          verbose: 0,
          callbacks: [callbacks.modelCheckpoint({ filepath: path.join(dir, '{val_acc:.2f}') })],
        }),
        (e: Error & { code?: string }) =>
          e.code === 'ERR_GRU_ARG' && e.message.includes('{val_acc}') && e.message.includes('mae'),
      );
      await assert.rejects(
        model.fit(x, y, {
          epochs: 1,
          verbose: 0,
          callbacks: [
            callbacks.modelCheckpoint({
              filepath: path.join(dir, 'm'),
              monitor: 'x',
              saveBestOnly: true,
            }),
          ],
        }),
        (e: Error & { code?: string }) => e.code === 'ERR_GRU_ARG' && e.message.includes("'x'"),
      );
      assert.deepEqual(readdirSync(dir), []);
      model.dispose();
    });
  });
});

describe('models: modelCheckpoint filepath and options', () => {
  it("formats as Python's str.format: d with widths, .Nf, .Ne, braces", () => {
    const v = { epoch: 3, loss: 0.123456, val_loss: -0.00123, big: 12345.678 };
    assert.equal(formatFilepath('a{epoch}b', v), 'a3b');
    assert.equal(formatFilepath('{epoch:02d}-{epoch:3d}|', v), '03-  3|');
    assert.equal(formatFilepath('{loss:.2f}_{val_loss:.3f}', v), '0.12_-0.001');
    assert.equal(
      formatFilepath('{loss:.2e}_{val_loss:.1e}_{big:.3e}', v),
      '1.23e-01_-1.2e-03_1.235e+04',
    );
    assert.equal(formatFilepath('{loss}', v), '0.123456');
    assert.equal(formatFilepath('{{epoch}}{epoch:08.3f}', v), '{epoch}0003.000');
  });

  it('bad options: each named', () => {
    const m = (o: unknown) => () => callbacks.modelCheckpoint(o as ModelCheckpointArgs);
    assertThrowsCode(m({}), 'ERR_GRU_ARG', ['filepath']);
    assertThrowsCode(m({ filepath: '' }), 'ERR_GRU_ARG', ['filepath']);
    assertThrowsCode(m({ filepath: 5 }), 'ERR_GRU_ARG', ['filepath']);
    assertThrowsCode(m({ filepath: 'm{epoch:x}' }), 'ERR_GRU_ARG', ['{epoch:x}']);
    assertThrowsCode(m({ filepath: 'm', saveFreq: 0 }), 'ERR_GRU_ARG', ['saveFreq']);
    assertThrowsCode(m({ filepath: 'm', saveFreq: 'batch' }), 'ERR_GRU_ARG', ['saveFreq']);
    assertThrowsCode(m({ filepath: 'm', saveBestOnly: 1 }), 'ERR_GRU_ARG', ['saveBestOnly']);
    assertThrowsCode(m({ filepath: 'm', saveWeightsOnly: 'yes' }), 'ERR_GRU_ARG', [
      'saveWeightsOnly',
    ]);
    assertThrowsCode(m({ filepath: 'm', mode: 'up' }), 'ERR_GRU_ARG', ['mode']);
    assertThrowsCode(m({ filepath: 'm', verbose: 2 }), 'ERR_GRU_ARG', ['verbose']);
    assertThrowsCode(m({ filepath: 'm', initialValueThreshold: NaN }), 'ERR_GRU_ARG', [
      'initialValueThreshold',
    ]);
    assertThrowsCode(m({ filepath: 'm', minDelta: 0.1 }), 'ERR_GRU_ARG', ['minDelta']);
    assertThrowsCode(m({ filepath: 'm', period: 2 }), 'ERR_GRU_ARG', ['period']);
    assertThrowsCode(m(null), 'ERR_GRU_ARG', []);
  });
});
