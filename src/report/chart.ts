// The report's figures as Vega-Lite specs: per-epoch curves, a mean line and a
// ±1 std band per model. Pure (no node: module): the report renders them to
// SVG and PNG, the browser page draws them live.
import type { TopLevelSpec } from 'vega-lite';
import type { ModelAggregate, EpochStat } from '../study/aggregate.js';

/** One panel: a curve per model, from `pick` (models for which it is undefined are left out). */
export interface Panel {
  title: string;
  yTitle: string;
  /** Percent (×100) or as is. */
  percent: boolean;
  pick: (a: ModelAggregate) => EpochStat[] | undefined;
}

export const FIGURE1: Panel[] = [{ title: '', yTitle: 'test accuracy [%]', percent: true, pick: (a) => a.perEpoch }];
export const FIGURE2: Panel[] = [
  { title: 'training loss', yTitle: 'mean training loss', percent: false, pick: (a) => a.perEpochTrainLoss },
  { title: 'test digit accuracy (models 3 and 4)', yTitle: 'test digit accuracy [%]', percent: true, pick: (a) => a.perEpochDigitAccuracy },
];

function panelSpec(aggs: ModelAggregate[], p: Panel, width: number) {
  const k = p.percent ? 100 : 1;
  const values = aggs.flatMap((a) =>
    (p.pick(a) ?? []).map((e) => {
      const sd = Number.isFinite(e.std) ? e.std : 0;
      return { model: `model ${a.model}: ${a.name}`, epoch: e.epoch, mean: k * e.mean, lo: k * (e.mean - sd), hi: k * (e.mean + sd) };
    }),
  );
  const color = { field: 'model', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelFontSize: 12, labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 } } as const;
  return {
    ...(p.title ? { title: p.title } : {}),
    width,
    height: 400,
    data: { values },
    encoding: { x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { nice: false }, axis: { format: 'd', tickMinStep: 1 } } },
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { y: { field: 'lo', type: 'quantitative', title: p.yTitle, scale: { zero: false } }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  };
}

/** A figure of one or more panels side by side; panels no model has are dropped. */
export function figureSpec(aggs: ModelAggregate[], title: string, panels: Panel[] = FIGURE1): TopLevelSpec {
  const shown = panels.filter((p) => aggs.some((a) => (p.pick(a) ?? []).length));
  const head = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, background: 'white' };
  if (shown.length <= 1) return { ...head, ...panelSpec(aggs, shown[0] ?? panels[0], 640) } as TopLevelSpec;
  return { ...head, hconcat: shown.map((p) => panelSpec(aggs, p, 440)) } as TopLevelSpec;
}
