// Shared by the benchmarks: machine facts, medians, tables and the JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { machineInfo, textTable } from '../src/report/report.js';

export const table = textTable;

export function machine() {
  const { cpu, cores, node } = machineInfo('', 0);
  return { cpu, cores, node, platform: `${process.platform}-${process.arch}` };
}

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

/** Writes bench/results/<name>-<timestamp>.json and returns its path. */
export function save(name: string, settings: object, results: unknown): string {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = new URL(`${name}-${date.replace(/[:.]/g, '-')}.json`, dir);
  writeFileSync(file, JSON.stringify({ benchmark: name, date, machine: machine(), settings, results }, null, 2) + '\n');
  return file.pathname;
}
