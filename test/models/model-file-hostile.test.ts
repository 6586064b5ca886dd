/**
 * Truncated, forged and hostile model files: each check of the reader (ts/formats/
 * safetensors.ts, ts/models/model-file.ts) on a file made to fail it, as ERR_GRU_FORMAT naming
 * what is wrong; then a seeded fuzz of mutated files (test/fuzz/hostile-files.ts): every outcome
 * a model or a GruError, none over 1 s, a model loaded never holding more than the file pays for.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { GruError } from '../../ts/errors.js';
import { layers, loadModel, sequential, type Sequential } from '../../ts/index.js';
import { modelFromBytes } from '../../ts/models/model-file.js';
import { forEachBackend } from '../backends.js';
import { hostileFile, joinFile, splitFile } from '../fuzz/hostile-files.js';
import { assertThrowsCode, FUZZ_CASE_MS, rng } from '../util.js';

function validModel(backend: Backend): Sequential {
  const m = sequential({
    seed: 1,
    backend,
    layers: [
      layers.embedding({ inputDim: 7, outputDim: 3, inputLength: 4 }),
      layers.batchNormalization(),
      layers.gru({ units: 4, returnSequences: true }),
      layers.bidirectional({ layer: layers.gru({ units: 2 }) }),
      layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** A header as an object: each entry's (and the metadata's) fields, loosely typed to forge. */
type Header = Record<string, Record<string, unknown>>;
/** The architecture metadata, as far as the forgeries here reach into it. */
interface Arch {
  config: Record<string, unknown> & {
    layers: { className: unknown; config: Record<string, unknown> }[];
  };
}

/** The valid file's header as an object (its metadata JSON kept as strings) and its data. */
function parts(bytes: Uint8Array): { header: Header; data: Uint8Array } {
  const { header, data } = splitFile(bytes);
  return { header: JSON.parse(header) as Header, data };
}

const forged = (header: unknown, data: Uint8Array) => joinFile(JSON.stringify(header), data);

forEachBackend('model file: hostile files', (backend) => {
  let valid: Uint8Array;
  before(async function () {
    const m = validModel(backend);
    const x = { data: Int32Array.from({ length: 8 }, (_, i) => i % 7), shape: [2, 4] };
    await m.trainOnBatch(x, { data: Int32Array.from([0, 1]), shape: [2] }); // an optimizer state
    valid = m.toBytes();
    m.dispose();
  });
  const load = (bytes: Uint8Array) => modelFromBytes(bytes, backend);
  const refused = (bytes: Uint8Array, mentions: string[]) =>
    assertThrowsCode(() => load(bytes), 'ERR_GRU_FORMAT', mentions);

  it('the valid file loads (the base of every forgery here)', function () {
    load(valid).dispose();
  });

  it('the container: length field, UTF-8, JSON, nesting', function () {
    refused(valid.subarray(0, 5), ['too short']);
    const big = valid.slice();
    new DataView(big.buffer).setUint32(4, 1, true);
    refused(big, ['over the']);
    const long = valid.slice();
    new DataView(long.buffer).setUint32(0, valid.length, true);
    refused(long, ['truncated']);
    refused(valid.subarray(0, valid.length - 4), ['outside']);
    refused(joinFile(splitFile(valid).header, new Uint8Array(splitFile(valid).data.length + 4)), [
      'tensors cover',
    ]);
    refused(joinFile('\u00ff{}', new Uint8Array(0)).fill(0xff, 8), ['UTF-8']);
    refused(joinFile('[1,2]', new Uint8Array(0)), ['JSON object']);
    refused(joinFile('{"a":', new Uint8Array(0)), ['not valid JSON']);
    refused(joinFile(`{"a":${'['.repeat(100000)}${']'.repeat(100000)}}`, new Uint8Array(0)), [
      'nests deeper',
    ]);
  });

  it('a header of too many (empty) tensors is refused before it is parsed', function () {
    const entry = '{"dtype":"F32","shape":[0],"data_offsets":[0,0]}';
    const many = (n: number) =>
      `{${Array.from({ length: n }, (_, i) => `"t${i}":${entry}`).join(',')}}`;
    refused(joinFile(many(70_000), new Uint8Array(0)), ['over 65536 tensors']);
    // Under the limit, the same header is read (and refused for not being a gru-simd file).
    refused(joinFile(many(1_000), new Uint8Array(0)), ['not a gru-simd model file']);
  });

  it('a header dense in tiny values is refused before it is parsed (2x the file + 1 MiB)', function () {
    // 400,000 zeros: 800 KB of text that JSON.parse would make ~10 MB of
    const zeros = `{"t":{"dtype":"F32","shape":[${new Array(400_000).fill(0).join(',')}],"data_offsets":[0,0]}}`;
    refused(joinFile(zeros, new Uint8Array(0)), ['header would take', 'bytes parsed']);
    // a header of the same length in real entries is parsed (and refused for not being ours)
    const entry = '{"dtype":"F32","shape":[0],"data_offsets":[0,0]}';
    refused(
      joinFile(
        `{${Array.from({ length: 1_000 }, (_, i) => `"t${i}":${entry}`).join(',')}}`,
        new Uint8Array(0),
      ),
      ['not a gru-simd model file'],
    );
  });

  it('tensor entries: dtype, shape, offsets (range, overlap, gap), byte counts, keys', function () {
    const { header, data } = parts(valid);
    const name = 'gru/weight_ih_l0';
    const edit = (f: (h: Header) => void) => {
      const h = structuredClone(header);
      f(h);
      return forged(h, data);
    };
    refused(
      edit((h) => (h[name].dtype = 'F16')),
      ['F16', 'only F32', name],
    );
    refused(
      edit((h) => (h[name].dtype = 3)),
      ['dtype must be a string'],
    );
    refused(
      edit((h) => (h[name].shape = [1e15, 1e15])),
      ['more bytes than the file holds'],
    );
    refused(
      edit((h) => (h[name].shape = [-1, 3])),
      ['integers >= 0'],
    );
    refused(
      edit((h) => (h[name].shape = [12, 3.5])),
      ['integers >= 0'],
    );
    refused(
      edit((h) => (h[name].data_offsets = [0, 2 ** 53])),
      ['data_offsets must be'],
    );
    refused(
      edit((h) => (h[name].data_offsets = [0, 2 ** 40])),
      ['outside'],
    );
    refused(
      edit((h) => (h[name].data_offsets = [8, 4])),
      ['outside'],
    );
    refused(
      edit((h) => (h[name].data_offsets = 'x')),
      ['data_offsets must be'],
    );
    const [b, e] = header[name].data_offsets as [number, number];
    refused(
      edit((h) => (h[name].data_offsets = [b + 4, e + 4])),
      ['overlap or leave a gap'],
    );
    refused(
      edit((h) => (h[name].shape = [1])),
      ['needs 4'],
    );
    refused(
      edit((h) => (h[name].extra = 1)),
      ["unknown header key 'extra'"],
    );
    refused(
      edit((h) => (h.__metadata__.format = 5)),
      ['must be a string'],
    );
    void e;
  });

  it('metadata: format, version, contents, architecture JSON', function () {
    const { header, data } = parts(valid);
    const meta = (f: (m: Record<string, unknown>) => void) => {
      const h = structuredClone(header);
      f(h.__metadata__!);
      return forged(h, data);
    };
    refused(
      meta((m) => delete m.format),
      ['not a gru-simd model file'],
    );
    refused(
      meta((m) => (m.format = 'pt')),
      ['not a gru-simd model file', '"pt"'],
    );
    refused(
      meta((m) => (m.format_version = '2')),
      ['format version 2', 'update gru-simd'],
    );
    refused(
      meta((m) => (m.format_version = '1.0')),
      ['format_version'],
    );
    refused(
      meta((m) => (m.contents = 'all')),
      ['contents'],
    );
    refused(
      meta((m) => delete m.model),
      ["no 'model' metadata"],
    );
    refused(
      meta((m) => (m.model = '{"className":')),
      ["metadata 'model' is not valid JSON"],
    );
    refused(
      meta((m) => (m.model = '{"className":"Functional","config":{}}')),
      ['only Sequential'],
    );
    refused(
      meta((m) => (m.training = '{"fitCount":-1}')),
      ['fitCount'],
    );
    refused(
      meta((m) => (m.compile = '{"optimizer":"adam","loss":"bogus"}')),
      ['bogus'],
    );
    refused(
      meta((m) => delete m.optimizer),
      ['optimizer'],
    );
  });

  it('architecture: unknown class or option, bad option values, wide layers without tensors', function () {
    const { header, data } = parts(valid);
    const arch = (f: (a: Arch) => void) => {
      const h = structuredClone(header);
      const a = JSON.parse(h.__metadata__!.model as string) as Arch;
      f(a);
      h.__metadata__!.model = JSON.stringify(a);
      return forged(h, data);
    };
    refused(
      arch((a) => (a.config.layers[2].className = 'LSTM')),
      ['LSTM', 'layers[2]'],
    );
    refused(
      arch((a) => (a.config.layers[2].config.unitz = 4)),
      ['unitz', 'layers[2] (GRU)'],
    );
    refused(
      arch((a) => (a.config.layers[2].config.units = 'four')),
      ['units', 'layers[2]'],
    );
    refused(
      arch((a) => (a.config.layers[3].config.layer = { className: 'Dense', config: {} })),
      ['layers[3]'],
    );
    refused(
      arch((a) => (a.config.layers[2].config.units = 40000)),
      ['at least', 'parameters'],
    );
    refused(
      arch((a) => (a.config.layers[0].config.inputDim = 2 ** 29)),
      ['at least'],
    );
    refused(
      arch((a) => (a.config.bogus = 1)),
      ["unknown key 'bogus'"],
    );
    refused(
      arch((a) => (a.config.layers[4].config.units = 3)),
      ['mis-shaped tensors', "dense/weight is [2, 4], the model's is [3, 4]"],
    );
  });

  it('wide layers of a file without tensors, each kind, refused before they are built', function () {
    const file = (layer: unknown, inputShape: unknown) =>
      forged(
        {
          __metadata__: {
            format: 'gru-simd',
            format_version: '1',
            contents: 'model',
            model: JSON.stringify({
              className: 'Sequential',
              config: { name: 's', seed: 1, inputShape, layers: [layer] },
            }),
          },
        },
        new Uint8Array(0),
      );
    const wide: [unknown, unknown][] = [
      [{ className: 'LayerNormalization', config: {} }, [null, 2, 1e8]],
      [{ className: 'BatchNormalization', config: {} }, [null, 1e8]],
      [{ className: 'Dense', config: { units: 1e6, inputDim: 1e6 } }, null],
      [{ className: 'Embedding', config: { inputDim: 1e8, outputDim: 100, inputLength: 3 } }, null],
      [{ className: 'GRU', config: { units: 1e5 } }, [null, 3, 1e5]],
      [
        {
          className: 'Bidirectional',
          config: { layer: { className: 'GRU', config: { units: 1e5 } } },
        },
        [null, 3, 4],
      ],
    ];
    for (const [layer, shape] of wide) refused(file(layer, shape), ['at least']);
    // Without parameters (or unbuilt), nothing to refuse: it loads.
    load(file({ className: 'Masking', config: {} }, [null, 2, 1e8])).dispose();
    load(file({ className: 'GRU', config: { units: 1e5 } }, null)).dispose();
  });

  it('tensors: each missing or unexpected one named', function () {
    const { header, data } = parts(valid);
    const h = structuredClone(header);
    h['gru/extra'] = h['gru/bias_hh_l0'];
    delete h['gru/bias_hh_l0'];
    refused(forged(h, data), ['missing tensors: gru/bias_hh_l0', 'unexpected tensors: gru/extra']);
  });

  it('seeded fuzz: every outcome a model or a GruError, each within 1 s, no allocation the file does not pay for', async function () {
    this.timeout(30_000);
    const r = rng(0x5afe);
    const deadline = Date.now() + 5_000; // a bounded slice of npm test (scripts/fuzz.ts runs more)
    const kinds = new Map<string, { loaded: number; refused: number }>();
    let cases = 0;
    while (Date.now() < deadline) {
      const { kind, bytes } = hostileFile(r, valid);
      const t0 = performance.now();
      let outcome: 'loaded' | 'refused';
      try {
        const model = await loadModel(bytes, { backend });
        // What it holds came from the file: its parameters fit in the file's bytes.
        assert.ok(model.countParams() * 4 <= bytes.length, `${kind}: parameters beyond the file`);
        model.dispose();
        outcome = 'loaded';
      } catch (e) {
        assert.ok(e instanceof GruError, `${kind}: ${String(e)} is not a GruError`);
        assert.ok(
          ['ERR_GRU_FORMAT', 'ERR_GRU_ARG'].includes(e.code),
          `${kind}: ${e.code} ${e.message}`,
        );
        outcome = 'refused';
      }
      const ms = performance.now() - t0;
      assert.ok(ms < FUZZ_CASE_MS, `${kind}: ${ms.toFixed(0)} ms`);
      const k = kinds.get(kind) ?? { loaded: 0, refused: 0 };
      k[outcome]++;
      kinds.set(kind, k);
      cases++;
    }
    assert.ok(cases > 50, `only ${cases} cases ran`);
    assert.ok(kinds.size >= 8, `mutation kinds seen: ${[...kinds.keys()].join(', ')}`);
    if (process.env.GRU_SIMD_FUZZ_REPORT) console.log(cases, Object.fromEntries(kinds));
  });
});
