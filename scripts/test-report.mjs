// Reads vitest's JSON report (.vitest-results.json) and prints each test file's wall time, the slowest
// tests, every test that did not run, and last "N passed, N failed[, N skipped]". A test that did not run
// because its file failed (a beforeAll that threw, an import that failed) counts as failed: vitest calls
// it skipped, and a suite whose set-up broke has proved nothing.
//   node scripts/test-report.mjs [.vitest-results.json] [--slowest N]
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const args = process.argv.slice(2);
const slowestAt = args.indexOf("--slowest");
const slowest = slowestAt >= 0 ? Number(args.splice(slowestAt, 2)[1]) : 10;
const report = JSON.parse(readFileSync(args[0] ?? ".vitest-results.json", "utf8"));

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const files = report.testResults.map((file) => ({
  name: relative(process.cwd(), file.name),
  status: file.status,
  message: file.message,
  wall: file.endTime - file.startTime,
  tests: file.assertionResults,
}));

// wall: from the file's start to its end, waiting for the serial lane's lock included; tests: its tests' own time.
console.log("\ntest file                                              wall     tests");
for (const file of [...files].sort((a, b) => b.wall - a.wall)) {
  const own = file.tests.reduce((sum, test) => sum + (test.duration ?? 0), 0);
  const status = file.status === "passed" ? "" : `   ${file.status}`;
  console.log(`${file.name.padEnd(52)} ${seconds(file.wall).padStart(8)} ${seconds(own).padStart(9)}${status}`);
}

const tests = files.flatMap((file) => file.tests.map((test) => ({ ...test, file })));
console.log(`\nslowest ${slowest} tests`);
for (const test of [...tests].sort((a, b) => (b.duration ?? 0) - (a.duration ?? 0)).slice(0, slowest)) {
  console.log(`${seconds(test.duration ?? 0).padStart(8)}  ${test.file.name} › ${test.fullName}`);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const notRun = [];
for (const file of files) {
  // A file that failed before declaring any test (an import error) is one failure.
  if (file.status === "failed" && file.tests.length === 0) {
    failed += 1;
    notRun.push(`✗ ${file.name}: ${firstLine(file.message)}`);
  }
  for (const test of file.tests) {
    if (test.status === "passed") passed += 1;
    else if (test.status === "failed") failed += 1;
    else if (file.status === "failed") {
      failed += 1;
      notRun.push(`✗ ${file.name} › ${test.fullName}: not run, its file failed: ${firstLine(file.message)}`);
    } else {
      skipped += 1;
      notRun.push(`- ${file.name} › ${test.fullName}: ${test.status}`);
    }
  }
}
if (notRun.length > 0) console.log(`\nnot run\n${notRun.join("\n")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);

function firstLine(text) {
  // vitest's JSON report drops a failed beforeAll's error: its own output above has it.
  return (
    (text ?? "").split("\n").find((line) => line.trim() !== "") ?? "a hook failed (vitest's output above says how)"
  );
}
