/**
 * Activations with Keras 3's definitions (native/include/gru_simd.h, GRU_ACT_*), computed by a
 * backend over rows of `cols` values (softmax normalizes each row; the others are element-wise).
 * Names are camelCase, as tfjs writes them. Where Keras 3 and tfjs differ, the name means Keras
 * 3's: 'hardSigmoid' is relu6(x + 3) / 6 (Keras 3); 'hardSigmoidKeras2' is clip(0.2 x + 0.5, 0, 1)
 * (Keras 2, tf.keras and tfjs's 'hardSigmoid'). 'gelu' is the exact form (Keras 3's default,
 * approximate=False); 'geluTanh' the tanh approximation (approximate=True, tfjs's 'gelu_new').
 */
import {
  GRU_ACT_ELU,
  GRU_ACT_GELU,
  GRU_ACT_GELU_TANH,
  GRU_ACT_HARD_SIGMOID,
  GRU_ACT_HARD_SIGMOID_KERAS2,
  GRU_ACT_LINEAR,
  GRU_ACT_RELU,
  GRU_ACT_SELU,
  GRU_ACT_SIGMOID,
  GRU_ACT_SOFTMAX,
  GRU_ACT_SOFTPLUS,
  GRU_ACT_TANH,
} from './backends/abi.generated.js';
import type { Backend } from './backends/backend.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import * as check from './validate.js';

/** The activations' kinds in the C ABI, by name. */
export const ACTIVATIONS = Object.freeze({
  linear: GRU_ACT_LINEAR,
  relu: GRU_ACT_RELU,
  sigmoid: GRU_ACT_SIGMOID,
  tanh: GRU_ACT_TANH,
  softmax: GRU_ACT_SOFTMAX,
  gelu: GRU_ACT_GELU,
  geluTanh: GRU_ACT_GELU_TANH,
  elu: GRU_ACT_ELU,
  selu: GRU_ACT_SELU,
  softplus: GRU_ACT_SOFTPLUS,
  hardSigmoid: GRU_ACT_HARD_SIGMOID,
  hardSigmoidKeras2: GRU_ACT_HARD_SIGMOID_KERAS2,
});

export type ActivationName = keyof typeof ACTIVATIONS;

/** The kind of an activation name, or an ERR_GRU_ARG naming the argument and the choices. */
export function activationKind(name: string, value: unknown): number {
  if (typeof value === 'string' && Object.hasOwn(ACTIVATIONS, value))
    return ACTIVATIONS[value as ActivationName];
  throw new GruError(
    'ERR_GRU_ARG',
    `${name} must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${check.describe(value)}`,
  );
}

/**
 * What the activation's derivative is computed from: its input 'x' (the GELUs), its output 'y'
 * (every other kind but linear), or nothing (linear).
 */
export function activationSaves(activation: ActivationName): 'x' | 'y' | null {
  const kind = activationKind('activation', activation);
  if (kind === GRU_ACT_LINEAR) return null;
  return kind === GRU_ACT_GELU || kind === GRU_ACT_GELU_TANH ? 'x' : 'y';
}

export interface ActivationOptions {
  /** Values per row: the last dimension, over which softmax normalizes (default: all of x). */
  cols?: number;
  /** Backend that computes; default: the one chosen by init(). */
  backend?: Backend;
}

function common(
  what: string,
  activation: unknown,
  length: number,
  options: ActivationOptions | undefined,
): { kind: number; cols: number; backend: Backend } {
  const kind = activationKind('activation', activation);
  const o = check.options(`${what} options`, options);
  check.knownKeys(`${what} options`, o, ['cols', 'backend']);
  // An element-wise kind ignores cols: any divisor of the length gives the same values.
  const cols =
    o.cols === undefined ? Math.max(1, length) : check.positiveInt('cols', o.cols, 0x7fffffff);
  if (length % cols !== 0) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${what}: the length must be rows x cols (${cols}), a multiple of ${cols}, got ${length}`,
    );
  }
  return { kind, cols, backend: check.backendOption(o.backend, currentBackend) };
}

/** y = activation(x), a new array of x's length (x [rows, cols]). */
export function activationForward(
  activation: ActivationName,
  x: Float32Array,
  options?: ActivationOptions,
): Float32Array {
  const input = check.float32Array('x', x);
  const { kind, cols, backend } = common('activationForward', activation, input.length, options);
  const y = new Float32Array(input.length);
  backend.activationForward(kind, cols, input, y);
  return y;
}

/**
 * dx = dy * activation'(.), from the forward's input x (for 'gelu' and 'geluTanh') or its output
 * y (the others; 'linear' needs neither): activationSaves() tells which. Pass both if unsure.
 */
export function activationBackward(
  activation: ActivationName,
  dy: Float32Array,
  saved: { x?: Float32Array; y?: Float32Array },
  options?: ActivationOptions,
): Float32Array {
  const grad = check.float32Array('dy', dy);
  const { kind, cols, backend } = common('activationBackward', activation, grad.length, options);
  const s = check.options('saved', saved);
  check.knownKeys('saved', s, ['x', 'y']);
  const need = activationSaves(activation);
  const given = (name: 'x' | 'y'): Float32Array | null => {
    if (s[name] === undefined) {
      if (need === name) {
        throw new GruError(
          'ERR_GRU_ARG',
          `saved.${name} is required: the derivative of ${activation} is computed from its ${name === 'x' ? 'input' : 'output'}`,
        );
      }
      return null;
    }
    return check.float32ArrayOfLength(`saved.${name}`, s[name], grad.length, 'the length of dy');
  };
  const x = given('x');
  const y = given('y');
  const dx = new Float32Array(grad.length);
  backend.activationBackward(kind, cols, x, y, grad, dx);
  return dx;
}
