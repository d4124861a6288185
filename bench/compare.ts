// `npm run bench -- compare OLD.json NEW.json`: ratios between two saved runs of one benchmark.
import { readFileSync } from 'node:fs';
import { table } from './common.js';

interface Saved { benchmark: string; date: string; machine: { cpu: string; node: string }; results: Record<string, unknown>[] }

/** Which fields identify a row and which one is its time, per benchmark. */
const KEYS: Record<string, { key: string[]; time: string }> = {
  kernels: { key: ['kernel', 'shape'], time: 'simdSeconds' },
  round: { key: ['model', 'build'], time: 'seconds' },
  peers: { key: ['model', 'runtime'], time: 'secondsPerEpoch' },
  scaling: { key: ['workers'], time: 'wallSeconds' },
};

function load(path: string): Saved {
  let s: Saved;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`compare: cannot read ${path} as a benchmark result (${(e as Error).message})`);
  }
  if (!s || !KEYS[s.benchmark] || !Array.isArray(s.results)) throw new Error(`compare: ${path} is not a saved benchmark of simdnet (kernels, round, peers or scaling)`);
  return s;
}

export function compare(oldPath: string, newPath: string): string {
  const a = load(oldPath), b = load(newPath);
  if (a.benchmark !== b.benchmark) throw new Error(`compare: ${oldPath} is a ${a.benchmark} run, ${newPath} a ${b.benchmark} run`);
  const { key, time } = KEYS[a.benchmark];
  const id = (r: Record<string, unknown>) => key.map((k) => String(r[k])).join(' ');
  const old = new Map(a.results.map((r) => [id(r), r[time] as number]));
  const rows = b.results.filter((r) => old.has(id(r))).map((r) => {
    const o = old.get(id(r))!, n = r[time] as number;
    return [id(r), o.toPrecision(4), n.toPrecision(4), (o / n).toFixed(2) + '×'];
  });
  return [
    `${a.benchmark}: ${a.date} (${a.machine.cpu}, Node ${a.machine.node}) → ${b.date} (${b.machine.cpu}, Node ${b.machine.node})`,
    table(['row', `old ${time}`, `new ${time}`, 'speed-up (old/new)'], rows),
  ].join('\n');
}
