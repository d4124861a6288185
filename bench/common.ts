// Shared by the benchmarks: machine facts, medians, tables, rounds in fresh
// processes and the JSON record.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { machineInfo } from '../src/report/report.js';
import { textTable } from '../src/report/table.js';
import type { RoundResult } from '../src/train.js';

export const table = textTable;

export function machine() {
  const { cpu, cores, node } = machineInfo('', 0);
  return { cpu, cores, node, platform: `${process.platform}-${process.arch}` };
}

/**
 * A full garbage collection, for benchmarks that alternate two runtimes in one
 * process: without it, whichever runs second pays for the first one's garbage.
 */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median seconds of `reps` timed runs of fn after `warmup` untimed ones. */
export function timeIt(fn: () => void, reps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    t.push((performance.now() - s) / 1000);
  }
  return median(t);
}

/**
 * One timed round in a fresh process (bench/round-child.ts: a warm-up round,
 * then the timed one), so no round runs on code tiered up by another's; `root`:
 * another built checkout's (bench round --against), this one by default.
 */
export function childRound(o: { model: number; build: string; epochs: number; seed: number; threads?: number; root?: string }): RoundResult {
  const root = o.root ?? new URL('..', import.meta.url).pathname;
  const args = [String(o.model), o.build, String(o.epochs), String(o.seed), ...(o.threads ? [String(o.threads)] : [])];
  const out = execFileSync(process.execPath, ['--import', 'tsx', `${root}/bench/round-child.ts`, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out);
}

/** Writes bench/results/<name>-<timestamp>.json and returns its path. */
export function save(name: string, settings: object, results: unknown): string {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = new URL(`${name}-${date.replace(/[:.]/g, '-')}.json`, dir);
  writeFileSync(file, JSON.stringify({ benchmark: name, date, machine: machine(), settings, results }, null, 2) + '\n');
  return file.pathname;
}
