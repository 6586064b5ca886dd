/**
 * PyTorch state dicts saved as safetensors (`safetensors.torch.save_file(model.state_dict(), f)`)
 * read into, and written from, gru-simd's low-level layers. A PyTorch module is described in JS
 * as a record of prefix -> layer: `{ gru: gru, head: dense }` matches a module whose state dict
 * holds `gru.weight_ih_l0`, ..., `head.weight`, `head.bias` ('' for a bare layer's own names).
 * The layers already hold PyTorch's names, shapes and gate order (r, z, n) (CONTRIBUTING.md, add a
 * layer), so a tensor maps to `prefix.name` with no reordering. BatchNorm1d's num_batches_tracked
 * is an int64 scalar in PyTorch: read as I64 (or F32) and written as I64, so that
 * `load_state_dict(strict=True)` takes the file.
 *
 * All or nothing: every missing, extra, mis-shaped or mis-typed tensor is named in one
 * ERR_GRU_FORMAT before any layer is written. `.pt`/`.pth` files (a zip or a pickle) are refused
 * with the line that converts them: their pickles can run code, and no safe reader is used here.
 */
import { GruError } from '../errors.js';
import { Layer } from '../layer.js';
import { GRU } from '../gru.js';
import { Dense } from '../dense.js';
import { Embedding } from '../embedding.js';
import { LayerNorm } from '../layer-norm.js';
import { BatchNorm1d } from '../batch-norm.js';
import * as check from '../validate.js';
import { readModelBytes, writeModelBytes, type ModelSource } from '../models/storage.js';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from './safetensors.js';

/** A PyTorch module described in JS: each prefix of its state dict's names -> a layer. */
export type TorchModules = Record<string, Layer>;

/** The classes with a PyTorch twin: GRU = nn.GRU, Dense = nn.Linear, and the same names. */
const SUPPORTED = [GRU, Dense, Embedding, LayerNorm, BatchNorm1d];

/** PyTorch's int64 tensors among the layers' (the rest are float32). */
function dtypeOf(name: string): 'F32' | 'I64' {
  return name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked') ? 'I64' : 'F32';
}

interface Slot {
  layer: Layer;
  param: string;
  shape: number[];
}

/** Every tensor the modules hold, by its PyTorch name, after checking the modules. */
function slotsOf(modules: unknown): Map<string, Slot> {
  if (check.isRevokedProxy(modules) || typeof modules !== 'object' || modules === null)
    throw new GruError(
      'ERR_GRU_TYPE',
      `modules must be a record of prefix -> layer ({ gru: gru, head: dense }), got ${check.describe(modules)}`,
    );
  const record = check.options('modules', modules);
  const slots = new Map<string, Slot>();
  const entries = Object.entries(record);
  if (entries.length === 0)
    throw new GruError('ERR_GRU_ARG', 'modules must name at least one layer');
  for (const [prefix, layer] of entries) {
    if (prefix.startsWith('.') || prefix.endsWith('.') || prefix.includes('..'))
      throw new GruError(
        'ERR_GRU_ARG',
        `modules: prefix ${JSON.stringify(prefix)} must not begin or end with '.' (use '' for a bare layer)`,
      );
    // _isLayer (a private field, no user code) first: instanceof then runs no Proxy trap.
    if (!Layer._isLayer(layer) || !SUPPORTED.some((c) => layer instanceof c))
      throw new GruError(
        'ERR_GRU_TYPE',
        `modules[${JSON.stringify(prefix)}] must be a GRU, Dense, Embedding, LayerNorm or BatchNorm1d, got ${Layer._whatIs(layer) ?? check.describe(layer)}`,
      );
    if (layer instanceof GRU) {
      // nn.GRU computes one variant: the others share its tensors but not its outputs.
      if (
        !layer.resetAfter ||
        layer.activation !== 'tanh' ||
        layer.recurrentActivation !== 'sigmoid'
      )
        throw new GruError(
          'ERR_GRU_ARG',
          `modules[${JSON.stringify(prefix)}]: nn.GRU is resetAfter true, activation 'tanh', recurrentActivation 'sigmoid'; this GRU differs, so a PyTorch state dict would not compute the same`,
        );
    }
    layer._handle(); // disposed or busy: refused before anything is read or written
    for (const param of layer.parameterNames()) {
      const name = prefix === '' ? param : `${prefix}.${param}`;
      if (slots.has(name))
        throw new GruError('ERR_GRU_ARG', `modules: two layers give the tensor ${name}`);
      slots.set(name, { layer, param, shape: layer.parameterShape(param) });
    }
  }
  return slots;
}

/** The modules' state dict as safetensors bytes, in PyTorch's names, shapes and dtypes. */
export function torchStateDictBytes(modules: TorchModules): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const [name, slot] of slotsOf(modules)) {
    const data = slot.layer.getParameter(slot.param);
    const dtype = dtypeOf(name);
    if (dtype === 'I64') for (let i = 0; i < data.length; i++) data[i] = Math.round(data[i]!);
    tensors.push({ name, shape: slot.shape, data, dtype });
  }
  return encodeSafetensors(tensors, { format: 'pt' }); // what safetensors.torch writes
}

/** Writes the modules' state dict to a `.safetensors` file (Node) or 'indexeddb://name'. */
export async function saveTorchStateDict(
  modules: TorchModules,
  destination: string,
): Promise<void> {
  const bytes = torchStateDictBytes(modules);
  await writeModelBytes('destination', destination, bytes);
}

/**
 * A zip (torch.save since 1.6: 'PK\x03\x04') or a pickle (older torch.save: PROTO 2-5) rather
 * than safetensors. A safetensors file comes first: its 8-byte length is under 2^32 (the upper
 * 4 bytes zero) and its JSON header begins with '{', while a length such as 0x0280 starts with
 * the pickle's bytes 0x80 0x02.
 */
function isTorchPickle(bytes: Uint8Array): boolean {
  const safetensors =
    bytes.length > 8 &&
    bytes[4] === 0 &&
    bytes[5] === 0 &&
    bytes[6] === 0 &&
    bytes[7] === 0 &&
    bytes[8] === 0x7b;
  if (safetensors) return false;
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3;
  const pickle = bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5;
  return zip || pickle;
}

/**
 * Reads a safetensors state dict (a path in Node, a URL, 'indexeddb://name', or the bytes) into
 * the modules. Every tensor is checked against the modules first: any missing, extra,
 * mis-shaped or mis-typed one is an ERR_GRU_FORMAT naming them all, and no layer changes.
 */
export async function loadTorchStateDict(
  modules: TorchModules,
  source: ModelSource,
): Promise<void> {
  const slots = slotsOf(modules);
  const bytes = await readModelBytes('source', source);
  if (isTorchPickle(bytes))
    throw new GruError(
      'ERR_GRU_FORMAT',
      "source is a PyTorch .pt/.pth file (zip or pickle), which gru-simd does not read (a pickle can run code): save the state dict as safetensors in Python with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')",
    );
  const file = decodeSafetensors(bytes, 'source', { int64: true });
  // A layer may have been disposed or become busy while the bytes were read.
  for (const slot of slots.values()) slot.layer._handle();
  const missing = [...slots.keys()].filter((n) => !file.tensors.has(n));
  const extra = [...file.tensors.keys()].filter((n) => !slots.has(n));
  const problems: string[] = [];
  for (const [name, t] of file.tensors) {
    const slot = slots.get(name);
    if (slot === undefined) continue;
    if (t.shape.length !== slot.shape.length || t.shape.some((d, i) => d !== slot.shape[i]))
      problems.push(
        `${name} has shape [${t.shape.join(', ')}], expected [${slot.shape.join(', ')}]`,
      );
    else if (t.dtype !== dtypeOf(name) && !(dtypeOf(name) === 'I64' && t.dtype === 'F32'))
      problems.push(`${name} is ${t.dtype}, expected ${dtypeOf(name)}`);
  }
  if (missing.length > 0) problems.unshift(`missing [${missing.join(', ')}]`);
  if (extra.length > 0) problems.push(`unexpected [${extra.join(', ')}]`);
  if (problems.length > 0)
    throw new GruError(
      'ERR_GRU_FORMAT',
      `source does not match the modules' state dict: ${problems.join('; ')}`,
    );
  for (const [name, slot] of slots)
    slot.layer.setParameter(slot.param, file.tensors.get(name)!.data);
}
