import { randomUUID } from 'node:crypto';

/** What the sandbox customer does: type a text, or tap a reply button or a list row. */
export type SandboxInput =
  | { kind: 'text'; text: string }
  | { kind: 'button_reply'; id: string; title: string }
  | { kind: 'list_reply'; id: string; title: string; description?: string | undefined };

export interface SandboxEnvelopeArgs {
  phoneNumberId: string;
  displayPhoneNumber: string;
  customer: { phone: string; name: string };
  input: SandboxInput;
  /** wamid of the router message the tap answers (WhatsApp sends it as `context`). */
  contextWamid?: string | null | undefined;
  now?: Date;
}

/**
 * The webhook body Meta would post for one customer message, so the sandbox enters the pipeline by
 * the same door as WhatsApp (signature, journal, routing). The wamid is new every time: the router
 * deduplicates on it.
 */
export function sandboxEnvelope(args: SandboxEnvelopeArgs): { wamid: string; body: Record<string, unknown> } {
  const wamid = `wamid.SANDBOX${randomUUID().replaceAll('-', '').toUpperCase()}`;
  const content =
    args.input.kind === 'text'
      ? { type: 'text', text: { body: args.input.text } }
      : args.input.kind === 'button_reply'
        ? {
            type: 'interactive',
            interactive: { type: 'button_reply', button_reply: { id: args.input.id, title: args.input.title } },
          }
        : {
            type: 'interactive',
            interactive: {
              type: 'list_reply',
              list_reply: {
                id: args.input.id,
                title: args.input.title,
                ...(args.input.description ? { description: args.input.description } : {}),
              },
            },
          };
  const message = {
    from: args.customer.phone,
    id: wamid,
    timestamp: String(Math.floor((args.now ?? new Date()).getTime() / 1000)),
    ...(args.contextWamid ? { context: { from: args.displayPhoneNumber, id: args.contextWamid } } : {}),
    ...content,
  };
  return {
    wamid,
    body: {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'sandbox',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: args.displayPhoneNumber, phone_number_id: args.phoneNumberId },
                contacts: [{ profile: { name: args.customer.name }, wa_id: args.customer.phone }],
                messages: [message],
              },
            },
          ],
        },
      ],
    },
  };
}
