// The study's output folder: settings.json (written once, at the start) and
// rounds.jsonl (one finished round a line, appended and flushed at once), so
// that a stopped study loses nothing and can be resumed.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, accessSync, constants } from 'node:fs';
import { writeFileAtomic } from '../fsutil.js';
import { join } from 'node:path';
import { StudySettings, checkSettings } from './settings.js';
import type { RoundRecord } from './worker.js';

export const SETTINGS_FILE = 'settings.json';
export const ROUNDS_FILE = 'rounds.jsonl';

/** Creates (or checks) a writable output folder and writes the settings; refuses a folder that already holds a study. */
export function startLog(dir: string, settings: StudySettings): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new Error(`out: cannot write to ${dir} (${(e as Error).message})`);
  }
  if (existsSync(join(dir, ROUNDS_FILE)) || existsSync(join(dir, SETTINGS_FILE))) {
    throw new Error(`out: ${dir} already holds a study; continue it with --resume ${dir}, or choose another folder`);
  }
  writeFileAtomic(join(dir, SETTINGS_FILE), JSON.stringify(settings, null, 2) + '\n');
  writeFileSync(join(dir, ROUNDS_FILE), '');
}

/** Appends one finished round, synchronously: it is on disk before the next one starts. */
export function appendRound(dir: string, r: RoundRecord): void {
  appendFileSync(join(dir, ROUNDS_FILE), JSON.stringify(r) + '\n');
}

export interface ReadLog {
  settings: StudySettings;
  rounds: RoundRecord[];
  /** Lines that could not be used (reported; those rounds run again). */
  problems: string[];
}

/** Reads a study folder for --resume. Corrupt lines are reported, never deleted. */
export function readLog(dir: string): ReadLog {
  const sPath = join(dir, SETTINGS_FILE), rPath = join(dir, ROUNDS_FILE);
  if (!existsSync(sPath)) throw new Error(`resume: ${dir} holds no ${SETTINGS_FILE}: not a study folder`);
  let settings: StudySettings;
  try {
    settings = JSON.parse(readFileSync(sPath, 'utf8'));
    checkSettings(settings);
  } catch (e) {
    throw new Error(`resume: ${sPath} is not a valid settings file (${(e as Error).message})`);
  }
  const rounds: RoundRecord[] = [], problems: string[] = [];
  const text = existsSync(rPath) ? readFileSync(rPath, 'utf8') : '';
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: RoundRecord;
    try {
      r = JSON.parse(line);
    } catch {
      problems.push(`${ROUNDS_FILE} line ${i + 1}: not valid JSON (truncated?); that round runs again`);
      return;
    }
    const valid = r && settings.models.includes(r.model) && Number.isInteger(r.round) && r.round >= 0 && r.round < settings.rounds && Array.isArray(r.records);
    if (!valid) {
      problems.push(`${ROUNDS_FILE} line ${i + 1}: not a round of this study; ignored`);
      return;
    }
    const k = `${r.model}:${r.round}`;
    if (seen.has(k)) return;
    seen.add(k);
    rounds.push(r);
  });
  // A line cut short by a crash has no newline: start the next append on a fresh line.
  if (text.length && !text.endsWith('\n')) appendFileSync(rPath, '\n');
  return { settings, rounds, problems };
}
