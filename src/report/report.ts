// The report of a study: results.json, Table 1 (table.md, table.csv) beside
// the original report's, Figure 1 (figure.svg, figure.png), Figure 2
// (figure2.svg, figure2.png) and report.md, written into the output folder.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic as writeAtomic } from '../fsutil.js';
import type { ModelId } from '../models.js';
import type { ModelAggregate } from '../study/aggregate.js';
import type { RoundFailure } from '../study/runner.js';
import type { RoundRecord, StudySettings } from '../study/settings.js';
import type { Session } from '../study/log.js';
import { renderFigure, FIGURE1, FIGURE2 } from './figure.js';

/** The original study's Table 1 (PyTorch, its authors' machine and data): docs/STUDY.md. */
export const ORIGINAL_TABLE: Record<ModelId, { accuracy: number; std: number; roundSeconds: number; normalised: number }> = {
  1: { accuracy: 83.75, std: 0.95, roundSeconds: 27, normalised: 100 },
  2: { accuracy: 85.15, std: 2.41, roundSeconds: 29, normalised: 107.4 },
  3: { accuracy: 89.35, std: 4.3, roundSeconds: 31, normalised: 114.8 },
  4: { accuracy: 88.94, std: 0.91, roundSeconds: 57, normalised: 211.1 },
};

export const ORIGINAL_NOTE = 'The original study ran PyTorch on its authors\' machine with its own draw of MNIST digits; this run uses the `mnist` package\'s 10,000 digits pooled to 14×14 (docs/STUDY.md) and simdnet on the machine above, so accuracies differ by data and times by machine and implementation.';

export interface StudyReport {
  settings: StudySettings;
  machine: { cpu: string; cores: number; node: string; build: string; workers: number };
  /** The simdnet that wrote the report. */
  software: { simdnet: string; commit: string };
  /** Wall time summed over every session of the study. */
  wallSeconds: number;
  /** Every session that worked on the study (a resumed study has several). */
  sessions: Session[];
  complete: boolean;
  aggregates: ModelAggregate[];
  failures: RoundFailure[];
  rounds: RoundRecord[];
}

export function machineInfo(build: string, workers: number): StudyReport['machine'] {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, build, workers };
}

/** simdnet's version and the git commit of the checkout it runs from ("unknown" outside a git checkout, "+changes" when it has uncommitted ones). */
export function softwareInfo(): StudyReport['software'] {
  const root = new URL('../../', import.meta.url);
  const simdnet = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version as string;
  let commit = 'unknown';
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    commit = git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' +changes' : '');
  } catch {
    // not a git checkout (an installed package): the version says enough
  }
  return { simdnet, commit };
}

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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Writes every report file into dir; returns the printed table. */
export async function writeReport(dir: string, r: StudyReport): Promise<string> {
  const s = r.settings;
  writeAtomic(join(dir, 'results.json'), JSON.stringify(r, null, 1) + '\n');
  writeAtomic(join(dir, 'table.md'), tableMarkdown(r.aggregates));
  writeAtomic(join(dir, 'table.csv'), tableCsv(r.aggregates));
  const over = `mean ± 1 std over ${s.rounds} rounds`;
  const fig1 = await renderFigure(r.aggregates, `Test accuracy per epoch (${over})`, FIGURE1);
  writeAtomic(join(dir, 'figure.svg'), fig1.svg);
  writeAtomic(join(dir, 'figure.png'), fig1.png);
  const fig2 = await renderFigure(r.aggregates, `Training loss and test digit accuracy per epoch (${over})`, FIGURE2);
  writeAtomic(join(dir, 'figure2.svg'), fig2.svg);
  writeAtomic(join(dir, 'figure2.png'), fig2.png);

  const diverged = r.aggregates.filter((a) => a.diverged.length);
  const leftOut = diverged.reduce((n, a) => n + a.diverged.length, 0) + r.failures.length;
  const status = !r.complete ? 'Incomplete study' : leftOut ? `Complete study (${plural(leftOut, 'round')} left out, listed below)` : 'Complete study';
  const workers = [...new Set(r.sessions.map((x) => x.workers))].join(', ');
  const sessions = r.sessions.length > 1 ? ` over ${r.sessions.length} sessions (the study was resumed ${plural(r.sessions.length - 1, 'time')})` : '';
  const lines = [
    '# simdnet study report',
    '',
    `${status} of docs/STUDY.md: models ${s.models.join(', ')}, ${s.rounds} rounds, ${s.epochs} epochs, ${s.pairs} pairs, base seed ${s.seed}, ${s.build} build.`,
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; ${workers} workers; wall time ${(r.wallSeconds / 60).toFixed(1)} min${sessions}.`,
    `Software: simdnet ${r.software.simdnet}, commit ${r.software.commit}.`,
    '',
    '## Table 1',
    '',
    'Final test accuracy mean ± standard deviation (n − 1) over rounds; total time is the sum of the rounds\' times (one core each). The last three columns are the original report\'s Table 1.',
    ORIGINAL_NOTE,
    '',
    tableMarkdown(r.aggregates),
    '## Figure 1',
    '',
    '![Test accuracy per epoch](figure.png)',
    '',
    '## Figure 2',
    '',
    '![Training loss and test digit accuracy per epoch](figure2.png)',
    '',
  ];
  if (leftOut) {
    lines.push('## Rounds left out', '');
    for (const a of diverged) lines.push(`- model ${a.model}: rounds ${a.diverged.join(', ')} diverged (NaN or infinite loss)`);
    for (const f of r.failures) lines.push(`- model ${f.model}, round ${f.round}: failed twice: ${f.error}`);
    lines.push('');
  }
  writeAtomic(join(dir, 'report.md'), lines.join('\n'));
  return tableText(r.aggregates);
}
