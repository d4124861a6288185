// Offline once loaded: a service worker (public/sw.js) keeps what the page
// fetches; this fetches through it everything the page has loaded so far and
// starts one round worker, so the worker's script is kept too.
import type { ToWorker } from './pool.js';
import { spawnWorker } from './pool.js';

/** Resolves when the page's files are kept for offline use; false where service workers are unavailable (plain http on another host, a private window). */
export async function keepForOffline(assets: Map<string, Uint8Array<ArrayBuffer>>): Promise<boolean> {
  if (!('serviceWorker' in navigator)) return false;
  try {
    await navigator.serviceWorker.register('./sw.js');
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)].filter((u) => new URL(u).origin === location.origin);
    await Promise.all(urls.map((u) => fetch(u).catch(() => null)));
    const w = spawnWorker();
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ assets } satisfies ToWorker);
    });
    w.terminate();
    return true;
  } catch (e) {
    console.warn(`simdnet: offline use is unavailable here: ${(e as Error).message}`);
    return false;
  }
}
