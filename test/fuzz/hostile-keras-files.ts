/**
 * Hostile Keras files for the parser fuzz (test/keras-files-fuzz.test.ts): a valid `.keras` zip
 * or `.h5` file, mutated one of many ways, seeded. Zip mutations reach the entries (sizes in the
 * local and central headers, the config JSON, the HDF5 inside); HDF5 mutations reach the
 * superblock, object headers and the model_config text in place (same length, so offsets stay).
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';

export type Rand = () => number;

const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

const HUGE_U32 = [0xffffffff, 0x7fffffff, 0x10000000, 0, 1];
const VALUES = [
  '1e9',
  '123456789',
  '-1',
  '0',
  '1.5',
  'null',
  'true',
  '"LSTM"',
  '"float16"',
  '{}',
  '[1e9, 1e9]',
  '[null, 1073741824, 3]',
  '"hard_sigmoid"',
  '{"class_name": "__shared_object__", "config": {"id": 1}, "shared_object_id": 1}',
];

/** Replaces one match of `re` in text (a random one) by what `by` gives. */
function replaceOne(r: Rand, text: string, re: RegExp, by: (m: string) => string): string {
  const all = [...text.matchAll(new RegExp(re.source, 'g'))];
  if (all.length === 0) return text;
  const m = pick(r, all);
  return text.slice(0, m.index) + by(m[0]) + text.slice(m.index! + m[0].length);
}

/** A config JSON mutated: a value of a key swapped for a hostile one, or the nesting deepened. */
function mutateConfig(r: Rand, text: string): string {
  const what = int(r, 0, 4);
  if (what === 0) {
    const depth = pick(r, [30, 1000, 100_000]);
    return replaceOne(
      r,
      text,
      /"config": \{/,
      () => `"config": ${'['.repeat(depth)}${']'.repeat(depth)}, "x": {`,
    );
  }
  if (what === 1) {
    const at = int(r, 0, text.length - 1);
    return (
      text.slice(0, at) +
      pick(r, ['', '{', '}', '"', ',', '\\', '\u0000', '\ud800']) +
      text.slice(at + 1)
    );
  }
  return replaceOne(r, text, /"[a-z_]+": ("[^"]*"|-?[\d.e]+|true|false|null|\[[^\]]*\])/, (m) => {
    const key = m.slice(0, m.indexOf(':'));
    return `${key}: ${pick(r, VALUES)}`;
  });
}

/** Flips 1-8 random bits of bytes (in place) from `from` on. */
function flip(r: Rand, out: Uint8Array, from = 0): Uint8Array {
  for (let i = int(r, 1, 8); i > 0; i--) out[int(r, from, out.length - 1)]! ^= 1 << int(r, 0, 7);
  return out;
}

/** Mutations of an HDF5 file's bytes that keep its length. */
function hostileH5Bytes(r: Rand, valid: Uint8Array): { kind: string; bytes: Uint8Array } {
  const kind = pick(r, [
    'h5-truncate',
    'h5-bitflip',
    'h5-superblock',
    'h5-u32',
    'h5-config',
    'h5-append',
  ]);
  const out = valid.slice();
  switch (kind) {
    case 'h5-truncate':
      return { kind, bytes: valid.slice(0, int(r, 0, valid.length - 1)) };
    case 'h5-bitflip':
      return { kind, bytes: flip(r, out) };
    case 'h5-superblock':
      // The superblock's addresses and sizes (end of file, root group), the first 96 bytes.
      return { kind, bytes: flip(r, out.subarray(0, Math.min(96, out.length)), 8) && out };
    case 'h5-u32': {
      // A 4-byte field somewhere (dims, sizes, addresses) set to a huge or null value.
      const at = int(r, 0, out.length - 4) & ~3;
      new DataView(out.buffer).setUint32(at, pick(r, HUGE_U32), true);
      return { kind, bytes: out };
    }
    case 'h5-config': {
      // The model_config / layer_names text, changed in place (same length).
      const text = new TextDecoder('latin1').decode(out);
      const at = text.indexOf('{"class_name"');
      if (at < 0) return { kind, bytes: flip(r, out) };
      for (let i = int(r, 1, 4); i > 0; i--) {
        const p = at + int(r, 0, Math.min(4000, text.length - at - 1));
        out[p] = pick(r, [0x22, 0x7b, 0x7d, 0x5b, 0x30, 0x39, 0x20, 0x00, 0x5c]);
      }
      return { kind, bytes: out };
    }
    default: {
      const more = new Uint8Array(valid.length + int(r, 1, 4096));
      more.set(valid);
      return { kind, bytes: more };
    }
  }
}

/** Zip header fields: local header sizes at +18/+22, central directory's at +20/+24. */
function zipSizes(r: Rand, valid: Uint8Array): Uint8Array {
  const out = valid.slice();
  const v = new DataView(out.buffer);
  for (let i = 0; i + 30 < out.length; i++) {
    const sig = v.getUint32(i, true);
    if ((sig === 0x04034b50 || sig === 0x02014b50) && r() < 0.5) {
      const off = sig === 0x04034b50 ? pick(r, [18, 22]) : pick(r, [20, 24, 42]);
      v.setUint32(i + off, pick(r, HUGE_U32), true);
    }
  }
  return out;
}

/** One hostile variant of a valid `.keras` (zip) or `.h5` file, and the name of its mutation. */
export function hostileKerasFile(r: Rand, valid: Uint8Array): { kind: string; bytes: Uint8Array } {
  const zip = valid[0] === 0x50;
  if (!zip) {
    if (r() < 0.3) {
      const text = new TextDecoder('latin1').decode(valid);
      const at = text.indexOf('{"class_name"');
      if (at >= 0) {
        // A same-length JSON value swap inside the HDF5 attribute.
        const out = valid.slice();
        const swap = pick(r, ['"units": 1e9', '"LSTM"      ', '"rate": "x" ', '[null, 1e9] ']);
        const p = text.indexOf(pick(r, ['"units"', '"GRU"', '"rate"', '"batch_shape"']), at);
        if (p > 0) out.set(strToU8(swap).subarray(0, swap.length), p);
        return { kind: 'h5-json-swap', bytes: out };
      }
    }
    return hostileH5Bytes(r, valid);
  }
  const kind = pick(r, [
    'zip-truncate',
    'zip-bitflip',
    'zip-sizes',
    'zip-config',
    'zip-h5',
    'zip-drop',
    'zip-metadata',
  ]);
  switch (kind) {
    case 'zip-truncate':
      return { kind, bytes: valid.slice(0, int(r, 0, valid.length - 1)) };
    case 'zip-bitflip':
      return { kind, bytes: flip(r, valid.slice()) };
    case 'zip-sizes':
      return { kind, bytes: zipSizes(r, valid) };
    default: {
      const files: Record<string, Uint8Array> = unzipSync(valid);
      if (kind === 'zip-config')
        files['config.json'] = strToU8(mutateConfig(r, strFromU8(files['config.json']!)));
      else if (kind === 'zip-metadata')
        files['metadata.json'] = strToU8(
          pick(r, [
            '{}',
            '{"keras_version": 3}',
            '{"keras_version": "2.15.0"}',
            '[',
            '{"keras_version": "x"}',
          ]),
        );
      else if (kind === 'zip-drop')
        delete files[pick(r, ['config.json', 'model.weights.h5', 'metadata.json'])];
      else {
        const inner = hostileH5Bytes(r, files['model.weights.h5']!);
        files['model.weights.h5'] = inner.bytes;
        return { kind: `zip-${inner.kind}`, bytes: zipSync(files) };
      }
      return { kind, bytes: zipSync(files) };
    }
  }
}
