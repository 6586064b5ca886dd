'use strict';
/**
 * mocha's spec reporter, plus one last line `N passed, N failed` (`, N skipped` when tests
 * are pending) so a log can be read by a machine; CI judges the run by exit code.
 * With env GRU_TEST_COUNTS set, the counts are also written there as JSON
 * ({ passed, failed, skipped }) for scripts/test.mjs to add up.
 */
const fs = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountsReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    // Registered after Spec's own EVENT_RUN_END listener (its epilogue), so this prints last.
    runner.once(EVENT_RUN_END, () => {
      const s = this.stats;
      const counts = { passed: s.passes || 0, failed: s.failures || 0, skipped: s.pending || 0 };
      let line = `${counts.passed} passed, ${counts.failed} failed`;
      if (counts.skipped > 0) line += `, ${counts.skipped} skipped`;
      const file = process.env.GRU_TEST_COUNTS;
      if (file) fs.writeFileSync(file, JSON.stringify(counts) + '\n');
      Mocha.reporters.Base.consoleLog(line);
    });
  }
}

CountsReporter.description = 'spec, then a last line "N passed, N failed[, N skipped]"';
module.exports = CountsReporter;
