import { describe, expect, it } from 'vitest';
import type { InboundMessageEvent } from '../../../src/webhook/inbound-event.js';
import { MESSAGE_TYPES } from '../../../src/webhook/inbound-event.js';
import { parseWebhookBody } from '../../../src/webhook/parse-events.js';
import {
  adReferral,
  allMessageTypes,
  audioMessage,
  bodyOf,
  buttonReplyMessage,
  contactsMessage,
  documentMessage,
  editMessage,
  envelope,
  flowReplyMessage,
  imageMessage,
  inboundEnvelope,
  listReplyMessage,
  locationMessage,
  message,
  messagesChange,
  nextWamid,
  orderMessage,
  reactionMessage,
  replyContext,
  revokeMessage,
  stickerMessage,
  systemMessage,
  templateButtonMessage,
  unknownTypeMessage,
  unsupportedMessage,
} from '../../fixtures/whatsapp/builders.js';
import type { MetaMessage } from '../../fixtures/whatsapp/builders.js';

/** Parses a single-message webhook and returns the one message event (fails the test otherwise). */
function one(m: MetaMessage): InboundMessageEvent {
  const events = parseWebhookBody(bodyOf(inboundEnvelope(m, { name: 'Lucía Fernández' })));
  expect(events).toHaveLength(1);
  const [ev] = events;
  if (ev?.kind !== 'message') throw new Error(`expected a message event, got ${JSON.stringify(ev)}`);
  return ev;
}

describe('message types: one sample of each', () => {
  const samples = allMessageTypes();

  it('when allMessageTypes() is used, then it covers every MessageType exactly once', () => {
    expect(samples.map((s) => s.tipo).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  it.each(samples.map((s) => [s.tipo, s] as const))(
    'when a %s message arrives, then type, text and media id match',
    (_tipo, s) => {
      const ev = one(s.message);
      expect(ev.type).toBe(s.tipo);
      expect(ev.rawType).toBe(s.rawType);
      expect(ev.text).toBe(s.text);
      expect(ev.media?.id ?? null).toBe(s.mediaId);
      expect(ev.wamid).toBe(s.message.id);
      expect(ev.timestamp).toBe(Number(s.message.timestamp));
      expect(ev.from).toBe('5491155550001');
      expect(ev.profileName).toBe('Lucía Fernández');
    },
  );
});

describe('message types: details', () => {
  it('when an image arrives, then every media field is mapped', () => {
    const m = imageMessage({ caption: 'Foto 📷', mediaId: '1479537139650973' });
    const ev = one(m);
    expect(ev.media).toEqual({
      id: '1479537139650973',
      mimeType: 'image/jpeg',
      sha256: (m['image'] as { sha256: string }).sha256,
      filename: null,
      caption: 'Foto 📷',
      voice: false,
      animated: false,
    });
  });

  it('when a voice note arrives, then media.voice is true and text is null', () => {
    const ev = one(audioMessage({ voice: true }));
    expect(ev.media?.voice).toBe(true);
    expect(ev.media?.mimeType).toBe('audio/ogg; codecs=opus');
    expect(ev.text).toBeNull();
  });

  it('when an animated sticker arrives, then media.animated is true', () => {
    expect(one(stickerMessage({ animated: true })).media?.animated).toBe(true);
  });

  it('when a document has a caption, then text is the caption and the filename is kept on media', () => {
    const ev = one(documentMessage({ caption: 'Acá va el certificado', filename: 'certificado.pdf' }));
    expect(ev.text).toBe('Acá va el certificado');
    expect(ev.media?.filename).toBe('certificado.pdf');
  });

  it('when a location has no name or address, then text is "lat,long" and details.location holds the point', () => {
    const ev = one(locationMessage({ latitude: -34.6037, longitude: -58.3816 }));
    expect(ev.text).toBe('-34.6037,-58.3816');
    expect(ev.details['location']).toEqual({
      latitude: -34.6037,
      longitude: -58.3816,
      name: null,
      address: null,
      url: null,
    });
  });

  it('when several contact cards are shared, then text joins their names and details.contacts keeps the cards', () => {
    const m = contactsMessage({
      cards: [
        { name: 'Ana Pérez', phone: '5491155550003' },
        { name: 'Ñandú Sur', phone: '5491155550004' },
      ],
    });
    const ev = one(m);
    expect(ev.text).toBe('Ana Pérez, Ñandú Sur');
    expect(ev.details['contacts']).toEqual(m['contacts']);
  });

  it('when a reply button is tapped, then interactive is a button_reply with id and title', () => {
    const ev = one(buttonReplyMessage({ replyId: 'op_2', title: 'Horarios 🕐' }));
    expect(ev.interactive).toEqual({
      kind: 'button_reply',
      id: 'op_2',
      title: 'Horarios 🕐',
      description: null,
      response: null,
    });
    expect(ev.text).toBe('Horarios 🕐');
  });

  it('when a list row is chosen, then interactive is a list_reply with its description', () => {
    const ev = one(listReplyMessage({ rowId: 'row_b1', title: 'Inglés B1', description: 'Lunes 18 h' }));
    expect(ev.interactive).toEqual({
      kind: 'list_reply',
      id: 'row_b1',
      title: 'Inglés B1',
      description: 'Lunes 18 h',
      response: null,
    });
    expect(ev.text).toBe('Inglés B1');
  });

  it('when a flow is submitted, then response_json is parsed and text is the body', () => {
    const ev = one(
      flowReplyMessage({ name: 'flow', body: 'Enviado', response: { flow_token: 't-1', turno: 'noche' } }),
    );
    expect(ev.type).toBe('interactive');
    expect(ev.interactive?.kind).toBe('nfm_reply');
    expect(ev.interactive?.response).toEqual({ flow_token: 't-1', turno: 'noche' });
    expect(ev.text).toBe('Enviado');
  });

  it('when response_json is not JSON, then the raw string is kept', () => {
    const m = message('interactive', {
      type: 'nfm_reply',
      nfm_reply: { name: 'flow', body: 'Sent', response_json: 'not {json' },
    });
    expect(one(m).interactive?.response).toBe('not {json');
  });

  it('when an interactive subtype is unknown, then kind is unknown and the raw object is kept', () => {
    const m = message('interactive', { type: 'carousel_reply', carousel_reply: { id: 'c1' } });
    const ev = one(m);
    expect(ev.type).toBe('interactive');
    expect(ev.interactive?.kind).toBe('unknown');
    expect(ev.details['interactive']).toEqual(m['interactive']);
  });

  it('when a template quick reply is tapped, then type is button with payload as id', () => {
    const ev = one(templateButtonMessage({ payload: 'BAJA', text: 'No quiero recibir más' }));
    expect(ev.type).toBe('button');
    expect(ev.interactive).toEqual({
      kind: 'button',
      id: 'BAJA',
      title: 'No quiero recibir más',
      description: null,
      response: null,
    });
    expect(ev.text).toBe('No quiero recibir más');
  });

  it('when a reaction arrives, then reaction holds the target wamid and emoji', () => {
    const target = nextWamid();
    const ev = one(reactionMessage({ messageId: target, emoji: '👍🏽' }));
    expect(ev.reaction).toEqual({ messageId: target, emoji: '👍🏽' });
    expect(ev.text).toBe('👍🏽');
  });

  it.each([
    ['without an emoji key', null],
    ['with an empty emoji', ''],
  ])('when a reaction is removed (%s), then emoji and text are null', (_label, emoji) => {
    const target = nextWamid();
    const ev = one(reactionMessage({ messageId: target, emoji }));
    expect(ev.type).toBe('reaction');
    expect(ev.reaction).toEqual({ messageId: target, emoji: null });
    expect(ev.text).toBeNull();
  });

  it('when an order has no text, then text summarises its items and details.order is normalised', () => {
    const ev = one(
      orderMessage({
        catalogId: 'cat-1',
        items: [
          { productRetailerId: 'curso-b1', quantity: 2, itemPrice: 45000 },
          { productRetailerId: 'libro', quantity: 1, itemPrice: 12000, currency: 'USD' },
        ],
      }),
    );
    expect(ev.text).toBe('Order: 2 × curso-b1, 1 × libro');
    expect(ev.details['order']).toEqual({
      catalogId: 'cat-1',
      text: null,
      productItems: [
        { productRetailerId: 'curso-b1', quantity: 2, itemPrice: 45000, currency: 'ARS' },
        { productRetailerId: 'libro', quantity: 1, itemPrice: 12000, currency: 'USD' },
      ],
    });
  });

  it('when a system message reports a number change, then details.system holds the new number', () => {
    const ev = one(systemMessage({ newWaId: '5491155550009' }));
    expect(ev.details['system']).toEqual({
      type: 'user_changed_number',
      body: 'User Lucía Fernández changed from 5491155550001 to 5491155550009',
      newWaId: '5491155550009',
      customer: null,
    });
  });

  it('when a message is revoked, then details.originalMessageId names it', () => {
    const original = nextWamid();
    const ev = one(revokeMessage({ originalMessageId: original }));
    expect(ev.type).toBe('revoke');
    expect(ev.details['originalMessageId']).toBe(original);
    expect(ev.text).toBeNull();
  });

  it('when a message is edited, then text is the new body and details.originalMessageId names the original', () => {
    const original = nextWamid();
    const ev = one(editMessage({ originalMessageId: original, body: 'Nuevo texto ✏️' }));
    expect(ev.type).toBe('edit');
    expect(ev.text).toBe('Nuevo texto ✏️');
    expect(ev.details).toEqual({ originalMessageId: original, editedType: 'text' });
  });

  it('when an edited media caption arrives, then text is the caption and media is the edited media', () => {
    const inner = imageMessage({ caption: 'Caption corregido', mediaId: '555' });
    const ev = one(
      message('edit', { original_message_id: 'wamid.X', message: { type: 'image', image: inner['image'] } }),
    );
    expect(ev.text).toBe('Caption corregido');
    expect(ev.media?.id).toBe('555');
  });

  it('when Meta sends unsupported with errors, then type is unsupported and errors are mapped', () => {
    const ev = one(unsupportedMessage());
    expect(ev.type).toBe('unsupported');
    expect(ev.rawType).toBe('unsupported');
    expect(ev.errors).toEqual([
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        details: 'Message type is currently not supported.',
      },
    ]);
  });

  it('when the message type is unknown, then it is unsupported (not a throw) with the sub-object kept under its key', () => {
    const ev = one(unknownTypeMessage({ rawType: 'hologram', content: { shape: 'cube' } }));
    expect(ev.type).toBe('unsupported');
    expect(ev.rawType).toBe('hologram');
    expect(ev.details).toEqual({ hologram: { shape: 'cube' } });
    expect(ev.text).toBeNull();
  });

  it('when the message type names an Object.prototype member, then nothing from the prototype leaks into details', () => {
    const ev = one(message('constructor', undefined));
    expect(ev.type).toBe('unsupported');
    expect(ev.details).toEqual({});
  });

  it('when a known type has a malformed sub-object, then the message still parses with null content', () => {
    const ev = one(message('text', { body: 42 }));
    expect(ev.type).toBe('text');
    expect(ev.text).toBeNull();
  });
});

describe('message context, referral and errors', () => {
  it('when a message replies to another, then context carries the quoted wamid and forwarded flags', () => {
    const quoted = nextWamid();
    const ev = one(
      imageMessage({ context: replyContext({ messageId: quoted, from: '15550783881', frequentlyForwarded: true }) }),
    );
    expect(ev.context).toEqual({
      messageId: quoted,
      from: '15550783881',
      forwarded: false,
      frequentlyForwarded: true,
      referredProduct: null,
    });
  });

  it('when a product enquiry arrives, then context.referredProduct is mapped', () => {
    const ev = one(
      message(
        'text',
        { body: '¿Tienen stock?' },
        {
          context: replyContext({
            from: '15550783881',
            messageId: nextWamid(),
            referredProduct: { catalogId: 'cat-9', productRetailerId: 'sku-7' },
          }),
        },
      ),
    );
    expect(ev.context?.referredProduct).toEqual({ catalogId: 'cat-9', productRetailerId: 'sku-7' });
  });

  it('when the customer comes from a click-to-WhatsApp ad, then referral includes ctwa_clid and media URLs go to details', () => {
    const ev = one(
      message(
        'text',
        { body: 'Hola, vi el anuncio' },
        { referral: adReferral({ ctwaClid: 'clid-123', sourceId: 'ad-1' }) },
      ),
    );
    expect(ev.referral).toEqual({
      sourceUrl: 'https://fb.me/3cr4Wqqkv',
      sourceId: 'ad-1',
      sourceType: 'ad',
      headline: 'Curso intensivo de verano ☀️',
      body: 'Inscribite hoy y obtené un 20% de descuento',
      mediaType: 'image',
      ctwaClid: 'clid-123',
    });
    expect(ev.details['referralMedia']).toEqual({
      imageUrl: 'https://scontent.xx.fbcdn.net/v/t45.1600-4/ad-image.jpg',
      videoUrl: null,
      thumbnailUrl: 'https://scontent.xx.fbcdn.net/v/t45.1600-4/ad-thumb.jpg',
    });
  });

  it('when a plain message arrives, then context, referral and errors are empty', () => {
    const ev = one(message('text', { body: 'hola' }));
    expect([ev.context, ev.referral, ev.errors, ev.details]).toEqual([null, null, [], {}]);
  });

  it('when a change without contacts carries the message (system), then profile fields are null', () => {
    const events = parseWebhookBody(bodyOf(envelope(messagesChange({ messages: [systemMessage()] }))));
    const [ev] = events;
    expect(ev?.kind === 'message' && [ev.from, ev.profileName, ev.username]).toEqual(['5491155550001', null, null]);
  });
});
