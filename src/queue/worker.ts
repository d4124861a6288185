// A machine's share of a queued study: a BullMQ worker taking round jobs from
// Redis and training them on a local Piscina pool (one round per thread), the
// same worker code the local study uses. It needs nothing from the
// coordinator's disk: the settings come in the job, the result goes back
// through Redis. A job that does not validate fails with its reason; the
// worker goes on. If this process dies, BullMQ's stalled-job check hands its
// rounds to another worker once their lock (renewed while they run) lapses.
import { Worker, UnrecoverableError, Job } from 'bullmq';
import { Piscina } from 'piscina';
import { defaultWorkerFile } from '../study/runner.js';
import type { RoundRecord } from '../study/settings.js';
import { Build } from '../kernels.js';
import { checkJob, QUEUE_NAME } from './jobs.js';
import { parseRedisUrl } from './connection.js';

export interface QueueWorkerOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Rounds trained at once (threads of the local pool). */
  workers: number;
  /** The builds this worker runs (default both; a job for another build fails and is retried elsewhere). */
  builds?: Build[];
  /** A job started, finished or failed. */
  onEvent?: (line: string) => void;
  /** Redis unreachable (reported at most every 10 s; the worker keeps retrying). */
  onConnectionError?: (e: Error) => void;
  /** Milliseconds a job's lock lasts without renewal (default 10 s): how soon a dead worker's round is run again. */
  lockMs?: number;
  /** The pool's worker module (tests substitute one). */
  workerFile?: string | URL;
}

export interface QueueWorker {
  /** Stops taking jobs; graceful: lets running rounds finish; else hands them back (they run again elsewhere). */
  close(graceful: boolean): Promise<void>;
  /** Resolves once the worker is connected and taking jobs. */
  ready: Promise<void>;
}

export function startQueueWorker(o: QueueWorkerOptions): QueueWorker {
  const { options } = parseRedisUrl(o.url);
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`workers: must be a positive integer, got ${o.workers}`);
  const pool = new Piscina({ filename: (o.workerFile ?? defaultWorkerFile()).toString(), minThreads: o.workers, maxThreads: o.workers, idleTimeout: 60_000 });
  const lockMs = o.lockMs ?? 10_000;
  const builds = o.builds ?? ['simd', 'scalar'];
  const worker = new Worker(QUEUE_NAME, async (job: Job): Promise<RoundRecord> => {
    let task;
    try {
      task = checkJob(job.data).task;
    } catch (e) {
      o.onEvent?.(`job ${job.id}: ${(e as Error).message}`);
      throw new UnrecoverableError((e as Error).message); // no retry can mend a payload
    }
    if (!builds.includes(task.build)) throw new Error(`this worker runs the ${builds.join(' and ')} build, the job asks for ${task.build}`);
    o.onEvent?.(`model ${task.model} round ${task.round}: started`);
    const r: RoundRecord = await pool.run(task);
    o.onEvent?.(`model ${task.model} round ${task.round}: done in ${r.seconds.toFixed(1)} s`);
    return r;
  }, {
    connection: options, concurrency: o.workers, lockDuration: lockMs, stalledInterval: Math.max(1000, lockMs / 2), maxStalledCount: 5,
    autorun: true,
  });
  let lastError = 0;
  worker.on('error', (e: Error) => {
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    o.onConnectionError?.(e);
  });
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof UnrecoverableError)) o.onEvent?.(`job ${job.id} failed: ${e.message}`);
  });
  return {
    ready: worker.waitUntilReady().then(() => undefined),
    async close(graceful: boolean) {
      await worker.close(!graceful);
      await pool.destroy();
    },
  };
}
