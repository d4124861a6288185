// Rounds on Web Workers, one round per worker at a time: the browser's
// counterpart of the Piscina pool. Results are keyed by (model, round), so
// they do not depend on how many workers ran them or in which order.
import type { EpochRecord, RoundRecord, RoundTask } from '../src/index.js';

/** First the page's fetched assets (wasm, digits: the worker needs no network), then one round at a time. */
export type ToWorker = { assets: Map<string, Uint8Array<ArrayBuffer>> } | { task: RoundTask; weights: boolean; threads: number };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'epoch'; task: RoundTask; record: EpochRecord }
  | { kind: 'done'; task: RoundTask; record: RoundRecord; weights?: Uint8Array }
  | { kind: 'error'; task: RoundTask; message: string };

export interface PoolEvents {
  epoch(task: RoundTask, record: EpochRecord): void;
  done(record: RoundRecord, weights?: Uint8Array): void;
  /** A round failed twice (an exception or a crashed worker each time): left out, as in Node. */
  failed(task: RoundTask, message: string): void;
}

export const roundKey = (t: { model: number; round: number }) => `${t.model}/${t.round}`;

export const spawnWorker = () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'simdnet round' });

export class RoundPool {
  private workers = new Set<Worker>();
  private stopped = false;
  private finish: (() => void) | null = null;

  /** `assets`: what the page has fetched (src/asset.ts's fetchedAssets), copied to each worker. */
  constructor(private readonly size: number, private readonly events: PoolEvents, private readonly assets: Map<string, Uint8Array<ArrayBuffer>>) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`workers: a positive integer, got ${size}`);
  }

  /**
   * Trains the tasks, each on `threads` kernel threads; `weights(task)` says which
   * rounds send their trained weights back. Resolves when all are done or `stop` is called.
   */
  run(tasks: RoundTask[], weights: (t: RoundTask) => boolean, threads = 1): Promise<void> {
    const queue = [...tasks];
    const tries = new Map<string, number>();
    let busy = 0;
    return new Promise<void>((resolve) => {
      this.finish = resolve;
      const settle = () => {
        if (!this.stopped && queue.length === 0 && busy === 0) this.close();
      };
      const retryOrFail = (task: RoundTask, message: string) => {
        const n = (tries.get(roundKey(task)) ?? 0) + 1;
        tries.set(roundKey(task), n);
        if (n < 2) queue.unshift(task);
        else this.events.failed(task, message);
      };
      const serve = (w: Worker) => {
        const task = queue.shift();
        if (!task || this.stopped) {
          this.drop(w);
          settle();
          return;
        }
        busy++;
        w.onmessage = (e: MessageEvent<FromWorker>) => {
          const m = e.data;
          if (m.kind === 'ready') return;
          if (m.kind === 'epoch') return this.events.epoch(m.task, m.record);
          busy--;
          if (m.kind === 'done') this.events.done(m.record, m.weights);
          else retryOrFail(m.task, m.message);
          serve(w);
        };
        // a worker that dies (out of memory, a failed load) is replaced; its round is tried once more
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          busy--;
          this.drop(w);
          retryOrFail(task, `the worker stopped: ${e.message || 'unknown error'}`);
          if (!this.stopped) serve(this.add());
        };
        w.postMessage({ task, weights: weights(task), threads } satisfies ToWorker);
      };
      const n = Math.min(this.size, queue.length);
      if (n === 0) return this.close();
      for (let i = 0; i < n; i++) serve(this.add());
    });
  }

  /** Stops every worker at once; rounds in flight are lost, finished ones were already reported. */
  stop(): void {
    this.stopped = true;
    this.close();
  }

  private add(): Worker {
    const w = spawnWorker();
    w.postMessage({ assets: this.assets } satisfies ToWorker);
    this.workers.add(w);
    return w;
  }

  private drop(w: Worker): void {
    w.terminate();
    this.workers.delete(w);
  }

  private close(): void {
    for (const w of this.workers) w.terminate();
    this.workers.clear();
    this.finish?.();
    this.finish = null;
  }
}
