// A study whose rounds run as BullMQ jobs on Redis, on any number of machines
// (`simdnet-worker`), optionally with local workers too. The coordinator puts
// every round not yet logged on the queue (a job id per study, model and
// round: never queued twice), collects finished rounds from Redis, hands each
// to onRound (the command line appends it to the log) and only then removes
// the job: a result waits in Redis until it is safely logged, so a coordinator
// that dies loses nothing and `--resume` collects what finished meanwhile.
import { Queue, Job } from 'bullmq';
import { ModelId } from '../models.js';
import { StudySettings, RoundRecord, checkSettings, roundTask, roundMismatch } from '../study/settings.js';
import { checkCapacity, RunOptions, RunResult, RoundFailure } from '../study/runner.js';
import { QUEUE_NAME, jobId, RoundJob } from './jobs.js';
import { parseRedisUrl } from './connection.js';
import { startQueueWorker, QueueWorker } from './worker.js';

export interface QueuedRunOptions extends Omit<RunOptions, 'workerFile'> {
  url: string;
  /** The study's id (kept in DIR/queue.json). */
  study: string;
  /** Local workers besides the remote ones (0: coordinate only). */
  workers?: number;
  /** A finished round whose numbers differ from the logged copy, or a result that does not belong to the study. */
  onProblem?: (message: string) => void;
  /** Redis unreachable (the coordinator keeps retrying). */
  onConnectionError?: (e: Error) => void;
  /** Milliseconds to wait for Redis at the start (default 10 s). */
  connectTimeoutMs?: number;
  /** How often Redis is asked for finished rounds (default 250 ms). */
  pollMs?: number;
  lockMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runQueued(settings: StudySettings, o: QueuedRunOptions): Promise<RunResult> {
  checkSettings(settings);
  checkCapacity(settings);
  const { options, safe } = parseRedisUrl(o.url);
  const key = (m: number, r: number) => `${m}:${r}`;
  const results = new Map<string, RoundRecord>();
  for (const r of o.done ?? []) results.set(key(r.model, r.round), r);
  const total = settings.models.length * settings.rounds;
  const perModel = new Map(settings.models.map((m) => [m, { done: 0, total: settings.rounds }]));
  for (const r of results.values()) perModel.get(r.model)!.done++;
  let done = results.size;
  const start = performance.now();
  let finishedHere = 0;
  const progress = () => {
    const elapsed = (performance.now() - start) / 1000;
    o.onProgress?.({ done, total, perModel, elapsedSeconds: elapsed, etaSeconds: finishedHere ? (elapsed / finishedHere) * (total - done) : NaN });
  };

  const queue = new Queue(QUEUE_NAME, { connection: options });
  let lastError = 0, lastMessage = '';
  queue.on('error', (e: Error) => {
    lastMessage = e.message;
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    o.onConnectionError?.(e);
  });
  let local: QueueWorker | null = null;
  const failures: RoundFailure[] = [];
  let aborted = o.signal?.aborted ?? false;
  const onAbort = () => (aborted = true);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const timeout = o.connectTimeoutMs ?? 10_000;
    const ready = await Promise.race([queue.waitUntilReady().then(() => true), sleep(timeout).then(() => false)]);
    if (!ready) throw new Error(`cannot reach Redis at ${safe} within ${timeout / 1000} s (${lastMessage || 'no answer'}); is redis-server running there, with that password?`);
    // Round-major, as the local pool: a stopped study holds comparable rounds of every model.
    // a round that throws is retried once; finished and failed jobs stay until collected
    const opts = (id: string) => ({ jobId: id, attempts: 2, removeOnComplete: false, removeOnFail: false });
    const jobs: { name: string; data: RoundJob; opts: ReturnType<typeof opts> }[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      for (const model of settings.models) {
        if (results.has(key(model, round))) continue;
        jobs.push({ name: 'round', data: { v: 1, study: o.study, task: roundTask(settings, model, round) }, opts: opts(jobId(o.study, model, round)) });
      }
    }
    for (let i = 0; i < jobs.length && !aborted; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
    progress();
    if ((o.workers ?? 0) > 0 && jobs.length && !aborted) {
      local = startQueueWorker({ url: o.url, workers: Math.min(o.workers!, jobs.length), lockMs: o.lockMs, onConnectionError: o.onConnectionError });
    }
    const ours = (j: Job | undefined): j is Job => !!j && typeof j.id === 'string' && j.id.startsWith(`${o.study}-`);
    const failed = new Set<string>();
    while (!aborted && done + failures.length < total) {
      let seen = 0;
      for (const job of (await queue.getJobs(['completed'], 0, 499)).filter(ours)) {
        if (aborted) break;
        seen++;
        const r = job.returnvalue as RoundRecord;
        const why = roundMismatch(settings, r);
        if (why) {
          o.onProblem?.(`job ${job.id}: its result is not a round of this study (${why}); the round runs again`);
          await job.remove();
          await queue.add('round', job.data, opts(job.id!));
          continue;
        }
        const k = key(r.model, r.round);
        const first = results.get(k);
        if (first) {
          // at-least-once delivery: a round may finish twice (a worker thought dead); keep the first
          const strip = ({ seconds: _s, ...rest }: RoundRecord) => JSON.stringify(rest);
          if (strip(first) !== strip(r)) o.onProblem?.(`model ${r.model} round ${r.round} finished twice with DIFFERENT numbers: nondeterminism; the first copy is kept`);
          await job.remove();
          continue;
        }
        o.onRound?.(r); // throws if the log cannot be written: then the job stays in Redis for --resume
        results.set(k, r);
        perModel.get(r.model as ModelId)!.done++;
        done++;
        finishedHere++;
        progress();
        await job.remove();
      }
      for (const job of (await queue.getJobs(['failed'], 0, 499)).filter(ours)) {
        const t = (job.data as RoundJob)?.task;
        if (!t || failed.has(job.id!)) continue;
        failed.add(job.id!);
        const f = { model: t.model, round: t.round, error: job.failedReason ?? 'failed' };
        failures.push(f);
        o.onFailure?.({ ...f, retrying: false });
        await job.remove(); // a later --resume queues it afresh
      }
      if (!seen) await sleep(o.pollMs ?? 250);
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await local?.close(!aborted);
    await queue.close();
  }
  const rounds = [...results.values()].sort((a, b) => a.model - b.model || a.round - b.round);
  return { rounds, failures, aborted, wallSeconds: (performance.now() - start) / 1000, workers: o.workers ?? 0 };
}
