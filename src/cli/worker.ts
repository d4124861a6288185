#!/usr/bin/env node
// `npx simdnet-worker --queue redis://HOST:PORT [--workers N] [--build simd|scalar]`:
// serves the rounds of queued studies (`npm run experiment -- --queue …`) on
// this machine's cores until stopped. SIGTERM or Ctrl-C lets running rounds
// finish and exits; a second one hands them back (they run again elsewhere).
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { startQueueWorker } from '../queue/worker.js';
import { parseRedisUrl } from '../queue/connection.js';
import { resolveBuild, Build } from '../kernels.js';

const HELP = `Usage: npx simdnet-worker --queue URL [--workers N] [--build simd|scalar]

Trains the rounds that \`npm run experiment -- --queue URL\` puts on the queue,
N at a time (default: one per core, here ${availableParallelism()}), until stopped.

  --queue URL    redis://[:password@]host[:port][/db], or rediss://… for TLS
  --workers N    rounds at once (default: the cores)
  --build B      run only jobs of this build (default: both builds, SIMD
                 where this runtime validates it)
  --lock-seconds S  how long a round's lock lasts unrenewed (default 10): if
                 this machine dies, its rounds run elsewhere after about 1.5 S
  -h, --help     this text

SIGTERM or Ctrl-C: running rounds finish, then the worker exits; a second
signal exits at once (its rounds run again on another worker). Do not expose
Redis beyond the cluster's network: anyone who reaches it can queue work.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { queue: { type: 'string' }, workers: { type: 'string' }, build: { type: 'string' }, 'lock-seconds': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    throw new Error(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.queue) throw new Error('--queue URL is required (see --help)');
  const { safe } = parseRedisUrl(values.queue);
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (values.workers !== undefined && (!/^\d+$/.test(values.workers) || workers < 1)) throw new Error(`--workers: expected a positive integer, got "${values.workers}" (see --help)`);
  if (values.build !== undefined && values.build !== 'simd' && values.build !== 'scalar') throw new Error(`--build: simd or scalar, got "${values.build}" (see --help)`);
  const lock = values['lock-seconds'];
  if (lock !== undefined && !(/^\d+(\.\d+)?$/.test(lock) && Number(lock) >= 1)) throw new Error(`--lock-seconds: expected a number ≥ 1, got "${lock}" (see --help)`);
  const builds: Build[] = values.build ? [values.build as Build] : (await resolveBuild('auto')) === 'simd' ? ['simd', 'scalar'] : ['scalar'];
  const stamp = () => new Date().toISOString().slice(11, 19);
  const w = startQueueWorker({
    url: values.queue, workers, builds, lockMs: lock === undefined ? undefined : 1000 * Number(lock),
    onEvent: (line) => console.log(`${stamp()} ${line}`),
    onConnectionError: (e) => console.error(`${stamp()} Redis at ${safe}: ${e.message}; retrying`),
  });
  let signals = 0;
  const stop = (sig: string) => {
    if (++signals > 1) {
      console.error(`${sig} again: stopping now; the running rounds go back to the queue`);
      void w.close(false).finally(() => process.exit(130));
      return;
    }
    console.error(`${sig}: finishing the running rounds, then stopping (again to stop now)`);
    void w.close(true).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await w.ready;
  console.log(`${stamp()} simdnet-worker: ${workers} at a time, ${builds.join(' and ')} build${builds.length > 1 ? 's' : ''}, queue ${safe}`);
  return new Promise<number>(() => {}); // runs until a signal
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`simdnet-worker: ${e instanceof Error ? e.message : e}`);
  process.exit(2);
});
