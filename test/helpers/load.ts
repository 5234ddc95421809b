import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { postSigned } from './start-router.js';

export interface LoadResult {
  /** wamids Meta got a 200 for. */
  acked: string[];
  /** wamids whose POST failed (connection reset by a kill, 5xx): Meta would redeliver them. */
  unacked: string[];
}

/**
 * `customers` customers write at once; each sends `perCustomer` texts one after the other (the next
 * once the previous got its answer, as WhatsApp delivers a chat in order), alternating between the
 * given router URLs so one conversation's messages land on different processes. `onAck` runs after
 * every 200 (used to kill a process mid-load). Texts are plain words, so each gets one menu reply
 * when the reply limits are off (REPLY_REPEAT_SECONDS=0, REPLY_FLOOD_MESSAGES=0), as the routers
 * these tests run have them.
 */
export async function customersWriting(args: {
  urls: () => string[];
  customers: number;
  perCustomer: number;
  phonePrefix: string;
  onAck?: (ackedSoFar: number) => Promise<void> | void;
  redeliver?: boolean;
  /** Keep writing past `perCustomer` until this says stop (e.g. until a deploy finished). */
  keepGoing?: () => boolean;
  /** The business number written to (default: the fixtures' main line). */
  phoneNumberId?: string;
}): Promise<LoadResult> {
  const acked: string[] = [];
  const unacked: string[] = [];
  const base = Math.floor(Date.now() / 1000) - 60;
  await Promise.all(
    Array.from({ length: args.customers }, async (_, c) => {
      const from = `${args.phonePrefix}${String(c).padStart(4, '0')}`;
      for (let i = 0; i < args.perCustomer || (args.keepGoing?.() ?? false); i++) {
        const msg = textMessage({ from, body: `mensaje ${i} de ${c}`, timestamp: base + i });
        const body = inboundEnvelope(msg, args.phoneNumberId ? { phoneNumberId: args.phoneNumberId } : {});
        let done = false;
        // Meta redelivers what did not get a 200; so does this load (a few times) when asked to.
        for (let attempt = 0; attempt < (args.redeliver ? 20 : 1) && !done; attempt++) {
          const urls = args.urls();
          const url = urls[(c + i + attempt) % urls.length]!;
          try {
            const res = await postSigned(url, body);
            if (res.status === 200) done = true;
          } catch {
            // connection refused/reset: the process is down; try again (another process)
          }
        }
        if (done) {
          acked.push(msg.id);
          await args.onAck?.(acked.length);
        } else {
          unacked.push(msg.id);
        }
      }
    }),
  );
  return { acked, unacked };
}
