#!/usr/bin/env node
// `npm run experiment`: the study of docs/STUDY.md on a worker per core,
// ending with Table 1 and Figure 1 in the output folder. `--help` for flags.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { resolveBuild, Build } from '../kernels.js';
import { ModelId } from '../models.js';
import { StudySettings, RoundRecord, STUDY_DEFAULTS, checkSettings } from '../study/settings.js';
import { runStudy, defaultWorkers, memoryWorkerLimit, threadsPerRound, checkCapacity, StudyProgress, WORKER_BYTES } from '../study/runner.js';
import { aggregate } from '../study/aggregate.js';
import { StudyLog, LogWriteError } from '../study/log.js';
import { writeReport, machineInfo, softwareInfo } from '../report/report.js';
import { runQueued } from '../queue/coordinator.js';
import { parseRedisUrl } from '../queue/connection.js';

const HELP = `Usage: npm run experiment -- [flags]

Runs the study of STUDY.md: every round of every model, in parallel, then
writes results.json, table.md, table.csv, figure.svg/.png (test accuracy),
figure2.svg/.png (training loss, digit accuracy) and report.md.

  --models 1,2,3,4   models to run (default: all four)
  --rounds N         rounds per model (default 100); round r uses seed base+r
  --epochs N         epochs per round (default 60)
  --pairs N          training and test pairs per round (default 1000)
  --seed N           base seed (default 0), at most 2^32 − rounds
  --workers N        worker threads (default: available cores, here ${defaultWorkers()};
                     never more than rounds to run or than free memory holds)
  --build B          simd or scalar (default: simd where the runtime validates it)
  --out DIR          output folder (default: a new folder under results/)
  --resume DIR       continue a stopped study in DIR with its own settings
  --queue URL        run the rounds as BullMQ jobs on the Redis at URL
                     (redis://[:password@]host:port[/db], rediss:// for TLS);
                     \`npx simdnet-worker --queue URL\` on any machine serves them,
                     --workers N more here (0: coordinate only)
  -h, --help         this text

Each finished round is appended to DIR/rounds.jsonl at once; Ctrl-C or
SIGTERM stops cleanly and keeps it, and --resume DIR runs only the missing
rounds. One process writes a study folder at a time (DIR/study.lock).`;

class UsageError extends Error {}

function positiveInt(flag: string, v: string | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new UsageError(`--${flag}: expected ${min === 0 ? 'a non-negative' : 'a positive'} integer, got "${v}"`);
  return Number(v);
}

const STRING_FLAGS = ['models', 'rounds', 'epochs', 'pairs', 'seed', 'workers', 'build', 'out', 'resume', 'queue'];

/** `--rounds -1` as `--rounds=-1`, so that a negative number reaches our own check instead of parseArgs's "ambiguous". */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], next = argv[i + 1];
    if (flag.startsWith('--') && STRING_FLAGS.includes(flag.slice(2)) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${flag}=${next}`);
      i++;
    } else out.push(flag);
  }
  return out;
}

function parseModels(v: string | undefined): ModelId[] {
  if (v === undefined) return STUDY_DEFAULTS.models;
  const parts = v.split(',').map((s) => s.trim());
  for (const p of parts) if (!/^[1-4]$/.test(p)) throw new UsageError(`--models: unknown model "${p}" (a comma-separated list of 1, 2, 3, 4)`);
  const models = parts.map(Number) as ModelId[];
  if (new Set(models).size !== models.length) throw new UsageError(`--models: a model is listed twice in "${v}"`);
  return models;
}

function formatTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + ':' + String(sec).padStart(2, '0');
}

/** One live line on a terminal; plain lines every 15 s otherwise (CI, pipes). */
function progressPrinter() {
  const tty = process.stderr.isTTY;
  let lastPlain = 0;
  return {
    update(p: StudyProgress, force = false) {
      const models = [...p.perModel].map(([m, c]) => `m${m} ${c.done}/${c.total}`).join(' ');
      const text = `${p.done}/${p.total} rounds  ${models}  elapsed ${formatTime(p.elapsedSeconds)}  eta ${formatTime(p.etaSeconds)}`;
      if (tty) {
        const width = 24, filled = Math.round((width * p.done) / Math.max(p.total, 1));
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (force || p.elapsedSeconds - lastPlain >= 15 || p.done === p.total) {
        lastPlain = p.elapsedSeconds;
        process.stderr.write(`${text}\n`);
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      options: {
        models: { type: 'string' }, rounds: { type: 'string' }, epochs: { type: 'string' }, pairs: { type: 'string' },
        seed: { type: 'string' }, workers: { type: 'string' }, build: { type: 'string' }, out: { type: 'string' },
        resume: { type: 'string' }, queue: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const queue = values.queue;
  if (queue !== undefined) {
    try {
      parseRedisUrl(queue);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  // With a queue, --workers counts the local workers besides the remote ones (0: coordinate only).
  const requested = positiveInt('workers', values.workers, defaultWorkers(), queue !== undefined ? 0 : 1);
  let settings: StudySettings, dir: string;
  let done: RoundRecord[] = [];
  let log: StudyLog;
  if (values.resume !== undefined) {
    const clash = (['models', 'rounds', 'epochs', 'pairs', 'seed', 'build', 'out'] as const).filter((f) => values[f] !== undefined);
    if (clash.length) throw new UsageError(`--resume continues a study with the settings it was started with: drop --${clash.join(', --')}`);
    dir = values.resume;
    log = StudyLog.resume(dir); // locks, reads, and checks the folder is writable before any work
    settings = log.settings;
    done = log.previous!.rounds;
    for (const p of log.previous!.problems) console.error(`warning: ${p}`);
    console.error(`resuming ${dir}: ${done.length} rounds already finished`);
  } else {
    if (values.build !== undefined && values.build !== 'simd' && values.build !== 'scalar') throw new UsageError(`--build: simd or scalar, got "${values.build}"`);
    const build = await resolveBuild((values.build as Build | undefined) ?? 'auto');
    settings = {
      models: parseModels(values.models),
      rounds: positiveInt('rounds', values.rounds, STUDY_DEFAULTS.rounds),
      epochs: positiveInt('epochs', values.epochs, STUDY_DEFAULTS.epochs),
      pairs: positiveInt('pairs', values.pairs, STUDY_DEFAULTS.pairs),
      seed: positiveInt('seed', values.seed, STUDY_DEFAULTS.seed, 0),
      build,
    };
    try {
      checkSettings(settings);
      checkCapacity(settings);
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    dir = values.out ?? join('results', new Date().toISOString().replace(/[:.]/g, '-'));
    log = StudyLog.create(dir, settings);
  }
  const s = settings;
  const total = s.models.length * s.rounds;
  // No more workers than rounds to run, nor than the free memory holds.
  const remaining = Math.max(1, total - done.length), fit = memoryWorkerLimit();
  const workers = Math.min(requested, remaining, fit);
  // fewer rounds than workers: the idle cores become kernel threads of the rounds (src/study/runner.ts)
  const perRound = queue === undefined ? threadsPerRound(requested, remaining) : 1;
  if (workers < requested && requested > 0) {
    const why = workers === remaining ? `${remaining} rounds to run` : `free memory holds ${fit} at about ${WORKER_BYTES >> 20} MB each`;
    console.error(`--workers ${requested}: using ${workers}${perRound > 1 ? `, each round on ${perRound} kernel threads` : ''} (${why})`);
  }
  log.startSession(workers);
  const study = queue !== undefined ? log.queueId() : null;
  const where = queue !== undefined ? `queue ${parseRedisUrl(queue).safe} (study ${study}), ${workers} local workers` : `${workers} workers`;
  console.error(`study: models ${s.models.join(',')}, ${s.rounds} rounds, ${s.epochs} epochs, ${s.pairs} pairs, seed ${s.seed}, ${s.build} build, ${where} -> ${dir}`);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(130);
    console.error(`\n${sig}: stopping the workers; finished rounds are kept in ${dir}/rounds.jsonl`);
    controller.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const progress = progressPrinter();
  const safe = () => `the rounds already logged in ${dir}/rounds.jsonl are safe; when the disk has room, continue with: npm run experiment -- --resume ${dir}`;
  let result;
  try {
    const common = {
      workers: perRound > 1 ? Math.min(requested, fit) : workers,
      done,
      signal: controller.signal,
      onRound: (r: RoundRecord) => {
        log.append(r);
        if (r.diverged) console.error(`\nmodel ${r.model} round ${r.round} diverged at epoch ${r.diverged.epoch} (loss ${r.diverged.loss}): reported, not averaged`);
      },
      onProgress: (p: StudyProgress) => progress.update(p),
      onFailure: (f: { model: number; round: number; error: string; retrying: boolean }) => console.error(`\nmodel ${f.model} round ${f.round} failed${f.retrying ? ', retrying once' : ' twice, reported'}: ${f.error}`),
    };
    if (queue !== undefined) {
      const run = await runQueued(settings, {
        ...common, url: queue, study: study!,
        onProblem: (m) => console.error(`\nwarning: ${m}`),
        onConnectionError: (e) => console.error(`\nRedis at ${parseRedisUrl(queue).safe}: ${e.message}; retrying (finished rounds wait in Redis)`),
      });
      result = { ...run, settings, aggregates: aggregate(settings.models, run.rounds) };
    } else {
      result = await runStudy(settings, common);
    }
  } catch (e) {
    progress.end();
    if (e instanceof LogWriteError) {
      console.error(`experiment: ${e.message}; study stopped: ${safe()}`);
      log.close();
      return 1;
    }
    if (queue !== undefined) {
      console.error(`experiment: ${(e as Error).message}; the study in ${dir} is kept: continue it with npm run experiment -- --resume ${dir} --queue URL`);
      log.close();
      return 1;
    }
    throw e;
  }
  progress.end();
  const sessions = log.allSessions();
  log.close();

  const complete = !result.aborted && result.rounds.length === total;
  let table: string;
  try {
    table = await writeReport(dir, {
      settings, machine: machineInfo(s.build, workers), software: softwareInfo(),
      wallSeconds: sessions.reduce((t, x) => t + x.wallSeconds, 0), sessions, complete,
      aggregates: result.aggregates, failures: result.failures, rounds: result.rounds,
    });
  } catch (e) {
    console.error(`experiment: the report could not be written (${(e as Error).message}); ${safe()}`);
    return 1;
  }
  console.log(table);
  console.log(`\nwall time ${formatTime(result.wallSeconds)}; report in ${dir}/ (report.md, table.md, table.csv, figure.png, figure2.png, results.json)`);
  if (result.aborted) {
    console.error(`stopped: ${result.rounds.length}/${total} rounds kept; continue with: npm run experiment -- --resume ${dir}`);
    return 130;
  }
  if (result.failures.length) {
    console.error(`${result.failures.length} rounds failed twice and are missing; rerun them with: npm run experiment -- --resume ${dir}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof UsageError ? `experiment: ${e.message} (see --help)` : `experiment: ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  },
);
