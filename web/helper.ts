// A kernel thread of a round's worker (src/team.ts): the page's side of
// setHelperWorker. It receives the shared memory and compiled module, and
// serves its part of every split kernel call until the round ends.
import { runHelper } from '../src/index.js';
import type { HelperData } from '../src/index.js';

self.onmessage = (e: MessageEvent<HelperData>) => {
  void runHelper(e.data, () => (self as unknown as { postMessage(m: unknown): void }).postMessage('ready'));
};
