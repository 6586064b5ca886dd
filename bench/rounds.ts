/** The bench's rounds (see run.ts): which contestants run in a round, in what order, and how rounds merge. */
import type { CaseResult, GroupResult, GroupSpec } from './cases.js';

/**
 * Contestants of round `round` (0-based), in the order to run them: all of them in the first
 * round, then only those timed in every round, rotated by 3 places per round, so no contestant
 * always runs right after the same one or at the same point of the run.
 */
export function roundOrder<G extends Pick<GroupSpec, 'everyRound'>>(
  selected: readonly G[],
  round: number,
): G[] {
  const these = round === 0 ? [...selected] : selected.filter((g) => g.everyRound);
  const shift = these.length ? (round * 3) % these.length : 0;
  return [...these.slice(shift), ...these.slice(0, shift)];
}

/**
 * A contestant's rounds as one result: per case, the round with the smallest median (its
 * samples, margin and check), with every round's median kept in roundMedians.
 */
export function mergeRounds(runs: GroupResult[]): GroupResult {
  const loaded = runs.filter((r) => !r.error);
  const first = (loaded[0] ?? runs[0]) as GroupResult;
  const wallSeconds = runs.reduce((sum, r) => sum + r.wallSeconds, 0);
  if (loaded.length === 0) return { ...first, wallSeconds };
  const results: CaseResult[] = first.results.map((r0) => {
    const all = loaded
      .map((run) => run.results.find((r) => r.caseId === r0.caseId))
      .filter((r): r is CaseResult => r !== undefined);
    const ok = all.filter((r) => r.status === 'ok' && r.median !== undefined);
    if (ok.length === 0) return all[0] ?? r0;
    const best = ok.reduce((a, b) => ((b.median as number) < (a.median as number) ? b : a));
    return { ...best, roundMedians: ok.map((r) => r.median as number) };
  });
  return { ...first, results, wallSeconds };
}
