// Prints one plain closing line, "N passed, N failed[, N skipped]", after vitest's own summary, so
// that tools reading the end of a CI log understand the result without knowing vitest's format.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    try {
      for (const module of testModules) {
        for (const test of module.children.allTests()) {
          const state = test.result().state;
          if (state === 'passed') passed++;
          else if (state === 'failed') failed++;
          else skipped++;
        }
        if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
      }
    } catch {
      return;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
