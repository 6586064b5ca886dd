/**
 * The fuzzer's tables: outcomes per backend and class, GruError codes, and each distinct bug
 * once (how many calls hit it, one call to replay).
 */
import { knownBug } from './known.js';
import { replayCommand, type BackendReport, type CallRecord } from './parent.js';
import type { Outcome } from './runner.js';

const COLUMNS: [Outcome, string][] = [
  ['returned', 'returned'],
  ['gruError', 'GruError'],
  ['passthrough', 'passthrough'],
  ['otherError', 'other error'],
  ['silent', 'silent'],
  ['trap', 'trap'],
  ['crash', 'crash'],
  ['hang', 'hang'],
  ['corrupt', 'corrupt'],
  ['leak', 'leak'],
];

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function outcomeTable(reports: BackendReport[]): string {
  const head = ['backend', 'calls', 'seconds', 'calls/s', ...COLUMNS.map(([, t]) => t)];
  const lines = [row(head), row(head.map(() => '---'))];
  const total = { calls: 0, seconds: 0, counts: {} as Record<string, number> };
  for (const r of reports) {
    lines.push(
      row([
        r.backend,
        r.calls,
        r.seconds.toFixed(1),
        Math.round(r.calls / r.seconds),
        ...COLUMNS.map(([k]) => r.counts[k]),
      ]),
    );
    total.calls += r.calls;
    total.seconds += r.seconds;
    for (const [k] of COLUMNS) total.counts[k] = (total.counts[k] ?? 0) + r.counts[k];
  }
  if (reports.length > 1) {
    lines.push(
      row([
        'all',
        total.calls,
        total.seconds.toFixed(1),
        Math.round(total.calls / total.seconds),
        ...COLUMNS.map(([k]) => total.counts[k] ?? 0),
      ]),
    );
  }
  return lines.join('\n');
}

export function codeTable(reports: BackendReport[]): string {
  const codes = [...new Set(reports.flatMap((r) => Object.keys(r.codes)))].sort();
  const lines = [row(['GruError code', ...reports.map((r) => r.backend)])];
  lines.push(row(['---', ...reports.map(() => '---')]));
  for (const c of codes) lines.push(row([c, ...reports.map((r) => r.codes[c] ?? 0)]));
  return lines.join('\n');
}

/** What makes two bug records the same bug: class, op, and the error or first bad argument. */
export function bugKey(r: CallRecord): string {
  const what = (r.detail ?? '')
    .replace(/\d+(\.\d+)?(e[-+]?\d+)?/g, 'N')
    .replace(/\(.*$/, '')
    .slice(0, 80);
  return `${r.cls} | ${r.op} | ${what}`;
}

/** The bug records that are not known ones (known.ts). */
export function newBugs(reports: BackendReport[]): CallRecord[] {
  return reports.flatMap((rep) => rep.bugs).filter((r) => knownBug(r) === undefined);
}

/** The known bugs (known.ts) this run hit, with their counts. */
export function knownList(reports: BackendReport[]): string {
  const hits = new Map<string, number>();
  for (const r of reports.flatMap((rep) => rep.bugs)) {
    const k = knownBug(r);
    if (k) hits.set(k.id, (hits.get(k.id) ?? 0) + 1);
  }
  if (hits.size === 0) return '';
  const lines = [...hits].map(([id, n]) => `- ${id}: ${n} call(s) (test/fuzz/known.ts)`);
  return `Known bugs, still open (not counted as new):\n${lines.join('\n')}`;
}

/** Each distinct new bug once, with how many calls hit it and one call to replay. */
export function bugList(seed: number, reports: BackendReport[]): string {
  const groups = new Map<string, { first: CallRecord; count: number; backends: Set<string> }>();
  for (const r of newBugs(reports)) {
    const key = bugKey(r);
    const g = groups.get(key) ?? { first: r, count: 0, backends: new Set<string>() };
    g.count++;
    g.backends.add(r.backend);
    groups.set(key, g);
  }
  if (groups.size === 0) return 'No new bugs.';
  const out: string[] = [`${groups.size} distinct new bug(s):`];
  for (const { first: r, count, backends } of groups.values()) {
    out.push(
      `- ${r.cls} in ${r.op} (${count} call(s), on ${[...backends].join(', ')}): ${r.detail ?? ''}`,
      `    call ${r.backend} #${r.i}, arguments: ${(r.args ?? []).join(', ')}`,
      `    replay: ${replayCommand(seed, r)}`,
    );
  }
  return out.join('\n');
}

export function leftoverList(reports: BackendReport[]): string {
  const lines = reports.flatMap((r) =>
    r.leftovers.map(
      (l) =>
        `- ${r.backend}, batch from call ${l.childStart}: ${l.leak} bytes held after disposing all, ${l.leakAfterGc} after a GC`,
    ),
  );
  return lines.length ? `Bytes left after a batch:\n${lines.join('\n')}` : '';
}
