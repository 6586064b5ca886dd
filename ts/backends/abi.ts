/**
 * The types of the C ABI's description (ts/backends/abi.generated.ts, generated from
 * native/include/gru_simd.h by scripts/gen-abi.mjs) and of the handles it hands out.
 */

/**
 * An object of the core (a layer, an optimizer), named by a number the core checks; K is its
 * kind as the header's handle type names it (gru_net_handle: 'net'), any kind without it.
 */
export type Handle<K extends string = string> = number & { readonly __gruHandle: K };
export type NetHandle = Handle<'net'>;
export type DenseHandle = Handle<'dense'>;
export type EmbeddingHandle = Handle<'embedding'>;
export type OptimHandle = Handle<'optim'>;

/** One argument of a C function as JS passes it. */
export type AbiArg =
  | { name: string; kind: 'handle'; of: string }
  | { name: string; kind: 'i32' | 'u32' | 'f32' | 'str' }
  /** A typed array and (in C) its length; 'out' arrays are written by the call. */
  | { name: string; kind: 'array'; type: 'f32' | 'i32'; dir: 'in' | 'out'; nullable: boolean };

export interface AbiFunction {
  /** The C name: gru_net_forward. */
  c: string;
  /** The binding's name: netForward. */
  method: string;
  args: AbiArg[];
  /** The C return: a status (throws on failure), a number, a string, or nothing. */
  ret: 'status' | 'i32' | 'size' | 'str' | 'void';
  /** The scalar the function writes through its last pointer, returned by the binding. */
  out: { name: string; type: 'size' | 'i32' | 'f32' | 'str' | 'handle'; of?: string } | null;
  /** Offered as `${method}Async` too (GRU_ASYNC). */
  async: boolean;
}
