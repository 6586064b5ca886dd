/** Messages between the browser bench's page (page.ts), its workers (worker.ts) and Node (bench.ts). */
import type { Case, GroupResult, Mode, Settings } from '../cases.js';
import type { BrowserGroupId } from './groups.js';

/** One contestant's run, as Node asks the page for it. */
export interface GroupRequest {
  group: BrowserGroupId;
  mode: Mode;
  cases: Case[];
  settings: Settings;
  /** A worker still running after this many seconds is stopped and its contestant failed. */
  limitSeconds: number;
}

export interface WasmPeak {
  simd: number;
  scalar: number;
  /** f32x4.relaxed_madd; 0 where the engine has no relaxed SIMD. */
  relaxed: number;
}

export type ToWorker =
  | { type: 'run'; request: GroupRequest; threads: number }
  | { type: 'peak'; url: string; relaxedUrl: string };

export type FromWorker =
  | { type: 'log'; line: string }
  | { type: 'done'; result: GroupResult }
  | { type: 'peak'; peak: WasmPeak }
  | { type: 'error'; message: string };

/** What the page tells about itself. */
export interface PageEnvironment {
  /** "156.0.8078.114". */
  browserVersion: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** N of the N-thread contestants. */
  threadsN: number;
  userAgent: string;
}

/** window.gruBench, what bench.ts drives through playwright. */
export interface BenchPage {
  environment(): Promise<PageEnvironment>;
  /** The SIMD128, relaxed-SIMD and scalar multiply-add peaks, measured in a worker of the page. */
  peak(): Promise<WasmPeak>;
  /** One contestant in a fresh module worker; it is terminated after. */
  runGroup(request: GroupRequest): Promise<GroupResult>;
}
