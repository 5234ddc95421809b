import type { Logger } from 'pino';
import { graphVersionStatus, type GraphVersionStatus } from './graph-version-status.js';
import { DEFAULT_GRAPH_API_VERSION, GRAPH_API_VERSIONS, type GraphApiVersion } from './graph-versions.js';

export interface GraphVersionWatchOptions {
  /** The clock; tests pin it. Default: the system clock. */
  now?: () => Date;
  /** How often the warning is repeated. Default: once a day. */
  intervalMs?: number;
  table?: readonly GraphApiVersion[];
}

const DAY_MS = 86_400_000;
const MOVE_HINT = 'README "Moving Graph API versions"';

/**
 * Watches WHATSAPP_API_VERSION against Meta's published expiry dates. A process can run for months
 * between deploys, so the warning is repeated daily, not only at start; /ready and /metrics call
 * current(), which reads the clock each time rather than the last log line.
 */
export class GraphVersionWatch {
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => Date;
  private readonly table: readonly GraphApiVersion[];

  constructor(
    readonly version: string,
    private readonly log: Logger,
    private readonly options: GraphVersionWatchOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.table = options.table ?? GRAPH_API_VERSIONS;
  }

  current(): GraphVersionStatus {
    return graphVersionStatus(this.version, this.now(), this.table);
  }

  /** Logs where the version stands now, then re-checks once a day. Idempotent. */
  start(): void {
    if (this.timer) return;
    this.report('start');
    // unref: a pending daily check must not keep a process alive that is otherwise done.
    this.timer = setInterval(() => this.report('daily'), this.options.intervalMs ?? DAY_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One log line for what the status calls for; the daily check speaks only when there is a problem. */
  report(when: 'start' | 'daily'): GraphVersionStatus {
    const status = this.current();
    const { version, expires, daysLeft } = status;
    const suggested = this.suggestion();
    const move = `move WHATSAPP_API_VERSION${suggested ? ` to ${suggested}` : ''}`;
    const fields = { version, expires, daysLeft, ...(suggested ? { suggested } : {}) };
    switch (status.state) {
      case 'expired':
        this.log.error(
          { code: 'GRAPH_VERSION_EXPIRED', ...fields },
          `Graph API ${version} is past Meta's expiry date: Cloud API calls at it are no longer promised to work; ${move} (${MOVE_HINT})`,
        );
        break;
      case 'expiring':
        this.log.warn(
          { code: 'GRAPH_VERSION_EXPIRING', ...fields },
          `Graph API ${version} stops working on ${expires} (${daysLeft} days left): ${move} before then (${MOVE_HINT})`,
        );
        break;
      case 'unknown':
        if (when === 'start') {
          this.log.info(
            { code: 'GRAPH_VERSION_UNKNOWN', version, newestKnown: this.table[0]?.version ?? null },
            `Graph API ${version} is not in this release's table of Meta's expiry dates: accepted as configured, without expiry warnings`,
          );
        }
        break;
      case 'expiry_not_set':
        if (when === 'start')
          this.log.info(
            { version },
            `Meta has not published an expiry date for Graph API ${version} yet: no expiry warnings until a release carries it`,
          );
        break;
      case 'current':
        if (when === 'start') this.log.info({ version, expires, daysLeft }, 'Graph API version');
        break;
    }
    return status;
  }

  /** The release's default, when it is another version still in good standing. */
  private suggestion(): string | null {
    if (this.version === DEFAULT_GRAPH_API_VERSION) return null;
    const fallback = graphVersionStatus(DEFAULT_GRAPH_API_VERSION, this.now(), this.table);
    return fallback.state === 'current' ? DEFAULT_GRAPH_API_VERSION : null;
  }
}
