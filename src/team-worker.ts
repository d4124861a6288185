// A helper thread of a Team (src/team.ts): instantiates the kernels on the
// shared memory, takes its own packing workspace, then serves calls.
import { workerData, parentPort } from 'node:worker_threads';
import * as simdThreads from '../build/simdnet.simd-threads.js';
import * as scalarThreads from '../build/simdnet.scalar-threads.js';
import { Team, HelperData } from './team.js';

const data = workerData as HelperData;
const { instantiate } = data.build === 'simd' ? simdThreads : scalarThreads;
const exports = await instantiate(data.module, { env: { memory: data.memory } });
exports.set_workspace(data.workspace, data.workspaceBytes);
exports.set_barrier_spins(data.spin);
parentPort!.postMessage('ready');
Team.serve(data, exports as unknown as Record<string, unknown>);
