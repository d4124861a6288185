// The study: determinism across worker counts, retries, resume, the command
// line's error handling, and the statistics.
import { execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runStudy } from '../src/study/runner.js';
import { StudySettings } from '../src/study/settings.js';
import { readLog, startLog, appendRound } from '../src/study/log.js';
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
    startLog(dir, s);
    const ctl = new AbortController();
    const first = await runStudy(s, {
      workers: 1, signal: ctl.signal, workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onRound: (r) => { appendRound(dir, r); if (r.round === 0 && r.model === 2) ctl.abort(); },
    });
    expect(first.aborted).toBe(true);
    const kept = readLog(dir).rounds.length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(8);
    // a crash mid-write leaves a truncated line: reported, and that round reruns
    appendFileSync(join(dir, 'rounds.jsonl'), '{"model":1,"round":3,"reco');
    const log = readLog(dir);
    expect(log.problems).toEqual([expect.stringMatching(/not valid JSON/)]);
    const ran: string[] = [];
    const second = await runStudy(log.settings, {
      workers: 2, done: log.rounds, workerFile: new URL('./fixtures/flaky-worker.mjs', import.meta.url),
      onRound: (r) => { ran.push(`${r.model}:${r.round}`); appendRound(dir, r); },
    });
    expect(ran).toHaveLength(8 - 1 - kept); // everything missing except the always-failing round
    expect(second.rounds).toHaveLength(7);
    expect(readLog(dir).rounds).toHaveLength(7);
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
    await fails(['--out', join(file, 'sub')], /--out: cannot write/);
    await fails(['--resume', tmp()], /holds no settings.json/);
  });

  it('runs a small study and writes the report; refuses to overwrite it; resume finds nothing to do', async () => {
    const dir = join(tmp(), 'out');
    const { stdout } = await run('node', [cli, '--models', '1,3', '--rounds', '2', '--epochs', '2', '--pairs', '60', '--workers', '2', '--out', dir]);
    expect(stdout).toMatch(/1 no sharing\s+2\s+\d+\.\d+ ± \d+\.\d+/);
    for (const f of ['results.json', 'table.md', 'table.csv', 'figure.svg', 'figure.png', 'report.md', 'rounds.jsonl', 'settings.json']) expect(existsSync(join(dir, f)), f).toBe(true);
    const png = readFileSync(join(dir, 'figure.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.rounds).toHaveLength(4);
    expect(results.aggregates[1].finalTestDigitAccuracy.mean).toBeGreaterThan(0);
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
