/**
 * simdnet for Node (and Deno): everything of the core entry point, plus the
 * parts that need a file system, threads or sockets: a whole study on a
 * Piscina pool (`runStudy`), its log and report, and studies on a BullMQ queue.
 * @packageDocumentation
 */
export * from './index.js';
export { runStudy, runRounds, defaultWorkers, checkCapacity } from './study/runner.js';
export type { StudyResult, RunOptions, RunResult, StudyProgress, RoundFailure } from './study/runner.js';
export { StudyLog, readLog, LogWriteError } from './study/log.js';
export type { ReadLog, Session } from './study/log.js';
export { writeReport } from './report/report.js';
export { runQueued } from './queue/coordinator.js';
export type { QueuedRunOptions } from './queue/coordinator.js';
export { startQueueWorker } from './queue/worker.js';
export type { QueueWorker, QueueWorkerOptions } from './queue/worker.js';
