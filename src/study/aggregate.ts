// Per-model aggregates of a study: Table 1 and Figure 1 of the report.
import { ModelId, MODEL_NAMES } from '../models.js';
import { mean, std, welch } from './stats.js';
import type { RoundRecord } from './settings.js';

export interface ModelAggregate {
  model: ModelId;
  name: string;
  /** Rounds that finished without diverging: the ones averaged. */
  rounds: number;
  /** Rounds whose loss became NaN or infinite: reported, not averaged. */
  diverged: number[];
  finalTestAccuracy: { mean: number; std: number };
  finalTrainAccuracy: { mean: number; std: number };
  finalTestDigitAccuracy?: { mean: number; std: number };
  /** Sum of the rounds' times (one core each), minutes. */
  totalMinutes: number;
  averageRoundSeconds: number;
  /** Average round time relative to model 1 (or the first model listed), percent. */
  normalisedTimePercent: number;
  /** Welch's t-test of final test accuracy against model 1 (NaN for model 1 itself). */
  pValueVsModel1: number;
  /** Test accuracy at every epoch over the rounds (Figure 1). */
  perEpoch: EpochStat[];
  /** Mean training loss at every epoch over the rounds (Figure 2). */
  perEpochTrainLoss: EpochStat[];
  /** Test digit accuracy at every epoch (models 3 and 4; Figure 2). */
  perEpochDigitAccuracy?: EpochStat[];
}

/** Mean and standard deviation (n − 1) over the rounds at one epoch. */
export interface EpochStat {
  epoch: number;
  mean: number;
  std: number;
}

type EpochField = 'testAccuracy' | 'trainLoss' | 'testDigitAccuracy';

export function aggregate(models: ModelId[], rounds: RoundRecord[]): ModelAggregate[] {
  const byModel = new Map(models.map((m) => [m, rounds.filter((r) => r.model === m)]));
  const ok = (m: ModelId) => byModel.get(m)!.filter((r) => !r.diverged && r.records.length > 0);
  const finals = (m: ModelId) => ok(m).map((r) => r.finalTestAccuracy);
  const base = models.includes(1) ? 1 : models[0];
  const baseAvg = mean(byModel.get(base)!.map((r) => r.seconds));
  return models.map((m) => {
    const good = ok(m);
    const all = byModel.get(m)!;
    const epochs = Math.max(0, ...good.map((r) => r.records.length));
    const curve = (f: EpochField): EpochStat[] => Array.from({ length: epochs }, (_, e) => {
      const xs = good.filter((r) => r.records.length > e && r.records[e][f] !== undefined).map((r) => r.records[e][f]!);
      return { epoch: e + 1, mean: mean(xs), std: std(xs) };
    });
    const last = (f: (r: RoundRecord['records'][number]) => number | undefined) => {
      const xs = good.map((r) => f(r.records[r.records.length - 1])).filter((x): x is number => x !== undefined);
      return { mean: mean(xs), std: std(xs) };
    };
    const avg = mean(all.map((r) => r.seconds));
    const digit = last((r) => r.testDigitAccuracy);
    return {
      model: m,
      name: MODEL_NAMES[m],
      rounds: good.length,
      diverged: all.filter((r) => r.diverged).map((r) => r.round),
      finalTestAccuracy: { mean: mean(finals(m)), std: std(finals(m)) },
      finalTrainAccuracy: last((r) => r.trainAccuracy),
      ...(Number.isNaN(digit.mean) ? {} : { finalTestDigitAccuracy: digit }),
      totalMinutes: all.reduce((s, r) => s + r.seconds, 0) / 60,
      averageRoundSeconds: avg,
      normalisedTimePercent: (100 * avg) / baseAvg,
      pValueVsModel1: m === base ? NaN : welch(finals(m), finals(base)).p,
      perEpoch: curve('testAccuracy'),
      perEpochTrainLoss: curve('trainLoss'),
      ...(Number.isNaN(digit.mean) ? {} : { perEpochDigitAccuracy: curve('testDigitAccuracy') }),
    };
  });
}
