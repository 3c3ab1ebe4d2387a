/** Ends every run with the plain "N passed, N failed" line that CI reads. */
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
module.exports = SummaryLineReporter;
