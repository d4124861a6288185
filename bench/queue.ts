// `npm run bench -- queue`: the same 8 rounds (model 2) through the local
// Piscina pool with one worker, and through Redis with one and with two
// worker processes (one round at a time each); rounds per minute over the
// whole run. The coordinator runs here; the workers are `simdnet-worker`
// processes, as on other machines. Needs redis-server on the PATH.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runRounds } from '../src/study/runner.js';
import { runQueued } from '../src/queue/coordinator.js';
import { StudySettings } from '../src/study/settings.js';
import { table } from './common.js';
import { RedisServer } from './redis-server.js';

const workerCli = new URL('../dist/cli/worker.js', import.meta.url).pathname;

export async function benchQueue(opts: { epochs?: number; rounds?: number; log?: (s: string) => void }) {
  const log = opts.log ?? (() => {});
  const settings: StudySettings = { models: [2], rounds: opts.rounds ?? 8, epochs: opts.epochs ?? 60, pairs: 1000, seed: 0, build: 'simd' };
  const redis = await RedisServer.start();
  const rows: { how: string; processes: number; wallSeconds: number; roundsPerMinute: number }[] = [];
  const add = (how: string, processes: number, wall: number) => {
    rows.push({ how, processes, wallSeconds: wall, roundsPerMinute: (60 * settings.rounds) / wall });
    log(`${how}: ${settings.rounds} rounds in ${wall.toFixed(1)} s`);
  };
  try {
    const local = await runRounds(settings, { workers: 1 });
    add('local pool, 1 worker', 1, local.wallSeconds);
    for (const n of [1, 2]) {
      // workers first, then the coordinator, whose clock starts when it queues the rounds
      const procs = Array.from({ length: n }, () => spawn(process.execPath, [workerCli, '--queue', redis.url, '--workers', '1'], { stdio: 'ignore' }));
      await new Promise((r) => setTimeout(r, 1500)); // the workers connect and load their wasm
      const r = await runQueued(settings, { url: redis.url, study: randomBytes(8).toString('hex'), workers: 0, pollMs: 100 });
      add(`queue, ${n} worker process${n > 1 ? 'es' : ''}`, n, r.wallSeconds);
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((res) => p.on('exit', res))));
    }
  } finally {
    await redis.stop();
  }
  const base = rows[0].roundsPerMinute, one = rows[1].roundsPerMinute;
  const text = table(['how', 'wall s', 'rounds/min', 'vs local pool', 'vs 1 worker process'],
    rows.map((r) => [r.how, r.wallSeconds.toFixed(1), r.roundsPerMinute.toFixed(2), (r.roundsPerMinute / base).toFixed(3) + '×', r.how.startsWith('queue') ? (r.roundsPerMinute / one).toFixed(2) + '×' : '–']));
  return { settings: { ...settings, note: 'wall clock of the whole run; queue runs: the coordinator in the benchmark process, simdnet-worker processes with --workers 1' }, rows, text };
}
