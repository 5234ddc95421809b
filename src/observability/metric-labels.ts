import { MESSAGE_TYPES, STATUS_VALUES, type InboundEvent } from '../webhook/inbound-event.js';

/**
 * Label values that come from a webhook payload or a third party's answer, bounded. Every distinct
 * label value is a time series Prometheus keeps: 20,000 invented status strings made 20,004 series.
 * Known values pass; anything else is counted under `UNKNOWN_LABEL`.
 */
export const UNKNOWN_LABEL = 'unknown';

const MESSAGE_TYPE_SET = new Set<string>(MESSAGE_TYPES);
const STATUS_SET = new Set<string>(STATUS_VALUES);
// The `field`s of Meta's WhatsApp Business Account webhooks (developers.facebook.com/docs/graph-api/webhooks/reference/whatsapp-business-account).
const WEBHOOK_FIELDS = new Set([
  'messages',
  'message_echoes',
  'message_template_status_update',
  'message_template_quality_update',
  'message_template_components_update',
  'template_category_update',
  'phone_number_name_update',
  'phone_number_quality_update',
  'account_update',
  'account_review_update',
  'account_alerts',
  'account_settings_update',
  'business_capability_update',
  'business_status_update',
  'security',
  'flows',
  'history',
  'smb_app_state_sync',
  'smb_message_echoes',
  'user_preferences',
  'partner_solutions',
  'payment_configuration_update',
  'automatic_events',
  'calls',
  'tracking_events',
]);
// The reasons src/webhook/ gives an event it keeps without processing (before the first ':').
const OTHER_REASONS = new Set([
  'unhandled_field',
  'no_items',
  'missing_metadata',
  'malformed_message',
  'malformed_messages',
  'malformed_status',
  'malformed_statuses',
]);
// Meta error codes the sender knows by name (graph-errors.ts and Cloud API's error-code table).
const META_CODES = new Set([
  0, 1, 2, 3, 4, 10, 33, 100, 190, 200, 368, 470, 613, 80007, 130429, 130472, 130497, 131000, 131005, 131008, 131009,
  131016, 131021, 131026, 131031, 131037, 131042, 131045, 131047, 131048, 131049, 131050, 131051, 131052, 131053,
  131056, 131057, 132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068, 132069, 133000, 133004, 133005,
  133006, 133008, 133009, 133010, 133015, 133016, 134011, 135000,
]);

const known = (value: string, set: ReadonlySet<string>) => (set.has(value) ? value : UNKNOWN_LABEL);

/** `type` of psi_router_events_total: message type, status, webhook field or kept-event reason. */
export function eventTypeLabel(e: InboundEvent): string {
  switch (e.kind) {
    case 'message':
      return known(e.type, MESSAGE_TYPE_SET);
    case 'status':
      return known(e.status, STATUS_SET);
    case 'error':
      return known(e.field, WEBHOOK_FIELDS);
    case 'other':
      return known(e.reason.split(':')[0] ?? '', OTHER_REASONS);
  }
}

/** `code` of psi_router_outbound_total: a known Meta code or an HTTP status; '' when there is none. */
export function outboundCodeLabel(code: number | null): string {
  if (code === null) return '';
  if (META_CODES.has(code) || (Number.isInteger(code) && code >= 100 && code <= 599)) return String(code);
  return UNKNOWN_LABEL;
}
