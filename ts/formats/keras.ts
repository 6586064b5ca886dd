/**
 * Keras model files in and out (the public API):
 *   loadKerasModel(source)          a Keras 3 `.keras` zip (also tf.keras 2.13+'s), or a legacy
 *                                   `.h5` model file (Keras 2, tf.keras, Keras 3's legacy
 *                                   writer) -> a built Sequential holding the file's weights
 *   loadKerasWeights(model, source) a weights-only file into a built model: Keras 3's
 *                                   `.weights.h5`, Keras 2's `save_weights('x.h5')`, or the
 *                                   weights of a `.keras` / `.h5` model file
 *   kerasModelBytes(model)          the model as a Keras 3 `.keras` file (keras.saving.load_model
 *                                   reads it); saveKerasModel(model, path) writes it atomically
 *                                   (./keras-save.ts)
 *   describeKerasFile(source)       (./keras-describe.ts) what a file holds (layers, their weights' shapes, parameter
 *                                   counts) without building anything, for `gru-simd inspect`
 *
 * Containers: ./keras-zip.ts (fflate), ./keras-h5.ts (h5wasm); the architecture:
 * ./keras-config.ts; the weights: ./keras-weights.ts. The model comes back uncompiled (as
 * keras.saving.load_model(compile=False)): Keras's training config and optimizer state are not
 * read. Every problem is one ERR_GRU_FORMAT naming the layer, option or weight, raised before the
 * model is handed back (a model built and then refused is disposed).
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import { currentBackend } from '../loader.js';
import type { ModelLayer } from '../models/layer.js';
import { parameterFloor } from '../models/parameter-floor.js';
import { Sequential } from '../models/sequential.js';
import { readModelBytes, type ModelSource } from '../models/storage.js';
import * as check from '../validate.js';
import {
  kerasMajor,
  makeLayer,
  modelSpec,
  weightGroupNames,
  type KerasMajor,
  type ModelSpec,
} from './keras-config.js';
import { H5File, withH5File } from './keras-h5.js';
import { kerasVars, setKerasVars } from './keras-weights.js';
import { isZip, jsonBudget, readKerasZip } from './keras-zip.js';
import { sequentialArg } from './keras-save.js';
import { isPlainObject, jsonParseCost, parseJson } from './safetensors.js';

/** Keras configs nest initializers inside layers inside Bidirectional inside the model. */
const MAX_JSON_DEPTH = 24;

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

export interface LoadKerasModelArgs {
  /** Backend of the model's layers; default: the one chosen by init(). */
  backend?: Backend;
}

/** A file's parts: the architecture (model files), its Keras version, and its weights' HDF5. */
interface Opened {
  kind: 'keras' | 'h5';
  config: unknown;
  kerasVersion: string | null;
  h5: H5File;
}

async function openKeras(bytes: Uint8Array, what: string): Promise<Opened> {
  if (isZip(bytes)) {
    const zip = await readKerasZip(bytes, what);
    const budget = jsonBudget(bytes.length, zip.held);
    const config = parseJson(zip.config, `${what}: config.json`, MAX_JSON_DEPTH, budget);
    let version: string | null = null;
    if (zip.metadata !== null) {
      const left = budget - jsonParseCost(zip.config);
      const meta = parseJson(zip.metadata, `${what}: metadata.json`, 4, left);
      if (isPlainObject(meta) && typeof meta.keras_version === 'string')
        version = meta.keras_version;
    }
    const h5 = await H5File.open(zip.weights, `${what}: model.weights.h5`, true);
    return { kind: 'keras', config, kerasVersion: version, h5 };
  }
  const h5 = await H5File.open(bytes, what);
  try {
    const text = h5.attributeString('', 'model_config');
    const config =
      text === undefined
        ? undefined
        : parseJson(
            text,
            `${what}: model_config`,
            MAX_JSON_DEPTH,
            jsonBudget(bytes.length, bytes.length),
          );
    return {
      kind: 'h5',
      config,
      kerasVersion: h5.attributeString('', 'keras_version') ?? null,
      h5,
    };
  } catch (e) {
    h5.close();
    throw e;
  }
}

/** Where each layer's variables are: Keras 3's layers/<group>/.../vars/<i>, or legacy weight_names. */
type Layout = { kind: 'keras3' } | { kind: 'legacy'; root: string };

function layoutOf(h5: H5File): Layout {
  if (h5.kind('layers') === 'group') return { kind: 'keras3' };
  for (const root of ['model_weights', '']) {
    if (h5.kind(root) === 'group' && h5.attributeStrings(root, 'layer_names') !== undefined)
      return { kind: 'legacy', root };
  }
  return fail(
    `${h5.what}: no Keras weights (neither Keras 3's 'layers' group nor a legacy 'layer_names' attribute)`,
  );
}

/** The dataset paths of a Keras 3 vars group, '0', '1', ... in order, all of them. */
function varsPaths(h5: H5File, group: string, want: number, where: string): string[] {
  if (h5.kind(group) !== 'group') fail(`${h5.what}: ${where}: no group '${group}'`);
  const names = h5.children(group);
  if (
    names.length !== want ||
    names.some((n) => !/^(0|[1-9][0-9]{0,5})$/.test(n) || Number(n) >= want)
  )
    fail(
      `${h5.what}: ${where}: '${group}' holds ${names.length} variables (${names.slice(0, 8).join(', ')}), the layer has ${want}`,
    );
  return names.map((_, i) => `${group}/${i}`);
}

/** Keras 3: the paths of each layer's variables, for the layers with any. */
function keras3Paths(h5: H5File, model: Sequential): string[][] {
  const groups = weightGroupNames(model.layers.map((l) => l.className));
  return model.layers.map((layer, i) => {
    const vars = kerasVars(layer);
    if (vars.length === 0) return [];
    const g = `layers/${groups[i]}`;
    const where = `layer '${layer.name}' (${layer.className})`;
    if (layer.className === 'GRU') return varsPaths(h5, `${g}/cell/vars`, vars.length, where);
    if (layer.className === 'Bidirectional') {
      const n = vars.length / 2;
      return [
        ...varsPaths(h5, `${g}/forward_layer/cell/vars`, n, where),
        ...varsPaths(h5, `${g}/backward_layer/cell/vars`, n, where),
      ];
    }
    return varsPaths(h5, `${g}/vars`, vars.length, where);
  });
}

/** Legacy: the layers with weights in the file's order (layer_names), their weight_names' paths. */
function legacyPaths(h5: H5File, root: string, model: Sequential, byName: boolean): string[][] {
  const names = h5.attributeStrings(root, 'layer_names')!;
  const inFile: { name: string; paths: string[] }[] = [];
  for (const name of names) {
    const g = root === '' ? name : `${root}/${name}`;
    if (h5.kind(g) !== 'group')
      fail(`${h5.what}: layer_names lists '${name.slice(0, 60)}', which has no group`);
    const weights = h5.attributeStrings(g, 'weight_names') ?? [];
    if (weights.length > 0)
      inFile.push({ name, paths: weights.map((w) => `${g}/${w.replace(/\\/g, '/')}`) });
  }
  const withVars = model.layers.filter((l) => kerasVars(l).length > 0);
  if (inFile.length !== withVars.length)
    fail(
      `${h5.what}: the file has weights for ${inFile.length} layers (${inFile.map((l) => l.name).join(', ')}), the model has ${withVars.length} layers with weights (${withVars.map((l) => l.name).join(', ')})`,
    );
  const paths = new Map<ModelLayer, string[]>();
  withVars.forEach((l, i) => {
    const f = inFile[i]!;
    if (byName && f.name !== l.name)
      fail(`${h5.what}: the weights of layer '${l.name}' are under '${f.name.slice(0, 60)}'`);
    const want = kerasVars(l).length;
    if (f.paths.length !== want)
      fail(
        `${h5.what}: layer '${l.name}' (${l.className}) has ${want} weights, the file's '${f.name.slice(0, 60)}' has ${f.paths.length}`,
      );
    paths.set(l, f.paths);
  });
  return model.layers.map((l) => paths.get(l) ?? []);
}

/** Reads every layer's variables (shapes checked), then sets them all: all or nothing. */
function loadWeightsFrom(h5: H5File, model: Sequential, byName: boolean): void {
  const layout = layoutOf(h5);
  const paths =
    layout.kind === 'keras3' ? keras3Paths(h5, model) : legacyPaths(h5, layout.root, model, byName);
  const values = model.layers.map((layer, i) => {
    const vars = kerasVars(layer);
    return vars.map((v, j) => {
      const path = paths[i]![j]!;
      if (h5.kind(path) !== 'dataset')
        fail(
          `${h5.what}: layer '${layer.name}' (${layer.className}): its ${v.name} '${path.slice(0, 120)}' is missing`,
        );
      try {
        return h5.readFloats(path, v.shape);
      } catch (e) {
        if (e instanceof GruError && e.code === 'ERR_GRU_FORMAT')
          fail(`layer '${layer.name}' (${layer.className}), its ${v.name}: ${e.message}`);
        throw e;
      }
    });
  });
  for (const v of values.flat())
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]!)) fail(`${h5.what}: a weight holds ${v[i]} (not finite)`);
  model.layers.forEach((layer, i) => setKerasVars(layer, values[i]!));
}

/** The float elements all datasets of the file declare (each checked against the file's size). */
function declaredFloats(h5: H5File): number {
  let total = 0;
  const walk = (path: string, depth: number): void => {
    if (depth > 12) return;
    for (const c of h5.children(path)) {
      const p = path === '' ? c : `${path}/${c}`;
      const kind = h5.kind(p);
      if (kind === 'group') walk(p, depth + 1);
      else if (kind === 'dataset') {
        const d = h5.dataset(p);
        if (d.kind === 'float') total += d.shape.reduce((a, b) => a * b, 1);
      }
    }
  };
  walk('', 0);
  return total;
}

/** The architecture as the model-file factories' configs, for parameterFloor(). */
function floorConfigs(spec: ModelSpec): unknown[] {
  return spec.layers.map((l) => ({
    className: l.className,
    config:
      l.inner === undefined
        ? l.options
        : { ...l.options, layer: { className: 'GRU', config: l.inner.layer } },
  }));
}

function buildModel(spec: ModelSpec, h5: H5File, backend: Backend): Sequential {
  const floor = parameterFloor(
    floorConfigs(spec),
    spec.inputShape === null ? null : [null, ...spec.inputShape],
  );
  const floats = declaredFloats(h5);
  if (floor > floats)
    fail(
      `the architecture's layers hold at least ${floor} parameters, and the file's weights hold ${floats} values: a forged or truncated file`,
    );
  const made: ModelLayer[] = [];
  let model: Sequential | null = null;
  try {
    spec.layers.forEach((l, i) => made.push(makeLayer(l, i === 0, spec.inputShape)));
    try {
      model = new Sequential({
        layers: made,
        name: spec.name.replace(/\//g, '_') || 'sequential',
        backend,
      });
      if (spec.inputShape !== null) model.build([null, ...spec.inputShape]);
    } catch (e) {
      if (e instanceof GruError && e.code !== 'ERR_GRU_ALLOC' && e.code !== 'ERR_GRU_FORMAT')
        fail(`the file's model cannot be built: ${e.message}`);
      throw e;
    }
    if (!model.built)
      fail(
        `the file does not give the model's input shape (no InputLayer or batch_input_shape): it cannot be built`,
      );
    return model;
  } catch (e) {
    if (model !== null) (model as Sequential).dispose();
    else for (const l of made) l.dispose();
    throw e;
  }
}

/** loadKerasModel() on bytes (the source already read). */
export async function kerasModelFromBytes(
  bytes: Uint8Array,
  backend: Backend,
  what = 'the Keras file',
): Promise<Sequential> {
  const file = await openKeras(bytes, what);
  try {
    if (file.config === undefined)
      fail(
        `${what} holds weights only (no model_config): build the model and call loadKerasWeights()`,
      );
    const major: KerasMajor = kerasMajor(file.kerasVersion);
    const spec = modelSpec(file.config, major);
    const model = buildModel(spec, file.h5, backend);
    try {
      loadWeightsFrom(file.h5, model, file.kind === 'h5');
      return model;
    } catch (e) {
      model.dispose();
      throw e;
    }
  } finally {
    file.h5.close();
  }
}

/**
 * The Sequential model of a Keras file (`.keras` zip or legacy `.h5`), built, with the file's
 * weights; uncompiled. ERR_GRU_FORMAT for anything gru-simd cannot honour (naming the layer and
 * option: an LSTM, unroll, an unknown activation, ...) or a damaged file; ERR_GRU_IO when it
 * cannot be read.
 */
export async function loadKerasModel(
  source: ModelSource,
  options: LoadKerasModelArgs = {},
): Promise<Sequential> {
  const o = check.options('loadKerasModel options', options);
  check.knownKeys('loadKerasModel options', o, ['backend']);
  const given =
    o.backend === undefined ? undefined : check.backendOption(o.backend, currentBackend);
  const bytes = await readModelBytes('source', source);
  return kerasModelFromBytes(bytes, given ?? currentBackend(), describeSource(source));
}

/**
 * Sets a built model's weights from a Keras weights file: Keras 3's `.weights.h5` (matched by
 * layer class and position, as Keras 3 matches them), Keras 2's `.h5` weights (matched by
 * position among the layers with weights, as Keras 2's load_weights), or a `.keras` / `.h5`
 * model file's weights. All or nothing: every shape is checked before any weight is set.
 */
export async function loadKerasWeights(model: Sequential, source: ModelSource): Promise<void> {
  sequentialArg(model);
  if (!model.built)
    throw new GruError(
      'ERR_GRU_STATE',
      'build the model (or call it on data) before loadKerasWeights()',
    );
  const bytes = await readModelBytes('source', source);
  const what = describeSource(source);
  const zip = isZip(bytes);
  const h5bytes = zip ? (await readKerasZip(bytes, what)).weights : bytes;
  await withH5File(h5bytes, what, (h5) => loadWeightsFrom(h5, model, false), zip);
}

function describeSource(source: unknown): string {
  if (typeof source === 'string') return `'${source.slice(-80)}'`;
  if (source instanceof URL) return `'${source.href.slice(-80)}'`;
  return 'the Keras file';
}
