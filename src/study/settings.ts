// What defines a study and its rounds, and their validation (shared by the
// API, the command line, the log and the workers).
import { ModelId, MODEL_IDS } from '../models.js';
import { Build } from '../kernels.js';
import type { RoundResult } from '../train.js';

export interface StudySettings {
  models: ModelId[];
  rounds: number;
  epochs: number;
  pairs: number;
  /** Round r uses seed `seed + r`. */
  seed: number;
  build: Build;
}

/** One round to train: what a worker receives. */
export interface RoundTask {
  model: ModelId;
  round: number;
  seed: number;
  epochs: number;
  pairs: number;
  build: Build;
}

/** A finished round as the study keeps it: the round's result plus its index. */
export type RoundRecord = RoundResult & { round: number };

export const STUDY_DEFAULTS = { models: [1, 2, 3, 4] as ModelId[], rounds: 100, epochs: 60, pairs: 1000, seed: 0 };

/** A queued study's id: 8 to 32 lowercase letters and digits. */
export const STUDY_ID = /^[a-z0-9]{8,32}$/;

/** Seeds are 32-bit: round r's seed `seed + r` must stay below 2³², or rounds would repeat. */
export const SEED_LIMIT = 2 ** 32;

/** Throws a one-line error naming the offending setting. */
export function checkSettings(s: StudySettings): void {
  if (!Array.isArray(s.models) || s.models.length === 0) throw new Error('models: give at least one model (1, 2, 3 or 4)');
  for (const m of s.models) if (!MODEL_IDS.includes(m)) throw new Error(`models: unknown model ${String(m)} (1, 2, 3 or 4)`);
  if (new Set(s.models).size !== s.models.length) throw new Error('models: a model is listed twice');
  for (const k of ['rounds', 'epochs', 'pairs'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`${k}: must be a positive integer, got ${s[k]}`);
  }
  if (s.pairs > 1500) throw new Error(`pairs: at most 1500 (the test pool holds 3005 digits), got ${s.pairs}`);
  if (s.rounds > SEED_LIMIT) throw new Error(`rounds: at most 2^32 (seeds are 32-bit), got ${s.rounds}`);
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > SEED_LIMIT - s.rounds) {
    throw new Error(`seed: must be an integer in 0 … 2^32 − rounds = ${SEED_LIMIT - s.rounds} (round r uses seed + r, 32 bits), got ${s.seed}`);
  }
  if (s.build !== 'simd' && s.build !== 'scalar') throw new Error(`build: simd or scalar, got ${String(s.build)}`);
}

/** The task of round `round` of model `model` in study `s`. */
export function roundTask(s: StudySettings, model: ModelId, round: number): RoundTask {
  return { model, round, seed: s.seed + round, epochs: s.epochs, pairs: s.pairs, build: s.build };
}

/**
 * Why a logged round does not belong to study `s` (settings, seed, build or
 * record count differ), or null when it does.
 */
export function roundMismatch(s: StudySettings, r: RoundRecord): string | null {
  if (!r || typeof r !== 'object') return 'not a round';
  if (!s.models.includes(r.model)) return `model ${String(r.model)} is not in the study (${s.models.join(', ')})`;
  if (!Number.isInteger(r.round) || r.round < 0 || r.round >= s.rounds) return `round ${String(r.round)} is outside 0 … ${s.rounds - 1}`;
  const want = roundTask(s, r.model, r.round);
  for (const k of ['seed', 'epochs', 'pairs', 'build'] as const) {
    if (r[k] !== want[k]) return `${k} ${String(r[k])}, the study's is ${want[k]}`;
  }
  if (!Array.isArray(r.records)) return 'no records';
  const expected = r.diverged ? r.diverged.epoch - 1 : s.epochs;
  if (r.records.length !== expected) return `${r.records.length} epoch records, expected ${expected}${r.diverged ? ' (diverged)' : ''}`;
  if (!r.records.every((e, i) => e && e.epoch === i + 1 && Number.isFinite(e.testAccuracy) && Number.isFinite(e.trainLoss))) return 'malformed epoch records';
  if (typeof r.seconds !== 'number' || !(r.seconds >= 0)) return 'no round time';
  return null;
}

/** Kernel threads per round when `rounds` rounds share `workers` workers on `cores` cores: fewer rounds than workers, and the idle cores join them. */
export function roundThreads(workers: number, rounds: number, cores: number): number {
  if (rounds >= workers || rounds < 1) return 1;
  return Math.max(1, Math.floor(Math.min(workers, cores) / rounds));
}
