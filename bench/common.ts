// Shared by the benchmarks: machine facts, medians, tables and the JSON record.
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';

export function machine() {
  const c = cpus();
  return { cpu: c[0]?.model ?? 'unknown', cores: c.length, node: process.version, platform: `${process.platform}-${process.arch}` };
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

/** A plain-text table with right-aligned numbers. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(cells[0]), w.map((x) => '-'.repeat(x)).join('  '), ...cells.slice(1).map(line)].join('\n');
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
