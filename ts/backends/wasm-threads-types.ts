/**
 * The types of the wasm backend's helper threads that the public declarations reach
 * (Backend._wasmHelpers, LoadOptions' worker starter). Kept apart from wasm-threads.ts, whose
 * declarations name WebAssembly types, so a user's project type-checks without the DOM lib.
 */

export interface HelperWorker {
  post(message: unknown): void;
  /** Called with each message the worker posts. */
  onMessage(listener: (message: unknown) => void): void;
  terminate(): void;
}

/** Starts a worker that runs `source` (plain JavaScript, no imports). */
export type StartHelperWorker = (source: string) => HelperWorker;

/** The helpers' counters (tests). */
export interface HelpersState {
  running: number;
  joins: number;
  stalls: number;
  /** Regions the core opened to helpers: calls the thread policy gave more than one worker. */
  regions: number;
  /** Chunks of work (tiles of a step, rows of a projection) the helpers ran. */
  chunks: number;
  /** Timed waits helpers made for the next phase of a region (each a step they may miss). */
  sleeps: number;
  /** Every helper sleeps (none spins for the next region). */
  asleep: boolean;
}
