/**
 * describeKerasFile(): what a Keras file holds, read without building a model (for `gru-simd
 * inspect` and for a user deciding whether a file will load): the Keras version, the model's
 * class and input shape, each layer's class, name and weights (HDF5 path and shape) with its
 * parameter count, and whether loadKerasModel() can read it (else the reason, the same
 * ERR_GRU_FORMAT message loading would give). Layers gru-simd does not offer (an LSTM) are
 * listed all the same. Weights-only files list the layers their HDF5 groups name.
 */
import { GruError } from '../errors.js';
import { readModelBytes, type ModelSource } from '../models/storage.js';
import { kerasMajor, modelSpec, weightGroupNames } from './keras-config.js';
import { H5File } from './keras-h5.js';
import { isZip, jsonBudget, readKerasZip } from './keras-zip.js';
import { isPlainObject, jsonParseCost, parseJson } from './safetensors.js';

export interface KerasFileWeight {
  /** The dataset's path in the HDF5 file ('layers/gru/cell/vars/0', 'model_weights/gru/...'). */
  path: string;
  shape: number[];
}

export interface KerasFileLayer {
  /** Keras's class name ('GRU', 'LSTM', ...); null for a weights-only file's group. */
  className: string | null;
  /** The layer's name (a weights-only Keras 3 file: its group name). */
  name: string;
  weights: KerasFileWeight[];
  /** Values in its weights (Keras's count_params, non-trainable ones included). */
  params: number;
}

export interface KerasFileDescription {
  /** 'keras' (a .keras zip), 'h5' (a legacy model file), 'weights' (weights only). */
  format: 'keras' | 'h5' | 'weights';
  kerasVersion: string | null;
  /** The model's class ('Sequential', 'Functional', ...); null for a weights-only file. */
  modelClass: string | null;
  modelName: string | null;
  /** One sample's input shape, as the config declares it (null: not declared). */
  inputShape: (number | null)[] | null;
  layers: KerasFileLayer[];
  /** Sum of the layers' params (the optimizer's variables are not counted). */
  params: number;
  /** Whether loadKerasModel() reads the architecture; `problem` says why not. */
  loadable: boolean;
  problem: string | null;
}

function weightsUnder(h5: H5File, path: string, out: KerasFileWeight[], depth = 0): void {
  if (depth > 8) return;
  for (const c of h5.children(path)) {
    const p = path === '' ? c : `${path}/${c}`;
    const kind = h5.kind(p);
    if (kind === 'group') weightsUnder(h5, p, out, depth + 1);
    else if (kind === 'dataset') out.push({ path: p, shape: h5.dataset(p).shape });
  }
}

const count = (ws: KerasFileWeight[]) =>
  ws.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);

/** The layer entries of a config, leniently (class and name only). */
function configLayers(config: unknown): { className: string; name: string }[] {
  const c = isPlainObject(config) ? config.config : undefined;
  const list = Array.isArray(c) ? c : isPlainObject(c) && Array.isArray(c.layers) ? c.layers : [];
  return list.map((l: unknown, i: number) => {
    const className = isPlainObject(l) && typeof l.class_name === 'string' ? l.class_name : '?';
    const lc = isPlainObject(l) && isPlainObject(l.config) ? l.config : {};
    return { className, name: typeof lc.name === 'string' ? lc.name : `layer_${i}` };
  });
}

/** What the Keras file at `source` holds (see the top of this file). */
export async function describeKerasFile(source: ModelSource): Promise<KerasFileDescription> {
  const bytes = await readModelBytes('source', source);
  let config: unknown;
  let version: string | null = null;
  let h5bytes = bytes;
  const zip = isZip(bytes);
  if (zip) {
    const z = await readKerasZip(bytes, 'the .keras file');
    const budget = jsonBudget(bytes.length, z.held);
    config = parseJson(z.config, 'config.json', 24, budget);
    const meta =
      z.metadata === null
        ? null
        : parseJson(z.metadata, 'metadata.json', 4, budget - jsonParseCost(z.config));
    if (isPlainObject(meta) && typeof meta.keras_version === 'string') version = meta.keras_version;
    h5bytes = z.weights;
  }
  const h5 = await H5File.open(h5bytes, zip ? 'model.weights.h5' : 'the HDF5 file', zip);
  try {
    if (!zip) {
      const text = h5.attributeString('', 'model_config');
      config =
        text === undefined
          ? undefined
          : parseJson(text, 'model_config', 24, jsonBudget(bytes.length, bytes.length));
      version = h5.attributeString('', 'keras_version') ?? null;
    }
    const legacyRoot = h5.kind('model_weights') === 'group' ? 'model_weights' : '';
    const legacy = h5.kind('layers') !== 'group';
    const entries = configLayers(config).filter((l) => l.className !== 'InputLayer');
    let layers: KerasFileLayer[];
    if (legacy) {
      const names = h5.attributeStrings(legacyRoot, 'layer_names') ?? [];
      const classes = new Map(entries.map((e) => [e.name, e.className]));
      const listed = entries.length > 0 ? entries.map((e) => e.name) : names;
      layers = listed.map((name) => {
        const g = legacyRoot === '' ? name : `${legacyRoot}/${name}`;
        const weights: KerasFileWeight[] = [];
        if (names.includes(name) && h5.kind(g) === 'group')
          for (const w of h5.attributeStrings(g, 'weight_names') ?? []) {
            const p = `${g}/${w.replace(/\\/g, '/')}`;
            if (h5.kind(p) === 'dataset') weights.push({ path: p, shape: h5.dataset(p).shape });
          }
        return { className: classes.get(name) ?? null, name, weights, params: count(weights) };
      });
    } else if (entries.length > 0) {
      const groups = weightGroupNames(entries.map((e) => e.className));
      layers = entries.map((e, i) => {
        const weights: KerasFileWeight[] = [];
        if (h5.kind(`layers/${groups[i]}`) === 'group')
          weightsUnder(h5, `layers/${groups[i]}`, weights);
        return { className: e.className, name: e.name, weights, params: count(weights) };
      });
    } else {
      layers = h5.children('layers').map((g) => {
        const weights: KerasFileWeight[] = [];
        weightsUnder(h5, `layers/${g}`, weights);
        return { className: null, name: g, weights, params: count(weights) };
      });
    }
    let problem: string | null = null;
    let inputShape: (number | null)[] | null = null;
    if (config === undefined) problem = 'the file holds weights only (no architecture)';
    else {
      try {
        inputShape = modelSpec(config, kerasMajor(version)).inputShape;
      } catch (e) {
        if (!(e instanceof GruError)) throw e;
        problem = e.message;
      }
    }
    return {
      format: config === undefined ? 'weights' : zip ? 'keras' : 'h5',
      kerasVersion: version,
      modelClass:
        isPlainObject(config) && typeof config.class_name === 'string' ? config.class_name : null,
      modelName:
        isPlainObject(config) &&
        isPlainObject(config.config) &&
        typeof config.config.name === 'string'
          ? config.config.name
          : null,
      inputShape,
      layers,
      params: layers.reduce((n, l) => n + l.params, 0),
      loadable: problem === null,
      problem,
    };
  } finally {
    h5.close();
  }
}
