// A Web Worker of the page: the browser's counterpart of a Piscina worker. It
// loads the kernels and the digits once and trains the rounds it is given
// (src/study/worker.ts's runRound, as in Node), reporting every epoch.
import { runRound, provideAssets, setHelperWorker } from '../src/index.js';
import type { ToWorker, FromWorker } from './pool.js';

// kernel threads for a round that gets more than one (fewer rounds than workers; the page is cross-origin isolated)
setHelperWorker(() => new Worker(new URL('./helper.ts', import.meta.url), { type: 'module', name: 'simdnet kernel thread' }));

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(m, transfer);

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  if ('assets' in e.data) {
    provideAssets(e.data.assets);
    return post({ kind: 'ready' });
  }
  const { task, weights, threads } = e.data;
  try {
    const r = await runRound(task, { weights, threads, onEpoch: (record) => post({ kind: 'epoch', task, record }) });
    post({ kind: 'done', task, record: r.record, weights: r.weights }, r.weights ? [r.weights.buffer as ArrayBuffer] : []);
  } catch (err) {
    post({ kind: 'error', task, message: err instanceof Error ? err.message : String(err) });
  }
};
