// `npm run bench -- round --against DIR`: this checkout against another one
// (DIR: a built checkout, e.g. `git worktree add ../before HEAD~3 && (cd
// ../before && npm ci && npm run build)`), one SIMD round of each model on one
// core in fresh processes, the two alternating so that the shared machine's
// drifts hit both alike; the ratio is the median of the paired ratios.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelId } from '../src/models.js';
import { childRound, median, table } from './common.js';

export async function benchAgainst(opts: { against: string; models: ModelId[]; epochs: number; repeat?: number; log?: (s: string) => void }) {
  const here = resolve(new URL('..', import.meta.url).pathname), there = resolve(opts.against);
  const child = (root: string) => join(root, 'bench/round-child.ts');
  if (!existsSync(child(there))) throw new Error(`--against: ${there} has no bench/round-child.ts (a built simdnet checkout?)`);
  const repeat = opts.repeat ?? 3;
  const secs = new Map<string, number[]>();
  for (let rep = 0; rep < repeat; rep++) {
    for (const model of opts.models) {
      // alternate which side goes first
      for (const [side, root] of rep % 2 ? [['other', there], ['this', here]] : [['this', here], ['other', there]]) {
        const s = childRound({ model, build: 'simd', epochs: opts.epochs, seed: 0, root }).seconds;
        secs.set(`${model}:${side}`, [...(secs.get(`${model}:${side}`) ?? []), s]);
        opts.log?.(`model ${model} ${side}: ${s.toFixed(2)} s`);
      }
    }
  }
  const rows = opts.models.map((model) => {
    const a = secs.get(`${model}:this`)!, b = secs.get(`${model}:other`)!;
    return { model, thisSeconds: median(a), otherSeconds: median(b), ratio: median(a.map((x, i) => x / b[i])), allThis: a, allOther: b };
  });
  const text = table(['model', 'this s/round', 'other s/round', 'this/other (paired median)'],
    rows.map((r) => [String(r.model), r.thisSeconds.toFixed(2), r.otherSeconds.toFixed(2), r.ratio.toFixed(3)]));
  return { settings: { this: here, other: there, models: opts.models, epochs: opts.epochs, repeat, build: 'simd' }, rows, text };
}
