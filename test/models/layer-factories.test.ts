/**
 * The one table of layer factories (ts/models/layer-factories.ts) that gru-simd's own files,
 * Keras files and TensorFlow.js files build layers from: each factory makes its class, and every
 * class those readers accept has one.
 */
import assert from 'node:assert/strict';
import { SUPPORTED as KERAS_CLASSES } from '../../ts/formats/keras-config.js';
import { CLASSES as TFJS_CLASSES } from '../../ts/formats/tfjs-topology.js';
import { hasLayerFactory, LAYER_FACTORIES } from '../../ts/models/layer-factories.js';
import { sequential } from '../../ts/models/index.js';
import { forEachBackend } from '../backends.js';

/** The smallest options each class takes. */
const OPTIONS: Record<string, () => Record<string, unknown>> = {
  GRU: () => ({ units: 2 }),
  Dense: () => ({ units: 2 }),
  Embedding: () => ({ inputDim: 4, outputDim: 2 }),
  Dropout: () => ({ rate: 0.5 }),
  LayerNormalization: () => ({}),
  BatchNormalization: () => ({}),
  Activation: () => ({ activation: 'relu' }),
  GlobalAveragePooling1D: () => ({}),
  GlobalMaxPooling1D: () => ({}),
  Masking: () => ({}),
  Bidirectional: () => ({ layer: LAYER_FACTORIES.GRU!({ units: 2 }), mergeMode: 'sum' }),
};

forEachBackend('layer factories', (backend) => {
  it('each factory makes a layer of its class, which a model builds', () => {
    assert.deepEqual(Object.keys(LAYER_FACTORIES).sort(), Object.keys(OPTIONS).sort());
    for (const [className, factory] of Object.entries(LAYER_FACTORIES)) {
      const layer = factory(OPTIONS[className]!());
      assert.equal(layer.className, className);
      const first = className === 'Embedding' ? [null, 3] : [null, 3, 4];
      const model = sequential({ layers: [layer], backend });
      try {
        model.build(first);
        assert.ok(model.built, className);
      } finally {
        model.dispose();
      }
    }
  });

  it('every class the Keras and tfjs readers accept has a factory; other names have none', () => {
    for (const c of [
      ...KERAS_CLASSES.filter((k) => k !== 'InputLayer'),
      ...Object.keys(TFJS_CLASSES),
    ])
      assert.ok(hasLayerFactory(c), c);
    for (const c of ['LSTM', '__proto__', 'toString', 'constructor', ''])
      assert.equal(hasLayerFactory(c), false, c);
  });
});
