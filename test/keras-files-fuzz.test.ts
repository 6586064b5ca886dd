/**
 * Hostile Keras files (ts/formats/keras*.ts): forged HDF5 structures made with h5wasm itself
 * (a dataset declared huge without its storage, a hard-link cycle, wrong dtypes), then a seeded
 * fuzz of mutated `.keras` and `.h5` files (test/fuzz/hostile-keras-files.ts): every outcome a
 * model or a GruError ERR_GRU_FORMAT, none over 1 s, a model loaded never holding more than the
 * file's bytes pay for, h5wasm's file system left empty and its memory bounded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import h5wasm from 'h5wasm';
import { GruError } from '../ts/errors.js';
import {
  loadKerasModel,
  loadKerasWeights,
  describeKerasFile,
  type Sequential,
} from '../ts/index.js';
import {
  H5File as H5Reader,
  _h5FsContents,
  _h5FsFiles,
  _h5Instances,
  _h5MemoryBytes,
  _h5Poison,
} from '../ts/formats/keras-h5.js';
import { forEachBackend } from './backends.js';
import { hostileKerasFile } from './fuzz/hostile-keras-files.js';
import { FUZZ_CASE_MS, rng } from './util.js';

const fixture = (path: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/keras-files/${path}`, import.meta.url)));

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/**
 * gru-reset-after's Keras 3 weights file rewritten through h5wasm, a dataset replaced by what
 * `replace` writes instead (given its group and name), and `extra` run on the new file.
 */
async function forgedWeights(
  replace: Record<string, (g: H5Group, name: string) => void>,
  extra: (f: H5File) => void = () => {},
): Promise<Uint8Array> {
  const mod = await h5wasm.ready;
  const [src, dst] = ['/forged-src.h5', '/forged-dst.h5'];
  mod.FS!.writeFile(src, fixture('gru-reset-after.weights.h5'));
  const from = new h5wasm.File(src, 'r');
  const to = new h5wasm.File(dst, 'w');
  try {
    for (const path of from.paths() as string[]) {
      const e = from.get(path);
      if (e instanceof h5wasm.Group) to.create_group(path);
      else if (e instanceof h5wasm.Dataset) {
        const at = path.lastIndexOf('/');
        const [dir, name] = [path.slice(0, at), path.slice(at + 1)];
        const key = path.replace(/^\//, '');
        if (key in replace) replace[key]!(to.get(dir) as H5Group, name);
        else
          to.create_dataset({
            name: path,
            data: (e as H5Dataset).value as Float32Array,
            shape: (e as H5Dataset).shape,
            dtype: '<f4',
          });
      }
    }
    extra(to);
    to.flush();
  } finally {
    from.close();
    to.close();
  }
  const bytes = new Uint8Array(mod.FS!.readFile(dst));
  mod.FS!.unlink(src);
  mod.FS!.unlink(dst);
  return bytes;
}

async function outcome(
  p: Promise<Sequential | void>,
  bytes: number,
  what: string,
): Promise<'loaded' | 'refused'> {
  try {
    const model = await p;
    if (model) {
      assert.ok(model.countParams() * 4 <= bytes, `${what}: parameters beyond the file's bytes`);
      model.dispose();
    }
    return 'loaded';
  } catch (e) {
    assert.ok(e instanceof GruError, `${what}: ${String(e)} is not a GruError`);
    assert.equal(e.code, 'ERR_GRU_FORMAT', `${what}: ${e.code} ${e.message}`);
    return 'refused';
  }
}

forEachBackend('Keras files: hostile files', (backend) => {
  const model = () => loadKerasModel(fixture('gru-reset-after.keras'), { backend });

  it('forged HDF5: a dataset declared huge without storage, a link cycle, wrong dtypes', async () => {
    const m = await model();
    const dense = 'layers/dense/vars/0'; // [3, 2] float32
    const forgeries: [string, Uint8Array, string][] = [
      [
        'a [2^20, 2^20] dataset with no storage',
        await forgedWeights({
          [dense]: (g, name) =>
            g
              .create_dataset({
                name,
                data: new Float32Array(6),
                shape: [3, 2],
                maxshape: [null, null],
                chunks: [3, 2],
              })
              .resize([1 << 20, 1 << 20]),
        }),
        'more than the file',
      ],
      [
        'a hard-link cycle',
        await forgedWeights({}, (f) =>
          (f.get('layers/gru') as H5Group).create_hard_link('/layers', 'loop'),
        ),
        'deeper than',
      ],
      [
        'int32 weights',
        await forgedWeights({
          [dense]: (g, name) => g.create_dataset({ name, data: new Int32Array(6), shape: [3, 2] }),
        }),
        'int values',
      ],
      [
        'float64 of the wrong shape',
        await forgedWeights({
          [dense]: (g, name) =>
            g.create_dataset({ name, data: new Float64Array(6), shape: [2, 3] }),
        }),
        'is [2, 3], the layer needs [3, 2]',
      ],
      [
        'strings',
        await forgedWeights({ [dense]: (g, name) => g.create_dataset({ name, data: ['a', 'b'] }) }),
        'string values',
      ],
    ];
    try {
      for (const [what, bytes, mention] of forgeries)
        await assert.rejects(loadKerasWeights(m, bytes), (e: unknown) => {
          assert.ok(e instanceof GruError && e.code === 'ERR_GRU_FORMAT', `${what}: ${String(e)}`);
          assert.ok(e.message.includes(mention), `${what}: ${e.message}`);
          return true;
        });
      // float64 weights of the right shape are read (as float32).
      await loadKerasWeights(
        m,
        await forgedWeights({
          [dense]: (g, name) =>
            g.create_dataset({ name, data: new Float64Array(6).fill(0.5), shape: [3, 2] }),
        }),
      );
      assert.deepEqual(
        [...m.layers[2]!.trainables()[0]!.getParameter('weight')],
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      );
    } finally {
      m.dispose();
    }
    assert.deepEqual(await _h5FsFiles(), []);
  });

  it('after a wasm trap the next file gets a fresh h5wasm instance, which reads it', async () => {
    const before = _h5Instances();
    _h5Poison(); // what a WebAssembly.RuntimeError in h5wasm does (keras-h5.ts: afterError)
    const m = await model();
    try {
      assert.equal(_h5Instances(), before + 1, 'a new instance');
      assert.equal(m.layers.length, 3);
    } finally {
      m.dispose();
    }
    assert.deepEqual(await _h5FsFiles(), []);
  });

  it('a zip bomb is refused before it is inflated', async () => {
    const files = unzipSync(fixture('gru-reset-after.keras'));
    files['config.json'] = strToU8(' '.repeat(8 << 20));
    const bomb = zipSync(files, { level: 9 });
    assert.ok(bomb.length < 1 << 20);
    await assert.rejects(loadKerasModel(bomb, { backend }), /declare \d+ bytes uncompressed/);
  });

  it('entries declaring more than 2x the zip + 1 MiB together are refused before inflating', async () => {
    // each entry alone is within what the zip may hold; together they are not
    const files = unzipSync(fixture('gru-reset-after.keras'));
    files['config.json'] = strToU8(' '.repeat(600_000));
    files['metadata.json'] = strToU8(' '.repeat(600_000));
    const zip = zipSync(files, { level: 9 });
    assert.ok(600_000 < 2 * zip.length + (1 << 20) && 1_200_000 > 2 * zip.length + (1 << 20));
    await assert.rejects(loadKerasModel(zip, { backend }), (e: unknown) => {
      assert.ok(e instanceof GruError && e.code === 'ERR_GRU_FORMAT', String(e));
      assert.match(e.message, /its entries declare 1220\d+ bytes uncompressed/);
      return true;
    });
  });

  it('a config.json dense in tiny values is refused before it is parsed (2x the file + 1 MiB)', async () => {
    const files = unzipSync(fixture('gru-reset-after.keras'));
    const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<
      string,
      unknown
    >;
    // 200,000 empty arrays: 600 KB of text (deflated to a few KB) that JSON.parse makes ~8 MB of
    config.padding = new Array(200_000).fill([]);
    files['config.json'] = strToU8(JSON.stringify(config));
    const zip = zipSync(files, { level: 9 });
    await assert.rejects(
      loadKerasModel(zip, { backend }),
      /config\.json would take ~\d+ bytes parsed/,
    );
    await assert.rejects(describeKerasFile(zip), /config\.json would take ~\d+ bytes parsed/);
  });

  it("config.json's parse takes what the entries leave of the file's budget", async () => {
    const files = unzipSync(fixture('gru-reset-after.keras'));
    const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<
      string,
      unknown
    >;
    // a 1.5 MB string, stored: the entries hold ~1x the zip, the parse would take ~2x more
    config.padding = 'x'.repeat(1_500_000);
    files['config.json'] = strToU8(JSON.stringify(config));
    const zip = zipSync(files, { level: 0 });
    await assert.rejects(
      loadKerasModel(zip, { backend }),
      /config\.json would take ~\d+ bytes parsed/,
    );
    // a tenth of it fits
    config.padding = 'x'.repeat(150_000);
    files['config.json'] = strToU8(JSON.stringify(config));
    const fits = await loadKerasModel(zipSync(files, { level: 0 }), { backend });
    fits.dispose();
  });

  it('an entry that inflates to more than its directory declares is refused as it does', async () => {
    const files = unzipSync(fixture('gru-reset-after.keras'));
    const config = files['config.json']!;
    const zip = zipSync(files, { level: 6 });
    // The central directory's record of config.json: its uncompressed size at +24.
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const name = strToU8('config.json');
    let at = zip.length - 22;
    while (view.getUint32(at, true) !== 0x06054b50) at--;
    at = view.getUint32(at + 16, true);
    while (!zip.subarray(at + 46, at + 46 + name.length).every((b, i) => b === name[i]))
      at +=
        46 +
        view.getUint16(at + 28, true) +
        view.getUint16(at + 30, true) +
        view.getUint16(at + 32, true);
    view.setUint32(at + 24, config.length - 100, true);
    await assert.rejects(
      loadKerasModel(zip, { backend }),
      new RegExp(
        `'config.json' inflates to more than the ${config.length - 100} bytes its header declares`,
      ),
    );
    view.setUint32(at + 24, config.length + 100, true);
    await assert.rejects(
      loadKerasModel(zip, { backend }),
      new RegExp(
        `'config.json' inflated to ${config.length} bytes, its header says ${config.length + 100}`,
      ),
    );
  });

  it("h5wasm's file is the inflated entry itself (owned), or one copy of a caller's .h5 bytes", async () => {
    const bytes = fixture('gru-reset-after.weights.h5');
    for (const owned of [true, false]) {
      const file = await H5Reader.open(bytes, 'weights', owned);
      try {
        const held = await _h5FsContents();
        assert.equal(held.length, 1);
        assert.equal(held[0]!.buffer === bytes.buffer, owned);
        assert.equal(held[0]!.length, bytes.length);
      } finally {
        file.close();
      }
    }
    assert.deepEqual(await _h5FsFiles(), []);
  });

  it('seeded fuzz: every outcome a model or ERR_GRU_FORMAT, each within 1 s, memory bounded, no file left', async function () {
    this.timeout(120_000);
    const valid = [
      fixture('embedding-mask-zero.keras'),
      fixture('norms-pooling-masking.h5'),
      fixture('bidirectional-sum.keras'),
      fixture('gru-options.h5'),
    ];
    const r = rng(0x4e5a5);
    const deadline = Date.now() + 5_000; // a bounded slice of npm test
    const kinds = new Map<string, { loaded: number; refused: number }>();
    const heap0 = await _h5MemoryBytes();
    const largest = Math.max(...valid.map((v) => v.length));
    let cases = 0;
    while (Date.now() < deadline) {
      const base = valid[cases % valid.length]!;
      const { kind, bytes } = hostileKerasFile(r, base);
      const t0 = performance.now();
      const what = `#${cases} ${kind}`;
      const result = await outcome(loadKerasModel(bytes, { backend }), bytes.length, what);
      if (cases % 5 === 0) {
        // describeKerasFile reads the same parsers without building.
        try {
          await describeKerasFile(bytes);
        } catch (e) {
          assert.ok(
            e instanceof GruError && e.code === 'ERR_GRU_FORMAT',
            `${what} describe: ${String(e)}`,
          );
        }
      }
      const ms = performance.now() - t0;
      assert.ok(ms < FUZZ_CASE_MS, `${what}: ${ms.toFixed(0)} ms`);
      const k = kinds.get(kind) ?? { loaded: 0, refused: 0 };
      k[result]++;
      kinds.set(kind, k);
      cases++;
    }
    assert.deepEqual(await _h5FsFiles(), [], 'no file left in h5wasm');
    const grown = (await _h5MemoryBytes()) - heap0;
    console.log(
      `      ${cases} hostile files: ${[...kinds].map(([k, v]) => `${k} ${v.loaded}/${v.refused}`).join(', ')} (loaded/refused); h5wasm memory grew ${grown} bytes`,
    );
    assert.ok(cases >= 50, `only ${cases} cases in the time slice`);
    assert.ok(grown <= 2 * largest + (8 << 20), `h5wasm memory grew ${grown} bytes`);
  });
});
