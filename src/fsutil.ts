// Files written whole or not at all: a temporary file, then a rename, so a
// crash or a full disk never leaves half a file where a finished one was.
import { writeFileSync, renameSync, rmSync } from 'node:fs';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
