// Redis URLs: redis://[[user]:password@]host[:port][/db] and rediss:// (TLS),
// turned into BullMQ's connection options, and shown with the password hidden.
import type { ConnectionOptions } from 'bullmq';

export interface RedisTarget {
  options: ConnectionOptions;
  /** The URL with its password masked, for messages. */
  safe: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: expected redis://[:password@]host[:port][/db] or rediss://…, got "${url}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: the URL must start with redis:// or rediss:// (TLS), got "${u.protocol}//"`);
  if (!u.hostname) throw new Error('--queue: the URL names no host');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText && !/^\d+$/.test(dbText)) throw new Error(`--queue: the database must be a number, got "/${dbText}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: ConnectionOptions = {
    host, port, db: dbText ? Number(dbText) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
    // BullMQ's workers need commands to wait through a reconnection rather than fail.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  const who = u.username || u.password ? `${u.username ? decodeURIComponent(u.username) : ''}${u.password ? ':***' : ''}@` : '';
  return { options, safe: `${u.protocol}//${who}${u.host}${dbText ? `/${dbText}` : ''}` };
}
