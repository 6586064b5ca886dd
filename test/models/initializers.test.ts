/**
 * Keras's initializers (gru_param_init in the core; ts/models/initializers.ts; layers.gru's
 * kernelInitializer, recurrentInitializer, biasInitializer), on every backend: their statistical
 * properties (orthogonality to 1e-5, the uniform bounds, the variances and the truncation of
 * the normals), Keras's defaults for a GRU, seeded determinism across backends, and the
 * arguments refused by the facade and by the core.
 */
import assert from 'node:assert/strict';
import {
  GRU_INIT_GLOROT_UNIFORM,
  GRU_INIT_ORTHOGONAL,
  GRU_INIT_RANDOM_NORMAL,
  GRU_INIT_RANDOM_UNIFORM,
} from '../../ts/backends/abi.generated.js';
import type { Backend } from '../../ts/backends/backend.js';
import { Dense, GRU, layers, sequential, type GRULayer } from '../../ts/index.js';
import { forEachBackend, LOADED } from '../backends.js';

/** max |M^T M - I| (columns) or max |M M^T - I| (rows) of a row-major [rows, cols] matrix. */
function orthogonalityError(m: Float32Array, rows: number, cols: number, of: 'cols' | 'rows') {
  const n = of === 'cols' ? cols : rows;
  const at = (i: number, k: number) => (of === 'cols' ? m[k * cols + i]! : m[i * cols + k]!);
  const len = of === 'cols' ? rows : cols;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < len; k++) s += at(i, k) * at(j, k);
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

function stats(a: Float32Array) {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / a.length;
  return { mean, std: Math.sqrt(sq / a.length - mean * mean), min, max };
}

function gruModel(backend: Backend, seed: number, args: Record<string, unknown> = {}) {
  return sequential({
    backend,
    seed,
    layers: [layers.gru({ units: 64, inputShape: [5, 48], ...args })],
  });
}

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

forEachBackend('Keras initializers', (backend) => {
  it("layers.gru defaults are Keras's: glorotUniform kernel, orthogonal recurrent kernel, zero biases", () => {
    const model = gruModel(backend, 7);
    try {
      const core = (model.layers[0] as GRULayer).core;
      // weight_hh [3H, H] = Keras's recurrent_kernel [H, 3H] transposed, gates reordered:
      // orthonormal columns over all three gates.
      const u = core.getParameter('weight_hh_l0');
      assert.ok(orthogonalityError(u, 192, 64, 'cols') < 1e-5, 'W_hh^T W_hh = I');
      // glorot uniform: fan_in 48, fan_out 192 -> limit sqrt(6 / 240) = 0.158; variance l^2 / 3.
      const w = stats(core.getParameter('weight_ih_l0'));
      const limit = Math.sqrt(6 / (48 + 192));
      assert.ok(w.min >= -limit && w.max < limit, `within +-${limit}: ${w.min}, ${w.max}`);
      assert.ok(w.max > 0.95 * limit && w.min < -0.95 * limit, 'fills the range');
      assert.ok(Math.abs(w.mean) < 0.01, `mean ${w.mean}`);
      assert.ok(Math.abs(w.std / (limit / Math.sqrt(3)) - 1) < 0.05, `std ${w.std}`);
      for (const name of ['bias_ih_l0', 'bias_hh_l0'])
        assert.deepEqual(core.getParameter(name), new Float32Array(192), name);
    } finally {
      model.dispose();
    }
  });

  it('seeded: the same seed gives the same weights, another seed others', () => {
    const get = (seed: number) => {
      const model = gruModel(backend, seed, { biasInitializer: 'randomUniform' });
      const core = (model.layers[0] as GRULayer).core;
      const out = core.parameterNames().map((n) => core.getParameter(n));
      model.dispose();
      return out;
    };
    const [a, b, c] = [get(11), get(11), get(12)];
    assert.deepEqual(a, b);
    for (let i = 0; i < a.length; i++) assert.notDeepEqual(a[i], c[i], `tensor ${i}`);
    // bias_ih and bias_hh (resetAfter) share the initializer but not the values.
    assert.notDeepEqual(a[2], a[3]);
  });

  it("Keras's and tfjs's names, options objects with seeds, and each initializer's statistics", () => {
    const cases: [unknown, (v: Float32Array) => void][] = [
      ['zeros', (v) => assert.ok(v.every((x) => x === 0))],
      ['ones', (v) => assert.ok(v.every((x) => x === 1))],
      [
        { name: 'random_uniform', minval: -2, maxval: -1, seed: 3 },
        (v) => {
          const s = stats(v);
          assert.ok(
            s.min >= -2 && s.max < -1 && Math.abs(s.mean + 1.5) < 0.02,
            `${s.min} ${s.max}`,
          );
        },
      ],
      [
        { name: 'randomNormal', mean: 3, stddev: 0.5 },
        (v) => {
          const s = stats(v);
          assert.ok(
            Math.abs(s.mean - 3) < 0.02 && Math.abs(s.std - 0.5) < 0.02,
            `${s.mean} ${s.std}`,
          );
        },
      ],
      ...(
        [
          ['he_uniform', 2 / 48, false],
          ['lecunUniform', 1 / 48, false],
          ['GlorotNormal', 2 / 240, true],
          ['he_normal', 2 / 48, true],
          ['lecunNormal', 1 / 48, true],
        ] as const
      ).map(([name, variance, truncated]): [unknown, (v: Float32Array) => void] => [
        name,
        (v) => {
          const s = stats(v);
          const sd = Math.sqrt(variance);
          assert.ok(Math.abs(s.std / sd - 1) < 0.06, `${name}: std ${s.std} vs ${sd}`);
          assert.ok(Math.abs(s.mean) < 0.1 * sd, `${name}: mean ${s.mean}`);
          // Truncated normals stop at 2 s (s = sd / 0.8796); uniforms at sqrt(3) sd.
          const bound = truncated ? (2 * sd) / 0.87962566103423978 : Math.sqrt(3) * sd;
          assert.ok(Math.max(s.max, -s.min) <= bound * (1 + 1e-6), `${name}: bound ${bound}`);
          assert.ok(Math.max(s.max, -s.min) > 0.9 * bound, `${name}: reaches its bound`);
        },
      ]),
      [
        { name: 'orthogonal', gain: 2 },
        (v) => {
          const half = v.map((x) => x / 2);
          assert.ok(orthogonalityError(half, 192, 48, 'cols') < 1e-5, 'gain 2');
        },
      ],
    ];
    for (const [init, check] of cases) {
      const model = gruModel(backend, 5, { kernelInitializer: init });
      try {
        check((model.layers[0] as GRULayer).core.getParameter('weight_ih_l0'));
      } finally {
        model.dispose();
      }
    }
  });

  it('orthogonal on a wide matrix has orthonormal rows; gru_param_init on any layer', () => {
    const dense = new Dense({ inFeatures: 40, outFeatures: 10, backend, seed: 1 });
    try {
      dense._initParameter('weight', { kind: GRU_INIT_ORTHOGONAL, a: 1, b: 0 }, 40, 10, 9);
      // weight [10, 40]: Keras's kernel [40, 10] has orthonormal columns, so W W^T = I.
      assert.ok(orthogonalityError(dense.getParameter('weight'), 10, 40, 'rows') < 1e-5);
    } finally {
      dense.dispose();
    }
  });

  it('the facade refuses unknown names, bad numbers and an orthogonal bias, naming the option', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ kernelInitializer: 'glorot' }, 'kernelInitializer must be an initializer name'],
      [{ recurrentInitializer: 5 }, 'recurrentInitializer must be an initializer name'],
      [
        { recurrentInitializer: { name: 'identity' } },
        'recurrentInitializer must be an initializer',
      ],
      [{ kernelInitializer: { name: 'zeros', stddev: 1 } }, 'unknown option "stddev"'],
      [{ kernelInitializer: { name: 'randomUniform', minval: 1, maxval: 0 } }, 'minval must be <='],
      [{ kernelInitializer: { name: 'randomNormal', stddev: -1 } }, 'stddev must be >= 0'],
      [{ kernelInitializer: { name: 'randomNormal', mean: NaN } }, 'kernelInitializer.mean'],
      [{ kernelInitializer: { name: 'orthogonal', seed: -1 } }, 'kernelInitializer.seed'],
      [{ biasInitializer: 'orthogonal' }, "biasInitializer 'orthogonal' needs a matrix"],
    ];
    for (const [args, message] of bad) {
      assert.throws(
        () => layers.gru({ units: 2, ...args }),
        (e: unknown) =>
          (e as { code?: string }).code === 'ERR_GRU_ARG' && (e as Error).message.includes(message),
        `${JSON.stringify(args)}: ${message}`,
      );
    }
  });

  it('the core refuses a bad kind, fans, numbers and an orthogonal vector (GRU_ERR_ARG), and writes nothing', () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, backend, seed: 2 });
    try {
      const h = gru._handle();
      const before = gru.getParameter('weight_ih_l0');
      const calls: [number, number, number, number, number, number][] = [
        [-1, 0, 3, 12, 0, 0], // index out of range (GRU_ERR_RANGE)
        [0, 11, 3, 12, 0, 0],
        [0, -1, 3, 12, 0, 0],
        [0, GRU_INIT_GLOROT_UNIFORM, 0, 12, 0, 0],
        [0, GRU_INIT_GLOROT_UNIFORM, 3, -5, 0, 0],
        [0, GRU_INIT_RANDOM_NORMAL, 3, 12, 0, -1],
        [0, GRU_INIT_RANDOM_NORMAL, 3, 12, NaN, 1],
        [0, GRU_INIT_ORTHOGONAL, 3, 12, Infinity, 0],
        [2, GRU_INIT_ORTHOGONAL, 3, 12, 1, 0], // bias_ih_l0: a vector
      ];
      for (const [index, kind, fanIn, fanOut, a, b] of calls) {
        assert.throws(
          () => backend.paramInit(h, index, kind, fanIn, fanOut, a, b, 1),
          code(index < 0 ? 'ERR_GRU_RANGE' : 'ERR_GRU_ARG'),
          `index ${index} kind ${kind} fans ${fanIn} ${fanOut} a ${a} b ${b}`,
        );
      }
      assert.deepEqual(gru.getParameter('weight_ih_l0'), before);
      // minval > maxval is Keras's business (the facade refuses it; the core fills between).
      backend.paramInit(h, 0, GRU_INIT_RANDOM_UNIFORM, 3, 12, 1, 0.5, 1);
      assert.ok(gru.getParameter('weight_ih_l0').every((v) => v > 0.5 && v <= 1));
    } finally {
      gru.dispose();
    }
  });
});

describe('Keras initializers: seeded determinism across backends', () => {
  const loaded = LOADED.filter((l) => l.backend !== null);
  it(`the same seed gives bitwise the same GRU weights on ${loaded.map((l) => l.name).join(', ')}`, () => {
    const weights = loaded.map(({ backend }) => {
      const model = gruModel(backend!, 21, {
        kernelInitializer: 'heNormal',
        biasInitializer: 'randomUniform',
      });
      const core = (model.layers[0] as GRULayer).core;
      const out = core.parameterNames().map((n) => Array.from(core.getParameter(n)));
      model.dispose();
      return out;
    });
    for (let i = 1; i < weights.length; i++)
      assert.deepEqual(weights[i], weights[0], `${loaded[i]!.name} vs ${loaded[0]!.name}`);
  });
});
