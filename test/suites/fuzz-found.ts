/**
 * Bugs the fuzzer (test/fuzz/) found in the TypeScript facade, each as the call it made: a
 * GruError with a code now, where there was a TypeError, or nothing at all (an argument
 * silently accepted). The fuzzer's own slice (test/fuzz.test.ts) finds them again if they come
 * back; these say what each one was.
 */
import assert from 'node:assert/strict';
import {
  Adam,
  Dense,
  Dropout,
  GRU,
  GRUStream,
  GruError,
  Layer,
  ModelLayer,
  Optimizer,
  Sequential,
  init,
  layers,
  loadBackend,
  mse,
  sequential,
  tensor,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { assertThrowsCode } from '../util.js';

const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
  assertThrowsCode(fn, code, mentions, GruError);

export function fuzzFoundSuite(backend: Backend): void {
  it('new GRUStream over a bidirectional GRU: ERR_GRU_STATE (as gru.stream()), not a stream whose first step fails', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 1, backend });
    try {
      throws(() => new GRUStream(gru, 1), 'ERR_GRU_STATE', ['unidirectional']);
      throws(() => gru.stream(), 'ERR_GRU_STATE', ['unidirectional']);
    } finally {
      gru.dispose();
    }
  });

  it('setting lr on a disposed optimizer: ERR_GRU_DISPOSED (every later call throws), reading it still works', () => {
    const dense = new Dense({ inFeatures: 2, outFeatures: 1, seed: 1, backend });
    const opt = new Adam([dense], { lr: 0.01 });
    opt.dispose();
    try {
      throws(() => {
        opt.lr = 0.05;
      }, 'ERR_GRU_DISPOSED');
      throws(() => opt.step(), 'ERR_GRU_DISPOSED');
      if (opt.lr !== 0.01) throw new Error(`lr changed to ${opt.lr}`);
    } finally {
      dense.dispose();
    }
  });

  it('new Layer(), new Optimizer(), new ModelLayer() (abstract, constructible from JavaScript): ERR_GRU_TYPE, not a TypeError', () => {
    for (const [C, name] of [
      [Layer, 'Layer'],
      [Optimizer, 'Optimizer'],
      [ModelLayer, 'ModelLayer'],
    ] as const) {
      const Abstract = C as unknown as new (...a: unknown[]) => unknown;
      throws(() => new Abstract(), 'ERR_GRU_TYPE', [name, 'abstract']);
      throws(() => new Abstract(backend, 'GRU', 1, 0), 'ERR_GRU_TYPE', [name, 'abstract']);
    }
  });

  describe('a model layer called directly (forward and backward are public)', () => {
    it('not built: ERR_GRU_STATE (Dropout had a TypeError on its missing core)', () => {
      const x = tensor(new Float32Array(4), [2, 2]);
      throws(() => layers.dropout({ rate: 0.5 }).forward(x, true), 'ERR_GRU_STATE', ['not built']);
      throws(
        () => layers.dropout({ rate: 0.5 }).backward(new Float32Array(4), true),
        'ERR_GRU_STATE',
      );
      throws(() => layers.gru({ units: 2 }).forward(x, false), 'ERR_GRU_STATE');
    });

    it('x not a tensor of the right typed array and shape: ERR_GRU_TYPE / ERR_GRU_SHAPE naming the layer', () => {
      const model = sequential({
        layers: [
          layers.layerNormalization({ inputShape: [3, 2] }),
          layers.dropout({ rate: 0.25 }),
          layers.gru({ units: 2, goBackwards: true }),
          layers.dense({ units: 1 }),
        ],
        seed: 1,
        backend,
      });
      try {
        const [norm, drop, gru, dense] = model.layers;
        const data = new Float32Array(12);
        const bad = <T>(v: unknown): T => v as T;
        for (const l of [norm!, drop!, gru!, dense!]) {
          throws(() => l.forward(bad(null), false), 'ERR_GRU_TYPE', [l.name]);
          throws(() => l.forward(bad({ data: [1, 2], shape: [2] }), false), 'ERR_GRU_TYPE');
          throws(
            () => l.forward(bad({ data: new Proxy(data, {}), shape: [2, 3, 2] }), false),
            'ERR_GRU_TYPE',
          );
          throws(() => l.forward({ data, shape: [2, 3, 3] }, false), 'ERR_GRU_SHAPE', [l.name]);
          throws(() => l.backward(bad('dy'), true), 'ERR_GRU_TYPE', ['dy']);
        }
        // gru: [batch, steps, features] with the features it was built for (it reverses steps).
        throws(() => gru!.forward({ data, shape: [2, 2, 3] }, false), 'ERR_GRU_SHAPE', ['gru']);
        assert.deepEqual(gru!.forward({ data, shape: [2, 3, 2] }, false).shape, [2, 2]);
      } finally {
        model.dispose();
      }
    });
  });

  it('tensor() and fit() with a Proxy of a typed array: ERR_GRU_TYPE, not a TypeError on its length', () => {
    const proxy = new Proxy(new Float32Array(4), {});
    throws(() => tensor(proxy as unknown as Float32Array, [2, 2]), 'ERR_GRU_TYPE');
    throws(() => tensor(proxy as unknown as Float32Array), 'ERR_GRU_TYPE');
    const model = sequential({ layers: [layers.dense({ units: 1, inputDim: 2 })], backend });
    try {
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const y = tensor(new Float32Array(2), [2, 1]);
      throws(
        () => model.evaluate({ data: proxy as unknown as Float32Array, shape: [2, 2] }, y),
        'ERR_GRU_TYPE',
      );
    } finally {
      model.dispose();
    }
  });

  it('summary(printFn) with printFn not a function: ERR_GRU_ARG, not a TypeError', () => {
    const model = sequential({ layers: [layers.dense({ units: 1, inputDim: 2 })], backend });
    try {
      throws(() => model.summary(5 as never), 'ERR_GRU_ARG', ['printFn']);
    } finally {
      model.dispose();
    }
  });

  it('sequential(a revoked Proxy): ERR_GRU_ARG, not a TypeError from Array.isArray', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    throws(() => sequential(proxy as never), 'ERR_GRU_ARG', ['Sequential options']);
    throws(() => new Sequential(proxy as never), 'ERR_GRU_ARG', ['Sequential options']);
  });

  it('fit() with callbacks a revoked Proxy: ERR_GRU_ARG, not a TypeError from Array.isArray', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const model = sequential({ layers: [layers.dense({ units: 1, inputDim: 2 })], backend });
    try {
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const [x, y] = [tensor(new Float32Array(4), [2, 2]), tensor(new Float32Array(2), [2, 1])];
      await assert.rejects(
        model.fit(x, y, { callbacks: proxy as never, verbose: 0 }),
        (e: unknown) =>
          e instanceof GruError && e.code === 'ERR_GRU_ARG' && /callbacks/.test(e.message),
      );
    } finally {
      model.dispose();
    }
  });

  it('a revoked Proxy where an array is expected (betas, inputShape, layers, build, metrics, validationData, tensor shape and nested data): a GruError, not a TypeError from Array.isArray', async () => {
    const rv = (): never => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy as never;
    };
    const dense = new Dense({ inFeatures: 2, outFeatures: 1, seed: 1, backend });
    const model = sequential({ layers: [layers.dense({ units: 1, inputDim: 2 })], backend });
    try {
      throws(() => new Adam([dense], { betas: rv() }), 'ERR_GRU_ARG', ['betas']);
      throws(() => layers.gru({ units: 1, inputShape: rv() }), 'ERR_GRU_ARG', ['inputShape']);
      throws(() => new Sequential({ layers: rv(), backend }), 'ERR_GRU_ARG', ['layers']);
      throws(() => model.build(rv()), 'ERR_GRU_ARG', ['inputShape']);
      throws(() => model.compile({ optimizer: 'sgd', loss: 'mse', metrics: rv() }), 'ERR_GRU_ARG');
      throws(() => tensor(new Float32Array(4), rv()), 'ERR_GRU_SHAPE', ['shape']);
      throws(() => tensor([rv()]), 'ERR_GRU_ARG');
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const [x, y] = [tensor(new Float32Array(4), [2, 2]), tensor(new Float32Array(2), [2, 1])];
      await assert.rejects(
        model.fit(x, y, { validationData: rv(), verbose: 0 }),
        (e: unknown) => e instanceof GruError && e.code === 'ERR_GRU_ARG',
      );
    } finally {
      model.dispose();
      dense.dispose();
    }
  });

  it('a view of a resizable ArrayBuffer shrunk under it (out of bounds): ERR_GRU_ARG, as a detached one', () => {
    type Resizable = ArrayBuffer & { resize(n: number): void };
    const shrunk = (): Float32Array => {
      const R = ArrayBuffer as unknown as new (n: number, o: object) => Resizable;
      const buffer = new R(32, { maxByteLength: 32 });
      const view = new Float32Array(buffer, 0, 8);
      buffer.resize(4);
      return view;
    };
    const dropout = new Dropout({ p: 0.5, seed: 1, backend });
    throws(() => dropout.forward(shrunk()), 'ERR_GRU_ARG', ['x', 'shrunk']);
    throws(() => mse(shrunk(), new Float32Array(8), { backend }), 'ERR_GRU_ARG', ['pred']);
    // Straight into the backend: refused too (native reads it as 0 elements, wasm as no memory).
    assert.throws(
      () => backend.lossMse(new Float32Array(8), shrunk(), null),
      (e: unknown) => e instanceof GruError && /^ERR_GRU_(ARG|SHAPE)$/.test(e.code),
    );
    // A length-tracking view of a resizable buffer is an ordinary array.
    const R = ArrayBuffer as unknown as new (n: number, o: object) => Resizable;
    const tracking = new Float32Array(new R(16, { maxByteLength: 64 }));
    assert.equal(dropout.forward(tracking).length, 4);
  });

  it('new Sequential with a layer refused halfway: the layers before it are not left built (all or nothing)', () => {
    const gru = layers.gru({ units: 3, inputShape: [2, 2] });
    const before = backend.allocatedBytes();
    throws(
      () => new Sequential({ layers: [gru, layers.dense({ units: 1 }), {} as never], backend }),
      'ERR_GRU_ARG',
    );
    assert.equal(gru.built, false, 'the GRU built by the failed constructor is unbuilt again');
    assert.equal(backend.allocatedBytes(), before, 'no core object left for the finalizer');
    const model = new Sequential({ layers: [gru], backend }); // and it can join another model
    model.dispose();
  });
}

export function fuzzFoundLoaderSuite(): void {
  it('init / loadBackend options of the wrong type: ERR_GRU_ARG (they were ignored when the backend was loaded already)', async () => {
    const bad = <T>(v: unknown): T => v as T;
    const rejects = async (p: Promise<unknown>, name: string) =>
      assert.rejects(
        p,
        (e: unknown) =>
          e instanceof GruError && e.code === 'ERR_GRU_ARG' && e.message.includes(name),
      );
    await loadBackend('wasm');
    await rejects(loadBackend('wasm', { wasmScalarUrl: bad(null) }), 'wasmScalarUrl');
    await rejects(loadBackend('wasm', { addonPath: bad(5) }), 'addonPath');
    await rejects(init({ backend: 'wasm', quiet: bad(0) }), 'quiet');
    await rejects(init({ backend: 'wasm', wasmSimdUrl: bad({}) }), 'wasmSimdUrl');
    await loadBackend('wasm', { wasmScalarUrl: new URL('file:///elsewhere.wasm') }); // a URL: fine
  });
}
