/**
 * TensorFlow.js LayersModel files (model.json + weight shards, what tfjs's model.save and the
 * tensorflowjs converter write) as model API Sequential models, both ways:
 *   loadTfjsModel(source)     a model.json path (Node; the shards beside it), a URL (the shards
 *                             fetched relative to it), or the artifacts in memory
 *                             ({ modelJson, weights }); GRUs with reset_after true load too
 *                             (Keras's converter writes them; tfjs itself cannot run them)
 *   tfjsModelArtifacts(model) model.json's object and its one shard, in memory
 *   saveTfjsModel(model, to)  model.json + group1-shard1of1.bin (Node; each written atomically,
 *                             the shard first), in a directory or beside a given '*.json' path
 * The topology is ts/formats/tfjs-topology.ts, the weights ts/formats/tfjs-weights.ts.
 *
 * A model with what tfjs cannot run (a reset-after GRU, zeroOutputForMask) is still written,
 * and the result's `warnings` say so (tfjs refuses such a file when loading it; gru-simd and
 * Keras read it). Loading is all or nothing: the JSON (size, nesting), the topology, the
 * manifest and the parameter count the architecture implies (against what the manifest
 * declares) are checked before any shard is fetched or any layer made; then every weight is
 * matched to the built model (missing, unexpected and mis-shaped ones named together).
 * ERR_GRU_FORMAT for a file that is not what it should be, ERR_GRU_IO when it cannot be read.
 *
 * Over 400 lines: the three entry points share the sources, the checks and the building here.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import { currentBackend } from '../loader.js';
import type { ModelLayer } from '../models/layer.js';
import { hasLayerFactory, LAYER_FACTORIES } from '../models/layer-factories.js';
import { parameterFloor } from '../models/parameter-floor.js';
import { Sequential } from '../models/sequential.js';
import { readModelBytes, writeModelBytes } from '../models/storage.js';
import * as check from '../validate.js';
import { VERSION } from '../version.js';
import { isPlainObject, JSON_ALLOWANCE, parseJson } from './safetensors.js';
import { readTopology, writeTopology, type LayerSpec } from './tfjs-topology.js';
import {
  checkShards,
  layerMapping,
  readManifest,
  roleOf,
  tfjsWeightName,
  weightValues,
  type Manifest,
} from './tfjs-weights.js';

/** model.json in memory and its weight shards. */
export interface TfjsArtifacts {
  /** model.json: the object, or its text or bytes. */
  modelJson: unknown;
  /**
   * The shards: one ArrayBuffer / Uint8Array holding every group's shards end to end (tfjs's
   * weightData), or an array of them, one per path of the manifest in order.
   */
  weights: ArrayBuffer | Uint8Array | readonly (ArrayBuffer | Uint8Array)[];
}

/** Where loadTfjsModel reads: a model.json path (Node) or URL, or the artifacts. */
export type TfjsSource = string | URL | TfjsArtifacts;

export interface LoadTfjsModelArgs {
  /** Backend of the model's layers; default: the one chosen by init(). */
  backend?: Backend;
}

/** What tfjsModelArtifacts gives: model.json's object, its shard, and what tfjs cannot run. */
export interface TfjsModelArtifacts {
  modelJson: Record<string, unknown>;
  /** The one shard, 'group1-shard1of1.bin'. */
  weights: Uint8Array[];
  /** Why tfjs itself would refuse or misread the file (empty: tfjs loads it as it is). */
  warnings: string[];
}

/** What saveTfjsModel wrote. */
export interface SavedTfjsModel {
  /** The paths of model.json and of the shard. */
  files: string[];
  warnings: string[];
}

/** The largest model.json read (its weights are elsewhere: a topology is kilobytes). */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** The deepest model.json may nest (Keras 3 configs hold dtype policies inside layers). */
const MAX_JSON_DEPTH = 24;
const SHARD = 'group1-shard1of1.bin';

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/** Factories' and the model's refusals of what the file says (others pass: no backend, ...). */
const REFUSALS = ['ERR_GRU_ARG', 'ERR_GRU_SHAPE', 'ERR_GRU_RANGE', 'ERR_GRU_TYPE', 'ERR_GRU_STATE'];
function refusal(e: unknown): e is GruError {
  return e instanceof GruError && REFUSALS.includes(e.code);
}

/** model.json given as an object, text or bytes -> the object (bounded size and nesting). */
function modelJsonObject(value: unknown): Record<string, unknown> {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    if (bytes.length > MAX_MODEL_JSON_BYTES)
      fail(`model.json is ${bytes.length} bytes, over ${MAX_MODEL_JSON_BYTES}: not a model.json`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      fail('model.json is not UTF-8 text');
    }
  } else if (isPlainObject(value) && check.typedArrayKind(value) === undefined) return value;
  else
    throw new GruError(
      'ERR_GRU_ARG',
      `modelJson must be model.json's object, text or bytes, got ${check.describe(value)}`,
    );
  if (text.length > MAX_MODEL_JSON_BYTES)
    fail(`model.json is over ${MAX_MODEL_JSON_BYTES} characters: not a model.json`);
  const parsed = parseJson(text, 'model.json', MAX_JSON_DEPTH, 2 * text.length + JSON_ALLOWANCE);
  if (!isPlainObject(parsed)) fail('model.json must hold a JSON object');
  return parsed;
}

/** What model.json says, checked: the topology and the manifest. */
function openModelJson(json: Record<string, unknown>): {
  topology: ReturnType<typeof readTopology>;
  manifest: Manifest;
} {
  if (json.format === 'graph-model')
    fail(
      "model.json is a tfjs graph model (tf.loadGraphModel's: a TensorFlow graph, not layers): gru-simd reads LayersModel files ('layers-model')",
    );
  if (json.format !== undefined && json.format !== 'layers-model')
    fail(`model.json's format must be 'layers-model', got ${JSON.stringify(json.format)}`);
  if (json.modelTopology === undefined) fail('model.json has no modelTopology');
  const topology = readTopology(json.modelTopology);
  const manifest = readManifest(json.weightsManifest ?? []);
  return { topology, manifest };
}

/** One model API layer from its recorded form; the factory's refusal is a format error. */
function makeLayer(spec: LayerSpec, where: string): ModelLayer {
  try {
    if (!hasLayerFactory(spec.className))
      fail(`${where}: no gru-simd layer is a ${spec.className}`);
    const c = spec.config;
    const inner = (s: unknown) => LAYER_FACTORIES.GRU!((s as LayerSpec).config);
    const options =
      spec.className === 'Bidirectional'
        ? {
            ...c,
            layer: inner(c.layer),
            ...(c.backwardLayer === undefined ? {} : { backwardLayer: inner(c.backwardLayer) }),
          }
        : c;
    return LAYER_FACTORIES[spec.className]!(options);
  } catch (e) {
    if (refusal(e)) fail(`${where} (${spec.className}): ${e.message}`);
    throw e;
  }
}

/** The Sequential the topology describes, built (its core layers made), without weights. */
function buildModel(topology: ReturnType<typeof readTopology>, backend: Backend): Sequential {
  const { layers: specs, inputShape } = topology;
  const batched = inputShape === undefined ? undefined : [null, ...inputShape];
  const made: ModelLayer[] = [];
  let model = null as Sequential | null;
  try {
    for (const [i, s] of specs.entries()) made.push(makeLayer(s, `layers[${i}]`));
    try {
      model = new Sequential({
        layers: made,
        backend,
        ...(topology.name === undefined ? {} : { name: topology.name }),
      });
      if (batched !== undefined) model.build(batched);
    } catch (e) {
      if (refusal(e)) fail(`the model cannot be built: ${e.message}`);
      throw e;
    }
    if (!model.built)
      fail(
        'the first layer declares no input shape (batch_input_shape): the weights cannot be placed before the model is built',
      );
    return model;
  } catch (e) {
    if (model !== null) model.dispose();
    else for (const l of made) l.dispose();
    throw e;
  }
}

/** The manifest's weights into the built model: all matched and shaped, or nothing set. */
function setWeights(model: Sequential, manifest: Manifest, shards: readonly Uint8Array[][]): void {
  const claimed = new Set<string>();
  const plans: { mapping: ReturnType<typeof layerMapping>; found: Map<string, number> }[] = [];
  const problems: string[] = [];
  for (const layer of model.layers) {
    const mapping = layerMapping(layer);
    const found = new Map<string, number>(); // role -> index in manifest.weights
    const bidi = layer.className === 'Bidirectional';
    manifest.weights.forEach((w, i) => {
      const role = roleOf(layer.name, w.name, bidi);
      if (role === null) return;
      claimed.add(w.name);
      const slot = mapping.slots.find((s) => s.role === role);
      if (slot === undefined) problems.push(`unexpected weight ${w.name} for ${layer.name}`);
      else if (found.has(role)) problems.push(`${layer.name} has two weights for ${role}`);
      else if (w.shape.length !== slot.shape.length || w.shape.some((d, j) => d !== slot.shape[j]))
        problems.push(
          `${w.name} is [${w.shape.join(', ')}], ${layer.name} needs [${slot.shape.join(', ')}]`,
        );
      else found.set(role, i);
    });
    for (const s of mapping.slots)
      if (!found.has(s.role))
        problems.push(`missing ${layer.name}'s ${s.role} [${s.shape.join(', ')}]`);
    plans.push({ mapping, found });
  }
  for (const w of manifest.weights)
    if (!claimed.has(w.name)) problems.push(`weight ${w.name.slice(0, 80)} belongs to no layer`);
  if (problems.length > 0)
    fail(
      `the weights do not match the model: ${problems.slice(0, 12).join('; ')}${problems.length > 12 ? `; and ${problems.length - 12} more` : ''}`,
    );
  for (const { mapping, found } of plans) {
    const values = new Map<string, Float32Array>();
    for (const [role, i] of found) {
      const w = manifest.weights[i]!;
      values.set(role, weightValues(w, shards[w.group]!));
    }
    mapping.toCore(values);
  }
}

/** The model, given model.json and a way to get each shard path's bytes. */
async function modelFrom(
  json: Record<string, unknown>,
  shard: (path: string) => Promise<Uint8Array> | Uint8Array,
  backend: Backend,
): Promise<Sequential> {
  const { topology, manifest } = openModelJson(json);
  const shards: Uint8Array[][] = [];
  // The floor check of buildModel before any shard is fetched: a forged manifest costs nothing.
  const floor = parameterFloor(
    topology.layers,
    topology.inputShape === undefined ? undefined : [null, ...topology.inputShape],
  );
  if (floor > manifest.values)
    fail(
      `the layers hold at least ${floor} parameters, and the weights manifest declares ${manifest.values} values: a forged or truncated model.json`,
    );
  for (const g of manifest.groups) {
    const list: Uint8Array[] = [];
    for (const p of g.paths) list.push(await shard(p));
    shards.push(list);
  }
  checkShards(manifest, shards);
  const model = buildModel(topology, backend);
  try {
    setWeights(model, manifest, shards);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The bytes of `b` (an ArrayBuffer or a Uint8Array), or null for anything else. */
function bytesOf(b: unknown): Uint8Array | null {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return null;
}

/** Shards in memory: one buffer split by the manifest's group sizes, or one per path. */
function memoryShards(weights: unknown, json: Record<string, unknown>): (p: string) => Uint8Array {
  const manifest = readManifest(json.weightsManifest ?? []);
  const paths = manifest.groups.flatMap((g) => g.paths);
  const one = bytesOf(weights);
  const byPath = new Map<string, Uint8Array>();
  if (one !== null) {
    // tfjs's weightData: every group's bytes end to end; each group is one "shard" here.
    let at = 0;
    for (const g of manifest.groups) {
      if (g.paths.length === 0) continue;
      const part = one.subarray(Math.min(at, one.length), Math.min(at + g.bytes, one.length));
      g.paths.forEach((p, i) => byPath.set(p, i === 0 ? part : new Uint8Array(0)));
      at += g.bytes;
    }
    if (at !== one.length)
      fail(
        `weights holds ${one.length} bytes and the manifest declares ${at}: a truncated or mismatched file`,
      );
  } else if (check.isArray(weights)) {
    if (weights.length !== paths.length)
      fail(`weights has ${weights.length} shards and the manifest names ${paths.length} paths`);
    weights.forEach((w, i) => {
      const b = bytesOf(w);
      if (b === null)
        throw new GruError(
          'ERR_GRU_ARG',
          `weights[${i}] must be an ArrayBuffer or a Uint8Array, got ${check.describe(w)}`,
        );
      byPath.set(paths[i]!, b);
    });
  } else
    throw new GruError(
      'ERR_GRU_ARG',
      `weights must be an ArrayBuffer, a Uint8Array or an array of them (one per shard), got ${check.describe(weights)}`,
    );
  return (p) => byPath.get(p)!;
}

/** Where shard `p` is, relative to the model.json at `where` (a URL or a path). */
function beside(where: string, p: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where) && !/^file:/i.test(where))
    return new URL(p, where).href;
  const cut = Math.max(where.lastIndexOf('/'), where.lastIndexOf('\\'));
  return cut < 0 ? p : `${where.slice(0, cut + 1)}${p}`;
}

/**
 * A Sequential model from a TensorFlow.js LayersModel: a model.json path (Node; its shards
 * beside it), a URL (shards fetched relative to it), or { modelJson, weights } in memory.
 * ERR_GRU_FORMAT naming what is wrong (an unsupported layer or option included), ERR_GRU_IO
 * when a file cannot be read.
 */
export async function loadTfjsModel(
  source: TfjsSource,
  options: LoadTfjsModelArgs = {},
): Promise<Sequential> {
  const o = check.options('loadTfjsModel options', options);
  check.knownKeys('loadTfjsModel options', o, ['backend']);
  const given =
    o.backend === undefined ? undefined : check.backendOption(o.backend, currentBackend);
  if (check.isRevokedProxy(source))
    throw new GruError(
      'ERR_GRU_ARG',
      'source must be a path, a URL or { modelJson, weights }, got a revoked Proxy',
    );
  if (source instanceof ArrayBuffer || check.typedArrayKind(source) !== undefined)
    throw new GruError(
      'ERR_GRU_ARG',
      "source: model.json's bytes alone hold no weights: give { modelJson, weights }",
    );
  if (isPlainObject(source) && !(source instanceof URL)) {
    check.knownKeys('source', source, ['modelJson', 'weights']);
    const json = modelJsonObject(source.modelJson);
    const shards = memoryShards(source.weights, json);
    return modelFrom(json, shards, given ?? currentBackend());
  }
  if (!(source instanceof URL) && (typeof source !== 'string' || source === ''))
    throw new GruError(
      'ERR_GRU_ARG',
      `source must be a model.json path, a URL or { modelJson, weights }, got ${check.describe(source)}`,
    );
  const where = source instanceof URL ? source.href : source;
  const backend = given ?? currentBackend();
  const json = modelJsonObject(await readModelBytes('source', where));
  return modelFrom(json, (p) => readModelBytes('shard', beside(where, p)), backend);
}

/** model.json's object and its shard for `model` (built), and what tfjs cannot run. */
export function tfjsModelArtifacts(model: Sequential): TfjsModelArtifacts {
  if (check.isRevokedProxy(model) || !(model instanceof Sequential))
    throw new GruError(
      'ERR_GRU_TYPE',
      `model must be a Sequential model, got ${check.describe(model)}`,
    );
  if (model.disposed) throw new GruError('ERR_GRU_DISPOSED', 'model has been disposed');
  if (!model.built)
    throw new GruError(
      'ERR_GRU_STATE',
      'build the model (or call it on data) before saving it as tfjs',
    );
  const warnings: string[] = [];
  const specs = model.layers.map((l) => ({ className: l.className, config: l._config() }));
  const topology = writeTopology(model.name, model.inputShape.slice(1), specs, VERSION, (m) =>
    warnings.push(m),
  );
  const weights: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const layer of model.layers) {
    const mapping = layerMapping(layer);
    const values = mapping.fromCore();
    for (const s of mapping.slots)
      weights.push({
        name: tfjsWeightName(layer, s.role),
        shape: s.shape,
        data: values.get(s.role)!,
      });
  }
  const bytes = new Uint8Array(weights.reduce((a, w) => a + w.data.length * 4, 0));
  let at = 0;
  for (const w of weights) {
    const view = new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.length * 4);
    bytes.set(view, at);
    at += view.length;
  }
  return {
    modelJson: {
      modelTopology: topology,
      weightsManifest: [
        {
          paths: [SHARD],
          weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })),
        },
      ],
      format: 'layers-model',
      generatedBy: `gru-simd ${VERSION}`,
      convertedBy: null,
    },
    weights: [bytes],
    warnings,
  };
}

/**
 * Writes `model` as a tfjs LayersModel: `destination` is a directory (model.json and
 * group1-shard1of1.bin go in it) or a '*.json' path (the shard beside it). Node only; each file
 * is written atomically, the shard first. The result's warnings say what tfjs cannot run.
 */
export async function saveTfjsModel(
  model: Sequential,
  destination: string,
): Promise<SavedTfjsModel> {
  if (
    typeof destination !== 'string' ||
    destination === '' ||
    destination.startsWith('indexeddb://')
  )
    throw new GruError(
      'ERR_GRU_ARG',
      `destination must be a directory or a model.json path (Node), got ${check.describe(destination)} (tfjsModelArtifacts() gives the files in memory)`,
    );
  const artifacts = tfjsModelArtifacts(model);
  const json = /\.json$/i.test(destination)
    ? destination
    : `${destination.replace(/[/\\]+$/, '')}/model.json`;
  const shard = beside(json, SHARD);
  await writeModelBytes('destination', shard, artifacts.weights[0]!);
  await writeModelBytes(
    'destination',
    json,
    new TextEncoder().encode(JSON.stringify(artifacts.modelJson)),
  );
  return { files: [json, shard], warnings: artifacts.warnings };
}
