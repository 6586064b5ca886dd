// Fails if any C++ file of the core (native/) or of the kernel tests (test/kernels/) is not
// formatted by clang-format (.clang-format: Google style, 100 columns).
// Fix with: clang-format -i <files>
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    // Generated files (scripts/gen-abi.mjs) are checked current by that script instead.
    return /\.(cpp|h)$/.test(name) && !name.includes('.generated.') ? [path] : [];
  });
}

const files = [...sources('native'), ...sources(join('test', 'kernels'))];
try {
  execFileSync('clang-format', ['--dry-run', '--Werror', ...files], { stdio: 'inherit' });
} catch (e) {
  if (e.code === 'ENOENT') {
    console.error('check-format: clang-format is not installed (apt-get install clang-format)');
    // A missing tool is a failure in CI; elsewhere the check is skipped, visibly.
    if (process.env.CI !== 'true') {
      console.error('check-format: SKIPPED (not CI)');
      process.exit(0);
    }
  } else {
    console.error(
      `check-format: files above are not clang-formatted; run: clang-format -i ${files.join(' ')}`,
    );
  }
  process.exit(1);
}
console.log(`check-format: ${files.length} C++ files formatted`);
