/**
 * A Sequential as a Keras 3 `.keras` file (kerasModelBytes, saveKerasModel): config.json
 * (./keras-config-write.ts), metadata.json, and model.weights.h5 with Keras 3's layout (one group
 * per layer, named by class: ./keras-config.ts weightGroupNames; variables in Keras's order and
 * layouts: ./keras-weights.ts), zipped as Keras writes it. keras.saving.load_model reads it
 * (scripts/gen-keras-file-fixtures.py checks that and records Keras's predictions).
 */
import { GruError } from '../errors.js';
import { BidirectionalLayer } from '../models/bidirectional.js';
import { GRULayer } from '../models/gru.js';
import type { ModelLayer } from '../models/layer.js';
import { Sequential } from '../models/sequential.js';
import { writeModelBytes } from '../models/storage.js';
import * as check from '../validate.js';
import { VERSION } from '../version.js';
import { kerasLayerConfig } from './keras-config-write.js';
import { weightGroupNames } from './keras-config.js';
import { writeH5, type H5Tree } from './keras-h5.js';
import { getKerasVars, kerasVars } from './keras-weights.js';
import { writeKerasZip } from './keras-zip.js';

/** The Keras version gru-simd writes as (the format of Keras 3.x's `.keras` files). */
const WRITES_KERAS = '3.15.1';

/**
 * `model` checked to be a Sequential itself (not a Proxy of one, whose private fields would
 * throw a TypeError later): ERR_GRU_TYPE otherwise. Runs no user code but a Proxy's traps.
 */
export function sequentialArg(model: unknown): Sequential {
  const ok = ((): boolean => {
    try {
      if (check.isRevokedProxy(model) || !(model instanceof Sequential)) return false;
      void model.built; // a private field: throws for a Proxy of one
      return true;
    } catch {
      return false;
    }
  })();
  if (!ok)
    throw new GruError('ERR_GRU_TYPE', `model must be a Sequential, got ${check.describe(model)}`);
  return model as Sequential;
}

/** The model as a Keras 3 `.keras` file (config.json, metadata.json, model.weights.h5). */
export interface KerasSaveArgs {
  /**
   * The batch size recorded in the file's input shape (default: none, any batch). Keras needs
   * one for a model with a stateful GRU (its states have one row per sample of the batch).
   */
  batchSize?: number;
}

/** Whether a layer keeps states across batches (a GRU, or the GRU inside a Bidirectional). */
function stateful(layer: ModelLayer): boolean {
  if (layer instanceof GRULayer) return layer.stateful;
  return layer instanceof BidirectionalLayer && layer.layer.stateful;
}

export async function kerasModelBytes(
  model: Sequential,
  options: KerasSaveArgs = {},
): Promise<Uint8Array> {
  sequentialArg(model);
  const o = check.options('kerasModelBytes options', options);
  check.knownKeys('kerasModelBytes options', o, ['batchSize']);
  const batch = o.batchSize === undefined ? null : check.positiveInt('batchSize', o.batchSize);
  if (!model.built)
    throw new GruError(
      'ERR_GRU_STATE',
      'build the model (or call it on data) before saving it as .keras',
    );
  const input = model._fileState().input;
  if (input === null) throw new GruError('ERR_GRU_STATE', 'the model has no input shape');
  const carried = model.layers.find(stateful);
  if (carried !== undefined && batch === null)
    throw new GruError(
      'ERR_GRU_ARG',
      `layer '${carried.name}' is stateful: Keras needs the batch size in the file's input shape, so pass { batchSize }`,
    );
  const ids = model.layers[0]!.takesIds;
  const layerConfigs: unknown[] = [
    {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: {
        batch_shape: [batch, ...input],
        dtype: ids ? 'int32' : 'float32',
        sparse: false,
        ragged: false,
        name: 'input_layer',
      },
      registered_name: null,
    },
  ];
  let shape: (number | null)[] = [batch, ...input];
  for (const layer of model.layers) {
    layerConfigs.push(kerasLayerConfig(layer, shape));
    shape = [batch, ...layer.outputShape];
  }
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: model.name,
      trainable: true,
      dtype: {
        module: 'keras',
        class_name: 'DTypePolicy',
        config: { name: 'float32' },
        registered_name: null,
      },
      layers: layerConfigs,
      build_input_shape: [batch, ...input],
    },
    registered_name: null,
    build_config: { input_shape: [batch, ...input] },
    compile_config: null,
  };
  // Keras 3's weights file: layers/<class in snake_case>[_n]/vars/<i>, a GRU's under cell/,
  // a Bidirectional's under forward_layer/cell/ and backward_layer/cell/.
  const tree: H5Tree = { groups: [{ path: 'layers' }], datasets: [] };
  const groups = weightGroupNames(model.layers.map((l) => l.className));
  model.layers.forEach((layer, i) => {
    const g = `layers/${groups[i]}`;
    const values = getKerasVars(layer);
    const shapes = kerasVars(layer);
    tree.groups.push({ path: g });
    tree.groups.push({ path: `${g}/vars`, attrs: { name: layer.name } });
    const put = (dir: string, from: number, to: number) => {
      for (let j = from; j < to; j++)
        tree.datasets.push({
          path: `${dir}/${j - from}`,
          shape: shapes[j]!.shape,
          data: values[j]!,
        });
    };
    if (layer.className === 'GRU') {
      tree.groups.push(
        { path: `${g}/cell` },
        { path: `${g}/cell/vars`, attrs: { name: 'gru_cell' } },
      );
      put(`${g}/cell/vars`, 0, shapes.length);
    } else if (layer.className === 'Bidirectional') {
      const n = shapes.length / 2;
      for (const [k, side] of (['forward_layer', 'backward_layer'] as const).entries()) {
        tree.groups.push(
          { path: `${g}/${side}` },
          { path: `${g}/${side}/vars`, attrs: { name: `${side.split('_')[0]}_${layer.name}` } },
          { path: `${g}/${side}/cell` },
          { path: `${g}/${side}/cell/vars`, attrs: { name: 'gru_cell' } },
        );
        put(`${g}/${side}/cell/vars`, k * n, (k + 1) * n);
      }
    } else put(`${g}/vars`, 0, shapes.length);
  });
  tree.groups.push({ path: 'vars', attrs: { name: model.name } });
  const weights = await writeH5(tree);
  const metadata = {
    keras_version: WRITES_KERAS,
    date_saved: '2020-01-01@00:00:00',
    written_by: `gru-simd ${VERSION}`,
  };
  return writeKerasZip({
    config: JSON.stringify(config),
    metadata: JSON.stringify(metadata),
    weights,
  });
}

/** Writes kerasModelBytes(model) to a path (atomically, in Node) or 'indexeddb://name'. */
export async function saveKerasModel(
  model: Sequential,
  destination: string,
  options: KerasSaveArgs = {},
): Promise<void> {
  const bytes = await kerasModelBytes(model, options);
  await writeModelBytes('destination', destination, bytes);
}
