/**
 * Everything of queue mode that loads BullMQ or ioredis, behind one dynamic import: runtime.ts
 * imports this module only when REDIS_URL is set, so the default direct-mode router does not carry
 * their code (about 26 MB of RSS, an eighth of its peak under load).
 */
export { adminConnection, producerConnection, workerConnection } from '../conversations/redis-connections.js';
export { queueIngest } from '../conversations/queue-ingest.js';
export { startInboundWorker } from '../conversations/inbound-worker.js';
