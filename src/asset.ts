// The package's own files (the wasm builds, the digits) by URL, in any
// runtime: node:fs under Node and Deno (Node's fetch refuses file: URLs),
// fetch in browsers and workers. node: modules are imported only when running
// on Node or Deno, so the core loads in a browser untouched.

/** True under Node or Deno (where node: modules exist). */
export function hasNodeModules(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; Deno?: unknown };
  return !!g.process?.versions?.node || !!g.Deno;
}

/** A node: module, imported only when asked for (bundlers leave the specifier alone). */
export function nodeModule<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ name) as Promise<T>;
}

/** Fetched assets by URL: a page hands them to its workers, which then need no network (offline once loaded). */
const fetched = new Map<string, Uint8Array<ArrayBuffer>>();

/** The assets this thread has fetched (not files read under Node), for `provideAssets` in a worker. */
export function fetchedAssets(): Map<string, Uint8Array<ArrayBuffer>> {
  return new Map(fetched);
}

/** Gives this thread assets fetched elsewhere (a worker from its page): `loadAsset` then uses them. */
export function provideAssets(assets: Map<string, Uint8Array<ArrayBuffer>>): void {
  for (const [href, bytes] of assets) fetched.set(href, bytes);
}

/** The bytes at `url` (a file: URL under Node and Deno, anything fetch reaches elsewhere). */
export async function loadAsset(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:' && hasNodeModules()) {
    const { readFile } = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const known = fetched.get(url.href);
  if (known) return known;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.href}: HTTP ${r.status}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  fetched.set(url.href, bytes);
  return bytes;
}
