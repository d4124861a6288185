// The study's output folder: settings.json (written once, at the start),
// rounds.jsonl (one finished round a line, appended and flushed at once),
// sessions.json (wall time and workers of every session that worked on it)
// and study.lock (the one process writing it). A stopped study loses nothing
// and can be resumed; lines that do not belong to the study are reported and
// their rounds rerun, never averaged.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsReason, writeFileAtomic } from '../fsutil.js';
import { StudySettings, RoundRecord, STUDY_ID, checkSettings, roundMismatch } from './settings.js';
import { lockStudy } from './lock.js';

export const SETTINGS_FILE = 'settings.json';
export const ROUNDS_FILE = 'rounds.jsonl';
export const SESSIONS_FILE = 'sessions.json';
/** A queued study's id (its jobs on Redis carry it). */
export const QUEUE_FILE = 'queue.json';

/** One run of the command line on a study (a resumed study has several). */
export interface Session {
  started: string;
  workers: number;
  /** Rounds this session finished. */
  rounds: number;
  wallSeconds: number;
}

export interface ReadLog {
  settings: StudySettings;
  /** The study's rounds, the first valid copy of each (model, round). */
  rounds: RoundRecord[];
  /** Lines that could not be used, duplicates, nondeterminism (reported; unusable rounds run again). */
  problems: string[];
  sessions: Session[];
}

/** Thrown when the log cannot be written: the rounds already in it are safe. */
export class LogWriteError extends Error {}

/** Reads a study folder without changing it. Corrupt or foreign lines are reported, never deleted. */
export function readLog(dir: string): ReadLog {
  const sPath = join(dir, SETTINGS_FILE), rPath = join(dir, ROUNDS_FILE);
  if (!existsSync(sPath)) throw new Error(`${dir} holds no ${SETTINGS_FILE}: not a study folder`);
  let settings: StudySettings;
  try {
    settings = JSON.parse(readFileSync(sPath, 'utf8'));
    checkSettings(settings);
  } catch (e) {
    throw new Error(`${sPath} is not a valid settings file (${(e as Error).message})`);
  }
  const rounds: RoundRecord[] = [], problems: string[] = [];
  const text = readRounds(rPath);
  const first = new Map<string, { line: number; r: RoundRecord }>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const at = `${ROUNDS_FILE} line ${i + 1}`;
    let r: RoundRecord;
    try {
      r = JSON.parse(line);
    } catch {
      problems.push(`${at}: not valid JSON (truncated?); that round runs again`);
      return;
    }
    const why = roundMismatch(settings, r);
    if (why) {
      problems.push(`${at}: not a round of this study (${why}); ignored, the round runs again`);
      return;
    }
    const k = `${r.model}:${r.round}`;
    const seen = first.get(k);
    if (seen) {
      const same = sameNumbers(seen.r, r);
      problems.push(`${at}: model ${r.model} round ${r.round} again (first on line ${seen.line}); ` +
        (same ? 'same numbers, ignored' : 'DIFFERENT numbers: nondeterminism; the first copy is kept'));
      return;
    }
    first.set(k, { line: i + 1, r });
    rounds.push(r);
  });
  return { settings, rounds, problems, sessions: readSessions(dir) };
}

function readRounds(path: string): string {
  if (!existsSync(path)) return '';
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${fsReason(e)}`);
  }
}

/** Two runs of one round agree on everything but their time. */
function sameNumbers(a: RoundRecord, b: RoundRecord): boolean {
  const strip = ({ seconds: _s, ...rest }: RoundRecord) => JSON.stringify(rest);
  return strip(a) === strip(b);
}

function readSessions(dir: string): Session[] {
  try {
    const s = JSON.parse(readFileSync(join(dir, SESSIONS_FILE), 'utf8'));
    return Array.isArray(s) ? s.filter((x) => x && Number.isFinite(x.wallSeconds) && Number.isInteger(x.workers)) : [];
  } catch {
    return []; // a study started before sessions were kept, or a lost file: the report counts what it has
  }
}

/**
 * The one writer of a study folder: holds its lock from `create` or `resume`
 * to `close` (or the process's exit). Every write failure is a LogWriteError
 * naming the file.
 */
export class StudyLog {
  private readonly sessions: Session[];
  private session: Session | null = null;
  private started = 0;

  private constructor(readonly dir: string, readonly settings: StudySettings, readonly previous: ReadLog | null, private readonly release: () => void) {
    this.sessions = previous ? [...previous.sessions] : [];
  }

  /** Starts this process's session (its wall time and worker count go into the report). */
  startSession(workers: number): void {
    this.session = { started: new Date().toISOString(), workers, rounds: 0, wallSeconds: 0 };
    this.started = performance.now();
    this.sessions.push(this.session);
    this.saveSessions();
  }

  /** Starts a study in `dir` (created if missing); refuses a folder that holds one. */
  static create(dir: string, settings: StudySettings): StudyLog {
    checkSettings(settings);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new LogWriteError(`cannot create ${dir}: ${fsReason(e)}`);
    }
    const release = lockStudy(dir);
    try {
      if (existsSync(join(dir, ROUNDS_FILE)) || existsSync(join(dir, SETTINGS_FILE))) {
        throw new Error(`${dir} already holds a study; continue it with --resume ${dir}, or choose another folder`);
      }
      writeFileAtomic(join(dir, SETTINGS_FILE), JSON.stringify(settings, null, 2) + '\n');
      writeFileSync(join(dir, ROUNDS_FILE), '');
      return new StudyLog(dir, settings, null, release);
    } catch (e) {
      release();
      if (e instanceof LogWriteError) throw e;
      throw (e as Error).message.startsWith('cannot write') ? new LogWriteError((e as Error).message) : e;
    }
  }

  /** Continues the study in `dir`: takes its lock, reads it, and checks that it can be written before any work. */
  static resume(dir: string): StudyLog {
    if (!existsSync(join(dir, SETTINGS_FILE))) throw new Error(`${dir} holds no ${SETTINGS_FILE}: not a study folder`);
    const release = lockStudy(dir);
    try {
      const read = readLog(dir);
      const rPath = join(dir, ROUNDS_FILE);
      try {
        // A line cut short by a crash has no newline: the next append starts a fresh line.
        const text = readRounds(rPath);
        appendFileSync(rPath, text.length && !text.endsWith('\n') ? '\n' : '');
      } catch (e) {
        throw new LogWriteError(`cannot write ${rPath}: ${fsReason(e)}`);
      }
      return new StudyLog(dir, read.settings, read, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Appends one finished round, synchronously: it is on disk before the next one is counted. */
  append(r: RoundRecord): void {
    const path = join(this.dir, ROUNDS_FILE);
    try {
      appendFileSync(path, JSON.stringify(r) + '\n');
    } catch (e) {
      throw new LogWriteError(`cannot append to ${path}: ${fsReason(e)}`);
    }
    if (this.session) this.session.rounds++;
    this.saveSessions();
  }

  /** The study's id on a queue: read from queue.json, or made (random) and kept there the first time. */
  queueId(): string {
    const path = join(this.dir, QUEUE_FILE);
    if (existsSync(path)) {
      try {
        const { study } = JSON.parse(readFileSync(path, 'utf8'));
        if (typeof study === 'string' && STUDY_ID.test(study)) return study;
      } catch {
        // unreadable: refuse below rather than start a second identity for this study
      }
      throw new Error(`${path} is not a valid queue file ({"study": "<8-32 lowercase letters and digits>"}); restore it to re-attach to the study's jobs`);
    }
    const study = randomBytes(8).toString('hex');
    try {
      writeFileAtomic(path, JSON.stringify({ study }) + '\n');
    } catch (e) {
      throw new LogWriteError((e as Error).message);
    }
    return study;
  }

  /** Every session so far, this one with its wall time up to now. */
  allSessions(): Session[] {
    if (this.session) this.session.wallSeconds = (performance.now() - this.started) / 1000;
    return this.sessions.map((s) => ({ ...s }));
  }

  private saveSessions(): void {
    try {
      writeFileAtomic(join(this.dir, SESSIONS_FILE), JSON.stringify(this.allSessions(), null, 1) + '\n');
    } catch (e) {
      throw new LogWriteError((e as Error).message);
    }
  }

  /** Saves this session's wall time and lets another process open the folder. */
  close(): void {
    try {
      this.saveSessions();
    } finally {
      this.release();
    }
  }
}
