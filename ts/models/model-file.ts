/**
 * gru-simd's own model file: one safetensors file (ts/formats/safetensors.ts) holding a
 * Sequential model whole, so that loadModel() gives back the same model and fit() goes on as if
 * never stopped.
 *
 * Tensors (float32, the layers' own layouts, which are PyTorch's: ts/state-dict.ts):
 *   '<layer name>/<parameter name>'   every parameter of every layer, as the core layer's
 *                                     stateDict() names it ('gru/weight_ih_l0', 'dense/bias',
 *                                     'batch_normalization/running_mean': buffers included)
 *   'optimizer/state'                 the optimizer's state (its moments, in the core's layout:
 *                                     native/core/optim.cpp), with includeOptimizer
 * Metadata (__metadata__, strings; JSON where it says so):
 *   format 'gru-simd', format_version '1', gru_simd_version, contents 'model' or 'weights'
 *   model      JSON { className: 'Sequential', config: { name, seed, inputShape, layers:
 *              [{ className, config }] } }: each layer's factory options (ModelLayer._config)
 *   compile    JSON: compile()'s arguments (optimizer with its schedule, loss, metrics)
 *   optimizer  JSON: the optimizer's stateDict() but its state (type, step, lr, hyperparameters)
 *   training   JSON { fitCount, streams }: the count of fit() calls (the seed of the next one's
 *              shuffles), and per layer with dropout the masks it has drawn (their sequence's
 *              position)
 *
 * What makes a resumed fit() bitwise equal to an uninterrupted one: the parameters and buffers
 * (BatchNormalization's moving statistics), the optimizer's moments, step count (a schedule's
 * position) and learning rate (as a callback left it), the model's seed and its count of fit()
 * calls (the shuffles), and where each dropout mask sequence is (Dropout layers, GRU dropout).
 * Not restored: a stateful GRU's carried state (Keras does not save it either: resetStates() at
 * epoch boundaries).
 *
 * Reading is all or nothing and checks everything before it builds anything: the container
 * (safetensors.ts), the metadata (format, version, bounded JSON), the architecture (every class
 * known, every option checked by its factory), then every tensor against the built model
 * (missing, unexpected, mis-shaped: each named), then compile() and the optimizer. Any failure
 * frees what was made and throws ERR_GRU_FORMAT (or the factory's own code for a backend
 * problem), naming what is wrong.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  isPlainObject,
  parseJson,
  type SafetensorsContents,
  type TensorToWrite,
} from '../formats/safetensors.js';
import type { OptimizerStateDict } from '../optim.js';
import { VERSION } from '../version.js';
import type { ModelLayer } from './layer.js';
import { hasLayerFactory, LAYER_FACTORIES } from './layer-factories.js';
import { parameterFloor } from './parameter-floor.js';
import { Sequential } from './sequential.js';

/** The format version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
export const OPTIMIZER_TENSOR = 'optimizer/state';
/** The deepest JSON a metadata entry may nest (layer configs hold initializer objects, shapes). */
const MAX_JSON_DEPTH = 12;

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/**
 * Whether an error of a factory, the model or compile() is theirs refusing what the file says
 * (then a format error, naming where), not a problem of this process (no backend, out of
 * memory: those pass through with their own codes).
 */
const REFUSALS: readonly string[] = [
  'ERR_GRU_ARG',
  'ERR_GRU_SHAPE',
  'ERR_GRU_RANGE',
  'ERR_GRU_TYPE',
  'ERR_GRU_STATE',
  'ERR_GRU_NULL',
];
function refusal(e: unknown): e is GruError {
  return e instanceof GruError && REFUSALS.includes(e.code);
}

/** The model's parameters as named tensors, layer by layer in the model's order. */
function weightTensors(model: Sequential): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  for (const layer of model.layers) {
    for (const core of layer.trainables()) {
      for (const p of core.parameterNames())
        out.push({
          name: `${layer.name}/${p}`,
          shape: core.parameterShape(p),
          data: core.getParameter(p),
        });
    }
  }
  return out;
}

function header(contents: 'model' | 'weights'): Record<string, string> {
  return {
    format: 'gru-simd',
    format_version: String(FORMAT_VERSION),
    gru_simd_version: VERSION,
    contents,
  };
}

/** The whole model as the bytes of one file (see the top of this file). */
export function modelToBytes(model: Sequential, includeOptimizer: boolean): Uint8Array {
  const state = model._fileState();
  const architecture = {
    className: 'Sequential',
    config: {
      name: model.name,
      seed: state.seed,
      inputShape: state.input === null ? null : [null, ...state.input],
      layers: model.layers.map((l) => ({ className: l.className, config: l._config() })),
    },
  };
  const metadata = header('model');
  metadata.model = JSON.stringify(architecture);
  const streams: Record<string, number[]> = {};
  for (const l of model.layers) if (l._streams().length > 0) streams[l.name] = l._streams();
  metadata.training = JSON.stringify({ fitCount: state.fitCount, streams });
  const tensors = weightTensors(model);
  if (state.compileArgs instanceof GruError) throw state.compileArgs;
  if (state.compileArgs !== null) metadata.compile = JSON.stringify(state.compileArgs);
  if (includeOptimizer && state.optimizer !== null) {
    const { state: moments, ...rest } = state.optimizer.stateDict();
    metadata.optimizer = JSON.stringify(rest);
    tensors.push({ name: OPTIMIZER_TENSOR, shape: [moments.length], data: moments });
  }
  return encodeSafetensors(tensors, metadata);
}

/** The weights alone (saveWeights()). */
export function weightsToBytes(model: Sequential): Uint8Array {
  return encodeSafetensors(weightTensors(model), header('weights'));
}

/** The container decoded and the header checked: a gru-simd file this version reads. */
function openFile(bytes: Uint8Array): SafetensorsContents {
  const file = decodeSafetensors(bytes);
  const m = file.metadata;
  if (m.format !== 'gru-simd') {
    fail(
      `not a gru-simd model file (its metadata has no format 'gru-simd'${m.format === undefined ? '' : `, but ${JSON.stringify(m.format.slice(0, 40))}`}): a safetensors file from elsewhere holds tensors without a model`,
    );
  }
  const version = m.format_version;
  if (version === undefined || !/^[1-9][0-9]{0,8}$/.test(version))
    fail(`format_version must be a positive integer, got ${JSON.stringify(version?.slice(0, 20))}`);
  if (Number(version) > FORMAT_VERSION) {
    fail(
      `the file has format version ${version} (written by gru-simd ${JSON.stringify(m.gru_simd_version?.slice(0, 20))}); this gru-simd (${VERSION}) reads up to ${FORMAT_VERSION}: update gru-simd`,
    );
  }
  if (m.contents !== 'model' && m.contents !== 'weights')
    fail(`contents must be 'model' or 'weights', got ${JSON.stringify(m.contents?.slice(0, 20))}`);
  return file;
}

/** A metadata entry as JSON (bounded nesting), or undefined when absent. */
function metaJson(file: SafetensorsContents, key: string): unknown {
  const text = file.metadata[key];
  return text === undefined ? undefined : parseJson(text, `metadata '${key}'`, MAX_JSON_DEPTH);
}

function keysOnly(what: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) fail(`${what} has an unknown key '${k.slice(0, 40)}'`);
}

/** One layer from { className, config }; the factory's refusal becomes ERR_GRU_FORMAT. */
function layerFrom(value: unknown, where: string): ModelLayer {
  if (!isPlainObject(value)) fail(`${where} must be { className, config }`);
  keysOnly(where, value, ['className', 'config']);
  const { className, config } = value;
  if (typeof className !== 'string' || !hasLayerFactory(className)) {
    fail(
      `${where}: unknown layer class ${JSON.stringify(typeof className === 'string' ? className.slice(0, 40) : className)} (known: ${Object.keys(LAYER_FACTORIES).join(', ')})`,
    );
  }
  if (!isPlainObject(config)) fail(`${where} (${className}): config must be an object`);
  // Bidirectional's GRUs are recorded as { className: 'GRU', config } inside its options.
  const options =
    className === 'Bidirectional'
      ? {
          ...config,
          layer: layerFrom(config.layer, `${where}.config.layer`),
          ...(config.backwardLayer === undefined
            ? {}
            : { backwardLayer: layerFrom(config.backwardLayer, `${where}.config.backwardLayer`) }),
        }
      : config;
  try {
    return LAYER_FACTORIES[className]!(options);
  } catch (e) {
    if (refusal(e)) fail(`${where} (${className}): ${e.message}`);
    throw e;
  }
}

/** Every tensor the model needs, present with its shape, and no other (besides `allowed`). */
function checkTensors(model: Sequential, file: SafetensorsContents, allowed: string[]): void {
  const missing: string[] = [];
  const shapes: string[] = [];
  const wanted = new Set<string>(allowed);
  for (const t of weightTensorsShapes(model)) {
    wanted.add(t.name);
    const got = file.tensors.get(t.name);
    if (got === undefined) missing.push(t.name);
    else if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i]))
      shapes.push(`${t.name} is [${got.shape.join(', ')}], the model's is [${t.shape.join(', ')}]`);
  }
  const extra = [...file.tensors.keys()].filter((n) => !wanted.has(n));
  const problems = [
    missing.length ? `missing tensors: ${missing.join(', ')}` : '',
    extra.length ? `unexpected tensors: ${extra.map((n) => n.slice(0, 80)).join(', ')}` : '',
    shapes.length ? `mis-shaped tensors: ${shapes.join('; ')}` : '',
  ].filter((s) => s !== '');
  if (problems.length) fail(`the file's tensors do not match the model: ${problems.join('; ')}`);
}

/** The names and shapes of weightTensors(), without copying any value. */
function weightTensorsShapes(model: Sequential): { name: string; shape: number[] }[] {
  return model.layers.flatMap((layer) =>
    layer
      .trainables()
      .flatMap((core) =>
        core
          .parameterNames()
          .map((p) => ({ name: `${layer.name}/${p}`, shape: core.parameterShape(p) })),
      ),
  );
}

/** Copies the checked tensors into the model's core layers. */
function setWeights(model: Sequential, file: SafetensorsContents): void {
  for (const layer of model.layers) {
    for (const core of layer.trainables()) {
      const dict: Record<string, Float32Array> = {};
      for (const p of core.parameterNames()) dict[p] = file.tensors.get(`${layer.name}/${p}`)!.data;
      core.loadStateDict(dict);
    }
  }
}

/** The Sequential of the file's architecture, built (its layers made), not yet holding weights. */
function modelFrom(file: SafetensorsContents, backend: Backend | undefined): Sequential {
  const arch = metaJson(file, 'model');
  if (arch === undefined) fail(`the file has no 'model' metadata (the architecture)`);
  if (!isPlainObject(arch)) fail(`metadata 'model' must be { className, config }`);
  keysOnly(`metadata 'model'`, arch, ['className', 'config']);
  if (arch.className !== 'Sequential')
    fail(`only Sequential models are read, got className ${JSON.stringify(arch.className)}`);
  const c = arch.config;
  if (!isPlainObject(c)) fail(`metadata 'model'.config must be an object`);
  keysOnly(`metadata 'model'.config`, c, ['name', 'seed', 'inputShape', 'layers']);
  if (!Array.isArray(c.layers)) fail(`metadata 'model'.config.layers must be an array`);
  if (c.inputShape !== null && !Array.isArray(c.inputShape))
    fail(`metadata 'model'.config.inputShape must be null or [null, ...shape]`);
  let floats = 0;
  for (const t of file.tensors.values()) floats += t.data.length;
  const floor = parameterFloor(c.layers as unknown[], c.inputShape);
  if (floor > floats) {
    fail(
      `the architecture's layers hold at least ${floor} parameters, and the file's tensors hold ${floats} values: a forged or truncated file`,
    );
  }
  const made: ModelLayer[] = [];
  let model = null as Sequential | null;
  try {
    for (const [i, l] of (c.layers as unknown[]).entries()) made.push(layerFrom(l, `layers[${i}]`));
    try {
      model = new Sequential({
        layers: made,
        name: c.name as string,
        seed: c.seed as number,
        ...(backend === undefined ? {} : { backend }),
      });
      if (Array.isArray(c.inputShape)) model.build(c.inputShape as (number | null)[]);
    } catch (e) {
      if (refusal(e)) fail(`the file's model cannot be built: ${e.message}`);
      throw e;
    }
    return model;
  } catch (e) {
    if (model !== null) model.dispose();
    else for (const l of made) l.dispose();
    throw e;
  }
}

/** Compiles as the file says and restores the optimizer's state, if it holds them. */
function restoreTraining(model: Sequential, file: SafetensorsContents): void {
  const training = metaJson(file, 'training');
  if (training !== undefined) {
    if (!isPlainObject(training)) fail(`metadata 'training' must be an object`);
    keysOnly(`metadata 'training'`, training, ['fitCount', 'streams']);
    const count = (v: unknown, what: string): number => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        fail(`metadata 'training'.${what} must be an integer >= 0`);
      return v;
    };
    const n = count(training.fitCount, 'fitCount');
    const streams = training.streams ?? {};
    if (!isPlainObject(streams)) fail(`metadata 'training'.streams must be an object`);
    const set: [ModelLayer, number[]][] = [];
    for (const [name, v] of Object.entries(streams)) {
      const layer = model.layers.find((l) => l.name === name);
      const want = layer?._streams().length ?? 0;
      if (layer === undefined || !Array.isArray(v) || v.length !== want || want === 0)
        fail(`metadata 'training'.streams.${name.slice(0, 40)} does not fit the model's layers`);
      set.push([layer, v.map((c, i) => count(c, `streams.${name}[${i}]`))]);
    }
    model._setFitCount(n);
    for (const [layer, counts] of set) layer._setStreams(counts);
  }
  const compile = metaJson(file, 'compile');
  const optimizer = metaJson(file, 'optimizer');
  const moments = file.tensors.get(OPTIMIZER_TENSOR);
  if ((optimizer === undefined) !== (moments === undefined))
    fail(
      `the optimizer's metadata and its tensor '${OPTIMIZER_TENSOR}' go together: one is missing`,
    );
  if (compile === undefined) {
    if (optimizer !== undefined) fail(`an optimizer state without compile() settings`);
    return;
  }
  try {
    model.compile(compile as never);
    if (optimizer === undefined) return;
    if (!isPlainObject(optimizer)) fail(`metadata 'optimizer' must be an object`);
    const made = model._training().optimizer();
    made.loadStateDict({ ...optimizer, state: moments!.data } as unknown as OptimizerStateDict);
  } catch (e) {
    if (refusal(e))
      fail(`the file's compile() settings or optimizer state are refused: ${e.message}`);
    throw e;
  }
}

/** loadModel(): the model the bytes hold, with its weights, compiled and trained as saved. */
export function modelFromBytes(bytes: Uint8Array, backend: Backend | undefined): Sequential {
  const file = openFile(bytes);
  if (file.metadata.contents !== 'model')
    fail(`the file holds weights only (saveWeights()): build the model and call loadWeights()`);
  const model = modelFrom(file, backend);
  try {
    checkTensors(model, file, [OPTIMIZER_TENSOR]);
    setWeights(model, file);
    restoreTraining(model, file);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** loadWeights(): the weights of a model or weights file into `model` (built), all or nothing. */
export function loadWeightsFromBytes(model: Sequential, bytes: Uint8Array): void {
  if (!model.built)
    throw new GruError(
      'ERR_GRU_STATE',
      'build the model (or call it on data) before loadWeights()',
    );
  const file = openFile(bytes);
  checkTensors(model, file, file.metadata.contents === 'model' ? [OPTIMIZER_TENSOR] : []);
  setWeights(model, file);
}
