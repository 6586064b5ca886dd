/**
 * fit()'s verbose-1 bar in a terminal, drawn by cli-progress (redrawn in place at most every
 * 50 ms, cut to the terminal's width, the cursor left alone); registered by the Node entry
 * (ts/platform-node.ts), so browser bundles never import it. ./progress.ts says what it draws.
 */
import cliProgress from 'cli-progress';
import type { TerminalBar } from './progress.js';

/** A bar on process.stdout, or null when stdout is not a terminal (fit() is silent then). */
export function terminalBar(): TerminalBar | null {
  const stream = process.stdout;
  if (stream.isTTY !== true) return null;
  let render: (done: number, total: number) => string = () => '';
  const bar = new cliProgress.SingleBar({
    stream,
    format: (_options, params) => render(params.value, params.total),
    fps: 20,
    hideCursor: null,
    clearOnComplete: false,
    stopOnComplete: false,
    linewrap: false,
    gracefulExit: false,
    // Drawn on each update (fit's loop may keep the event loop busy between batches).
    synchronousUpdate: true,
  });
  return {
    title(text) {
      stream.write(`${text}\n`);
    },
    start(total, draw) {
      render = draw;
      bar.start(total, 0);
    },
    update(done) {
      bar.update(done);
    },
    finish(total) {
      bar.setTotal(total);
      bar.update(total);
      bar.stop();
    },
  };
}
