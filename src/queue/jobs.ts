// What travels through Redis: a round's settings, never code or paths. Shared
// by the coordinator (which puts jobs) and the workers (which check them).
import { ModelId, MODEL_IDS } from '../models.js';
import type { RoundTask } from '../study/settings.js';
import { SEED_LIMIT, STUDY_ID } from '../study/settings.js';

/** The BullMQ queue every simdnet study shares; jobs of a study carry its id. */
export const QUEUE_NAME = 'simdnet-rounds';

export interface RoundJob {
  /** Payload version. */
  v: 1;
  /** The study's id (DIR/queue.json): job ids and results are scoped by it. */
  study: string;
  task: RoundTask;
}

/** A job id per (study, model, round): BullMQ ignores a job whose id exists, so no round is queued twice. */
export function jobId(study: string, model: ModelId, round: number): string {
  return `${study}-m${model}-r${round}`;
}

/** Checks a job's payload; throws an Error saying what is wrong (the worker fails that job, and goes on). */
export function checkJob(data: unknown): RoundJob {
  const bad = (why: string): never => {
    throw new Error(`malformed job: ${why}`);
  };
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(data)) return bad('not an object');
  const extra = Object.keys(data).filter((k) => !['v', 'study', 'task'].includes(k));
  if (extra.length) bad(`unknown fields ${extra.join(', ')}`);
  if (data.v !== 1) bad(`payload version ${JSON.stringify(data.v)}, this worker reads 1`);
  if (typeof data.study !== 'string' || !STUDY_ID.test(data.study)) bad(`study id ${JSON.stringify(data.study)}`);
  const t = data.task;
  if (!isObj(t)) return bad('no task');
  const extraT = Object.keys(t).filter((k) => !['model', 'round', 'seed', 'epochs', 'pairs', 'build'].includes(k));
  if (extraT.length) bad(`unknown task fields ${extraT.join(', ')}`);
  const int = (k: string, lo: number, hi: number) => {
    const v = t[k];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) bad(`task.${k} must be an integer in ${lo} … ${hi}, got ${JSON.stringify(v)}`);
  };
  if (!MODEL_IDS.includes(t.model as ModelId)) bad(`task.model must be 1, 2, 3 or 4, got ${JSON.stringify(t.model)}`);
  int('round', 0, SEED_LIMIT - 1);
  int('seed', 0, SEED_LIMIT - 1);
  int('epochs', 1, 100_000);
  int('pairs', 1, 1500);
  if (t.build !== 'simd' && t.build !== 'scalar') bad(`task.build must be simd or scalar, got ${JSON.stringify(t.build)}`);
  return data as unknown as RoundJob;
}
