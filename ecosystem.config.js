// PM2 process file: `pm2 start ecosystem.config.js` (then `pm2 reload psi-router` for zero-downtime
// deploys). The router signals readiness with process.send('ready') once it listens, so wait_ready
// holds a reload until the new process can take webhooks. kill_timeout stays above the router's
// drain bound (8 s, src/start/shutdown.ts) so in-flight work finishes before PM2 escalates to SIGKILL;
// anything still unfinished is in the journal and is picked up by the next process.
module.exports = {
  apps: [
    {
      name: 'psi-router',
      script: 'dist/start/api.js',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances: Number(process.env.ROUTER_INSTANCES || 2),
      wait_ready: true,
      listen_timeout: 15000,
      kill_timeout: 12000,
      max_memory_restart: '512M',
      // JSON lines come from pino already; PM2 adds nothing and keeps them one per line.
      log_type: 'raw',
      merge_logs: true,
      time: false,
      env: { NODE_ENV: 'production' },
    },
  ],
};
