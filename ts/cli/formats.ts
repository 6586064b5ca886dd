/**
 * The model file formats the command line knows, as one table: each entry says how to
 * recognise a file (its content first, its extension where content is shared: zip, JSON), how
 * to describe it for `inspect`, and, where it holds a whole model, how to load it (`convert`,
 * `predict`) and save one (`convert`'s output). Adding a format is one entry here.
 *
 * Detection reads the first HEAD_BYTES of the file (a directory is looked into for its
 * model.json): a gru-simd file is a safetensors file whose metadata says format 'gru-simd'; any
 * other safetensors file is a state dict (tensors, no architecture); a JSON object with
 * modelTopology is a TensorFlow.js LayersModel; a zip named .keras or an HDF5 file is a Keras
 * model (or weights) file; a file named .onnx is an ONNX graph (protobuf has no signature); a
 * zip or pickle named .pt/.pth/.ckpt is a
 * PyTorch checkpoint, which is described as refused (its pickle can run code).
 */
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import { decodeSafetensors, parseJson, isPlainObject } from '../formats/safetensors.js';
import { loadTfjsModel, saveTfjsModel } from '../formats/tfjs-model.js';
import { describeKerasFile } from '../formats/keras-describe.js';
import { loadKerasModel } from '../formats/keras.js';
import { saveKerasModel } from '../formats/keras-save.js';
import { describeOnnx, exportOnnx, loadOnnxModel } from '../formats/onnx.js';
import { loadModel, type Sequential } from '../index.js';
import type { Shape } from '../models/tensor.js';

/** A layer as `inspect` reports it. */
export interface LayerDescription {
  name: string;
  className: string;
  /** Batch first, null for the batch. */
  outputShape: Shape;
  params: number;
  /** Its options as the model API records them (units, returnSequences, resetAfter, ...). */
  options: Record<string, unknown>;
}

/** What `inspect` reports of a file. */
export interface Description {
  format: string;
  file: string;
  /** What the file says of itself (versions, producer). */
  details: Record<string, string>;
  /** A model's input shape (batch first) and layers, for formats that hold an architecture. */
  inputShape?: Shape;
  layers?: LayerDescription[];
  /** Parameters: the model's (as Keras counts them) or the tensors' values. */
  params: number;
  /** Tensors, for formats that hold only tensors. */
  tensors?: { name: string; shape: number[]; dtype: string }[];
  notes: string[];
}

export interface FormatEntry {
  /** Its name for --to and in messages. */
  name: string;
  /** One line for --help. */
  summary: string;
  /** Whether `file` (resolved: a directory's model.json) is this format, from its first bytes. */
  detect(file: string, head: Uint8Array): boolean;
  describe(file: string, backend: Backend): Promise<Description>;
  /** A whole model from the file (formats holding an architecture). */
  load?(file: string, backend: Backend): Promise<Sequential>;
  /** Whether an output path means this format (by its extension), for convert without --to. */
  writes?(file: string): boolean;
  /** Saves `model`; returns what the user should know (what another framework cannot run). */
  save?(model: Sequential, file: string): Promise<string[]>;
}

const HEAD_BYTES = 64 * 1024;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A safetensors file: 8-byte header length (under 2^32, within the file), then '{'. */
function isSafetensors(head: Uint8Array): boolean {
  return (
    head.length > 9 &&
    head[4] === 0 &&
    head[5] === 0 &&
    head[6] === 0 &&
    head[7] === 0 &&
    head[8] === 0x7b
  );
}

/** The layers of a built model as `inspect` reports them. */
export function describeModel(
  model: Sequential,
): Pick<Description, 'inputShape' | 'layers' | 'params'> {
  return {
    inputShape: model.built ? model.inputShape : undefined,
    layers: model.layers.map((l) => {
      const { name: _n, inputShape: _i, ...options } = l._config();
      return {
        name: l.name,
        className: l.className,
        outputShape: l.built ? [null, ...l.outputShape] : [],
        params: l.countParams(),
        options,
      };
    }),
    params: model.countParams(),
  };
}

async function withModel(
  load: () => Promise<Sequential>,
  body: (m: Sequential) => Description | Promise<Description>,
): Promise<Description> {
  const model = await load();
  try {
    return await body(model);
  } finally {
    model.dispose();
  }
}

/** GRUs tfjs-layers cannot run (reset_after), for notes. */
function tfjsNotes(model: Sequential): string[] {
  const names = model.layers.filter((l) => {
    const g = (
      l.className === 'Bidirectional' ? (l as unknown as { layer: unknown }).layer : l
    ) as { resetAfter?: boolean };
    return (l.className === 'GRU' || l.className === 'Bidirectional') && g.resetAfter === true;
  });
  return names.length === 0
    ? []
    : [
        `${names.map((l) => l.name).join(', ')}: reset_after GRU, which gru-simd and Keras run and tfjs-layers refuses`,
      ];
}

export const FORMATS: FormatEntry[] = [
  {
    name: 'gru-simd',
    summary:
      "gru-simd's own model file (model.save(): architecture, weights, training state), *.safetensors",
    detect: (_f, head) =>
      isSafetensors(head) && /"format"\s*:\s*"gru-simd"/.test(text(head.subarray(8))),
    async describe(file, backend) {
      const bytes = new Uint8Array(await readFile(file));
      const meta = decodeSafetensors(bytes).metadata;
      const details: Record<string, string> = {
        gru_simd_version: meta.gru_simd_version ?? '?',
        format_version: meta.format_version ?? '?',
        contents: meta.contents ?? '?',
      };
      if (meta.contents === 'weights') {
        const t = decodeSafetensors(bytes).tensors;
        return {
          format: 'gru-simd',
          file,
          details,
          params: [...t.values()].reduce((a, v) => a + v.data.length, 0),
          tensors: [...t].map(([name, v]) => ({ name, shape: v.shape, dtype: v.dtype })),
          notes: ['weights only (saveWeights()): build the model and call loadWeights()'],
        };
      }
      return withModel(
        () => loadModel(bytes, { backend }),
        (m) => {
          const compiled = meta.compile === undefined ? [] : [`compiled: ${meta.compile}`];
          return { format: 'gru-simd', file, details, ...describeModel(m), notes: compiled };
        },
      );
    },
    load: (file, backend) => loadModel(file, { backend }),
    writes: (file) => /\.(safetensors|gru)$/i.test(file),
    async save(model, file) {
      await model.save(file);
      return [];
    },
  },
  {
    name: 'tfjs',
    summary:
      'TensorFlow.js LayersModel: model.json + weight shards (a directory or its model.json)',
    detect: (_f, head) => {
      const t = text(head).trimStart();
      return t.startsWith('{') && /"(modelTopology|weightsManifest)"/.test(t);
    },
    async describe(file, backend) {
      const head = await readFile(file, 'utf8');
      const json = parseJson(head.slice(0, 64 * 1024 * 1024), 'model.json', 24);
      const details: Record<string, string> = {};
      if (isPlainObject(json)) {
        for (const k of ['format', 'generatedBy', 'convertedBy'])
          if (typeof json[k] === 'string') details[k] = json[k] as string;
        const t = json.modelTopology;
        if (isPlainObject(t) && typeof t.keras_version === 'string')
          details.keras_version = t.keras_version;
      }
      return withModel(
        () => loadTfjsModel(file, { backend }),
        (m) => ({ format: 'tfjs', file, details, ...describeModel(m), notes: tfjsNotes(m) }),
      );
    },
    load: (file, backend) => loadTfjsModel(file, { backend }),
    // *.json, or a directory: one that exists, one named with a trailing '/', or a name
    // without an extension (created).
    writes: (file) =>
      /\.json$/i.test(file) ||
      /[/\\]$/.test(file) ||
      (existsSync(file) ? statSync(file).isDirectory() : path.extname(file) === ''),
    async save(model, file) {
      return (await saveTfjsModel(model, file)).warnings;
    },
  },
  {
    name: 'safetensors',
    summary:
      'a safetensors file of tensors (a PyTorch state dict): names and shapes, no architecture',
    detect: (_f, head) => isSafetensors(head),
    async describe(file) {
      const f = decodeSafetensors(new Uint8Array(await readFile(file)), 'file', { int64: true });
      const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
      return {
        format: 'safetensors',
        file,
        details: Object.fromEntries(
          Object.entries(f.metadata).map(([k, v]) => [k, v.slice(0, 200)]),
        ),
        params: [...f.tensors.values()].reduce((a, t) => a + t.data.length, 0),
        tensors,
        notes: [
          'tensors only, no architecture: build the layers and read it with loadTorchStateDict (README: Bring your model: PyTorch)',
        ],
      };
    },
  },
  {
    name: 'keras',
    summary:
      'Keras: a Keras 3 .keras file, a legacy .h5 model file (Keras 2, tf.keras), or weights only (.weights.h5)',
    detect: (file, head) =>
      (/\.keras$/i.test(file) && head[0] === 0x50 && head[1] === 0x4b) ||
      (head[0] === 0x89 && text(head.subarray(1, 4)) === 'HDF'),
    async describe(file, backend) {
      const d = await describeKerasFile(file);
      const details: Record<string, string> = { container: d.format };
      if (d.kerasVersion !== null) details.keras_version = d.kerasVersion;
      if (d.modelClass !== null) details.model_class = d.modelClass;
      if (d.modelName !== null) details.model_name = d.modelName;
      // The file's own layers (Keras's classes, names and parameter counts), read without
      // building: what inspect reports even for a file gru-simd cannot load (an LSTM).
      const fileLayers: LayerDescription[] = d.layers.map((l) => ({
        name: l.name,
        className: l.className ?? '?',
        outputShape: [],
        params: l.params,
        options: { weights: l.weights.map((w) => `${w.path} ${JSON.stringify(w.shape)}`) },
      }));
      const base: Description = {
        format: 'keras',
        file,
        details,
        inputShape: d.inputShape === null ? undefined : [null, ...d.inputShape],
        layers: fileLayers,
        params: d.params,
        notes: [],
      };
      if (!d.loadable) {
        base.notes.push(`not loadable by gru-simd: ${d.problem ?? 'weights only'}`);
        return base;
      }
      // Loadable: the built model's layers, with their output shapes and options.
      return withModel(
        () => loadKerasModel(file, { backend }),
        (m) => ({ ...base, ...describeModel(m), params: d.params }),
      );
    },
    load: (file, backend) => loadKerasModel(file, { backend }),
    writes: (file) => /\.keras$/i.test(file),
    async save(model, file) {
      await saveKerasModel(model, file);
      return [];
    },
  },
  {
    name: 'onnx',
    summary: 'ONNX: a graph of GRU, Gemm/MatMul, Gather and activation operators (*.onnx)',
    detect: (file) => /\.onnx$/i.test(file),
    async describe(file, backend) {
      const d = await describeOnnx(file);
      const details: Record<string, string> = {
        producer: d.producer,
        ir_version: String(d.irVersion),
        opsets: Object.entries(d.opsets)
          .map(([k, v]) => `${k === '' ? 'ai.onnx' : k} ${v}`)
          .join(', '),
        operators: Object.entries(d.operators)
          .map(([k, v]) => `${k} (${v})`)
          .join(', '),
        gru_nodes: d.gruNodes
          .map(
            (g) =>
              `${g.name}${g.form === 'Loop' ? ' (a Loop computing a GRU)' : ''}: hidden ${g.hiddenSize ?? '?'}, ${g.direction}, linear_before_reset ${g.linearBeforeReset ? 1 : 0}`,
          )
          .join('; '),
      };
      const base: Description = {
        format: 'onnx',
        file,
        details,
        params: d.parameterCount,
        notes: [],
      };
      const unsupported = Object.entries(d.unsupportedOperators);
      if (unsupported.length > 0) {
        base.notes.push(
          `not loadable by gru-simd: operators it does not map: ${unsupported.map(([k, v]) => `${k} (${v})`).join(', ')}`,
        );
        return base;
      }
      try {
        return await withModel(
          () => loadOnnxModel(file, { backend }),
          (m) => ({ ...base, ...describeModel(m), params: d.parameterCount }),
        );
      } catch (e) {
        if (!(e instanceof GruError) || e.code !== 'ERR_GRU_FORMAT') throw e;
        base.notes.push(`not loadable by gru-simd: ${e.message}`);
        return base;
      }
    },
    load: (file, backend) => loadOnnxModel(file, { backend }),
    writes: (file) => /\.onnx$/i.test(file),
    async save(model, file) {
      await exportOnnx(model, file);
      return [];
    },
  },
  {
    name: 'pytorch-pickle',
    summary:
      'PyTorch torch.save files (.pt/.pth/.ckpt): recognised and refused (their pickles can run code)',
    detect: (file, head) =>
      /\.(pt|pth|ckpt)$/i.test(file) &&
      ((head[0] === 0x50 && head[1] === 0x4b) ||
        (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5)),
    describe() {
      throw new GruError(
        'ERR_GRU_FORMAT',
        "a PyTorch torch.save file (a pickle, which can run code): gru-simd does not read it; in Python: safetensors.torch.save_file(model.state_dict(), 'model.safetensors'), then inspect that",
      );
    },
  },
];

/** The path to read for `file`: a directory's model.json, else the file. ERR_GRU_IO if absent. */
export function resolveInput(file: string): string {
  if (!existsSync(file)) throw new GruError('ERR_GRU_IO', `${file}: no such file or directory`);
  if (statSync(file).isDirectory()) {
    const json = path.join(file, 'model.json');
    if (!existsSync(json))
      throw new GruError('ERR_GRU_IO', `${file} is a directory without a model.json`);
    return json;
  }
  return file;
}

/** The format of `file` (resolved), from its first bytes; ERR_GRU_FORMAT when none knows it. */
export async function detectFormat(file: string): Promise<FormatEntry> {
  const handle = await open(file, 'r').catch((e: Error) => {
    throw new GruError('ERR_GRU_IO', `cannot read ${file}: ${e.message}`);
  });
  let head: Uint8Array;
  try {
    const buffer = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const found = FORMATS.find((f) => f.detect(file, head));
  if (found === undefined)
    throw new GruError(
      'ERR_GRU_FORMAT',
      `${file}: not a model file gru-simd knows (it reads: ${FORMATS.map((f) => f.name).join(', ')})`,
    );
  return found;
}

/** The format to write `file` in: --to's, else the one whose extension it has. */
export function outputFormat(file: string, to: string | undefined): FormatEntry | undefined {
  if (to !== undefined) return FORMATS.find((f) => f.name === to && f.save !== undefined);
  return FORMATS.find((f) => f.writes?.(file) === true);
}
