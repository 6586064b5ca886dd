/**
 * PyTorch state dicts as safetensors (ts/formats/torch-state-dict.ts) on every backend: files
 * saved by PyTorch (scripts/gen-torch-safetensors-fixtures.py: test/fixtures/torch-state-dict/)
 * load into the JS twins of its modules (test/torch-state-dict-models.ts) and predict what
 * PyTorch predicted within 1e-5; files written here load into PyTorch with
 * load_state_dict(strict=True) and predict the same (the generator's record); and every
 * missing, extra, mis-shaped or mis-typed tensor, and a .pt/.pth file, is one ERR_GRU_FORMAT that
 * names them, with no layer changed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../ts/backends/backend.js';
import { decodeSafetensors, encodeSafetensors } from '../ts/formats/safetensors.js';
import {
  Dense,
  GRU,
  loadTorchStateDict,
  saveTorchStateDict,
  torchStateDictBytes,
} from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { disposeAll, moduleA, moduleB, predictA, predictB } from './torch-state-dict-models.js';
import { assertRejectsCode } from './util.js';

const DIR = 'test/fixtures/torch-state-dict';
const fixture = JSON.parse(readFileSync(path.join(DIR, 'predictions.json'), 'utf8')) as {
  batch: number;
  ids: number[];
  x: number[];
  predictionsA: number[];
  predictionsB: number[];
  numBatchesTracked: number;
  reverse: Record<
    'a' | 'b',
    { strictLoad: boolean; maxAbsDiff: number; match: boolean; dtypes: Record<string, string> }
  > & { b: { numBatchesTracked: number } };
};
const fileA = new Uint8Array(readFileSync(path.join(DIR, 'a.safetensors')));
const fileB = new Uint8Array(readFileSync(path.join(DIR, 'b.safetensors')));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The file's tensors rebuilt (F32 and I64 as read), minus `drop`, plus `add`. */
function rebuilt(
  bytes: Uint8Array,
  edit: (t: { name: string; shape: number[]; data: Float32Array; dtype: 'F32' | 'I64' }[]) => void,
): Uint8Array {
  const file = decodeSafetensors(bytes, 'fixture', { int64: true });
  const tensors = [...file.tensors].map(([name, t]) => ({ name, ...t }));
  edit(tensors);
  return encodeSafetensors(tensors, {});
}

/** Asserts that loading `bytes` into fresh modules A fails naming every `mentions`, changing nothing. */
async function refusedA(backend: Backend, bytes: Uint8Array, mentions: string[]): Promise<void> {
  const m = moduleA(backend, 3);
  try {
    const before = torchStateDictBytes(m);
    let thrown: unknown;
    try {
      await loadTorchStateDict(m, bytes);
    } catch (e) {
      thrown = e;
    }
    const err = thrown as { code?: string; message?: string };
    assert.equal(err?.code, 'ERR_GRU_FORMAT', `expected ERR_GRU_FORMAT, got ${String(thrown)}`);
    for (const word of mentions)
      assert.ok(err.message!.includes(word), `message should name ${word}: ${err.message}`);
    assert.deepEqual(torchStateDictBytes(m), before, 'no layer may change');
  } finally {
    disposeAll(m);
  }
}

describe('PyTorch state dicts: the generator recorded the reverse direction', () => {
  it('files written by saveTorchStateDict load into PyTorch strictly and predict the same', () => {
    for (const name of ['a', 'b'] as const) {
      const r = fixture.reverse[name];
      assert.equal(r.strictLoad, true, `${name}: load_state_dict(strict=True)`);
      assert.equal(r.match, true, `${name}: predictions`);
      assert.ok(r.maxAbsDiff <= 1e-5, `${name}: max |diff| ${r.maxAbsDiff}`);
    }
    assert.equal(fixture.reverse.b.dtypes['bn.num_batches_tracked'], 'torch.int64');
    assert.equal(fixture.reverse.b.numBatchesTracked, 3);
  });
});

describe('safetensors codec: I64 (num_batches_tracked)', () => {
  it('reads I64 only when asked, exactly, and refuses values beyond 2^53', () => {
    assert.throws(() => decodeSafetensors(fileB), {
      code: 'ERR_GRU_FORMAT',
      message: /bn\.num_batches_tracked.*"I64" is not supported/,
    });
    const t = decodeSafetensors(fileB, 'b', { int64: true }).tensors.get('bn.num_batches_tracked')!;
    assert.deepEqual([t.dtype, t.shape, [...t.data]], ['I64', [], [3]]);
    const big = encodeSafetensors(
      [{ name: 'n', shape: [], data: new Float32Array(1), dtype: 'I64' }],
      {},
    );
    new DataView(big.buffer).setBigInt64(big.length - 8, 2n ** 60n, true);
    assert.throws(() => decodeSafetensors(big, 'big', { int64: true }), {
      code: 'ERR_GRU_FORMAT',
      message: /beyond 2\^53/,
    });
    const written = encodeSafetensors(
      [{ name: 'n', shape: [2], data: Float32Array.of(7, -2), dtype: 'I64' }],
      {},
    );
    const view = new DataView(written.buffer);
    assert.deepEqual(
      [view.getBigInt64(written.length - 16, true), view.getBigInt64(written.length - 8, true)],
      [7n, -2n],
    );
    assert.throws(
      () =>
        encodeSafetensors([{ name: 'n', shape: [], data: Float32Array.of(0.5), dtype: 'I64' }], {}),
      { code: 'ERR_GRU_ARG' },
    );
  });
});

forEachBackend('PyTorch state dicts (safetensors)', (backend) => {
  it('module A (Embedding, 2-layer bidirectional GRU, LayerNorm, Linear) predicts as PyTorch', async () => {
    const m = moduleA(backend, 5);
    try {
      await loadTorchStateDict(m, fileA);
      const y = predictA(m, fixture.ids, fixture.batch);
      const d = maxAbsDiff(y, fixture.predictionsA);
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
      assert.ok(m.gru.parameterNames().includes('weight_hh_l1_reverse'));
    } finally {
      disposeAll(m);
    }
  });

  it('module B (GRU without bias, BatchNorm1d with its buffers, Linear) predicts as PyTorch', async () => {
    const m = moduleB(backend, 5);
    try {
      await loadTorchStateDict(m, fileB);
      assert.deepEqual([...m.bn.getParameter('num_batches_tracked')], [fixture.numBatchesTracked]);
      const d = maxAbsDiff(
        predictB(m, Float32Array.from(fixture.x), fixture.batch),
        fixture.predictionsB,
      );
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
    } finally {
      disposeAll(m);
    }
  });

  it("writes PyTorch's names, shapes and dtypes (num_batches_tracked I64) and reads them back", async () => {
    for (const [make, file] of [
      [moduleA, fileA],
      [moduleB, fileB],
    ] as const) {
      const m = make(backend, 8);
      const back = make(backend, 9);
      const dir = mkdtempSync(path.join(tmpdir(), 'gru-torch-'));
      try {
        const ours = decodeSafetensors(torchStateDictBytes(m), 'ours', { int64: true });
        const theirs = decodeSafetensors(file, 'theirs', { int64: true });
        assert.deepEqual(
          [...ours.tensors].map(([n, t]) => [n, t.shape, t.dtype]).sort(),
          [...theirs.tensors].map(([n, t]) => [n, t.shape, t.dtype]).sort(),
        );
        assert.equal(ours.metadata.format, 'pt');
        const target = path.join(dir, 'model.safetensors');
        await saveTorchStateDict(m, target);
        await loadTorchStateDict(back, target);
        for (const key of Object.keys(m) as (keyof typeof m)[])
          assert.deepEqual((back[key] as GRU).stateDict(), (m[key] as GRU).stateDict());
      } finally {
        rmSync(dir, { recursive: true, force: true });
        disposeAll(m);
        disposeAll(back);
      }
    }
  });

  it('takes num_batches_tracked stored as F32 too', async () => {
    const bytes = rebuilt(fileB, (ts) => {
      for (const t of ts) t.dtype = 'F32';
    });
    const m = moduleB(backend, 5);
    try {
      await loadTorchStateDict(m, bytes);
      const d = maxAbsDiff(
        predictB(m, Float32Array.from(fixture.x), fixture.batch),
        fixture.predictionsB,
      );
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
    } finally {
      disposeAll(m);
    }
  });

  it('names every missing, extra and mis-shaped tensor in one error, changing nothing', async () => {
    await refusedA(
      backend,
      rebuilt(fileA, (ts) =>
        ts.splice(
          ts.findIndex((t) => t.name === 'gru.bias_hh_l1_reverse'),
          1,
        ),
      ),
      ['missing [gru.bias_hh_l1_reverse]'],
    );
    await refusedA(
      backend,
      rebuilt(fileA, (ts) =>
        ts.push({ name: 'head2.weight', shape: [1], data: new Float32Array(1), dtype: 'F32' }),
      ),
      ['unexpected [head2.weight]'],
    );
    await refusedA(
      backend,
      rebuilt(fileA, (ts) => {
        const t = ts.find((x) => x.name === 'head.weight')!;
        t.shape = [10, 3]; // transposed: nn.Linear's weight is [out, in]
        ts.splice(
          ts.findIndex((x) => x.name === 'emb.weight'),
          1,
        );
        ts.push({ name: 'extra', shape: [], data: new Float32Array(1), dtype: 'F32' });
      }),
      [
        'head.weight has shape [10, 3], expected [3, 10]',
        'missing [emb.weight]',
        'unexpected [extra]',
      ],
    );
  });

  it('refuses a wrong dtype: an I64 weight, and F64 / F16 tensors', async () => {
    await refusedA(
      backend,
      rebuilt(fileA, (ts) => {
        const t = ts.find((x) => x.name === 'head.bias')!;
        t.data = new Float32Array(t.data.length).fill(1);
        t.dtype = 'I64';
      }),
      ['head.bias is I64, expected F32'],
    );
    for (const dtype of ['F64', 'F16']) {
      const header = new TextEncoder().encode(
        JSON.stringify({
          'head.bias': { dtype, shape: [3], data_offsets: [0, dtype === 'F64' ? 24 : 6] },
        }),
      );
      const bytes = new Uint8Array(8 + header.length + (dtype === 'F64' ? 24 : 6));
      new DataView(bytes.buffer).setUint32(0, header.length, true);
      bytes.set(header, 8);
      await refusedA(backend, bytes, [dtype, 'not supported']);
    }
  });

  it('refuses .pt/.pth files (torch.save zip and legacy pickle) with the line that converts them', async () => {
    for (const f of ['b.pt', 'b-legacy.pth']) {
      const m = moduleB(backend, 5);
      try {
        let thrown: { code?: string; message?: string } | undefined;
        try {
          await loadTorchStateDict(m, new Uint8Array(readFileSync(path.join(DIR, f))));
        } catch (e) {
          thrown = e as typeof thrown;
        }
        assert.equal(thrown?.code, 'ERR_GRU_FORMAT', f);
        assert.ok(
          thrown!.message!.includes(
            "safetensors.torch.save_file(model.state_dict(), 'model.safetensors')",
          ),
          thrown!.message,
        );
      } finally {
        disposeAll(m);
      }
    }
  });

  it('refuses modules that are not a record of supported layers, and GRU variants nn.GRU lacks', async () => {
    await assertRejectsCode(() => loadTorchStateDict(null as never, fileA), 'ERR_GRU_TYPE');
    await assertRejectsCode(() => loadTorchStateDict({}, fileA), 'ERR_GRU_ARG');
    await assertRejectsCode(() => loadTorchStateDict({ x: {} as never }, fileA), 'ERR_GRU_TYPE');
    const d = new Dense({ inFeatures: 2, outFeatures: 2, backend, seed: 1 });
    const g = new GRU({ inputSize: 2, hiddenSize: 2, resetAfter: false, backend, seed: 1 });
    try {
      await assertRejectsCode(() => loadTorchStateDict({ '.a': d }, fileA), 'ERR_GRU_ARG');
      assert.throws(() => torchStateDictBytes({ g }), { code: 'ERR_GRU_ARG' });
      await assertRejectsCode(() => saveTorchStateDict({ d }, 42 as never), 'ERR_GRU_ARG');
      await assertRejectsCode(() => loadTorchStateDict({ d }, 42 as never), 'ERR_GRU_ARG');
      const bare = torchStateDictBytes({ '': d }); // a bare layer: its own names
      assert.deepEqual([...decodeSafetensors(bare).tensors.keys()], ['weight', 'bias']);
      d.dispose();
      assert.throws(() => torchStateDictBytes({ d }), { code: 'ERR_GRU_DISPOSED' });
    } finally {
      d.dispose();
      g.dispose();
    }
  });
});
