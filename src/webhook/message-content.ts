/**
 * Turns the type-specific part of an inbound message (`message[message.type]`) into the normalised
 * content fields: `type`, the `text` an agent reads, media, interactive reply, reaction and the
 * type-specific `details`. Pure; never throws: missing or malformed content degrades to nulls, and
 * a type we do not know becomes `unsupported` with Meta's sub-object kept under its own key.
 */
import type { InteractiveReply, MediaRef, MediaType, MessageType, Reaction } from './inbound-event.js';
import { MEDIA_TYPES } from './inbound-event.js';
import {
  buttonSchema,
  contactCardSchema,
  editSchema,
  interactiveSchema,
  locationSchema,
  mediaSchema,
  orderItemSchema,
  orderSchema,
  reactionSchema,
  read,
  revokeSchema,
  systemSchema,
  textSchema,
} from './content-schemas.js';

export interface MessageContent {
  type: MessageType;
  text: string | null;
  media: MediaRef | null;
  interactive: InteractiveReply | null;
  reaction: Reaction | null;
  details: Record<string, unknown>;
}

const empty = (type: MessageType): MessageContent => ({
  type,
  text: null,
  media: null,
  interactive: null,
  reaction: null,
  details: {},
});

const isMediaType = (t: string): t is MediaType => (MEDIA_TYPES as readonly string[]).includes(t);

/**
 * `item` is the raw message object; `rawType` its `type` ('' when absent). Own-property lookup only,
 * so a type such as `constructor` cannot pick up something from Object.prototype.
 */
export function normaliseContent(rawType: string, item: Record<string, unknown>): MessageContent {
  const body = rawType !== '' && Object.hasOwn(item, rawType) ? item[rawType] : undefined;
  if (isMediaType(rawType)) return mediaContent(rawType, body);
  switch (rawType) {
    case 'text':
      return { ...empty('text'), text: read(textSchema, body)?.body ?? null };
    case 'location':
      return locationContent(body);
    case 'contacts':
      return contactsContent(body);
    case 'interactive':
      return interactiveContent(body);
    case 'button': {
      const button = read(buttonSchema, body);
      const title = button?.text ?? null;
      return {
        ...empty('button'),
        text: title,
        interactive: { kind: 'button', id: button?.payload ?? null, title, description: null, response: null },
      };
    }
    case 'reaction': {
      const reaction = read(reactionSchema, body);
      // No emoji (or "") means the customer removed their reaction.
      const emoji = reaction?.emoji ?? null;
      const messageId = reaction?.message_id;
      return { ...empty('reaction'), text: emoji, reaction: messageId ? { messageId, emoji } : null };
    }
    case 'order':
      return orderContent(body);
    case 'system': {
      const system = read(systemSchema, body);
      return {
        ...empty('system'),
        text: system?.body ?? null,
        details: {
          system: {
            type: system?.type ?? null,
            body: system?.body ?? null,
            // Meta has used both names for the customer's new number.
            newWaId: system?.new_wa_id ?? system?.wa_id ?? null,
            customer: system?.customer ?? null,
          },
        },
      };
    }
    case 'request_welcome':
      return empty('request_welcome');
    case 'revoke':
      return {
        ...empty('revoke'),
        details: { originalMessageId: read(revokeSchema, body)?.original_message_id ?? null },
      };
    case 'edit':
      return editContent(body);
    default:
      // 'unsupported' itself and anything Meta invents later.
      return { ...empty('unsupported'), details: body === undefined || rawType === '' ? {} : { [rawType]: body } };
  }
}

function mediaContent(type: MediaType, body: unknown): MessageContent {
  const m = read(mediaSchema, body);
  const caption = m?.caption ?? null;
  const filename = m?.filename ?? null;
  const media: MediaRef | null = m?.id
    ? {
        id: m.id,
        mimeType: m.mime_type ?? null,
        sha256: m.sha256 ?? null,
        filename,
        caption,
        voice: m.voice ?? false,
        animated: m.animated ?? false,
      }
    : null;
  return {
    ...empty(type),
    text: type === 'document' ? (caption ?? filename) : caption,
    media,
    details: m?.url ? { mediaUrl: m.url } : {},
  };
}

function locationContent(body: unknown): MessageContent {
  const l = read(locationSchema, body);
  const location = {
    latitude: l?.latitude ?? null,
    longitude: l?.longitude ?? null,
    name: l?.name ?? null,
    address: l?.address ?? null,
    url: l?.url ?? null,
  };
  const label = [location.name, location.address].filter((s) => s !== null).join(', ');
  const coords =
    location.latitude !== null && location.longitude !== null ? `${location.latitude},${location.longitude}` : null;
  return { ...empty('location'), text: label !== '' ? label : coords, details: { location } };
}

function contactsContent(body: unknown): MessageContent {
  const cards = Array.isArray(body) ? body : [];
  const names = cards
    .map((card) => {
      const name = read(contactCardSchema, card)?.name;
      if (name?.formatted_name) return name.formatted_name;
      const parts = [name?.first_name, name?.last_name].filter((s) => s !== undefined);
      return parts.length > 0 ? parts.join(' ') : null;
    })
    .filter((n) => n !== null);
  return { ...empty('contacts'), text: names.length > 0 ? names.join(', ') : null, details: { contacts: cards } };
}

function interactiveContent(body: unknown): MessageContent {
  const i = read(interactiveSchema, body);
  const reply = (
    r: Omit<InteractiveReply, 'description' | 'response'> & Partial<InteractiveReply>,
  ): InteractiveReply => ({
    description: null,
    response: null,
    ...r,
  });
  switch (i?.type) {
    case 'button_reply': {
      const r = i.button_reply;
      const interactive = reply({ kind: 'button_reply', id: r?.id ?? null, title: r?.title ?? null });
      return { ...empty('interactive'), text: interactive.title, interactive };
    }
    case 'list_reply': {
      const r = i.list_reply;
      const interactive = reply({
        kind: 'list_reply',
        id: r?.id ?? null,
        title: r?.title ?? null,
        description: r?.description ?? null,
      });
      return { ...empty('interactive'), text: interactive.title, interactive };
    }
    case 'nfm_reply': {
      // Flow answer: `name` identifies the flow kind (e.g. "flow", "address_message"), `body` is
      // the summary the customer saw, `response_json` the answers.
      const r = i.nfm_reply;
      const interactive = reply({
        kind: 'nfm_reply',
        id: r?.name ?? null,
        title: r?.body ?? null,
        response: parseMaybeJson(r?.response_json),
      });
      return { ...empty('interactive'), text: interactive.title, interactive };
    }
    default:
      return {
        ...empty('interactive'),
        interactive: reply({ kind: 'unknown', id: null, title: null }),
        details: body === undefined ? {} : { interactive: body },
      };
  }
}

function parseMaybeJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function orderContent(body: unknown): MessageContent {
  const o = read(orderSchema, body);
  const productItems = (o?.product_items ?? []).map((raw) => {
    const item = read(orderItemSchema, raw);
    return {
      productRetailerId: item?.product_retailer_id ?? null,
      quantity: item?.quantity ?? null,
      itemPrice: item?.item_price ?? null,
      currency: item?.currency ?? null,
    };
  });
  const summary =
    productItems.length === 0
      ? 'Order'
      : `Order: ${productItems.map((p) => `${p.quantity ?? '?'} × ${p.productRetailerId ?? '?'}`).join(', ')}`;
  return {
    ...empty('order'),
    text: o?.text ?? summary,
    details: { order: { catalogId: o?.catalog_id ?? null, text: o?.text ?? null, productItems } },
  };
}

function editContent(body: unknown): MessageContent {
  const e = read(editSchema, body);
  const inner = e?.message;
  const innerType = inner?.type ?? '';
  // The edited message is shaped like any inbound message; reuse the same mapping for its text and
  // media (never recursing into a nested edit).
  const edited = inner && innerType !== 'edit' ? normaliseContent(innerType, inner) : null;
  return {
    ...empty('edit'),
    text: edited?.text ?? null,
    media: edited?.media ?? null,
    details: { originalMessageId: e?.original_message_id ?? null, editedType: innerType === '' ? null : innerType },
  };
}
