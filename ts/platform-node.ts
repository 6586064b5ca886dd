/**
 * What the Node entry (index.ts) adds to the browser-safe core: the native backend, and file
 * access for the wasm modules (Node's fetch cannot read file: URLs). The modules are found
 * where browsers find them, beside the module (defaultWasmUrl): the repository's wasm/ from
 * ts/, dist/wasm/ from dist/esm/ and from the CommonJS bundle. The browser entry
 * (index.browser.ts) does not import this file, so browser bundles reference neither the
 * addon nor any node: module. It also gives fit() its terminal progress bar (cli-progress) and
 * the model API its files (save(path), loadModel(path): ts/models/storage-node.ts).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { defaultWasmUrl } from './backends/wasm.js';
import { setNodeHooks } from './loader.js';
import { setTerminalBar } from './models/progress.js';
import { terminalBar } from './models/progress-terminal.js';
import { setFileAccess } from './models/storage.js';
import { nodeFiles } from './models/storage-node.js';

setNodeHooks({
  async loadNative({ addonPath }) {
    const { loadNativeBackend } = await import('./backends/native.js');
    return loadNativeBackend({ addonPath });
  },
  wasmFiles: {
    defaultUrl: defaultWasmUrl,
    read: (location) => readFile(location),
  },
  // A wasm backend's helper: an eval'd script (no file to find); unref'd, so that helpers
  // asleep in their loop never keep the process alive.
  startWorker(source) {
    const worker = new Worker(source, { eval: true });
    worker.unref();
    return {
      post: (m) => worker.postMessage(m),
      onMessage: (f) => worker.on('message', f),
      terminate: () => void worker.terminate(),
    };
  },
  // The CPUs this process may run on (its affinity mask; Node >= 18.14), else all of them.
  availableCpus: () =>
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
});

setTerminalBar(terminalBar);
setFileAccess(nodeFiles); // model files: save(path), loadModel(path)
