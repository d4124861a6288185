// The study: determinism across worker counts, retries, resume, the command
// line's error handling, and the statistics.
import { execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, appendFileSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runStudy } from '../src/study/runner.js';
import { StudySettings } from '../src/study/settings.js';
import { readLog, StudyLog, LogWriteError } from '../src/study/log.js';
import { lockStudy } from '../src/study/lock.js';
import { roundTask, RoundRecord } from '../src/study/settings.js';
import { studentTwoSided, welch, std } from '../src/study/stats.js';

const run = promisify(execFile);
const cli = new URL('../dist/cli/experiment.js', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'simdnet-study-'));

describe('study runner', () => {
  it('gives identical per-round results with 1 and 2 workers', async () => {
    const s: StudySettings = { models: [2, 4], rounds: 2, epochs: 2, pairs: 120, seed: 5, build: 'simd' };
    const one = await runStudy(s, { workers: 1 });
    const two = await runStudy(s, { workers: 2 });
    const strip = (r: typeof one.rounds) => r.map(({ seconds, ...rest }) => rest);
    expect(one.rounds).toHaveLength(4);
    expect(strip(two.rounds)).toEqual(strip(one.rounds));
    expect(two.aggregates.map((a) => a.finalTestAccuracy)).toEqual(one.aggregates.map((a) => a.finalTestAccuracy));
  });

  it('retries a failing round once, then reports it; the study goes on', async () => {
    const s: StudySettings = { models: [1, 2], rounds: 3, epochs: 2, pairs: 10, seed: 0, build: 'simd' };
    const failures: string[] = [];
    const r = await runStudy(s, {
      workers: 2,
      workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onFailure: (f) => failures.push(`${f.model}:${f.round}:${f.retrying}`),
    });
    expect(r.rounds.map((x) => `${x.model}:${x.round}`)).toEqual(['1:0', '1:1', '1:2', '2:0', '2:1']);
    expect(r.failures).toEqual([{ model: 2, round: 2, error: expect.stringContaining('always fails') }]);
    expect(failures.sort()).toEqual(['1:1:true', '2:2:false', '2:2:true']);
    expect(r.aggregates[1].rounds).toBe(2);
  });

  it('stops on an AbortSignal and resumes only the missing rounds', async () => {
    const s: StudySettings = { models: [1, 2], rounds: 4, epochs: 1, pairs: 10, seed: 0, build: 'simd' };
    const dir = tmp();
    const log1 = StudyLog.create(dir, s);
    log1.startSession(1);
    const ctl = new AbortController();
    const first = await runStudy(s, {
      workers: 1, signal: ctl.signal, workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onRound: (r) => { log1.append(r); if (r.round === 0 && r.model === 2) ctl.abort(); },
    });
    log1.close();
    expect(first.aborted).toBe(true);
    const kept = readLog(dir).rounds.length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(8);
    // a crash mid-write leaves a truncated line: reported, and that round reruns
    appendFileSync(join(dir, 'rounds.jsonl'), '{"model":1,"round":3,"reco');
    const log = StudyLog.resume(dir);
    log.startSession(2);
    expect(log.previous!.problems).toEqual([expect.stringMatching(/not valid JSON/)]);
    const ran: string[] = [];
    const second = await runStudy(log.settings, {
      workers: 2, done: log.previous!.rounds, workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onRound: (r) => { ran.push(`${r.model}:${r.round}`); log.append(r); },
    });
    log.close();
    expect(ran).toHaveLength(8 - 1 - kept); // everything missing except the always-failing round
    expect(second.rounds).toHaveLength(7);
    expect(readLog(dir).rounds).toHaveLength(7);
    expect(readLog(dir).sessions.map((x) => x.workers)).toEqual([1, 2]);
  });

  it('a round that cannot be logged stops the study: no retry, not counted, the runner rejects with the write error', async () => {
    const s: StudySettings = { models: [1, 2], rounds: 4, epochs: 1, pairs: 10, seed: 0, build: 'simd' };
    let calls = 0;
    const progress: number[] = [];
    const failures: string[] = [];
    const err = await runStudy(s, {
      workers: 2, workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onRound: () => { if (++calls >= 2) throw new LogWriteError('cannot append to x/rounds.jsonl: ENOSPC'); },
      onProgress: (p) => progress.push(p.done),
      onFailure: (f) => failures.push(`${f.model}:${f.round}`),
    }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(LogWriteError);
    expect(calls).toBe(2); // the pool stopped: no further round was trained and thrown away
    expect(Math.max(...progress)).toBe(1); // the unlogged round is not counted
    expect(failures).toEqual([]); // not retried as a failed round
  });
});

describe('study log', () => {
  const s: StudySettings = { models: [1, 2], rounds: 3, epochs: 2, pairs: 10, seed: 7, build: 'simd' };
  const round = (model: 1 | 2, r: number, acc = 0.5): RoundRecord => {
    const t = roundTask(s, model, r);
    return { ...t, records: [1, 2].map((epoch) => ({ epoch, trainLoss: 0.5, trainAccuracy: acc, testAccuracy: acc })), finalTestAccuracy: acc, seconds: 1 };
  };
  const write = (lines: unknown[]) => {
    const dir = tmp();
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(s));
    writeFileSync(join(dir, 'rounds.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return dir;
  };

  it('reports and skips lines whose settings, seed, build or record count differ from the study', () => {
    const good = round(1, 0);
    const dir = write([
      good,
      { ...round(1, 1), epochs: 3 },
      { ...round(2, 0), pairs: 20 },
      { ...round(2, 1), seed: 0 },
      { ...round(1, 2), build: 'scalar' },
      { ...round(2, 2), records: [] },
      { ...round(2, 2), records: round(2, 2).records.slice(0, 1) },
      { ...round(1, 1), records: undefined },
      { ...round(1, 1), model: 3 },
      { ...round(1, 1), round: 3 },
      { hello: 'world' },
    ]);
    const log = readLog(dir);
    expect(log.rounds).toEqual([good]);
    expect(log.problems).toHaveLength(10);
    expect(log.problems.join('\n')).toMatch(/line 2: .*epochs 3, the study's is 2/);
    expect(log.problems.join('\n')).toMatch(/line 3: .*pairs 20, the study's is 10/);
    expect(log.problems.join('\n')).toMatch(/line 4: .*seed 0, the study's is 8/);
    expect(log.problems.join('\n')).toMatch(/line 5: .*build scalar, the study's is simd/);
    expect(log.problems.join('\n')).toMatch(/line 6: .*0 epoch records, expected 2/);
    expect(log.problems.join('\n')).toMatch(/line 7: .*1 epoch records, expected 2/);
    expect(log.problems.join('\n')).toMatch(/line 8: .*no records/);
    expect(log.problems.join('\n')).toMatch(/line 9: .*model 3 is not in the study/);
    expect(log.problems.join('\n')).toMatch(/line 10: .*round 3 is outside 0 … 2/);
    // a diverged round's short record list is what it should be
    const diverged = { ...round(2, 1), records: round(2, 1).records.slice(0, 1), finalTestAccuracy: null, diverged: { epoch: 2, batch: 0, loss: null } };
    expect(readLog(write([diverged])).rounds).toHaveLength(1);
  });

  it('reports duplicated rounds, and calls out different numbers as nondeterminism', () => {
    const dir = write([round(1, 0), { ...round(1, 0), seconds: 9 }, round(2, 0), round(2, 0, 0.75)]);
    const log = readLog(dir);
    expect(log.rounds.map((r) => r.finalTestAccuracy)).toEqual([0.5, 0.5]);
    expect(log.problems).toEqual([
      expect.stringMatching(/line 2: model 1 round 0 again \(first on line 1\); same numbers, ignored/),
      expect.stringMatching(/line 4: model 2 round 0 again \(first on line 3\); DIFFERENT numbers: nondeterminism/),
    ]);
  });

  it('one writer per folder: a live lock is refused, a stale one (dead pid) is taken over', async () => {
    const dir = tmp();
    const release = lockStudy(dir);
    expect(() => lockStudy(dir)).toThrow(new RegExp(`is in use by process ${process.pid} .*one study, one writer`));
    release();
    // a lock left by a process that is gone
    const dead = spawn('node', ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(join(dir, 'study.lock'), JSON.stringify({ pid: dead.pid, host: (await import('node:os')).hostname(), started: 'then' }));
    const again = lockStudy(dir);
    expect(JSON.parse(readFileSync(join(dir, 'study.lock'), 'utf8')).pid).toBe(process.pid);
    again();
    expect(existsSync(join(dir, 'study.lock'))).toBe(false);
  });

  it('a failure on the very first write names the real file (not its temporary copy)', () => {
    const dir = tmp();
    symlinkSync('/dev/full', join(dir, `settings.json.${process.pid}.tmp`));
    expect(() => StudyLog.create(dir, s)).toThrow(`cannot write ${join(dir, 'settings.json')}: ENOSPC (no space left on device)`);
    expect(existsSync(join(dir, 'study.lock'))).toBe(false); // released
  });
});

describe('experiment command line', () => {
  const fails = async (args: string[], message: RegExp) => {
    const e = await run('node', [cli, ...args]).then(() => null, (err) => err);
    expect(e, args.join(' ')).not.toBeNull();
    expect(e.code).toBe(2);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(message);
  };

  it('rejects bad flags with one line naming the flag, before any work', async () => {
    await fails(['--models', '1,5'], /--models: unknown model "5"/);
    await fails(['--rounds', '0'], /--rounds: expected a positive integer/);
    await fails(['--epochs', 'ten'], /--epochs: expected a positive integer, got "ten"/);
    await fails(['--pairs', '-3'], /--pairs/);
    await fails(['--pairs', '2000'], /--pairs: at most 1500/);
    await fails(['--workers', '1.5'], /--workers/);
    await fails(['--build', 'gpu'], /--build: simd or scalar/);
    await fails(['--frobnicate'], /Unknown option '--frobnicate'/);
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    await fails(['--out', join(file, 'sub')], /cannot create .*ENOTDIR/);
    await fails(['--resume', tmp()], /holds no settings.json/);
  });

  it('bounds: seeds stay 32-bit, negative numbers get our message, huge studies and batches are refused up front', async () => {
    await fails(['--rounds', '-1'], /--rounds: expected a positive integer, got "-1"/);
    await fails(['--seed', '-5'], /--seed: expected a non-negative integer, got "-5"/);
    await fails(['--seed', '4294967296'], /--seed: must be an integer in 0 … 2\^32 − rounds = 4294967196/);
    await fails(['--seed', '4294967200', '--rounds', '100'], /--seed: .* = 4294967196 .*, got 4294967200/);
    await fails(['--seed', '100000000000000000000'], /--seed: must be an integer in 0 … 2\^32/);
    await fails(['--rounds', '100000000000'], /--rounds: at most 2\^32/);
    const t0 = performance.now();
    await fails(['--rounds', '100000000', '--out', join(tmp(), 'o')], /--rounds: 100000000 rounds of 4 models would need about .* GiB .* at most \d+ rounds/);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('--workers is capped at the rounds to run, and says so', async () => {
    const dir = join(tmp(), 'out');
    const { stderr } = await run('node', [cli, '--models', '2', '--rounds', '1', '--epochs', '1', '--pairs', '10', '--workers', '1000', '--out', dir]);
    // the idle cores join the one round as kernel threads
    const cores = availableParallelism();
    expect(stderr).toContain(`--workers 1000: using 1${cores > 1 ? `, each round on ${cores} kernel threads` : ''} (1 rounds to run)`);
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).machine.workers).toBe(1);
  });

  it('a log write that fails stops the study at once, names the file, and says the logged rounds are safe', async () => {
    const dir = join(tmp(), 'out');
    await run('node', [cli, '--models', '2', '--rounds', '1', '--epochs', '6', '--pairs', '10', '--out', dir]);
    // grow the study to 5 rounds, then resume it with files limited to about the log's size (EFBIG, as a full disk)
    const settings = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'));
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...settings, rounds: 5 }));
    const before = readFileSync(join(dir, 'rounds.jsonl'), 'utf8');
    expect(before.length).toBeGreaterThan(512); // one round's line is longer than the room left below
    rmSync(join(dir, 'report.md'));
    const blocks = Math.ceil(before.length / 512); // dash's ulimit -f counts 512-byte blocks
    const e = await run('sh', ['-c', `ulimit -f ${blocks} && exec node ${cli} --resume ${dir} --workers 1`]).then(() => null, (err) => err);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(new RegExp(`cannot append to ${dir}/rounds.jsonl: EFBIG \\(file too large\\); study stopped: the rounds already logged in .* are safe; .* --resume ${dir}`));
    expect(e.stderr.match(/cannot append/g)).toHaveLength(1); // the first failed write stopped it
    expect(existsSync(join(dir, 'report.md'))).toBe(false); // no report claims a complete study
    expect(existsSync(join(dir, 'study.lock'))).toBe(false);
    expect(readFileSync(join(dir, 'rounds.jsonl'), 'utf8').startsWith(before)).toBe(true); // the logged round is intact
    // with room again, the cut line is reported and its round rerun; the study completes
    const again = await run('node', [cli, '--resume', dir, '--workers', '1']);
    expect(readLog(dir).rounds.map((r) => r.round)).toEqual([0, 1, 2, 3, 4]);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/^Complete study/m);
    expect(again.stderr).not.toMatch(/cannot/);
  });

  it('--resume checks that the folder can be written before any work', async () => {
    const dir = join(tmp(), 'out');
    await run('node', [cli, '--models', '2', '--rounds', '1', '--epochs', '1', '--pairs', '10', '--out', dir]);
    rmSync(join(dir, 'rounds.jsonl'));
    mkdirSync(join(dir, 'rounds.jsonl'));
    await fails(['--resume', dir], new RegExp(`cannot read ${dir}/rounds.jsonl: not a regular file`));
    expect(existsSync(join(dir, 'study.lock'))).toBe(false);
  });

  it('runs a small study and writes the report; refuses to overwrite it; resume finds nothing to do', async () => {
    const dir = join(tmp(), 'out');
    const { stdout } = await run('node', [cli, '--models', '1,3', '--rounds', '2', '--epochs', '2', '--pairs', '60', '--workers', '2', '--out', dir]);
    expect(stdout).toMatch(/1 no sharing\s+2\s+\d+\.\d+ ± \d+\.\d+/);
    for (const f of ['results.json', 'table.md', 'table.csv', 'figure.svg', 'figure.png', 'report.md', 'rounds.jsonl', 'settings.json']) expect(existsSync(join(dir, f)), f).toBe(true);
    for (const f of ['figure.png', 'figure2.png']) expect(readFileSync(join(dir, f)).subarray(1, 4).toString(), f).toBe('PNG');
    // the original report's Table 1 beside this run's, in the printed table and report.md
    expect(stdout).toMatch(/original: accuracy \[%\]/);
    expect(stdout).toMatch(/3 auxiliary loss .* 89\.35 ± 4\.30\s+31\s+114\.8/);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/\| 1 no sharing \| 2 \| .* \| 83\.75 ± 0\.95 \| 27 \| 100\.0 \|/);
    expect(report).toMatch(/The original study ran PyTorch on its authors' machine/);
    expect(report).toMatch(/Software: simdnet 0\.1\.0, commit ([0-9a-f]{40}|unknown)/);
    expect(report).toMatch(/!\[Training loss and test digit accuracy per epoch\]\(figure2\.png\)/);
    expect(readFileSync(join(dir, 'figure2.svg'), 'utf8')).toMatch(/test digit accuracy/);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.rounds).toHaveLength(4);
    expect(results.aggregates[1].finalTestDigitAccuracy.mean).toBeGreaterThan(0);
    expect(results.aggregates[0].perEpochDigitAccuracy).toBeUndefined();
    expect(results.aggregates[1].perEpochDigitAccuracy).toHaveLength(2);
    expect(results.aggregates[0].perEpochTrainLoss[1].mean).toBeCloseTo((results.rounds[0].records[1].trainLoss + results.rounds[1].records[1].trainLoss) / 2, 12);
    const before = readFileSync(join(dir, 'rounds.jsonl'), 'utf8');
    await fails(['--out', dir], /already holds a study/);
    await fails(['--resume', dir, '--epochs', '3'], /drop --epochs/);
    const again = await run('node', [cli, '--resume', dir]);
    expect(again.stderr).toMatch(/4 rounds already finished/);
    expect(readFileSync(join(dir, 'rounds.jsonl'), 'utf8')).toBe(before);
    writeFileSync(join(dir, 'settings.json'), '{ corrupt');
    await fails(['--resume', dir], /not a valid settings file/);
    expect(readFileSync(join(dir, 'rounds.jsonl'), 'utf8')).toBe(before); // finished results untouched
  });
});

describe('experiment command line, stopped and resumed', () => {
  it('SIGINT stops cleanly with the finished rounds kept; --resume runs only the missing ones', async () => {
    const dir = join(tmp(), 'out');
    const child = spawn('node', [cli, '--models', '2', '--rounds', '6', '--epochs', '3', '--pairs', '100', '--workers', '1', '--out', dir]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const log = join(dir, 'rounds.jsonl');
    for (let t = 0; t < 600 && !(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2); t++) await sleep(100);
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: stopping/);
    expect(stderr).toMatch(/--resume/);
    const kept = readLog(dir).rounds;
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(6);
    const again = await run('node', [cli, '--resume', dir]);
    expect(again.stderr).toMatch(new RegExp(`${kept.length} rounds already finished`));
    const all = readLog(dir).rounds;
    expect(all.map((r) => r.round).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all.slice(0, kept.length)).toEqual(kept); // finished rounds untouched
    // the report covers both sessions
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.sessions).toHaveLength(2);
    expect(results.sessions.map((x: { rounds: number }) => x.rounds)).toEqual([kept.length, 6 - kept.length]);
    expect(results.wallSeconds).toBeCloseTo(results.sessions[0].wallSeconds + results.sessions[1].wallSeconds, 6);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/over 2 sessions \(the study was resumed 1 time\)/);
  });

  it('one writer: --resume of a study still running is refused in one line; after kill -9 the stale lock is taken over', async () => {
    const dir = join(tmp(), 'out');
    const child = spawn('node', [cli, '--models', '2', '--rounds', '20', '--epochs', '3', '--pairs', '100', '--workers', '1', '--out', dir]);
    const log = join(dir, 'rounds.jsonl');
    for (let t = 0; t < 600 && !(existsSync(log) && readFileSync(log, 'utf8').length > 0); t++) await sleep(100);
    const e = await run('node', [cli, '--resume', dir]).then(() => null, (err) => err);
    expect(e.code).toBe(2);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(new RegExp(`${dir} is in use by process ${child.pid} .*one study, one writer`));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(existsSync(join(dir, 'study.lock'))).toBe(true); // left behind by kill -9
    const settings = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'));
    const kept = readLog(dir).rounds.length;
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...settings, rounds: kept + 1 })); // keep the resume short
    const again = await run('node', [cli, '--resume', dir]);
    expect(again.stderr).toMatch(new RegExp(`${kept} rounds already finished`));
    expect(readLog(dir).rounds).toHaveLength(kept + 1);
    expect(existsSync(join(dir, 'study.lock'))).toBe(false);
  });

  it('SIGTERM to `npm run experiment` reaches the study: it stops cleanly, keeps its rounds and leaves nothing running', async () => {
    const dir = join(tmp(), 'out');
    const root = new URL('..', import.meta.url).pathname;
    const npm = spawn('npm', ['run', 'experiment', '--', '--models', '2', '--rounds', '20', '--epochs', '3', '--pairs', '100', '--workers', '1', '--out', dir], { cwd: root });
    let stderr = '';
    npm.stderr.on('data', (d) => (stderr += d));
    const log = join(dir, 'rounds.jsonl');
    for (let t = 0; t < 600 && !(existsSync(log) && readFileSync(log, 'utf8').length > 0); t++) await sleep(100);
    const owner = JSON.parse(readFileSync(join(dir, 'study.lock'), 'utf8')).pid;
    npm.kill('SIGTERM');
    await new Promise((resolve) => npm.on('exit', resolve));
    for (let t = 0; t < 100 && existsSync(join(dir, 'study.lock')); t++) await sleep(100);
    expect(stderr).toMatch(/SIGTERM: stopping the workers/);
    expect(existsSync(join(dir, 'study.lock'))).toBe(false);
    expect(() => process.kill(owner, 0)).toThrow(); // the study process is gone, not orphaned
    expect(readLog(dir).rounds.length).toBeGreaterThan(0);
  });
});

describe('statistics', () => {
  it("Student's t tail against closed forms; Welch's test on a textbook case", () => {
    expect(studentTwoSided(1, 1)).toBeCloseTo(0.5, 12); // Cauchy
    for (const t of [0.3, 1.7, 4]) expect(studentTwoSided(t, 2)).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 12);
    expect(studentTwoSided(1.959963985, 1e7)).toBeCloseTo(0.05, 6); // normal limit
    const w = welch([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
    expect(w.t).toBeCloseTo(-3 / Math.sqrt(2.5), 12);
    expect(w.df).toBeCloseTo(6.25 / 1.0625, 12);
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
});
