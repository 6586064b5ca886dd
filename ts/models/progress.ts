/**
 * fit()'s output, as Keras prints it: verbose 1 a progress bar per epoch, redrawn in place, only
 * when stdout is a terminal (silent otherwise, and in browsers); verbose 2 one line per epoch
 * (console.log); verbose 0 nothing. A few lines, so no dependency.
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

interface TTYStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

const stdout = (): TTYStream | undefined =>
  (globalThis as { process?: { stdout?: TTYStream } }).process?.stdout;

export function progress(verbose: 0 | 1 | 2): Progress {
  const out = stdout();
  const bar = verbose === 1 && out?.isTTY === true;
  let t0 = 0;
  let steps = 0;
  let drawn = 0;
  let prefix = '';
  const draw = (done: number, logs: Record<string, number>, final: boolean): void => {
    const width = 30;
    const filled = steps > 0 ? Math.floor((width * done) / steps) : 0;
    const arrow = done < steps ? '>' : '=';
    const body = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? arrow : ''}`.padEnd(
      width,
      '.',
    );
    const n = String(steps).length;
    // A dataset without stepsPerEpoch: the total is unknown until the epoch ends (Keras's).
    const count = steps > 0 ? `${String(done).padStart(n)}/${steps} [${body}]` : `${done}/Unknown`;
    const line = `${count} - ${timing(performance.now() - t0, done)}${logLine(logs)}`;
    out!.write(`\r${line.slice(0, (out!.columns ?? 200) - 1)}${final ? '\n' : ''}`);
  };
  let last: Record<string, number> = {};
  return {
    epochBegin(epoch, epochs, n) {
      t0 = performance.now();
      steps = n;
      drawn = 0;
      prefix = `Epoch ${epoch + 1}/${epochs}`;
      if (bar) out!.write(`${prefix}\n`);
    },
    batchEnd(step, logs) {
      last = logs;
      // Redraw at most every 50 ms: a terminal write per small batch would cost more than it.
      if (bar && performance.now() - drawn > 50) {
        drawn = performance.now();
        draw(step + 1, logs, false);
      }
    },
    epochEnd(logs) {
      if (steps === 0) steps = (last.batch ?? -1) + 1;
      if (bar) draw(steps, { ...last, ...logs }, true);
      if (verbose === 2)
        console.log(
          `${prefix} - ${steps}/${steps} - ${timing(performance.now() - t0, steps)}${logLine(logs)}`,
        );
    },
  };
}
