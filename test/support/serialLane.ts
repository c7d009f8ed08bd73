/**
 * The serial lane's set-up file (vitest.config.mts): a file of that lane holds a machine-wide lock from
 * its first hook to its last, so that two of them never share the container engine's tags, the
 * registry or the machine's cores, while files of the other lanes run beside it. A lock whose holder
 * is gone (a killed run) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

const LOCK = join(tmpdir(), "ralph-release-serial-lane.lock");
const WAIT_LIMIT_MS = 90 * 60_000;

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(LOCK, "utf8").trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function acquire(): Promise<void> {
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!holderAlive()) rmSync(LOCK, { force: true });
    else await new Promise((later) => setTimeout(later, 500));
  }
}

beforeAll(acquire, WAIT_LIMIT_MS);
afterAll(() => {
  if (readFileSync(LOCK, "utf8").trim() === String(process.pid)) rmSync(LOCK, { force: true });
});
