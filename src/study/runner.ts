// Runs a study's rounds on a Piscina pool: one task per (model, round), each
// worker loading the wasm and the digits once. Results are keyed by (model,
// round), never by finishing order, so the numbers do not depend on the number
// of workers.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ModelId } from '../models.js';
import { StudySettings, checkSettings } from './settings.js';
import type { RoundRecord, RoundTask } from './worker.js';
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
  /** Each finished round, as soon as it finishes (the command line appends it to the log). */
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
}

/** The compiled worker next to this module; from the TypeScript sources (tests), the one tsc built in dist/. */
export function defaultWorkerFile(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/study/worker.js', here) : new URL('./worker.js', here);
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export async function runRounds(settings: StudySettings, opts: RunOptions = {}): Promise<RunResult> {
  checkSettings(settings);
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
        todo.push({ model, round, seed: settings.seed + round, epochs: settings.epochs, pairs: settings.pairs, build: settings.build });
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

  const failures: RoundFailure[] = [];
  let aborted = opts.signal?.aborted ?? false;
  if (todo.length && !aborted) {
    const pool = new Piscina({
      filename: (opts.workerFile ?? defaultWorkerFile()).toString(),
      minThreads: Math.min(workers, todo.length),
      maxThreads: workers,
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
        try {
          const r: RoundRecord = await pool.run(task);
          results.set(key(r.model, r.round), r);
          perModel.get(r.model)!.done++;
          done++;
          finishedHere++;
          opts.onRound?.(r);
          progress();
          return;
        } catch (e) {
          if (aborted) return;
          const error = e instanceof Error ? e.message : String(e);
          const retrying = attempt < 2;
          opts.onFailure?.({ model: task.model, round: task.round, error, retrying });
          if (!retrying) {
            failures.push({ model: task.model, round: task.round, error });
            return;
          }
        }
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
      await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, slot));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await pool.destroy();
    }
  }
  const rounds = [...results.values()].sort((a, b) => a.model - b.model || a.round - b.round);
  return { rounds, failures, aborted, wallSeconds: (performance.now() - start) / 1000, workers };
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
