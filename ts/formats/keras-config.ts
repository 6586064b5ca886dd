/**
 * Keras's model config <-> the model API's layers. Reading takes the three dialects Keras has
 * written: Keras 3 (`.keras` config.json and Keras 3's legacy `.h5`: an InputLayer with
 * batch_shape, DTypePolicy objects), tf.keras 2 (InputLayer with batch_input_shape) and Keras
 * 2.0-2.2 (`config` a bare list, the input shape on the first layer, GRU without reset_after:
 * then reset_after is false, as those versions computed). Writing: ./keras-config-write.ts.
 *
 * Every option is accounted for: mapped to the factory's (which validates it), ignored because it
 * cannot change what the loaded model computes (initializers: the weights come from the file;
 * implementation: the same math; seeds), or refused unless it has its default value, naming the
 * layer and the option. An option this file does not know is refused too: a newer Keras's
 * option is never silently dropped.
 *
 * 'hard_sigmoid' depends on the Keras that saved the file (keras_version): Keras 2 and tf.keras
 * computed clip(0.2 x + 0.5, 0, 1) ('hardSigmoidKeras2'), Keras 3 computes relu6(x + 3) / 6
 * ('hardSigmoid'): ts/activations.ts.
 *
 * Over 400 lines: every Keras layer's options, each mapped, ignored or refused, in one place, by
 * design (as ts/models/names.ts holds every name).
 */
import { GruError } from '../errors.js';
import type { ModelLayer } from '../models/layer.js';
import { hasLayerFactory, LAYER_FACTORIES } from '../models/layer-factories.js';
import { isPlainObject } from './safetensors.js';

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}...` : s;
};

/** The major version of the Keras that wrote the file: 2 (Keras 2, tf.keras) or 3; null: unknown. */
export type KerasMajor = 2 | 3 | null;

export function kerasMajor(version: string | null | undefined): KerasMajor {
  if (typeof version !== 'string') return null;
  const m = /^(\d+)\./.exec(version);
  if (m === null) return null;
  return Number(m[1]) >= 3 ? 3 : 2;
}

/** One layer of the file, mapped: what the factory takes, and how Keras names its weights. */
export interface LayerSpec {
  className: string;
  /** The layer's name in the file (its name in gru-simd too). */
  name: string;
  /** The options of the model API's factory (layers.<name>). */
  options: Record<string, unknown>;
  /** Bidirectional: its forward and backward GRUs' options. */
  inner?: { layer: Record<string, unknown>; backwardLayer: Record<string, unknown> | null };
  /** Where it is: "layer 'gru_1' (GRU)" for messages. */
  where: string;
}

/** The model a config describes. */
export interface ModelSpec {
  name: string;
  /** One sample's shape ([steps, features], null for any length), or null when not given. */
  inputShape: (number | null)[] | null;
  layers: LayerSpec[];
}

/** A layer config's options, each consumed once: what is left at the end is refused. */
class Options {
  readonly #left: Set<string>;
  constructor(
    readonly where: string,
    readonly c: Record<string, unknown>,
  ) {
    this.#left = new Set(Object.keys(c));
  }
  has(key: string): boolean {
    return Object.hasOwn(this.c, key);
  }
  take(key: string): unknown {
    this.#left.delete(key);
    return this.c[key];
  }
  /** Options that cannot change what the loaded model computes. */
  ignore(...keys: string[]): void {
    for (const k of keys) this.#left.delete(k);
  }
  /** Refused unless absent or one of `allowed` (the first is Keras's default). */
  only(key: string, allowed: readonly unknown[], why: string): void {
    if (!this.has(key)) return;
    const v = this.take(key);
    if (
      !allowed.some((a) => a === v || (Array.isArray(a) && JSON.stringify(a) === JSON.stringify(v)))
    )
      fail(
        `${this.where}: ${key} ${show(v)} is not supported (${why}); gru-simd takes ${show(allowed[0])}`,
      );
  }
  /** Regularizers, constraints and the like: only null (none). */
  none(why: string, ...keys: string[]): void {
    for (const k of keys) this.only(k, [null, undefined], why);
  }
  done(): void {
    if (this.#left.size > 0)
      fail(
        `${this.where}: option${this.#left.size > 1 ? 's' : ''} ${[...this.#left].map((k) => `'${k.slice(0, 40)}'`).join(', ')} not supported by gru-simd (a Keras option it does not know)`,
      );
  }
}

const REG = 'regularizers and constraints act in training only, and gru-simd has none yet';

/** Options every Keras layer has. The dtype must be float32: gru-simd computes in float32. */
function common(o: Options): void {
  o.take('name');
  o.only('trainable', [true], 'gru-simd trains every layer (no frozen layers yet)');
  if (o.has('dtype')) {
    const d = o.take('dtype');
    const name = isPlainObject(d) && isPlainObject(d.config) ? d.config.name : d;
    if (name !== 'float32' && name !== null && name !== undefined)
      fail(`${o.where}: dtype ${show(name)} is not supported (gru-simd computes in float32)`);
  }
  o.none(REG, 'activity_regularizer');
  // Keras 2's input shape on a first layer: read by modelSpec before this.
  o.ignore('batch_input_shape', 'batch_size', 'input_shape', 'input_dtype');
}

/** A Keras activation name (string) -> the model API's. */
function activation(o: Options, key: string, major: KerasMajor, fallback: string): string {
  const v = o.has(key) ? o.take(key) : fallback;
  if (v === null) return 'linear';
  if (typeof v !== 'string')
    fail(
      `${o.where}: ${key} ${show(v)} is not supported (only Keras's built-in activations, by name)`,
    );
  if (v === 'hard_sigmoid' || v === 'hardSigmoid') {
    if (major === null)
      fail(
        `${o.where}: ${key} 'hard_sigmoid' means clip(0.2 x + 0.5, 0, 1) in Keras 2 and relu6(x + 3) / 6 in Keras 3, and the file does not say which Keras wrote it (no keras_version)`,
      );
    return major === 2 ? 'hardSigmoidKeras2' : 'hardSigmoid';
  }
  return v;
}

/** The options of a GRU config (also inside a Bidirectional). */
function gruOptions(o: Options, major: KerasMajor): Record<string, unknown> {
  common(o);
  const out: Record<string, unknown> = {};
  const map: [string, string][] = [
    ['units', 'units'],
    ['return_sequences', 'returnSequences'],
    ['return_state', 'returnState'],
    ['go_backwards', 'goBackwards'],
    ['use_bias', 'useBias'],
    ['stateful', 'stateful'],
    ['dropout', 'dropout'],
    ['recurrent_dropout', 'recurrentDropout'],
    ['zero_output_for_mask', 'zeroOutputForMask'],
  ];
  for (const [k, ours] of map) if (o.has(k)) out[ours] = o.take(k);
  out.activation = activation(o, 'activation', major, 'tanh');
  // Keras 2's GRU defaulted to hard_sigmoid, Keras 3's to sigmoid; files always name it.
  out.recurrentActivation = activation(
    o,
    'recurrent_activation',
    major,
    major === 2 ? 'hard_sigmoid' : 'sigmoid',
  );
  // Keras before 2.1.5 wrote no reset_after and computed reset-before (reset_after False).
  out.resetAfter = o.has('reset_after') ? o.take('reset_after') : false;
  o.only(
    'unroll',
    [false],
    'the core never unrolls; the result is the same, so save with unroll=False',
  );
  o.only('time_major', [false], 'gru-simd takes [batch, steps, features]');
  o.ignore(
    'kernel_initializer',
    'recurrent_initializer',
    'bias_initializer',
    'seed',
    'implementation',
  );
  o.none(REG, 'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer');
  o.none(REG, 'kernel_constraint', 'recurrent_constraint', 'bias_constraint');
  o.done();
  return out;
}

/** The rank of one sample's shape after each layer: an axis option is checked against it. */
function lastAxis(o: Options, key: string, rank: number): void {
  if (!o.has(key)) return;
  const v = o.take(key);
  const axis = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (axis !== -1 && axis !== rank)
    fail(`${o.where}: ${key} ${show(v)} is not supported (the core normalizes the last axis, -1)`);
}

/** A layer entry { class_name, config, ... } of the file. */
function layerEntry(
  value: unknown,
  where: string,
): { className: string; config: Record<string, unknown> } {
  if (!isPlainObject(value)) fail(`${where} must be an object { class_name, config }`);
  const className = value.class_name;
  if (typeof className !== 'string') fail(`${where} has no class_name`);
  if (!isPlainObject(value.config))
    fail(`${where} (${className.slice(0, 40)}) has no config object`);
  for (const k of Object.keys(value))
    if (
      ![
        'module',
        'class_name',
        'config',
        'registered_name',
        'build_config',
        'compile_config',
        'shared_object_id',
        'name',
        'inbound_nodes',
      ].includes(k)
    )
      fail(`${where}: unknown key '${k.slice(0, 40)}'`);
  if (Array.isArray(value.inbound_nodes) && value.inbound_nodes.length > 0)
    fail(`${where}: a functional model's layer (inbound_nodes): only Sequential models are read`);
  if (
    value.registered_name !== undefined &&
    value.registered_name !== null &&
    value.registered_name !== className
  )
    fail(`${where}: custom layer ${show(value.registered_name)} (only Keras's built-in layers)`);
  return { className, config: value.config };
}

/** The Keras classes read (InputLayer gives the input shape; the others have a layer). */
export const SUPPORTED = [
  'InputLayer',
  'GRU',
  'Bidirectional',
  'Dense',
  'Embedding',
  'Dropout',
  'BatchNormalization',
  'LayerNormalization',
  'Masking',
  'Activation',
  'GlobalAveragePooling1D',
  'GlobalMaxPooling1D',
];

/** The input shape a layer config declares (Keras 2: batch_input_shape on the first layer). */
function declaredShape(c: Record<string, unknown>, where: string): (number | null)[] | null {
  const v = c.batch_shape ?? c.batch_input_shape;
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length < 2 || v.length > 4)
    fail(`${where}: the input shape ${show(v)} must be [batch, ...sample] with 1 to 3 sample axes`);
  const sample = v.slice(1);
  for (const d of sample)
    if (d !== null && (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1 || d > 1 << 30))
      fail(`${where}: the input shape ${show(v)} has a bad dimension`);
  return sample as (number | null)[];
}

/** The model a config describes (class_name Sequential, in any of the dialects above). */
export function modelSpec(config: unknown, major: KerasMajor): ModelSpec {
  if (!isPlainObject(config)) fail(`the model config must be an object { class_name, config }`);
  if (config.class_name !== 'Sequential')
    fail(
      `the file holds a ${show(config.class_name)} model; gru-simd reads Sequential models only (a functional Model's graph is not supported)`,
    );
  const c = config.config;
  let list: unknown;
  let name = 'sequential';
  if (Array.isArray(c))
    list = c; // Keras 2.0-2.2
  else if (isPlainObject(c)) {
    list = c.layers;
    if (typeof c.name === 'string') name = c.name;
  }
  if (!Array.isArray(list)) fail(`the Sequential config has no layers list`);
  let inputShape: (number | null)[] | null = null;
  const specs: LayerSpec[] = [];
  let rank = 0;
  for (const [i, raw] of list.entries()) {
    const { className, config: lc } = layerEntry(raw, `layers[${i}]`);
    const lname = typeof lc.name === 'string' ? lc.name : `${className.toLowerCase()}_${i}`;
    const where = `layer '${lname.slice(0, 60)}' (${className.slice(0, 40)})`;
    if (!SUPPORTED.includes(className))
      fail(
        `${where}: Keras's ${className.slice(0, 40)} is not supported by gru-simd${className === 'LSTM' || className === 'SimpleRNN' || className === 'ConvLSTM1D' ? ' (a GRU library: LSTM and SimpleRNN layers are not offered)' : ''}; supported: ${SUPPORTED.join(', ')}`,
      );
    if (lname.includes('/')) fail(`${where}: a layer name with '/' is not supported`);
    if (specs.length === 0 && inputShape === null) {
      inputShape = declaredShape(lc, where);
      if (inputShape === null && className === 'Embedding' && typeof lc.input_length === 'number')
        inputShape = [lc.input_length];
      if (inputShape !== null) rank = inputShape.length;
    }
    const o = new Options(where, lc);
    if (className === 'InputLayer') {
      if (specs.length > 0 || i > 0) fail(`${where}: an InputLayer must come first`);
      o.take('name');
      o.ignore('batch_shape', 'batch_input_shape', 'dtype', 'input_tensor');
      o.only('sparse', [false], 'dense tensors only');
      o.only('ragged', [false], 'dense tensors only');
      o.only('optional', [false], 'the input is required');
      o.done();
      continue;
    }
    const spec: LayerSpec = { className, name: lname, where, options: {} };
    const out = spec.options;
    switch (className) {
      case 'GRU':
        Object.assign(out, gruOptions(o, major));
        rank = out.returnSequences === true ? 2 : 1;
        break;
      case 'Bidirectional': {
        common(o);
        const inner = (key: string): Record<string, unknown> | null => {
          if (!o.has(key) || o.c[key] === null) {
            o.take(key);
            return null;
          }
          const e = layerEntry(o.take(key), `${where}.${key}`);
          if (e.className !== 'GRU')
            fail(
              `${where}: wraps Keras's ${e.className.slice(0, 40)}; gru-simd's Bidirectional wraps a GRU`,
            );
          return gruOptions(new Options(`${where}.${key} (GRU)`, e.config), major);
        };
        const layer = inner('layer');
        if (layer === null) fail(`${where}: no layer to wrap`);
        const backwardLayer = inner('backward_layer');
        const merge = o.has('merge_mode') ? o.take('merge_mode') : 'concat';
        if (merge === null)
          fail(`${where}: merge_mode None (two outputs) is not supported in a Sequential`);
        out.mergeMode = merge;
        spec.inner = { layer, backwardLayer };
        rank = layer.returnSequences === true ? 2 : 1;
        o.done();
        break;
      }
      case 'Dense':
        common(o);
        out.units = o.take('units');
        out.activation = activation(o, 'activation', major, 'linear');
        if (o.has('use_bias')) out.useBias = o.take('use_bias');
        o.ignore('kernel_initializer', 'bias_initializer', 'lora_alpha');
        o.none(
          REG,
          'kernel_regularizer',
          'bias_regularizer',
          'kernel_constraint',
          'bias_constraint',
        );
        o.only('lora_rank', [null, 0], 'LoRA layers are not supported');
        o.only('quantization_config', [null], 'quantized Keras layers are not supported');
        o.done();
        break;
      case 'Embedding':
        common(o);
        out.inputDim = o.take('input_dim');
        out.outputDim = o.take('output_dim');
        if (o.has('mask_zero')) out.maskZero = o.take('mask_zero');
        o.ignore('embeddings_initializer', 'input_length', 'lora_alpha');
        o.none(REG, 'embeddings_regularizer', 'embeddings_constraint');
        o.only('sparse', [false], 'dense gradients only');
        o.only('lora_rank', [null, 0], 'LoRA layers are not supported');
        o.only('quantization_config', [null], 'quantized Keras layers are not supported');
        o.done();
        rank += 1;
        break;
      case 'Dropout':
        common(o);
        out.rate = o.take('rate');
        // Keras's seed draws Keras's masks; gru-simd draws its own from the model's seed.
        o.ignore('seed');
        o.only('noise_shape', [null], 'the core draws one mask element per element');
        o.done();
        break;
      case 'BatchNormalization': {
        common(o);
        lastAxis(o, 'axis', rank - 1);
        for (const [k, ours] of [
          ['momentum', 'momentum'],
          ['epsilon', 'epsilon'],
          ['center', 'center'],
          ['scale', 'scale'],
        ] as const)
          if (o.has(k)) out[ours] = o.take(k);
        o.ignore(
          'beta_initializer',
          'gamma_initializer',
          'moving_mean_initializer',
          'moving_variance_initializer',
          'fused',
          'renorm_momentum',
        );
        o.none(REG, 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint');
        o.only('renorm', [false], 'batch renormalization is not in the core');
        o.only('renorm_clipping', [null], 'batch renormalization is not in the core');
        o.only('virtual_batch_size', [null], 'ghost batch normalization is not in the core');
        o.only('adjustment', [null], 'not in the core');
        o.only('synchronized', [false], 'there is one device');
        o.done();
        break;
      }
      case 'LayerNormalization':
        common(o);
        lastAxis(o, 'axis', rank - 1);
        for (const [k, ours] of [
          ['epsilon', 'epsilon'],
          ['center', 'center'],
          ['scale', 'scale'],
        ] as const)
          if (o.has(k)) out[ours] = o.take(k);
        o.only('rms_scaling', [false], 'RMS normalization is not in the core');
        o.ignore('beta_initializer', 'gamma_initializer');
        o.none(REG, 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint');
        o.done();
        break;
      case 'Masking':
        common(o);
        if (o.has('mask_value')) out.maskValue = o.take('mask_value');
        o.done();
        break;
      case 'Activation':
        common(o);
        out.activation = activation(o, 'activation', major, 'linear');
        o.done();
        break;
      default: // the two global poolings
        common(o);
        o.only('data_format', ['channels_last'], 'the core pools [batch, steps, features]');
        o.only('keepdims', [false], 'the output is [batch, features]');
        o.done();
        rank = 1;
    }
    specs.push(spec);
  }
  if (specs.length === 0) fail(`the Sequential model has no layers`);
  // A model built by build() or a first call has no InputLayer: Keras 3 records the shape.
  if (inputShape === null) {
    const built = isPlainObject(c) ? c.build_input_shape : undefined;
    const top = isPlainObject(config.build_config) ? config.build_config.input_shape : undefined;
    const shape = built ?? top;
    if (shape !== undefined && shape !== null)
      inputShape = declaredShape({ batch_shape: shape }, 'the model (build_input_shape)');
  }
  return { name, inputShape, layers: specs };
}

/** The model API's layer of a spec; the factory's refusal becomes ERR_GRU_FORMAT naming the layer. */
export function makeLayer(
  spec: LayerSpec,
  first: boolean,
  inputShape: (number | null)[] | null,
): ModelLayer {
  const shape = first && inputShape !== null ? { inputShape } : {};
  try {
    if (!hasLayerFactory(spec.className))
      fail(`${spec.where}: no gru-simd layer is a ${spec.className}`);
    const args: Record<string, unknown> = { ...spec.options, name: spec.name, ...shape };
    const gru = LAYER_FACTORIES.GRU!;
    if (spec.className === 'Bidirectional') {
      args.layer = gru(spec.inner!.layer);
      if (spec.inner!.backwardLayer !== null) args.backwardLayer = gru(spec.inner!.backwardLayer);
    }
    return LAYER_FACTORIES[spec.className]!(args);
  } catch (e) {
    if (e instanceof GruError && e.code !== 'ERR_GRU_FORMAT' && e.code !== 'ERR_GRU_ALLOC')
      fail(`${spec.where}: ${e.message}`);
    throw e;
  }
}

/** Keras's group name of a class in model.weights.h5: snake_case ('GlobalMaxPooling1D' -> 'global_max_pooling1d'). */
export function snakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Keras 3's group names of the layers, in order: the class in snake_case, numbered from the second on. */
export function weightGroupNames(classNames: readonly string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((c) => {
    const base = snakeCase(c);
    const n = used.get(base);
    used.set(base, (n ?? 0) + 1);
    return n === undefined ? base : `${base}_${n}`;
  });
}
