// One writer per study folder: a lock file holding the owner's pid, created
// atomically (O_EXCL). A lock whose process is gone (kill -9, a crash) is
// stale and taken over; a live one is refused.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fsReason } from '../fsutil.js';

export const LOCK_FILE = 'study.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes the folder's lock or throws a one-line error naming its live owner; returns the release function. */
export function lockStudy(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(mine) + '\n', { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot write to ${dir}: ${fsReason(e)}`);
      let text = '';
      let owner: LockInfo | null = null;
      try {
        text = readFileSync(path, 'utf8');
        owner = JSON.parse(text);
      } catch {
        // unreadable or half-written by a crash: stale
      }
      if (owner && Number.isInteger(owner.pid) && (owner.host !== mine.host || alive(owner.pid))) {
        const where = owner.host === mine.host ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
        throw new Error(`${dir} is in use by ${where} (since ${owner.started}): one study, one writer; wait for it or stop it first`);
      }
      if (attempt > 0) throw new Error(`cannot take ${path}: another process keeps replacing it`);
      // Stale: remove it only if it is still the one we read, then try again.
      try {
        if (readFileSync(path, 'utf8') === text) rmSync(path, { force: true });
      } catch {
        // gone already
      }
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      if (JSON.parse(readFileSync(path, 'utf8')).pid === process.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}
