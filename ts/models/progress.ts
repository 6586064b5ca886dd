/**
 * fit()'s output, as Keras prints it: verbose 1 a progress bar per epoch, redrawn in place by
 * cli-progress, only when stdout is a terminal (silent otherwise, and in browsers); verbose 2 one
 * line per epoch (console.log); verbose 0 nothing.
 */

export interface Progress {
  epochBegin(epoch: number, epochs: number, steps: number): void;
  batchEnd(step: number, logs: Record<string, number>): void;
  epochEnd(logs: Record<string, number>): void;
}

/** Keras's number format: 4 decimals, or 4 significant digits in e-notation when small. */
export function formatLog(v: number): string {
  if (Math.abs(v) > 1e-3 || v === 0) return v.toFixed(4);
  return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
}

function logLine(logs: Record<string, number>): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'batch' && k !== 'size')
    .map(([k, v]) => ` - ${k}: ${formatLog(v)}`)
    .join('');
}

function timing(ms: number, steps: number): string {
  return `${Math.round(ms / 1000)}s ${Math.round(ms / Math.max(1, steps))}ms/step`;
}

/**
 * The terminal bar of verbose 1: the Node entry registers one (ts/models/progress-terminal.ts,
 * on cli-progress) that exists when stdout is a terminal; browsers have none, and fit() is
 * silent there at verbose 1.
 */
export interface TerminalBar {
  /** A line of its own (the epoch's title). */
  title(text: string): void;
  /** A bar of `total` steps (0: unknown), drawn as render(done, total) says. */
  start(total: number, render: (done: number, total: number) => string): void;
  update(done: number): void;
  /** Draws `total` of `total` and ends the line. */
  finish(total: number): void;
}
let makeTerminalBar: (() => TerminalBar | null) | null = null;

/** @internal Called once by ts/platform-node.ts. */
export function setTerminalBar(make: () => TerminalBar | null): void {
  makeTerminalBar = make;
}

/** Keras's bar, 30 wide: '=' done, '>' at the head, '.' to go; or done/Unknown without a total. */
export function kerasBar(done: number, steps: number): string {
  if (steps <= 0) return `${done}/Unknown`;
  const width = 30;
  const filled = Math.floor((width * done) / steps);
  const arrow = done < steps ? '>' : '=';
  const body = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? arrow : ''}`.padEnd(
    width,
    '.',
  );
  return `${String(done).padStart(String(steps).length)}/${steps} [${body}]`;
}

/** fit()'s output for one run; close() ends a bar left open (a fit() that threw). */
export function progress(verbose: 0 | 1 | 2): Progress & { close(): void } {
  const bar = verbose === 1 ? (makeTerminalBar?.() ?? null) : null;
  let t0 = 0;
  let steps = 0;
  let prefix = '';
  let last: Record<string, number> = {};
  let open = false;
  const render = (done: number, total: number): string =>
    `${kerasBar(done, total)} - ${timing(performance.now() - t0, done)}${logLine(last)}`;
  return {
    epochBegin(epoch, epochs, n) {
      t0 = performance.now();
      steps = n;
      last = {};
      prefix = `Epoch ${epoch + 1}/${epochs}`;
      if (bar) {
        bar.title(prefix);
        bar.start(steps, render);
        open = true;
      }
    },
    batchEnd(step, logs) {
      last = logs;
      bar?.update(step + 1);
    },
    epochEnd(logs) {
      if (steps === 0) steps = (last.batch ?? -1) + 1;
      last = { ...last, ...logs };
      if (bar && open) bar.finish(steps);
      open = false;
      if (verbose === 2)
        console.log(
          `${prefix} - ${steps}/${steps} - ${timing(performance.now() - t0, steps)}${logLine(logs)}`,
        );
    },
    close() {
      if (bar && open) bar.finish(steps);
      open = false;
    },
  };
}
