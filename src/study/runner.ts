// Runs a study's rounds on a Piscina pool: one task per (model, round), each
// worker loading the wasm and the digits once. Results are keyed by (model,
// round), never by finishing order, so the numbers do not depend on the number
// of workers.
import { availableParallelism, freemem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Piscina } from 'piscina';
import { ModelId } from '../models.js';
import { StudySettings, RoundRecord, RoundTask, checkSettings, roundTask, roundThreads } from './settings.js';
import { aggregate, ModelAggregate } from './aggregate.js';

export type { RoundRecord, RoundTask };

export interface StudyProgress {
  done: number;
  total: number;
  perModel: Map<ModelId, { done: number; total: number }>;
  elapsedSeconds: number;
  /** Estimated seconds to go (NaN until a round of this run has finished). */
  etaSeconds: number;
}

export interface RoundFailure {
  model: ModelId;
  round: number;
  error: string;
}

export interface RunOptions {
  workers?: number;
  /** Rounds already finished (a resumed study): not run again. */
  done?: RoundRecord[];
  /**
   * Each finished round, as soon as it finishes (the command line appends it
   * to the log). If it throws, the study stops: the pool is destroyed and
   * runRounds rejects with that error; the round counts as not done.
   */
  onRound?: (r: RoundRecord) => void;
  onProgress?: (p: StudyProgress) => void;
  /** A round failed; `retrying` tells whether it will be tried once more. */
  onFailure?: (f: RoundFailure & { retrying: boolean }) => void;
  signal?: AbortSignal;
  /** The worker module (tests substitute one); default: this package's worker. */
  workerFile?: string | URL;
}

export interface RunResult {
  /** Every finished round of the study (including `done`), ordered by model then round. */
  rounds: RoundRecord[];
  failures: RoundFailure[];
  aborted: boolean;
  wallSeconds: number;
  workers: number;
  /** Kernel threads each round had (more than 1 when there were fewer rounds than workers). */
  threadsPerRound?: number;
}

/** The compiled worker next to this module; from the TypeScript sources (tests), the one tsc built in dist/. */
export function defaultWorkerFile(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/study/worker.js', here) : new URL('./worker.js', here);
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** Kernel threads per round for `rounds` rounds on `workers` workers here (see settings.ts's roundThreads; free memory counts too). */
export function threadsPerRound(workers: number, rounds: number): number {
  return roundThreads(Math.min(workers, memoryWorkerLimit()), rounds, availableParallelism());
}

/** What one worker thread holds at most: the wasm memory of a round, the digits, V8 (measured ≈ 95 MB). */
export const WORKER_BYTES = 128 * 2 ** 20;

/** The most workers the free memory allows (at least one). */
export function memoryWorkerLimit(): number {
  return Math.max(1, Math.floor(freemem() / WORKER_BYTES));
}

/** Bytes the coordinator keeps per round of `epochs` epochs (its records and task), estimated generously. */
const roundBytes = (epochs: number) => 1024 + 256 * epochs;

/** Refuses, up front, a study whose results would not fit in this process's heap. */
export function checkCapacity(s: StudySettings): void {
  const need = s.models.length * s.rounds * roundBytes(s.epochs);
  const limit = getHeapStatistics().heap_size_limit / 2;
  if (need > limit) {
    const most = Math.floor(limit / (s.models.length * roundBytes(s.epochs)));
    throw new Error(`rounds: ${s.rounds} rounds of ${s.models.length} models would need about ${(need / 2 ** 30).toFixed(1)} GiB for their results, more than this process can hold (${(limit / 2 ** 30).toFixed(1)} GiB); at most ${most} rounds with these settings`);
  }
}

export async function runRounds(settings: StudySettings, opts: RunOptions = {}): Promise<RunResult> {
  checkSettings(settings);
  checkCapacity(settings);
  const workers = opts.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: must be a positive integer, got ${workers}`);
  const key = (m: number, r: number) => `${m}:${r}`;
  const results = new Map<string, RoundRecord>();
  for (const r of opts.done ?? []) results.set(key(r.model, r.round), r);

  // Round-major order, so a stopped study holds comparable rounds of every model.
  const todo: RoundTask[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    for (const model of settings.models) {
      if (!results.has(key(model, round))) {
        todo.push(roundTask(settings, model, round));
      }
    }
  }
  const total = settings.models.length * settings.rounds;
  const perModel = new Map(settings.models.map((m) => [m, { done: 0, total: settings.rounds }]));
  for (const r of results.values()) {
    const pm = perModel.get(r.model);
    if (pm && r.round < settings.rounds) pm.done++;
  }
  let done = [...perModel.values()].reduce((s, p) => s + p.done, 0);
  const start = performance.now();
  let finishedHere = 0;
  const progress = () => {
    const elapsed = (performance.now() - start) / 1000;
    const eta = finishedHere ? (elapsed / finishedHere) * (total - done) : NaN;
    opts.onProgress?.({ done, total, perModel, elapsedSeconds: elapsed, etaSeconds: eta });
  };
  progress();

  // No more threads than rounds to run, nor than the free memory holds.
  const threads = Math.max(1, Math.min(workers, todo.length, memoryWorkerLimit()));
  // Fewer rounds than workers (a short study, a resumed one near its end): the
  // idle cores join the rounds as helper threads (the same numbers either way).
  const perRound = threadsPerRound(workers, todo.length);
  const failures: RoundFailure[] = [];
  let aborted = opts.signal?.aborted ?? false;
  let stopError: unknown = null;
  if (todo.length && !aborted) {
    const pool = new Piscina({
      filename: (opts.workerFile ?? defaultWorkerFile()).toString(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
    // A worker answering a task that was cancelled on abort makes the pool emit
    // 'error'; after an abort that is expected, otherwise it is worth a warning.
    pool.on('error', (e: Error) => {
      if (!aborted) process.emitWarning(`simdnet study pool: ${e.message}`);
    });
    // On abort, destroying the pool rejects every queued and running task at once.
    const onAbort = () => {
      aborted = true;
      void pool.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const runOne = async (task: RoundTask): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        let r: RoundRecord;
        try {
          r = await pool.run(perRound > 1 ? { ...task, threads: perRound } : task);
        } catch (e) {
          if (aborted) return;
          const error = e instanceof Error ? e.message : String(e);
          const retrying = attempt < 2;
          opts.onFailure?.({ model: task.model, round: task.round, error, retrying });
          if (!retrying) {
            failures.push({ model: task.model, round: task.round, error });
            return;
          }
          continue;
        }
        if (aborted) return;
        // Outside the round's try: a round that trained but could not be kept
        // (a full disk) stops the study rather than being trained again.
        try {
          opts.onRound?.(r);
        } catch (e) {
          stopError ??= e;
          onAbort();
          return;
        }
        results.set(key(r.model, r.round), r);
        perModel.get(r.model)!.done++;
        done++;
        finishedHere++;
        progress();
        return;
      }
    };
    // One task in flight per worker, taken in order: the pool's own queue would
    // not keep the round-major order, and a stopped study should hold
    // comparable rounds of every model.
    let next = 0;
    const slot = async () => {
      while (next < todo.length && !aborted) await runOne(todo[next++]);
    };
    try {
      await Promise.all(Array.from({ length: threads }, slot));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await pool.destroy();
    }
  }
  if (stopError) throw stopError;
  const rounds = [...results.values()].sort((a, b) => a.model - b.model || a.round - b.round);
  return { rounds, failures, aborted, wallSeconds: (performance.now() - start) / 1000, workers: threads, threadsPerRound: perRound };
}

export interface StudyResult extends RunResult {
  settings: StudySettings;
  aggregates: ModelAggregate[];
}

/** Runs (or continues, with `done`) a whole study and aggregates it, as `npm run experiment` does. */
export async function runStudy(settings: StudySettings, opts: RunOptions = {}): Promise<StudyResult> {
  const run = await runRounds(settings, opts);
  return { ...run, settings, aggregates: aggregate(settings.models, run.rounds) };
}
