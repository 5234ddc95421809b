// PM2 process file: `pm2 start ecosystem.config.js`, then `pm2 reload ecosystem.config.js` for
// zero-downtime deploys. Both apps call process.send('ready') once they can take work, so wait_ready
// holds a reload until the new process is up. kill_timeout stays above the drain bound (8 s,
// src/start/shutdown.ts) so in-flight work finishes before PM2 escalates to SIGKILL; whatever is
// still unfinished stays in the journal (or in Redis) and is picked up by the next process.
//
// Node.js: PM2 runs both apps with the Node that runs its daemon. Use Node 22 LTS (package.json
// engines, .nvmrc); after switching a VM to it, `npm i -g pm2` under the new Node and `pm2 update`
// (README "Runtime"). The startup banner of each app names the Node it runs on.
//
// Direct mode (default): only `psi-router` runs; QUEUE_MODE unset. Queue mode: set QUEUE_MODE=bullmq
// and REDIS_URL in .env, then `pm2 start ecosystem.config.js --only psi-router-worker` as well and
// scale with `pm2 scale psi-router-worker N`.
//
// Operations (README "Operations"): `pm2 monit` shows each process's own metrics (messages in/out per
// minute, journal, outbox, dead letters, p95, Graph circuit, queue mode, media backlog), and
// `pm2 trigger psi-router <action>` runs dead-letters, dead-letters-replay, queue-status,
// reload-catalog and readiness.
const common = {
  cwd: __dirname,
  wait_ready: true,
  listen_timeout: 20000,
  kill_timeout: 12000,
  max_memory_restart: '512M',
  // pino already writes one JSON object per line; PM2 must not prefix or merge-reformat them.
  log_type: 'raw',
  merge_logs: true,
  time: false,
  exp_backoff_restart_delay: 200,
  // HOST is not set here: the router binds 127.0.0.1 by default, so only Nginx on this machine
  // reaches it and Nginx's allow-list guards /admin and /metrics. PORT, secrets etc. come from .env.
  env: { NODE_ENV: 'production' },
};

module.exports = {
  apps: [
    {
      ...common,
      name: 'psi-router',
      script: 'dist/start/api.js',
      exec_mode: 'cluster',
      // Several instances are safe in both modes: conversations are locked in Postgres, not memory.
      instances: Number(process.env.ROUTER_INSTANCES || 2),
    },
    {
      ...common,
      name: 'psi-router-worker',
      script: 'dist/start/worker.js',
      exec_mode: 'fork',
      instances: Number(process.env.WORKER_INSTANCES || 2),
      // Only meaningful in queue mode; in direct mode keep it stopped (`pm2 stop psi-router-worker`).
      autorestart: true,
    },
  ],
};
