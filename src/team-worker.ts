// A helper thread of a Team on Node and Deno (src/team.ts): instantiates the
// kernels on the shared memory, takes its own packing workspace, then serves calls.
import { workerData, parentPort } from 'node:worker_threads';
import { runHelper, HelperData } from './team.js';

await runHelper(workerData as HelperData, () => parentPort!.postMessage('ready'));
