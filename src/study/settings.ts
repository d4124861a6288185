// What defines a study, and its validation (shared by the API and the command line).
import { ModelId, MODEL_IDS } from '../models.js';
import { Build } from '../kernels.js';

export interface StudySettings {
  models: ModelId[];
  rounds: number;
  epochs: number;
  pairs: number;
  /** Round r uses seed `seed + r`. */
  seed: number;
  build: Build;
}

export const STUDY_DEFAULTS = { models: [1, 2, 3, 4] as ModelId[], rounds: 100, epochs: 60, pairs: 1000, seed: 0 };

/** Throws a one-line error naming the offending setting. */
export function checkSettings(s: StudySettings): void {
  if (!Array.isArray(s.models) || s.models.length === 0) throw new Error('models: give at least one model (1, 2, 3 or 4)');
  for (const m of s.models) if (!MODEL_IDS.includes(m)) throw new Error(`models: unknown model ${String(m)} (1, 2, 3 or 4)`);
  if (new Set(s.models).size !== s.models.length) throw new Error('models: a model is listed twice');
  for (const k of ['rounds', 'epochs', 'pairs'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`${k}: must be a positive integer, got ${s[k]}`);
  }
  if (s.pairs > 1500) throw new Error(`pairs: at most 1500 (the test pool holds 3005 digits), got ${s.pairs}`);
  if (!Number.isInteger(s.seed) || s.seed < 0) throw new Error(`seed: must be a non-negative integer, got ${s.seed}`);
  if (s.build !== 'simd' && s.build !== 'scalar') throw new Error(`build: simd or scalar, got ${String(s.build)}`);
}
