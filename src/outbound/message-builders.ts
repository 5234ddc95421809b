import type { OutboundContent } from '../routing/types.js';

/**
 * Graph API bodies (Cloud API "messages" endpoint) for what the engine decided to send. Limits were
 * enforced when the content was rendered (routing/render-*.ts), so this is a plain mapping.
 */
export function graphMessageBody(to: string, content: OutboundContent): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  switch (content.kind) {
    case 'text':
      return { ...base, type: 'text', text: { preview_url: false, body: content.body } };
    case 'list':
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'list',
          ...(content.header ? { header: { type: 'text', text: content.header } } : {}),
          body: { text: content.body },
          ...(content.footer ? { footer: { text: content.footer } } : {}),
          action: {
            button: content.button,
            sections: content.sections.map((s) => ({
              ...(s.title ? { title: s.title } : {}),
              rows: s.rows.map((r) => ({
                id: r.id,
                title: r.title,
                ...(r.description ? { description: r.description } : {}),
              })),
            })),
          },
        },
      };
    case 'buttons':
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'button',
          ...(content.header ? { header: { type: 'text', text: content.header } } : {}),
          body: { text: content.body },
          ...(content.footer ? { footer: { text: content.footer } } : {}),
          action: { buttons: content.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) },
        },
      };
  }
}

/** `mensajes.tipo` of an outbound content. */
export function outboundType(content: OutboundContent): string {
  return content.kind === 'text' ? 'text' : 'interactive';
}
