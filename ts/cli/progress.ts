/**
 * Progress of the command line's long operations, on stderr (stdout carries the results, so
 * `gru-simd predict ... > out.json` stays clean): a cli-progress bar in a terminal, one line per
 * step otherwise (CI logs), nothing with --quiet.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** A line about what happens now ("loading model.json"). */
  note(message: string): void;
  /** A bar of `total` steps; update(done) moves it, stop() ends it. */
  bar(total: number, what: string): { update(done: number): void; stop(): void };
}

export function progress(quiet: boolean): Progress {
  const tty = process.stderr.isTTY === true;
  return {
    note(message) {
      if (!quiet) process.stderr.write(`${message}\n`);
    },
    bar(total, what) {
      if (quiet || !tty) {
        let shown = -1;
        return {
          update(done) {
            const pct = Math.floor((100 * done) / total);
            // Every 25% in a log, so a long run shows it is alive without flooding it.
            if (!quiet && Math.floor(pct / 25) > shown) {
              shown = Math.floor(pct / 25);
              process.stderr.write(`${what}: ${done}/${total}\n`);
            }
          },
          stop() {},
        };
      }
      const bar = new cliProgress.SingleBar(
        {
          format: `${what} [{bar}] {value}/{total}`,
          stream: process.stderr,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return { update: (done) => bar.update(done), stop: () => bar.stop() };
    },
  };
}
