/** Everything the routes share: what was sent, what was refused, what is scripted next. */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-io.js';
import type { MetaErrorBody } from './meta-error-bodies.js';
import { AwaitableLog, RecordedLog } from './recorded-log.js';
import type { StatusWebhookSender } from './status-webhooks.js';
import type { DownMode, Rejection, RequestCounters, ScriptedFailure, SentMessage } from './types.js';

export interface SimulatorState {
  readonly accessToken: string;
  readonly latencyMs: number;
  readonly sent: AwaitableLog<SentMessage>;
  readonly rejected: RecordedLog<Rejection>;
  readonly requests: RequestCounters;
  /** FIFO: each send request takes the first one. */
  readonly script: ScriptedFailure[];
  down: DownMode | null;
  readonly webhooks: StatusWebhookSender | null;
}

export function createState(o: {
  accessToken: string;
  latencyMs: number;
  maxRecorded: number | undefined;
  webhooks: StatusWebhookSender | null;
}): SimulatorState {
  return {
    accessToken: o.accessToken,
    latencyMs: o.latencyMs,
    sent: new AwaitableLog<SentMessage>(o.maxRecorded),
    rejected: new RecordedLog<Rejection>(o.maxRecorded),
    requests: zeroCounters(),
    script: [],
    down: null,
    webhooks: o.webhooks,
  };
}

export function resetState(state: SimulatorState): void {
  state.sent.clear();
  state.rejected.clear();
  Object.assign(state.requests, zeroCounters());
  state.script.length = 0;
  state.down = null;
  state.webhooks?.resetCounts();
}

function zeroCounters(): RequestCounters {
  return { ok: 0, auth_error: 0, invalid: 0, scripted_error: 0, down: 0 };
}

/** Answers a Meta error body, counting and recording it. */
export function reject(
  state: SimulatorState,
  res: ServerResponse,
  outcome: Exclude<keyof RequestCounters, 'ok'>,
  status: number,
  body: MetaErrorBody,
): void {
  state.requests[outcome] += 1;
  state.rejected.push({ status, code: body.error.code, details: body.error.error_data?.details ?? body.error.message });
  sendJson(res, status, body);
}
