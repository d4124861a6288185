// The report of a study: results.json, Table 1 (table.md, table.csv) beside
// the original report's, Figure 1 (figure.svg, figure.png), Figure 2
// (figure2.svg, figure2.png) and report.md, written into the output folder.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic as writeAtomic } from '../fsutil.js';
import type { ModelAggregate } from '../study/aggregate.js';
import type { RoundFailure } from '../study/runner.js';
import type { RoundRecord, StudySettings } from '../study/settings.js';
import type { Session } from '../study/log.js';
import { renderFigure } from './figure.js';
import { FIGURE1, FIGURE2 } from './chart.js';
import { ORIGINAL_NOTE, tableCsv, tableMarkdown, tableText } from './table.js';

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
