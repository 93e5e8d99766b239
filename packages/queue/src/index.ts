export { enqueueSpec, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_SECONDS, type EnqueueOptions, type EnqueueResult } from './enqueue';
export { startWorker, DEFAULTS as WORKER_DEFAULTS, type QueueWorker, type RunJobResult, type WorkerOptions } from './worker';
export { runJobId } from './job-id';
export { parseJobData, type RunJobData } from './job-data';
export { listRuns, type ListedRun } from './list-runs';
export { DEFAULT_QUEUE, checkQueueName } from './queue-name';
export { checkRedisUrl, redactRedisUrl } from './redis-connection';
export { WORKER_LOG } from './run-folder-state';
