/**
 * A TensorFlow.js LayersModel's topology (model.json's `modelTopology`: Keras-2-style JSON,
 * `{ class_name, config }` per layer, options in snake_case) to and from the model API's layer
 * options (the `{ className, config }` form ts/models/model-file.ts records, options in
 * camelCase). One table entry per Keras class, with both directions side by side.
 *
 * Reading refuses, naming the layer and the key, every class and every option gru-simd does not
 * compute: a regularizer or constraint (training terms), trainable false, a dtype other than
 * float32, an unknown key. Initializers are not carried in either direction: the weights come
 * with the file (a model trained further starts from them), and tfjs's and Keras's loaders
 * default them when absent.
 *
 * Names: tfjs and Keras 2 call clip(0.2 x + 0.5, 0, 1) 'hard_sigmoid' (gru-simd's
 * 'hardSigmoidKeras2'); a file whose keras_version is 3.x means Keras 3's relu6(x + 3) / 6
 * (gru-simd's 'hardSigmoid'), which tfjs does not have. 'gelu_new' is gru-simd's 'geluTanh'.
 * A GRU without reset_after (tfjs, Keras before 2.3) is reset-before.
 *
 * Over 400 lines: one table entry per Keras class, its two directions side by side, in one place. *
 * Browser-safe: no node: module.
 */
import { GruError } from '../errors.js';
import { isPlainObject } from './safetensors.js';

/** A layer in the model API's recorded form: the factory's class name and options. */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

/** What a topology gives: the model's name, its per-sample input shape (if known), its layers. */
export interface Topology {
  name: string | undefined;
  inputShape: (number | null)[] | undefined;
  layers: LayerSpec[];
  /** The file's keras_version (e.g. 'tfjs-layers 4.22.0', '2.15.0'), for messages. */
  kerasVersion: string;
}

/** The most layers a topology may declare (a real model has tens). */
export const MAX_LAYERS = 4_096;

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * A layer's snake_case config, read key by key: every key must be taken (mapped), or be one of
 * the keys whose value does not change what the layer computes; anything left is refused.
 */
class Options {
  readonly #c: Record<string, unknown>;
  readonly #taken = new Set<string>();
  constructor(
    readonly where: string,
    c: Record<string, unknown>,
  ) {
    this.#c = c;
  }
  /** The value of `key` (undefined when absent), marked as read. */
  take(key: string): unknown {
    this.#taken.add(key);
    return this.#c[key];
  }
  /** Takes `key`, which must be absent or one of `allowed` (values that change nothing). */
  only(key: string, allowed: readonly unknown[], why: string): void {
    const v = this.take(key);
    if (v !== undefined && !allowed.some((a) => a === v))
      fail(`${this.where}: ${key} ${show(v)} is not supported (${why})`);
  }
  /** Takes `key` if it is a number (or absent: undefined), else refuses it. */
  number(key: string): number | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') fail(`${this.where}: ${key} must be a number, got ${show(v)}`);
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') fail(`${this.where}: ${key} must be true or false, got ${show(v)}`);
    return v;
  }
  str(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') fail(`${this.where}: ${key} must be a string, got ${show(v)}`);
    return v;
  }
  /** Refuses every key not taken. */
  done(): void {
    for (const k of Object.keys(this.#c)) {
      if (this.#taken.has(k)) continue;
      if (/_initializer$/.test(k)) continue; // the weights come with the file (see the top)
      if (/(_regularizer|_constraint)$/.test(k)) {
        if (this.#c[k] === null) continue;
        fail(`${this.where}: ${k} is not supported (gru-simd has no regularizers or constraints)`);
      }
      fail(`${this.where}: option ${show(k)} is not supported`);
    }
  }
}

/** The keys every Keras / tfjs layer config may have, checked for values that change nothing. */
function common(o: Options, first: boolean): { name: string | undefined } {
  const name = o.str('name');
  o.only('trainable', [true], 'a frozen layer: gru-simd trains every layer');
  const dtype = o.take('dtype');
  const policy = isPlainObject(dtype) && isPlainObject(dtype.config) ? dtype.config.name : dtype;
  if (dtype !== undefined && dtype !== null && policy !== 'float32')
    fail(`${o.where}: dtype ${show(policy)} is not supported (gru-simd computes in float32)`);
  if (!first) {
    for (const k of ['batch_input_shape', 'batch_shape', 'input_shape', 'input_dtype'])
      if (o.take(k) !== undefined) fail(`${o.where}: ${k} is only taken on the first layer`);
  }
  return { name };
}

/** The activation names of a file -> gru-simd's (see the top of this file). */
function activationIn(name: string | undefined, keras3: boolean): string | undefined {
  if (name === 'hard_sigmoid' || name === 'hardSigmoid')
    return keras3 ? 'hardSigmoid' : 'hardSigmoidKeras2';
  if (name === 'gelu_new') return 'geluTanh';
  return name;
}

/** gru-simd's activation names -> a file's; null: tfjs and Keras 2 have no such name. */
function activationOut(name: string): string | null {
  if (name === 'hardSigmoidKeras2') return 'hard_sigmoid';
  if (name === 'hardSigmoid') return null;
  if (name === 'geluTanh') return 'gelu_new';
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** tfjs 4.22 writes its tanh GELU as 'gelu_new' and cannot read that name back ('geluNew'). */
function geluNewWarning(
  name: string | null,
  c: Record<string, unknown>,
  warn: (m: string) => void,
) {
  if (name === 'gelu_new')
    warn(
      `layer '${String(c.name)}' has activation 'geluTanh', written as tfjs's 'gelu_new', which tfjs 4.22 itself does not read back`,
    );
}

/** Whether `axis` (a number or [number]) is the last of a `rank`-D input (-1 always is). */
function lastAxis(axis: unknown, rank: number | undefined): boolean {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === undefined || a === -1 || (rank !== undefined && a === rank - 1);
}

interface ReadContext {
  keras3: boolean;
  /** Rank of this layer's input, batch included (undefined: not known). */
  rank: number | undefined;
}

/** The GRU options of a GRU config (also the layer inside a Bidirectional). */
function gruIn(o: Options, ctx: ReadContext): Record<string, unknown> {
  const c: Record<string, unknown> = { units: o.number('units') };
  const set = (k: string, v: unknown) => v !== undefined && (c[k] = v);
  set('returnSequences', o.bool('return_sequences'));
  set('returnState', o.bool('return_state'));
  set('goBackwards', o.bool('go_backwards'));
  set('stateful', o.bool('stateful'));
  // Absent: tfjs and Keras before 2.3, whose GRU is reset-before.
  c.resetAfter = o.bool('reset_after') ?? false;
  set('useBias', o.bool('use_bias'));
  set('activation', activationIn(o.str('activation'), ctx.keras3));
  set('recurrentActivation', activationIn(o.str('recurrent_activation'), ctx.keras3));
  const d = o.number('dropout');
  if (d !== undefined && d !== 0) c.dropout = d;
  const rd = o.number('recurrent_dropout');
  if (rd !== undefined && rd !== 0) c.recurrentDropout = rd;
  set('zeroOutputForMask', o.bool('zero_output_for_mask'));
  o.take('implementation'); // Keras's choice of kernels, not of results
  o.only('unroll', [false], 'the core never unrolls');
  o.only('time_major', [false], 'inputs are batch-major');
  o.only('seed', [null], 'a GRU dropout seed: gru-simd derives it from the model seed');
  return c;
}

function gruOut(c: Record<string, unknown>, warn: (m: string) => void): Record<string, unknown> {
  const act = (key: string, fallback: string) => {
    const name = (c[key] as string | undefined) ?? fallback;
    const out = activationOut(name);
    if (out === null)
      fail(
        `GRU ${key} '${name}' (Keras 3's hard sigmoid) has no tfjs name (tfjs's 'hard_sigmoid' is Keras 2's, gru-simd's 'hardSigmoidKeras2'): save it in gru-simd's own file`,
      );
    return out;
  };
  if (c.resetAfter !== false)
    warn(
      `GRU '${String(c.name)}' has resetAfter true, which tfjs-layers cannot run (it refuses reset_after): gru-simd and Keras read this file, tfjs does not`,
    );
  if (c.zeroOutputForMask === true)
    warn(`GRU '${String(c.name)}' has zeroOutputForMask true, which tfjs ignores`);
  return {
    name: c.name,
    trainable: true,
    dtype: 'float32',
    units: c.units,
    activation: act('activation', 'tanh'),
    recurrent_activation: act('recurrentActivation', 'sigmoid'),
    use_bias: c.useBias ?? true,
    dropout: c.dropout ?? 0,
    recurrent_dropout: c.recurrentDropout ?? 0,
    implementation: null,
    reset_after: c.resetAfter ?? true,
    return_sequences: c.returnSequences ?? false,
    return_state: c.returnState ?? false,
    go_backwards: c.goBackwards ?? false,
    stateful: c.stateful ?? false,
    unroll: false,
    ...(c.zeroOutputForMask === true ? { zero_output_for_mask: true } : {}),
  };
}

interface ClassEntry {
  /** The snake_case config -> the factory's options (and the rank of the output). */
  read(o: Options, ctx: ReadContext): { config: Record<string, unknown>; rank?: number };
  /** The factory's options -> the snake_case config (without name, batch_input_shape). */
  write(c: Record<string, unknown>, warn: (m: string) => void): Record<string, unknown>;
}

const pooling: ClassEntry = {
  read(o) {
    o.only('data_format', ['channels_last'], 'the core pools [batch, steps, features]');
    o.only('keepdims', [false], 'the output is [batch, features]');
    return { config: {}, rank: 2 };
  },
  write: () => ({}),
};

/** The classes gru-simd reads and writes, by Keras's class name. */
export const CLASSES: Record<string, ClassEntry> = {
  GRU: {
    read(o, ctx) {
      const config = gruIn(o, ctx);
      return { config, rank: config.returnSequences === true ? 3 : 2 };
    },
    write: (c, warn) => gruOut(c, warn),
  },
  Dense: {
    read(o, ctx) {
      const config: Record<string, unknown> = { units: o.number('units') };
      const a = activationIn(o.str('activation'), ctx.keras3);
      if (a !== undefined) config.activation = a;
      const b = o.bool('use_bias');
      if (b !== undefined) config.useBias = b;
      const inputDim = o.number('input_dim');
      if (inputDim !== undefined) config.inputDim = inputDim;
      o.only('lora_rank', [null], 'LoRA');
      return { config };
    },
    write(c, warn) {
      const a = activationOut((c.activation as string | undefined) ?? 'linear');
      geluNewWarning(a, c, warn);
      if (a === null)
        fail(
          `Dense activation 'hardSigmoid' (Keras 3's) has no tfjs name: save it in gru-simd's own file`,
        );
      return { units: c.units, activation: a, use_bias: c.useBias ?? true };
    },
  },
  Embedding: {
    read(o) {
      const config: Record<string, unknown> = {
        inputDim: o.number('input_dim'),
        outputDim: o.number('output_dim'),
      };
      const m = o.bool('mask_zero');
      if (m !== undefined) config.maskZero = m;
      const n = o.take('input_length');
      if (typeof n === 'number') config.inputLength = n;
      else if (n !== undefined && n !== null)
        fail(`${o.where}: input_length must be a number or null, got ${show(n)}`);
      o.only('sparse', [false], 'sparse gradients');
      o.only('lora_rank', [null], 'LoRA');
      return { config, rank: 3 };
    },
    write: (c) => ({
      input_dim: c.inputDim,
      output_dim: c.outputDim,
      mask_zero: c.maskZero ?? false,
      ...(c.inputLength === undefined ? {} : { input_length: c.inputLength }),
    }),
  },
  Dropout: {
    read(o) {
      const config: Record<string, unknown> = { rate: o.number('rate') };
      o.only('noise_shape', [null], 'the core draws one mask element per element');
      const seed = o.number('seed');
      if (seed !== undefined) config.seed = seed;
      return { config };
    },
    write: (c) => ({ rate: c.rate, noise_shape: null, seed: c.seed ?? null }),
  },
  LayerNormalization: {
    read(o, ctx) {
      const axis = o.take('axis');
      if (!lastAxis(axis, ctx.rank))
        fail(`${o.where}: axis ${show(axis)} is not supported (the core normalises the last axis)`);
      const config: Record<string, unknown> = {};
      const e = o.number('epsilon');
      if (e !== undefined) config.epsilon = e;
      const center = o.bool('center');
      if (center !== undefined) config.center = center;
      const scale = o.bool('scale');
      if (scale !== undefined) config.scale = scale;
      o.only('rms_scaling', [false], 'RMS normalisation');
      return { config };
    },
    write: (c) => ({
      axis: -1,
      epsilon: c.epsilon ?? 0.001,
      center: c.center ?? true,
      scale: c.scale ?? true,
    }),
  },
  BatchNormalization: {
    read(o, ctx) {
      const axis = o.take('axis');
      if (!lastAxis(axis, ctx.rank))
        fail(`${o.where}: axis ${show(axis)} is not supported (the core normalises the last axis)`);
      const config: Record<string, unknown> = {};
      const m = o.number('momentum');
      if (m !== undefined) config.momentum = m;
      const e = o.number('epsilon');
      if (e !== undefined) config.epsilon = e;
      const center = o.bool('center');
      if (center !== undefined) config.center = center;
      const scale = o.bool('scale');
      if (scale !== undefined) config.scale = scale;
      o.only('renorm', [false], 'batch renormalisation');
      o.only('synchronized', [false], 'synchronised statistics');
      for (const k of ['renorm_clipping', 'renorm_momentum', 'virtual_batch_size', 'adjustment'])
        o.only(k, [null, 0.99], 'batch renormalisation and virtual batches');
      o.take('fused'); // Keras 2's choice of kernels, not of results
      return { config };
    },
    write: (c) => ({
      axis: -1,
      momentum: c.momentum ?? 0.99,
      epsilon: c.epsilon ?? 0.001,
      center: c.center ?? true,
      scale: c.scale ?? true,
    }),
  },
  Activation: {
    read(o, ctx) {
      return { config: { activation: activationIn(o.str('activation'), ctx.keras3) } };
    },
    write(c, warn) {
      const a = activationOut(c.activation as string);
      geluNewWarning(a, c, warn);
      if (a === null)
        fail(
          `Activation 'hardSigmoid' (Keras 3's) has no tfjs name: save it in gru-simd's own file`,
        );
      return { activation: a };
    },
  },
  GlobalAveragePooling1D: pooling,
  GlobalMaxPooling1D: pooling,
  Masking: {
    read(o) {
      const v = o.number('mask_value');
      return { config: v === undefined ? {} : { maskValue: v } };
    },
    write: (c) => ({ mask_value: c.maskValue ?? 0 }),
  },
  Bidirectional: {
    read(o, ctx) {
      const inner = (key: string): LayerSpec | undefined => {
        const v = o.take(key);
        if (v === undefined || v === null) return undefined;
        if (!isPlainObject(v) || v.class_name !== 'GRU' || !isPlainObject(v.config))
          fail(
            `${o.where}: ${key} must be a GRU ({ class_name: 'GRU', config }), got ${show(isPlainObject(v) ? v.class_name : v)}`,
          );
        const io = new Options(`${o.where}.${key}`, v.config);
        common(io, false);
        const config = gruIn(io, ctx);
        io.done();
        const name = v.config.name;
        if (typeof name === 'string') config.name = name;
        return { className: 'GRU', config };
      };
      const layer = inner('layer');
      if (layer === undefined) fail(`${o.where}: layer (the GRU) is missing`);
      const backwardLayer = inner('backward_layer');
      const mode = o.take('merge_mode');
      if (mode === null)
        fail(
          `${o.where}: merge_mode null gives two outputs, which a Sequential model cannot carry`,
        );
      if (mode !== undefined && typeof mode !== 'string')
        fail(`${o.where}: merge_mode must be a string, got ${show(mode)}`);
      o.only('num_constants', [null], 'constants');
      const config: Record<string, unknown> = { layer };
      if (backwardLayer !== undefined) config.backwardLayer = backwardLayer;
      if (mode !== undefined) config.mergeMode = mode;
      return { config, rank: layer.config.returnSequences === true ? 3 : 2 };
    },
    write(c, warn) {
      const layer = c.layer as LayerSpec;
      return {
        layer: { class_name: 'GRU', config: gruOut(layer.config, warn) },
        merge_mode: c.mergeMode ?? 'concat',
      };
    },
  },
};

/** The Keras class names gru-simd reads (for messages and `inspect`). */
export const TFJS_CLASSES: readonly string[] = Object.keys(CLASSES);

/** A shape [null, ...dims] of a file (batch first) -> the per-sample shape. */
function sampleShape(where: string, v: unknown, withBatch: boolean): (number | null)[] {
  const ok = (d: unknown) =>
    d === null || (typeof d === 'number' && Number.isSafeInteger(d) && d > 0);
  if (!Array.isArray(v) || v.length < (withBatch ? 2 : 1) || v.length > 8 || !v.every(ok))
    fail(`${where} must be an array of positive integers or nulls, got ${show(v)}`);
  return (withBatch ? v.slice(1) : v) as (number | null)[];
}

/** The input shape a first layer (or InputLayer) declares, if any; its keys taken. */
function declaredInput(o: Options): (number | null)[] | undefined {
  const batch = o.take('batch_input_shape') ?? o.take('batch_shape');
  o.take('batch_shape');
  if (batch !== undefined && batch !== null)
    return sampleShape(`${o.where}: batch shape`, batch, true);
  const shape = o.take('input_shape');
  if (shape !== undefined && shape !== null)
    return sampleShape(`${o.where}: input_shape`, shape, false);
  return undefined;
}

/** The layer entries of a Sequential's config: { name, layers } (Keras 2.2+, tfjs) or a list. */
function sequentialLayers(topology: Record<string, unknown>): {
  name: string | undefined;
  list: unknown[];
} {
  // A Keras model.json's modelTopology may wrap it: { model_config: { class_name, config } }.
  const model = isPlainObject(topology.model_config) ? topology.model_config : topology;
  const cls = model.class_name;
  if (cls !== 'Sequential') {
    fail(
      `only Sequential models are read, got class_name ${show(cls)}${cls === 'Model' || cls === 'Functional' ? ' (a functional model: rebuild it as a Sequential one)' : ''}`,
    );
  }
  const c = model.config;
  if (Array.isArray(c)) return { name: undefined, list: c };
  if (!isPlainObject(c) || !Array.isArray(c.layers))
    fail(`modelTopology.config must be { name, layers: [...] } or a list of layers`);
  return { name: typeof c.name === 'string' ? c.name : undefined, list: c.layers };
}

/** modelTopology -> the model API's layers (see the top of this file). ERR_GRU_FORMAT on any problem. */
export function readTopology(topology: unknown): Topology {
  if (!isPlainObject(topology)) fail('modelTopology must be an object');
  const kerasVersion = typeof topology.keras_version === 'string' ? topology.keras_version : '';
  const keras3 = /^3\./.test(kerasVersion);
  const { name, list } = sequentialLayers(topology);
  if (list.length > MAX_LAYERS)
    fail(`the model declares ${list.length} layers, over ${MAX_LAYERS}`);
  let inputShape: (number | null)[] | undefined;
  const layers: LayerSpec[] = [];
  let rank: number | undefined;
  for (const [i, entry] of list.entries()) {
    const where0 = `layers[${i}]`;
    if (
      !isPlainObject(entry) ||
      typeof entry.class_name !== 'string' ||
      !isPlainObject(entry.config)
    )
      fail(`${where0} must be { class_name, config }`);
    const cls = entry.class_name;
    const where = `${where0} (${cls.slice(0, 40)} ${show(entry.config.name)})`;
    const o = new Options(where, entry.config);
    if (cls === 'InputLayer') {
      if (layers.length > 0 || inputShape !== undefined)
        fail(`${where}: an InputLayer must come first`);
      o.str('name');
      inputShape = declaredInput(o);
      if (inputShape === undefined)
        fail(`${where}: an InputLayer needs batch_input_shape or batch_shape`);
      rank = inputShape.length + 1;
      o.only('dtype', ['float32', 'int32', null], 'gru-simd takes float32 values or int32 ids');
      o.only('sparse', [false, null], 'sparse inputs');
      o.only('ragged', [false, null], 'ragged inputs');
      o.take('optional');
      o.done();
      continue;
    }
    const entryClass = Object.hasOwn(CLASSES, cls) ? CLASSES[cls] : undefined;
    if (entryClass === undefined)
      fail(
        `${where}: layer class ${show(cls)} is not supported (gru-simd reads ${TFJS_CLASSES.join(', ')})`,
      );
    const first = layers.length === 0 && inputShape === undefined;
    if (first) {
      inputShape = declaredInput(o);
      if (inputShape !== undefined) rank = inputShape.length + 1;
    }
    const { name: layerName } = common(o, first);
    const read = entryClass.read(o, { keras3, rank });
    o.done();
    const config = read.config;
    if (layerName !== undefined) config.name = layerName;
    if (read.rank !== undefined) rank = read.rank;
    else if (cls === 'Dense' && rank === undefined && typeof config.inputDim === 'number') rank = 2;
    layers.push({ className: cls, config });
  }
  if (layers.length === 0) fail('the model has no layers');
  return { name, inputShape, layers, kerasVersion };
}

/**
 * The model API's layers -> a modelTopology tfjs reads (tfjs's own writing, as its model.save
 * gives it). `warn` receives what tfjs cannot run (the file is still what gru-simd and Keras
 * read); what no tfjs name exists for is an ERR_GRU_FORMAT.
 */
export function writeTopology(
  name: string,
  inputShape: (number | null)[],
  layers: readonly LayerSpec[],
  version: string,
  warn: (message: string) => void,
): Record<string, unknown> {
  const out = layers.map((l, i) => {
    const entry = CLASSES[l.className];
    if (entry === undefined)
      fail(`layer ${show(l.config.name)} (${l.className}) has no tfjs class`);
    const { inputShape: _s, inputLength: _n, name: layerName, ...rest } = l.config;
    const config: Record<string, unknown> = {
      name: layerName,
      trainable: true,
      ...(i === 0 ? { batch_input_shape: [null, ...inputShape] } : {}),
      dtype: 'float32',
      ...entry.write({ ...rest, name: layerName }, warn),
    };
    return { class_name: l.className, config };
  });
  return {
    class_name: 'Sequential',
    config: { name, layers: out },
    keras_version: `gru-simd ${version}`,
    backend: 'tensor_flow.js',
  };
}
