/** The part of benchmark.js 2.1.4 this suite uses (the package ships no types). */
declare module 'benchmark' {
  interface Deferred {
    resolve(): void;
  }
  interface Stats {
    mean: number;
    rme: number;
    sample: number[];
  }
  interface Options {
    name?: string;
    defer?: boolean;
    fn: ((deferred: Deferred) => void) | (() => void);
    minSamples?: number;
    maxTime?: number;
    minTime?: number;
    initCount?: number;
    onComplete?: () => void;
    onError?: () => void;
  }
  class Benchmark {
    constructor(options: Options);
    stats: Stats;
    error?: unknown;
    aborted: boolean;
    run(options?: { async?: boolean }): this;
  }
  export default Benchmark;
}
