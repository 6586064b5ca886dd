/**
 * Hostile model files for the parser fuzz (test/models/model-file-fuzz.test.ts and the fuzzer's
 * loadModel op, ops-model-file.ts): a valid file's bytes, mutated one of many ways, seeded.
 * Mutations of the header keep its length field right (so the checks past the container are
 * reached) unless the mutation is of the length field itself.
 */
export type Rand = () => number;

const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** The header text and the data of a safetensors file (no checks: the input is ours). */
export function splitFile(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return {
    header: new TextDecoder().decode(bytes.subarray(8, 8 + n)),
    data: bytes.subarray(8 + n),
  };
}

/** A file of this header text and data, its length field right. */
export function joinFile(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const HUGE = [2 ** 31, 2 ** 32 + 4, 2 ** 53, 1e300, -4, 1.5, 0, 4, 12, 1e9];
const DTYPES = ['F16', 'BF16', 'F64', 'I32', 'U8', 'BOOL', 'f32', '', 'F32 '];

/** Replaces one match of `re` in text (a random one) by what `by` gives. */
function replaceOne(r: Rand, text: string, re: RegExp, by: (m: string) => string): string {
  const all = [...text.matchAll(new RegExp(re.source, 'g'))];
  if (all.length === 0) return text;
  const m = pick(r, all);
  return text.slice(0, m.index) + by(m[0]) + text.slice(m.index! + m[0].length);
}

/** One hostile variant of `valid` and the name of its mutation. */
export function hostileFile(r: Rand, valid: Uint8Array): { kind: string; bytes: Uint8Array } {
  const { header, data } = splitFile(valid);
  const kind = pick(r, [
    'truncate',
    'bitflip',
    'length',
    'dtype',
    'offsets',
    'shape',
    'json',
    'nesting',
    'layer',
    'append',
    'tensor',
  ]);
  const bytes = ((): Uint8Array => {
    switch (kind) {
      case 'truncate':
        return valid.slice(0, int(r, 0, valid.length - 1));
      case 'bitflip': {
        const out = valid.slice();
        const inHeader = r() < 0.7;
        for (let i = int(r, 1, 8); i > 0; i--) {
          const at = inHeader ? int(r, 0, 8 + header.length - 1) : int(r, 0, out.length - 1);
          out[at]! ^= 1 << int(r, 0, 7);
        }
        return out;
      }
      case 'length': {
        const out = valid.slice();
        const v = new DataView(out.buffer);
        v.setUint32(
          0,
          pick(r, [0, 1, 7, 0xffffffff, 100_000_001, valid.length, header.length + 1]),
          true,
        );
        if (r() < 0.3) v.setUint32(4, int(r, 1, 0xffffffff), true);
        return out;
      }
      case 'dtype':
        return joinFile(
          replaceOne(r, header, /"F32"/, () => JSON.stringify(pick(r, DTYPES))),
          data,
        );
      case 'offsets':
        return joinFile(
          replaceOne(r, header, /"data_offsets":\[\d+,\d+\]/, () => {
            const a = pick(r, HUGE);
            const b = pick(r, HUGE);
            return `"data_offsets":[${a},${b}]`;
          }),
          data,
        );
      case 'shape':
        return joinFile(
          replaceOne(r, header, /"shape":\[[\d,]*\]/, () => {
            const dims = Array.from({ length: int(r, 0, 4) }, () => pick(r, HUGE));
            return `"shape":[${dims.join(',')}]`;
          }),
          data,
        );
      case 'json': {
        const at = int(r, 0, header.length - 1);
        const junk = pick(r, ['', '{', '}', '"', ',', '\\', '\u0000', 'null', '[]', '\ud800']);
        return joinFile(header.slice(0, at) + junk + header.slice(at + 1), data);
      }
      case 'nesting': {
        const depth = pick(r, [4, 13, 100, 100_000]);
        const deep = '['.repeat(depth) + ']'.repeat(depth);
        return r() < 0.5
          ? joinFile(`{"a":${deep}}`, new Uint8Array(0))
          : joinFile(
              replaceOne(r, header, /"model":"/, () => `"model":"${deep}`),
              data,
            );
      }
      case 'layer':
        return joinFile(
          replaceOne(
            r,
            header,
            /\\"(units|className|inputDim|outputDim|name|rate)\\":[^,}]+/,
            (m) => {
              const key = m.slice(0, m.indexOf(':'));
              return `${key}:${pick(r, ['1e9', '123456', '-1', '\\"LSTM\\"', 'null', '{}', '[1,2]', '\\"\\"'])}`;
            },
          ),
          data,
        );
      case 'append': {
        const out = new Uint8Array(valid.length + int(r, 1, 64));
        out.set(valid);
        return out;
      }
      default: {
        // Drop, add or rename a tensor entry in the header (the data stays).
        const what = int(r, 0, 2);
        if (what === 0)
          return joinFile(
            replaceOne(r, header, /"[^"]+\/[^"]+":/, () => '"extra/tensor":'),
            data,
          );
        if (what === 1)
          return joinFile(
            header.replace('{', '{"extra":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'),
            data,
          );
        return joinFile(header.replace(/"[^"]+\/[^"]+":\{[^}]*\},/, ''), data);
      }
    }
  })();
  return { kind, bytes };
}
