/**
 * Keras files in and out (ts/formats/keras*.ts), on every backend, against Keras 3 itself:
 * test/fixtures/keras-files.json and test/fixtures/keras-files/ are written by
 * scripts/gen-keras-file-fixtures.py (its header says how).
 *  - Keras -> gru-simd: each small model as .keras, legacy .h5, .weights.h5 and Keras 2's
 *    weights-only .h5 predicts what Keras predicted, within 1e-5; its layers and parameter counts
 *    are Keras's.
 *  - The real files of test/fixtures/real-models/{keras,h5} load and predict what Keras 3 did
 *    (loading them, or the same architecture rebuilt with their weights), and
 *    describeKerasFile() reports their layers as Keras does; the LSTM file is refused naming LSTM.
 *  - gru-simd -> Keras: the models of test/keras-files-ours.ts saved again here load back in
 *    gru-simd, and predict what Keras 3 predicted loading the committed copies.
 *  - What gru-simd cannot honour is refused naming the layer and option.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { Backend } from '../ts/backends/backend.js';
import { GruError } from '../ts/errors.js';
import {
  describeKerasFile,
  kerasModelBytes,
  layers,
  loadKerasModel,
  loadKerasWeights,
  saveKerasModel,
  sequential,
  tensor,
  type GRULayer,
  type Sequential,
} from '../ts/index.js';
import { _h5FsFiles } from '../ts/formats/keras-h5.js';
import { forEachBackend } from './backends.js';
import { buildOurs, oursInput, OURS } from './keras-files-ours.js';

interface LayerInfo {
  className: string;
  name: string;
  outputShape: (number | null)[];
  params: number;
}
interface Case {
  name: string;
  files: string[];
  inputShape: number[];
  xInt: boolean;
  x: number[];
  predict: number[];
  outputShape: number[];
  params: number;
  layers: LayerInfo[];
}
interface Real {
  file: string;
  how: string;
  xInt: boolean;
  xShape: number[];
  x: number[];
  predict: number[];
  params: number;
  layers: LayerInfo[];
}
interface Ours {
  file: string;
  kerasPredict: number[];
  maxAbsDiff: number;
  match: boolean;
  params: number;
}

const FIXTURES: { keras: string; cases: Case[]; real: Real[]; ours: Ours[] } = JSON.parse(
  readFileSync(new URL('./fixtures/keras-files.json', import.meta.url), 'utf8'),
);
const fixture = (path: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${path}`, import.meta.url)));

/** |a - k| <= 1e-5 (1 + |k|); returns the largest |a - k|. */
function close(actual: ArrayLike<number>, keras: readonly number[], what: string): number {
  assert.equal(actual.length, keras.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < keras.length; i++) {
    const [a, k] = [actual[i]!, keras[i]!];
    worst = Math.max(worst, Math.abs(a - k));
    assert.ok(Math.abs(a - k) <= 1e-5 * (1 + Math.abs(k)), `${what}[${i}]: ${a} vs Keras ${k}`);
  }
  return worst;
}

function input(xInt: boolean, x: number[], shape: number[]) {
  return tensor(xInt ? Int32Array.from(x) : Float32Array.from(x), shape);
}

/** Every parameter zeroed: a weights file loaded next must set each one. */
function zeroWeights(model: Sequential): void {
  for (const l of model.layers)
    for (const core of l.trainables())
      for (const p of core.parameterNames())
        core.setParameter(p, new Float32Array(core.getParameter(p).length));
}

/** A .keras fixture with its config.json changed by `edit`. */
/** A config as the edits below reach into it (loosely typed: they forge it). */
interface Config {
  class_name: string;
  config: { layers: { class_name: string; config: Record<string, unknown> }[] };
}

function editConfig(path: string, edit: (config: Config) => void): Uint8Array {
  const files = unzipSync(fixture(path));
  const config = JSON.parse(strFromU8(files['config.json']!)) as Config;
  edit(config);
  files['config.json'] = strToU8(JSON.stringify(config));
  return zipSync(files);
}

async function refused(p: Promise<unknown>, code: string, mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GruError, String(e));
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${m}" in: ${e.message}`);
    return true;
  });
}

const worst = { keras: 0, real: 0, ours: 0 };

forEachBackend(`Keras files (Keras ${FIXTURES.keras})`, (backend: Backend) => {
  after(() => {
    console.log(
      `      max |gru-simd - Keras|: Keras's files ${worst.keras.toExponential(2)}, real files ${worst.real.toExponential(2)}, gru-simd's files ${worst.ours.toExponential(2)}`,
    );
  });

  for (const c of FIXTURES.cases) {
    it(`${c.name}: .keras, .h5, .weights.h5 and Keras 2's weights .h5 predict as Keras`, async () => {
      const n = c.x.length / c.inputShape.reduce((a, b) => a * b, 1);
      const x = input(c.xInt, c.x, [n, ...c.inputShape]);
      for (const file of c.files) {
        const bytes = fixture(`keras-files/${file}`);
        let model: Sequential;
        if (file.includes('weights')) {
          model = await loadKerasModel(fixture(`keras-files/${c.name}.keras`), { backend });
          zeroWeights(model);
          await loadKerasWeights(model, bytes);
        } else model = await loadKerasModel(bytes, { backend });
        try {
          assert.equal(model.countParams(), c.params, `${file}: countParams`);
          assert.deepEqual(
            model.layers.map((l) => [l.className, l.name, l.outputShape]),
            c.layers.map((l) => [l.className, l.name, l.outputShape]),
            `${file}: layers`,
          );
          const y = model.predict(x);
          assert.deepEqual(y.shape, [n, ...c.outputShape]);
          worst.keras = Math.max(worst.keras, close(y.data, c.predict, file));
        } finally {
          model.dispose();
        }
      }
    });
  }

  for (const r of FIXTURES.real) {
    it(`real file ${r.file} predicts as Keras 3 (${r.how})`, async () => {
      const model = await loadKerasModel(fixture(r.file), { backend });
      try {
        assert.equal(model.countParams(), r.params, 'countParams');
        assert.deepEqual(
          model.layers.map((l) => [l.className, l.outputShape, l.countParams()]),
          r.layers.map((l) => [l.className, l.outputShape, l.params]),
        );
        worst.real = Math.max(
          worst.real,
          close(model.predict(input(r.xInt, r.x, r.xShape)).data, r.predict, r.file),
        );
      } finally {
        model.dispose();
      }
    });
  }

  it("hard_sigmoid is Keras 2's in a Keras 2 file and Keras 3's in a Keras 3 file", async () => {
    const k2 = await loadKerasModel(
      fixture('real-models/h5/keras2.1.3-embedding-gru2-hardsigmoid.h5'),
      { backend },
    );
    const k3 = await loadKerasModel(fixture('keras-files/gru-options.keras'), { backend });
    try {
      const g2 = k2.layers[1] as GRULayer;
      assert.equal(g2.recurrentActivation, 'hardSigmoidKeras2');
      assert.equal(g2.resetAfter, false, 'no reset_after key: Keras 2.1 computed reset-before');
      assert.equal((k3.layers[0] as GRULayer).recurrentActivation, 'hardSigmoid');
    } finally {
      k2.dispose();
      k3.dispose();
    }
  });

  it('the LSTM file is refused naming LSTM, and h5wasm keeps no file after any load', async () => {
    await refused(
      loadKerasModel(fixture('real-models/h5/keras2.1.3-lstm-dl4j-simple-flatten.h5'), {
        backend,
      }),
      'ERR_GRU_FORMAT',
      ["layer 'lstm_1' (LSTM)", 'LSTM'],
    );
    assert.deepEqual(await _h5FsFiles(), []);
  });

  for (const [i, c] of OURS.entries()) {
    it(`gru-simd's ${c.file}: loads back, and predicts what Keras 3 predicted loading it`, async () => {
      const keras = FIXTURES.ours.find((o) => o.file === c.file);
      assert.ok(keras !== undefined, `${c.file}: not in the fixture (run the generator)`);
      assert.ok(keras.match, `Keras 3 found ${keras.maxAbsDiff} between its predictions and ours`);
      const model = buildOurs(c, backend);
      try {
        const { x } = oursInput(c);
        const ours = model.predict(x).data;
        worst.ours = Math.max(worst.ours, close(ours, keras.kerasPredict, c.file));
        assert.equal(model.countParams(), keras.params, 'countParams as Keras counts');
        const saveArgs = c.batchSize === undefined ? {} : { batchSize: c.batchSize };
        const bytes = await kerasModelBytes(model, saveArgs);
        let back: Sequential;
        if (i % 2 === 0) back = await loadKerasModel(bytes, { backend });
        else {
          // Through a file: saveKerasModel writes atomically, loadKerasModel reads the path.
          const dir = mkdtempSync(join(tmpdir(), 'gru-keras-'));
          try {
            await saveKerasModel(model, join(dir, 'm.keras'), saveArgs);
            back = await loadKerasModel(join(dir, 'm.keras'), { backend });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
        try {
          assert.deepEqual(back.predict(x).data, ours, 'the same predictions after the round trip');
        } finally {
          back.dispose();
        }
      } finally {
        model.dispose();
      }
    });
  }

  it('describeKerasFile: layers, weights and parameter counts as Keras reports, without building', async () => {
    for (const r of FIXTURES.real) {
      const d = await describeKerasFile(fixture(r.file));
      assert.equal(d.loadable, true, `${r.file}: ${d.problem}`);
      assert.equal(d.params, r.params, r.file);
      assert.deepEqual(
        d.layers.map((l) => [l.className, l.params]),
        r.layers.map((l) => [l.className, l.params]),
        r.file,
      );
    }
    const lstm = await describeKerasFile(
      fixture('real-models/h5/keras2.1.3-lstm-dl4j-simple-flatten.h5'),
    );
    assert.equal(lstm.loadable, false);
    assert.match(lstm.problem!, /LSTM/);
    assert.equal(lstm.kerasVersion, '2.1.3');
    assert.deepEqual(
      lstm.layers.map((l) => [l.className, l.name, l.weights.map((w) => w.shape)]),
      [
        ['LSTM', 'lstm_1', [[1, 200], [50, 200], [200]]],
        ['Dense', 'dense_1', [[50, 1], [1]]],
      ],
    );
    const w = await describeKerasFile(fixture('keras-files/gru-reset-after.weights.h5'));
    assert.equal(w.format, 'weights');
    assert.deepEqual(
      w.layers.map((l) => l.name),
      ['dense', 'gru', 'gru_1'],
    );
    assert.equal(w.params, FIXTURES.cases.find((c) => c.name === 'gru-reset-after')!.params);
  });

  it('a model without an InputLayer (built by build() in Keras) takes its recorded input shape', async () => {
    const c = FIXTURES.cases.find((k) => k.name === 'gru-reset-after')!;
    const bytes = editConfig('keras-files/gru-reset-after.keras', (config) => {
      assert.equal(config.config.layers.shift()!.class_name, 'InputLayer');
    });
    const model = await loadKerasModel(bytes, { backend });
    try {
      const n = c.x.length / 15;
      close(model.predict(input(false, c.x, [n, 5, 3])).data, c.predict, 'predict');
    } finally {
      model.dispose();
    }
  });

  it('what gru-simd cannot honour is refused, naming the layer and the option', async () => {
    const gru = (config: Config) => config.config.layers[1]!.config;
    const cases: [(config: Config) => void, string[]][] = [
      [(c) => (gru(c).unroll = true), ["layer 'gru", 'unroll']],
      [(c) => (gru(c).activation = 'swish'), ["layer 'gru", 'swish']],
      [(c) => (gru(c).trainable = false), ['trainable']],
      [(c) => (gru(c).kernel_regularizer = { class_name: 'L2' }), ['kernel_regularizer']],
      [(c) => (gru(c).dtype = 'float16'), ['dtype', 'float16']],
      [(c) => (gru(c).some_new_option = 1), ["'some_new_option'"]],
      [(c) => (c.config.layers[1].class_name = 'LSTM'), ['LSTM']],
      [(c) => (c.class_name = 'Functional'), ['Functional', 'Sequential']],
    ];
    for (const [edit, mentions] of cases)
      await refused(
        loadKerasModel(editConfig('keras-files/gru-reset-after.keras', edit), { backend }),
        'ERR_GRU_FORMAT',
        mentions,
      );
    // hard_sigmoid with no keras_version: which one is meant cannot be known.
    const files = unzipSync(fixture('keras-files/gru-options.keras'));
    delete files['metadata.json'];
    await refused(loadKerasModel(zipSync(files), { backend }), 'ERR_GRU_FORMAT', [
      'hard_sigmoid',
      'keras_version',
    ]);
    // A weights-only file is not a model; weights of another model are refused, naming the layer.
    await refused(
      loadKerasModel(fixture('keras-files/gru-reset-after.weights.h5'), { backend }),
      'ERR_GRU_FORMAT',
      ['weights only', 'loadKerasWeights'],
    );
    const other = await loadKerasModel(fixture('keras-files/dense-2d.keras'), { backend });
    try {
      await refused(
        loadKerasWeights(other, fixture('keras-files/gru-options.legacy-weights.h5')),
        'ERR_GRU_FORMAT',
        ['dense'],
      );
      await refused(
        loadKerasWeights(other, fixture('keras-files/gru-options.weights.h5')),
        'ERR_GRU_FORMAT',
        ["layer 'batch_normalization", "no group 'layers/batch_normalization/vars'"],
      );
    } finally {
      other.dispose();
    }
    assert.deepEqual(await _h5FsFiles(), []);
  });

  it("saving refuses what Keras 3 cannot hold (Keras 2's hard sigmoid), and bad arguments", async () => {
    const model = sequential({
      backend,
      layers: [
        layers.gru({ units: 2, recurrentActivation: 'hardSigmoidKeras2', inputShape: [3, 2] }),
      ],
    });
    try {
      await refused(kerasModelBytes(model), 'ERR_GRU_ARG', ['hardSigmoidKeras2', 'Keras 3']);
    } finally {
      model.dispose();
    }
    const unbuilt = sequential({ backend, layers: [layers.dense({ units: 2 })] });
    await refused(kerasModelBytes(unbuilt), 'ERR_GRU_STATE', ['build']);
    await refused(loadKerasWeights(unbuilt, new Uint8Array(8)), 'ERR_GRU_STATE', ['build']);
    unbuilt.dispose();
    await refused(kerasModelBytes({} as never), 'ERR_GRU_TYPE', ['Sequential']);
    const carried = sequential({
      backend,
      layers: [layers.gru({ units: 2, stateful: true, inputShape: [3, 2] })],
    });
    try {
      await refused(kerasModelBytes(carried), 'ERR_GRU_ARG', ["layer 'gru'", 'batchSize']);
      await refused(kerasModelBytes(carried, { batchSize: 0 }), 'ERR_GRU_ARG', ['batchSize']);
      await refused(kerasModelBytes(carried, { batch: 2 } as never), 'ERR_GRU_ARG', ['batch']);
    } finally {
      carried.dispose();
    }
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    await refused(kerasModelBytes(revocable.proxy as never), 'ERR_GRU_TYPE', ['Proxy']);
    const real = sequential({ backend, layers: [layers.dense({ units: 2, inputShape: [3] })] });
    try {
      await refused(kerasModelBytes(new Proxy(real, {})), 'ERR_GRU_TYPE', ['Sequential']);
      await refused(loadKerasWeights(new Proxy(real, {}), new Uint8Array(8)), 'ERR_GRU_TYPE', [
        'Sequential',
      ]);
    } finally {
      real.dispose();
    }
    await refused(loadKerasModel(42 as never, { backend }), 'ERR_GRU_ARG', ['source']);
    await refused(loadKerasModel(new Uint8Array(8), { nope: 1 } as never), 'ERR_GRU_ARG', ['nope']);
  });
});
