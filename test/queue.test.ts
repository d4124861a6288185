// Studies on many machines: a real redis-server on a free loopback port in a
// temp folder, the coordinator (`npm run experiment -- --queue`) and worker
// processes (`simdnet-worker`) as a user runs them. Without redis-server these
// tests say why and are skipped, except under CI=true, where they must run.
import { execFile, execFileSync, spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runStudy } from '../src/study/runner.js';
import { readLog } from '../src/study/log.js';
import { RoundRecord, StudySettings } from '../src/study/settings.js';
import { QUEUE_NAME } from '../src/queue/jobs.js';
import { RedisServer, findRedisServer, freePort } from '../bench/redis-server.js';

const run = promisify(execFile);
const cli = new URL('../dist/cli/experiment.js', import.meta.url).pathname;
const workerCli = new URL('../dist/cli/worker.js', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'simdnet-queue-'));

const redisBin = findRedisServer();
if (!redisBin) {
  if (process.env.CI === 'true') throw new Error('redis-server is not on the PATH: .ci/run installs it (apt-get install redis-server); under CI=true the queue tests must run');
  console.warn('queue tests skipped: no redis-server on the PATH (apt-get install redis-server)');
}

/**
 * Two network namespaces, each joined to this one by a veth pair: worker hosts
 * that reach Redis over a link of their own. Null (with the reason printed)
 * where the machine does not allow it (not root, no iproute2): then loopback.
 */
function makeHosts(): { hosts: { ns: string; redisIp: string }[]; remove: () => void } | null {
  const tag = (process.pid % 100000).toString(36);
  const hosts = [1, 2].map((i) => ({ ns: `snw${tag}${i}`, host: `snh${tag}${i}`, peer: `snp${tag}${i}`, redisIp: `10.231.${i}.1`, ip: `10.231.${i}.2` }));
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  const remove = () => {
    for (const h of hosts) {
      try {
        ip('netns', 'del', h.ns);
      } catch {
        // not made
      }
    }
  };
  try {
    for (const h of hosts) {
      ip('netns', 'add', h.ns);
      ip('link', 'add', h.host, 'type', 'veth', 'peer', 'name', h.peer);
      ip('link', 'set', h.peer, 'netns', h.ns);
      ip('addr', 'add', `${h.redisIp}/30`, 'dev', h.host);
      ip('link', 'set', h.host, 'up');
      ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.ip}/30`, 'dev', h.peer);
      ip('netns', 'exec', h.ns, 'ip', 'link', 'set', h.peer, 'up');
      ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    return { hosts: hosts.map(({ ns, redisIp }) => ({ ns, redisIp })), remove };
  } catch (e) {
    remove();
    console.warn(`queue tests: workers on loopback, no network namespaces here (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

const strip = (rs: RoundRecord[]) => rs.map(({ seconds: _s, ...r }) => r);

/** A worker process in its own empty working folder (and, given `ns`, its own network namespace). */
function worker(url: string, ...args: string[]) {
  return workerIn(null, url, ...args);
}

function workerIn(ns: string | null, url: string, ...args: string[]) {
  const cmd = ['node', workerCli, '--queue', url, '--workers', '1', '--lock-seconds', '2', ...args];
  const p = ns ? spawn('ip', ['netns', 'exec', ns, process.execPath, ...cmd.slice(1)], { cwd: tmp() }) : spawn(cmd[0], cmd.slice(1), { cwd: tmp() });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  return { p, output: () => out, done: new Promise((r) => p.on('exit', r)) };
}

function coordinator(args: string[]) {
  const p = spawn('node', [cli, ...args]);
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const code = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  return { p, stderr: () => err, code };
}

async function until(what: string, ok: () => boolean, ms = 60_000) {
  for (const t0 = Date.now(); !ok(); await sleep(100)) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
}

const linesOf = (dir: string) => (existsSync(join(dir, 'rounds.jsonl')) ? readFileSync(join(dir, 'rounds.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length : 0);

describe.skipIf(!redisBin)('studies on a BullMQ queue (real redis-server)', () => {
  let redis: RedisServer;
  let net: ReturnType<typeof makeHosts> = null;
  const kill: ChildProcess[] = [];
  beforeAll(async () => {
    net = makeHosts();
    // The namespaces' links are private to this test: Redis may answer on them without a password.
    redis = await RedisServer.start(net ? ['--protected-mode', 'no'] : [], false, ['127.0.0.1', ...(net?.hosts.map((h) => h.redisIp) ?? [])]);
  });
  // A failed test must not leave its workers taking the next test's jobs.
  afterEach(async () => {
    const alive = kill.filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of alive) p.kill('SIGKILL');
    await Promise.all(alive.map((p) => new Promise((r) => p.on('exit', r))));
    kill.length = 0;
  });
  afterAll(async () => {
    await redis?.stop();
    net?.remove();
  });
  const track = <T extends { p: ChildProcess }>(x: T) => (kill.push(x.p), x);

  it('a coordinator and two worker processes (own folders, own network namespaces where allowed) finish a study whose rounds equal the local pool bit for bit', async () => {
    const s: StudySettings = { models: [2, 4], rounds: 2, epochs: 2, pairs: 100, seed: 3, build: 'simd' };
    const local = await runStudy(s, { workers: 1 });
    const dir = join(tmp(), 'out');
    // over a veth link to Redis's address on this side, or loopback
    const [a, b] = [0, 1].map((i) => track(net ? workerIn(net.hosts[i].ns, `redis://${net.hosts[i].redisIp}:${redis.port}`) : worker(redis.url)));
    const c = track(coordinator(['--queue', redis.url, '--workers', '0', '--models', '2,4', '--rounds', '2', '--epochs', '2', '--pairs', '100', '--seed', '3', '--out', dir]));
    expect(await c.code).toBe(0);
    const byKey = (rs: RoundRecord[]) => [...rs].sort((x, y) => x.model - y.model || x.round - y.round);
    expect(strip(byKey(readLog(dir).rounds))).toEqual(strip(byKey(local.rounds)));
    expect(readLog(dir).problems).toEqual([]);
    expect(c.stderr()).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+ \(study [a-z0-9]+\), 0 local workers/);
    expect(a.output() + b.output()).toMatch(/model 4 round 1: done/);
    if (net) expect(a.output()).toMatch(new RegExp(`queue redis://${net.hosts[0].redisIp.replace(/\./g, '\\.')}:`));
    for (const w of [a, b]) w.p.kill('SIGTERM');
    await Promise.all([a.done, b.done]);
    expect(a.output()).toMatch(/SIGTERM: finishing the running rounds/);
  });

  it('kill -9 of a worker in the middle of a round: another worker runs it, every round logged once', async () => {
    const dir = join(tmp(), 'out');
    const a = track(worker(redis.url));
    const c = track(coordinator(['--queue', redis.url, '--workers', '0', '--models', '2', '--rounds', '3', '--epochs', '12', '--pairs', '400', '--out', dir]));
    await until('a round to start on worker A', () => /round \d: started/.test(a.output()));
    a.p.kill('SIGKILL');
    await a.done;
    const b = track(worker(redis.url));
    expect(await c.code).toBe(0);
    const log = readLog(dir);
    expect(log.rounds.map((r) => r.round).sort()).toEqual([0, 1, 2]);
    expect(log.problems).toEqual([]);
    expect(linesOf(dir)).toBe(3);
    b.p.kill('SIGTERM');
    await b.done;
  });

  it('kill -9 of the coordinator: the workers go on, --resume collects what finished meanwhile, nothing duplicated', async () => {
    const dir = join(tmp(), 'out');
    const w = track(worker(redis.url));
    const args = ['--models', '2', '--rounds', '4', '--epochs', '6', '--pairs', '200'];
    const c = track(coordinator(['--queue', redis.url, '--workers', '0', ...args, '--out', dir]));
    await until('a first round in the log', () => linesOf(dir) >= 1);
    c.p.kill('SIGKILL');
    await c.code;
    await until('the worker to finish the other rounds', () => (w.output().match(/done in/g) ?? []).length >= 4).catch((e) => {
      throw new Error(`${e.message}; worker said:\n${w.output()}`);
    });
    const again = await run('node', [cli, '--resume', dir, '--queue', redis.url, '--workers', '0']);
    expect(again.stderr).toMatch(/resuming .*: [1-4] rounds already finished/);
    const log = readLog(dir);
    expect(log.rounds.map((r) => r.round).sort()).toEqual([0, 1, 2, 3]);
    expect(log.problems).toEqual([]);
    expect(linesOf(dir)).toBe(4);
    // nothing of the study is left waiting in Redis
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    const study = JSON.parse(readFileSync(join(dir, 'queue.json'), 'utf8')).study;
    const left = (await q.getJobs(['completed', 'waiting', 'active', 'failed'])).filter((j) => j.id?.startsWith(study));
    await q.close();
    expect(left).toEqual([]);
    w.p.kill('SIGTERM');
    await w.done;
  });

  it('a malformed job fails with a clear reason and the worker goes on with the study', async () => {
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    await q.add('round', { v: 1, study: 'Not An Id', task: { model: 2 } }, { jobId: 'junk-1' });
    await q.add('round', { v: 1, study: 'abcdefgh12', task: { model: 2, round: 0, seed: 0, epochs: 1, pairs: 10, build: 'simd' }, code: 'process.exit()' }, { jobId: 'junk-2' });
    const w = track(worker(redis.url));
    const dir = join(tmp(), 'out');
    const c = track(coordinator(['--queue', redis.url, '--workers', '0', '--models', '1', '--rounds', '2', '--epochs', '1', '--pairs', '20', '--out', dir]));
    expect(await c.code).toBe(0);
    expect(readLog(dir).rounds).toHaveLength(2);
    const [j1, j2] = [await q.getJob('junk-1'), await q.getJob('junk-2')];
    expect(await j1!.getState()).toBe('failed');
    expect(j1!.failedReason).toMatch(/malformed job: study id "Not An Id"/);
    expect(j2!.failedReason).toMatch(/malformed job: unknown fields code/);
    expect(j1!.attemptsMade).toBe(1); // not retried: no attempt can mend a payload
    await q.obliterate({ force: true });
    await q.close();
    w.p.kill('SIGTERM');
    await w.done;
  });

  it('Redis stopped and restarted mid-study: workers and coordinator reconnect, the study completes with every round once', async () => {
    const dir = join(tmp(), 'out');
    const w = track(worker(redis.url));
    const c = track(coordinator(['--queue', redis.url, '--workers', '0', '--models', '2', '--rounds', '4', '--epochs', '6', '--pairs', '200', '--out', dir]));
    await until('a first round in the log', () => linesOf(dir) >= 1);
    await redis.stop();
    await sleep(1500);
    await redis.start();
    expect(await c.code).toBe(0);
    expect(c.stderr()).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+: .*retrying/);
    const log = readLog(dir);
    expect(log.rounds.map((r) => r.round).sort()).toEqual([0, 1, 2, 3]);
    expect(log.problems).toEqual([]);
    w.p.kill('SIGTERM');
    await w.done;
  });

  it('password and TLS URLs: a study runs through redis://:password@ and rediss://; a wrong password is named', async () => {
    const secret = await RedisServer.start(['--requirepass', 's3cret']);
    try {
      const url = secret.url.replace('redis://', 'redis://:s3cret@');
      const dir = join(tmp(), 'out');
      const ok = await run('node', [cli, '--queue', url, '--workers', '1', '--models', '2', '--rounds', '1', '--epochs', '1', '--pairs', '20', '--out', dir]);
      expect(readLog(dir).rounds).toHaveLength(1);
      expect(ok.stderr).toMatch(/queue redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
      expect(ok.stderr).not.toMatch(/s3cret/);
      const wrong = await run('node', [cli, '--queue', secret.url.replace('redis://', 'redis://:nope@'), '--workers', '0', '--models', '2', '--rounds', '1', '--epochs', '1', '--pairs', '20', '--out', join(tmp(), 'o')]).then(() => null, (e) => e);
      expect(wrong.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ within 10 s \((WRONGPASS|NOAUTH)[^)]*\)/);
    } finally {
      await secret.stop();
    }
    // TLS: a throw-away CA and a server certificate for 127.0.0.1; the clients trust the CA through NODE_EXTRA_CA_CERTS
    const d = tmp(), ssl = (...a: string[]) => run('openssl', a, { cwd: d });
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=simdnet test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(d, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem');
    const tls = await RedisServer.start(['--tls-cert-file', join(d, 'server.pem'), '--tls-key-file', join(d, 'server.key'), '--tls-ca-cert-file', join(d, 'ca.pem'), '--tls-auth-clients', 'no'], true);
    try {
      expect(tls.url).toMatch(/^rediss:\/\//);
      const dir = join(tmp(), 'out');
      await run('node', [cli, '--queue', tls.url, '--workers', '1', '--models', '2', '--rounds', '1', '--epochs', '1', '--pairs', '20', '--out', dir], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(d, 'ca.pem') } });
      expect(readLog(dir).rounds).toHaveLength(1);
    } finally {
      await tls.stop();
    }
  }, 60_000);

  it('a bad or unreachable URL gets one clear line', async () => {
    const bad = await run('node', [cli, '--queue', 'http://x', '--out', join(tmp(), 'o')]).then(() => null, (e) => e);
    expect(bad.stderr).toMatch(/--queue: the URL must start with redis:\/\/ or rediss:\/\/ \(TLS\)/);
    const down = await run('node', [cli, '--queue', `redis://:secret@127.0.0.1:${await freePort()}`, '--rounds', '1', '--epochs', '1', '--pairs', '10', '--models', '2', '--out', join(tmp(), 'o')]).then(() => null, (e) => e);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ within 10 s/);
    expect(down.stderr).not.toMatch(/secret/);
  }, 30_000);
});
