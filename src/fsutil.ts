// Files written whole or not at all: a temporary file, then a rename, so a
// crash or a full disk never leaves half a file where a finished one was.
import { writeFileSync, renameSync, rmSync } from 'node:fs';

/** Writes `path` atomically; an error names `path` (not the temporary file) and leaves any old `path` as it was. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${fsReason(e)}`, { cause: e });
  }
}

/** The one-line reason of a file-system error: "ENOSPC (no space left on device)". */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.split(',')[0].replace(`${err.code}: `, '')})` : String(err.message ?? e);
}
