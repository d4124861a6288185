// Table 1 of a study, beside the original report's: as rows, Markdown, plain
// text and CSV. Pure functions of the aggregates (no node: module), so the
// report, the command line and the browser page print the same table.
import type { ModelId } from '../models.js';
import type { ModelAggregate } from '../study/aggregate.js';

/** The original study's Table 1 (PyTorch, its authors' machine and data): docs/STUDY.md. */
export const ORIGINAL_TABLE: Record<ModelId, { accuracy: number; std: number; roundSeconds: number; normalised: number }> = {
  1: { accuracy: 83.75, std: 0.95, roundSeconds: 27, normalised: 100 },
  2: { accuracy: 85.15, std: 2.41, roundSeconds: 29, normalised: 107.4 },
  3: { accuracy: 89.35, std: 4.3, roundSeconds: 31, normalised: 114.8 },
  4: { accuracy: 88.94, std: 0.91, roundSeconds: 57, normalised: 211.1 },
};

export const ORIGINAL_NOTE = 'The original study ran PyTorch on its authors\' machine with its own draw of MNIST digits; this run uses the `mnist` package\'s 10,000 digits pooled to 14×14 (docs/STUDY.md) and simdnet on the machine above, so accuracies differ by data and times by machine and implementation.';

const pct = (x: number, d = 2) => (Number.isFinite(x) ? (100 * x).toFixed(d) : '–');
const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pval = (p: number) => (!Number.isFinite(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** Table 1 as rows of cells, this run's columns, then the original report's. */
export function tableRows(aggs: ModelAggregate[]): string[][] {
  const header = ['model', 'rounds', 'test accuracy [%]', 'total time [min]', 'average round time [s]', 'normalised time [%]', 'p vs model 1 (Welch)',
    'original: accuracy [%]', 'original: round time [s]', 'original: normalised [%]'];
  return [
    header,
    ...aggs.map((a) => {
      const o = ORIGINAL_TABLE[a.model];
      return [
        `${a.model} ${a.name}`,
        String(a.rounds) + (a.diverged.length ? ` (+${a.diverged.length} diverged)` : ''),
        `${pct(a.finalTestAccuracy.mean)} ± ${pct(a.finalTestAccuracy.std)}`,
        num(a.totalMinutes, 2),
        num(a.averageRoundSeconds, 2),
        num(a.normalisedTimePercent, 1),
        pval(a.pValueVsModel1),
        `${o.accuracy.toFixed(2)} ± ${o.std.toFixed(2)}`,
        String(o.roundSeconds),
        o.normalised.toFixed(1),
      ];
    }),
  ];
}

export function tableMarkdown(aggs: ModelAggregate[]): string {
  const [h, ...rows] = tableRows(aggs);
  return [`| ${h.join(' | ')} |`, `|${h.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

export function tableText(aggs: ModelAggregate[]): string {
  const [header, ...rows] = tableRows(aggs);
  return textTable(header, rows);
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(cells[0]), w.map((x) => '-'.repeat(x)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function tableCsv(aggs: ModelAggregate[]): string {
  const rows = [
    ['model', 'name', 'rounds', 'diverged', 'test_accuracy_mean', 'test_accuracy_std', 'total_time_min', 'average_round_time_s', 'normalised_time_percent', 'p_value_vs_model1',
      'original_test_accuracy_mean', 'original_test_accuracy_std', 'original_average_round_time_s', 'original_normalised_time_percent'],
    ...aggs.map((a) => {
      const o = ORIGINAL_TABLE[a.model];
      return [a.model, a.name, a.rounds, a.diverged.length, a.finalTestAccuracy.mean, a.finalTestAccuracy.std, a.totalMinutes, a.averageRoundSeconds, a.normalisedTimePercent, a.pValueVsModel1,
        o.accuracy / 100, o.std / 100, o.roundSeconds, o.normalised].map(String);
    }),
  ];
  return rows.map((r) => r.map((c) => (/[",\s]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';
}

