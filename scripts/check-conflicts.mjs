// Fails if a tracked text file still holds a merge-conflict marker (a line starting with
// "<<<<<<< " or ">>>>>>> "): prettier skips some files (README.md, the fixtures), and a marker
// left in one once reached main unseen.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && !/\.(wasm|node|png|svg|gz|tgz|h5|keras|onnx|pt|pth|safetensors)$/.test(f));
const marker = /^(<<<<<<<|>>>>>>>) /m;
const bad = [];
for (const f of files) {
  let text;
  try {
    text = readFileSync(f, 'utf8');
  } catch {
    continue; // listed but absent (deleted in the work tree)
  }
  const m = marker.exec(text);
  if (m) bad.push(`${f}:${text.slice(0, m.index).split('\n').length}`);
}
if (bad.length) {
  console.error(`check-conflicts: merge-conflict markers in:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
