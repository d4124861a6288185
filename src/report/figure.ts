// Figure 1: test accuracy per epoch, mean line and ±1 std band per model.
// Vega-Lite compiles the chart, Vega renders it to SVG, resvg rasterises it.
// The three are imported when a figure is drawn, not when simdnet is: a
// program that only trains never loads them (resvg is a native addon).
import type { TopLevelSpec } from 'vega-lite';
import type { ModelAggregate } from '../study/aggregate.js';

export function figureSpec(aggs: ModelAggregate[], title: string): TopLevelSpec {
  const values = aggs.flatMap((a) =>
    a.perEpoch.map((e) => {
      const sd = Number.isFinite(e.std) ? e.std : 0;
      return { model: `model ${a.model}: ${a.name}`, epoch: e.epoch, mean: 100 * e.mean, lo: 100 * (e.mean - sd), hi: 100 * (e.mean + sd) };
    }),
  );
  const color = { field: 'model', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelFontSize: 12, labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 640,
    height: 400,
    background: 'white',
    data: { values },
    encoding: { x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { nice: false }, axis: { format: 'd', tickMinStep: 1 } } },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: { y: { field: 'lo', type: 'quantitative', title: 'test accuracy [%]', scale: { zero: false } }, y2: { field: 'hi' }, color },
      },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  };
}

export async function renderFigure(aggs: ModelAggregate[], title: string): Promise<{ svg: string; png: Uint8Array }> {
  const [vega, { compile }, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const spec = compile(figureSpec(aggs, title)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png };
}
