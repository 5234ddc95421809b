import { Agent, request } from 'node:http';
import { signBody } from '../../src/webhook/verify-signature.js';
import { inboundEnvelope } from '../../test/fixtures/whatsapp/builders.js';
import { scriptBaseTs, scriptStep, stepTimestamp, STEPS_PER_CUSTOMER } from './conversations.js';
import type { Outside } from './ramp.js';
import { pct, round } from './stats.js';

export interface ClosedLoopResult {
  customers: number;
  seconds: number;
  messages: number;
  replies: number;
  /** Inbound messages per second over the run. */
  rate: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  errors: number;
}

/**
 * The issue-12 measurement: `customers` people at once, each sends its next message only after the
 * previous one was acknowledged and, when the router answers it, after the answer reached the Graph
 * simulator. A customer who finishes the script is replaced by a new one. The offered load is
 * whatever the router can take, so CPU per message is measured at saturation.
 */
export async function closedLoop(args: {
  port: number;
  outside: Outside;
  secret: string;
  customers: number;
  seconds: number;
  phonePrefix: string;
}): Promise<ClosedLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: args.customers });
  const waiting = new Map<string, () => void>();
  let cursor = args.outside.sim.sent.length;
  const harvester = setInterval(() => {
    const sent = args.outside.sim.sent;
    for (; cursor < sent.length; cursor++) {
      const wake = waiting.get(sent[cursor]!.to);
      if (wake) {
        waiting.delete(sent[cursor]!.to);
        wake();
      }
    }
  }, 1);
  const acks: number[] = [];
  const e2e: number[] = [];
  let messages = 0;
  let replies = 0;
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + args.seconds * 1000;
  const baseTs = scriptBaseTs();
  const post = (body: Buffer) =>
    new Promise<number>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: args.port,
          path: '/webhook',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-hub-signature-256': signBody(body, args.secret),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const customer = async () => {
    while (performance.now() < deadline) {
      const phone = `${args.phonePrefix}${String(next++).padStart(7, '0')}`;
      for (let step = 0; step < STEPS_PER_CUSTOMER && performance.now() < deadline; step++) {
        const { msg, reply } = scriptStep(phone, step, stepTimestamp(baseTs, step));
        const body = Buffer.from(JSON.stringify(inboundEnvelope(msg)), 'utf8');
        const started = performance.now();
        const answered = reply ? new Promise<void>((r) => waiting.set(phone, r)) : null;
        const status = await post(body);
        acks.push(performance.now() - started);
        messages += 1;
        if (status !== 200) {
          errors += 1;
          waiting.delete(phone);
          continue;
        }
        if (answered) {
          const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
          if ((await Promise.race([answered, timeout])) === 'timeout') {
            errors += 1;
            waiting.delete(phone);
            break;
          }
          replies += 1;
          e2e.push(performance.now() - started);
        }
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: args.customers }, customer));
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(harvester);
  agent.destroy();
  return {
    customers: args.customers,
    seconds: round(elapsed, 1),
    messages,
    replies,
    rate: round(messages / elapsed, 0),
    ackP99: round(pct(acks, 0.99), 2),
    e2eP50: round(pct(e2e, 0.5), 1),
    e2eP99: round(pct(e2e, 0.99), 1),
    errors,
  };
}
