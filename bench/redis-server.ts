// A redis-server of our own for tests and benchmarks: a free loopback port, a
// temp folder, an append-only file (so a restart keeps the queue).
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The path of redis-server, or null when it is not on the PATH. */
export function findRedisServer(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Whether the server answers (a PING, or for TLS and password servers just the connection). */
function answers(port: number, plain: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => (plain ? c.write('PING\r\n') : (c.destroy(), resolve(true))));
    c.on('data', (d) => (c.destroy(), resolve(d.toString().startsWith('+PONG'))));
    c.on('error', () => resolve(false));
  });
}

export class RedisServer {
  private proc: ChildProcess | null = null;
  /** `extra`: more redis-server arguments (--requirepass, TLS); `tls`: serve TLS only, on `port`. */
  constructor(readonly port: number, readonly extra: string[] = [], readonly tls = false, readonly bind = ['127.0.0.1'], readonly dir = mkdtempSync(join(tmpdir(), 'simdnet-redis-')), readonly bin = findRedisServer()) {
    if (!bin) throw new Error('redis-server is not on the PATH (apt-get install redis-server)');
  }
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }
  /** `bind`: the addresses to listen on (default loopback only). */
  static async start(extra: string[] = [], tls = false, bind?: string[]): Promise<RedisServer> {
    const r = new RedisServer(await freePort(), extra, tls, bind);
    await r.start();
    return r;
  }
  async start(): Promise<void> {
    const ports = this.tls ? ['--port', '0', '--tls-port', String(this.port)] : ['--port', String(this.port)];
    this.proc = spawn(this.bin!, [...ports, '--bind', ...this.bind, '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', ...this.extra], { stdio: 'ignore' });
    const plain = !this.tls && !this.extra.includes('--requirepass');
    for (let t = 0; t < 100; t++, await sleep(100)) if (await answers(this.port, plain)) return;
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}
