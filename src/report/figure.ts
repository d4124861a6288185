// The report's figures as files: Vega-Lite compiles the chart (its spec:
// src/report/chart.ts), Vega renders it to SVG, resvg (as pure
// wasm, with the DejaVu Sans font shipped by npm) rasterises it, so the PNG
// needs no native addon and no system fonts. The three are imported when a
// figure is drawn, not when simdnet is: a program that only trains never
// loads them.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ModelAggregate } from '../study/aggregate.js';
import { figureSpec, FIGURE1, Panel } from './chart.js';

let resvg: Promise<typeof import('@resvg/resvg-wasm') & { font: Uint8Array }> | null = null;

/** resvg's wasm and the font, loaded once per process. */
function loadResvg() {
  resvg ??= (async () => {
    const require = createRequire(import.meta.url);
    const mod = await import('@resvg/resvg-wasm');
    await mod.initWasm(await readFile(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
    const font = new Uint8Array(await readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')));
    return { ...mod, font };
  })();
  return resvg;
}

export async function renderFigure(aggs: ModelAggregate[], title: string, panels: Panel[] = FIGURE1): Promise<{ svg: string; png: Uint8Array }> {
  const [vega, { compile }, r] = await Promise.all([import('vega'), import('vega-lite'), loadResvg()]);
  const spec = compile(figureSpec(aggs, title, panels)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new r.Resvg(svg, { background: 'white', font: { fontBuffers: [r.font], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render().asPng();
  return { svg, png };
}
