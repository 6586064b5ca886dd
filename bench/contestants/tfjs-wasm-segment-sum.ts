/**
 * tfjs-backend-wasm 4.22 registers no UnsortedSegmentSum kernel, and that kernel is the gradient
 * of a gather, so tf.layers.embedding cannot train on the wasm backend ("Kernel
 * 'UnsortedSegmentSum' not registered for backend 'wasm'"). For workload F the bench registers
 * one that calls the wasm backend's own ScatterNd kernel (its C++ scatter, which adds the
 * updates of repeated indices): segment ids [...S] become scatter indices [...S, 1] (the same
 * data), the rows of x the updates. It is checked against the sum computed here before use.
 */
type Tf = typeof import('@tensorflow/tfjs');

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

export function registerWasmSegmentSum(tf: Tf): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  const scatter = tf.getKernel('ScatterNd', 'wasm');
  if (!scatter) throw new Error('tfjs wasm has neither UnsortedSegmentSum nor ScatterNd');
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as unknown as { x: Info; segmentIds: Info };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const indices = { ...segmentIds, shape: [...segmentIds.shape, 1] };
      const rest = x.shape.slice(segmentIds.shape.length);
      return scatter.kernelFunc({
        inputs: { indices, updates: x } as never,
        attrs: { shape: [numSegments, ...rest] } as never,
        backend,
      });
    },
  });
  // Check: repeated and unused segments, rows of 2.
  const got = tf.tidy(() =>
    tf
      .unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]),
        tf.tensor1d([2, 0, 2, 2], 'int32'),
        4,
      )
      .dataSync(),
  );
  const want = [3, 4, 0, 0, 13, 16, 0, 0];
  if (want.some((v, i) => got[i] !== v))
    throw new Error(`the wasm UnsortedSegmentSum gave ${[...got]}, expected ${want}`);
}
