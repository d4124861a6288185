// The report of a study: results.json, Table 1 (table.md, table.csv), Figure 1
// (figure.svg, figure.png) and report.md, written into the output folder.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic as writeAtomic } from '../fsutil.js';
import type { ModelAggregate } from '../study/aggregate.js';
import type { RoundFailure, RoundRecord } from '../study/runner.js';
import type { StudySettings } from '../study/settings.js';
import { renderFigure } from './figure.js';

export interface StudyReport {
  settings: StudySettings;
  machine: { cpu: string; cores: number; node: string; build: string; workers: number };
  wallSeconds: number;
  complete: boolean;
  aggregates: ModelAggregate[];
  failures: RoundFailure[];
  rounds: RoundRecord[];
}

export function machineInfo(build: string, workers: number): StudyReport['machine'] {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, build, workers };
}

const pct = (x: number, d = 2) => (Number.isFinite(x) ? (100 * x).toFixed(d) : '–');
const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pval = (p: number) => (!Number.isFinite(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** Table 1 as rows of cells. */
export function tableRows(aggs: ModelAggregate[]): string[][] {
  const header = ['model', 'rounds', 'test accuracy [%]', 'total time [min]', 'average round time [s]', 'normalised time [%]', 'p vs model 1 (Welch)'];
  return [
    header,
    ...aggs.map((a) => [
      `${a.model} ${a.name}`,
      String(a.rounds) + (a.diverged.length ? ` (+${a.diverged.length} diverged)` : ''),
      `${pct(a.finalTestAccuracy.mean)} ± ${pct(a.finalTestAccuracy.std)}`,
      num(a.totalMinutes, 2),
      num(a.averageRoundSeconds, 2),
      num(a.normalisedTimePercent, 1),
      pval(a.pValueVsModel1),
    ]),
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
    ['model', 'name', 'rounds', 'diverged', 'test_accuracy_mean', 'test_accuracy_std', 'total_time_min', 'average_round_time_s', 'normalised_time_percent', 'p_value_vs_model1'],
    ...aggs.map((a) => [a.model, a.name, a.rounds, a.diverged.length, a.finalTestAccuracy.mean, a.finalTestAccuracy.std, a.totalMinutes, a.averageRoundSeconds, a.normalisedTimePercent, a.pValueVsModel1].map(String)),
  ];
  return rows.map((r) => r.map((c) => (/[",\s]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';
}

/** Writes every report file into dir; returns the printed table. */
export async function writeReport(dir: string, r: StudyReport): Promise<string> {
  const s = r.settings;
  writeAtomic(join(dir, 'results.json'), JSON.stringify(r, null, 1) + '\n');
  writeAtomic(join(dir, 'table.md'), tableMarkdown(r.aggregates));
  writeAtomic(join(dir, 'table.csv'), tableCsv(r.aggregates));
  const title = `Test accuracy per epoch (mean ± 1 std over ${s.rounds} rounds)`;
  const fig = await renderFigure(r.aggregates, title);
  writeAtomic(join(dir, 'figure.svg'), fig.svg);
  writeAtomic(join(dir, 'figure.png'), fig.png);
  const lines = [
    '# simdnet study report',
    '',
    `${r.complete ? 'Complete' : 'Incomplete'} study of ../shared/STUDY.md: models ${s.models.join(', ')}, ${s.rounds} rounds, ${s.epochs} epochs, ${s.pairs} pairs, base seed ${s.seed}, ${s.build} build.`,
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; ${r.machine.workers} workers; wall time ${(r.wallSeconds / 60).toFixed(1)} min.`,
    '',
    '## Table 1',
    '',
    'Final test accuracy mean ± standard deviation (n − 1) over rounds; total time is the sum of the rounds\' times (one core each).',
    '',
    tableMarkdown(r.aggregates),
    '## Figure 1',
    '',
    '![Test accuracy per epoch](figure.png)',
    '',
  ];
  const diverged = r.aggregates.filter((a) => a.diverged.length);
  if (diverged.length || r.failures.length) {
    lines.push('## Rounds left out', '');
    for (const a of diverged) lines.push(`- model ${a.model}: rounds ${a.diverged.join(', ')} diverged (NaN or infinite loss)`);
    for (const f of r.failures) lines.push(`- model ${f.model}, round ${f.round}: failed twice: ${f.error}`);
    lines.push('');
  }
  writeAtomic(join(dir, 'report.md'), lines.join('\n'));
  return tableText(r.aggregates);
}
