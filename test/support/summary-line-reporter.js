/**
 * Ends every run with the plain "N passed, N failed" line that CI reads. A test file that fails
 * outside its tests (an afterAll check such as the secret-leak and stored-in-clear checks, a file
 * that does not compile or throws while loading) counts as one failure, named on the line after.
 */
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    const suiteFailures = results.testResults.filter(suiteFailedOutsideItsTests).map((suite) => suite.testFilePath);
    const failed = results.numFailedTests + suiteFailures.length;
    let text = `\n${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`;
    if (suiteFailures.length) text += `failed outside their tests: ${suiteFailures.map((file) => relative(file)).join(", ")}\n`;
    process.stdout.write(text);
  }
}

/** Jest reports an afterAll failure or a file that could not run as the file's testExecError. */
function suiteFailedOutsideItsTests(suite) {
  if (suite.testExecError != null) return true;
  const failedInside = suite.testResults.some((test) => test.status === "failed");
  return !failedInside && Boolean(suite.failureMessage);
}

function relative(file) {
  const root = process.cwd() + "/";
  return file.startsWith(root) ? file.slice(root.length) : file;
}

module.exports = SummaryLineReporter;
