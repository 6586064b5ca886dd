import { backendInfo, init, loadBackend, SequenceModel, setThreads, threadsReady } from '../../ts/index.browser.js';
const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
scope.onmessage = async () => {
  await init({ backend: 'wasm-relaxed' });
  const be = await loadBackend('wasm-relaxed');
  const V = 60, T = 64, B = 32;
  const model = new SequenceModel({
    embedding: { numEmbeddings: V, embeddingDim: 32 },
    gru: { hiddenSize: 128 },
    output: { size: V, mode: 'sequence' },
    loss: 'softmax-cross-entropy',
    optimizer: { type: 'adam', lr: 5e-3 },
    clipGradNorm: 1,
    seed: 1,
  });
  let s = 1;
  const r = (): number => ((s = (s * 1103515245 + 12345) >>> 0) % V);
  const batch = () => { const x = new Int32Array(T * B), targets = new Int32Array(T * B); for (let i = 0; i < T * B; i++) { x[i] = r(); targets[i] = r(); } return { x, targets, batch: B }; };
  const fixed = batch();
  for (let round = 0; round < 4; round++) {
    for (const n of [1, 2]) {
      setThreads(n);
      await threadsReady();
      for (let i = 0; i < 10; i++) model.trainStep(fixed);
      const t0 = performance.now();
      const N = 30;
      for (let i = 0; i < N; i++) model.trainStep(fixed);
      const ms = (performance.now() - t0) / N;
      const policy = new Int32Array(4);
      (be as unknown as { threadPolicy(p: Int32Array): void }).threadPolicy(policy);
      scope.postMessage(`threads ${n}: ${ms.toFixed(1)} ms/step policy ${Array.from(policy).join(',')} ${backendInfo().threads}`);
    }
  }
  scope.postMessage('done');
};
