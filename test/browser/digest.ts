/** A digest of results, computed the same in the browser test's page and in Node. */

/** FNV-1a (32-bit) over the bytes of float32 arrays, as hex: a bitwise digest of results. */
export function fnv1a(arrays: Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  }
  return `${h.toString(16)}/${arrays.map((a) => a.length).join(',')}`;
}
