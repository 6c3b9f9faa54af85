/**
 * The ODP event fields the Currents mapping writes (functions/odp/transform.ts), what
 * `npx bridge setup odp` creates on ODP's `events` object (functions/odp/setup.ts): ODP keeps a
 * custom field's value only once the field exists in the account's schema (ODP "Objects and
 * fields": "the new fields only capture data after you create them").
 *
 * Source of the property names and their types: every Custom HTTP sample event Braze publishes
 * (Appboy/currents-examples, sample-data/Custom HTTP/**, commit d6a71e3, "Regenerate
 * currents-examples for Currents v10"), the examples the Braze Currents docs link to, which include
 * every property of the examples on Braze's custom Currents connector page
 * (braze-inc/braze-docs _docs/_partners/isv_partners/currents_integration.md).
 * test/unit/odp/event-fields.test.ts checks that every `_braze_*` field the mapping makes of those
 * examples is declared here. A property Braze adds later is still sent as `_braze_<property>`; ODP
 * keeps it once the field exists (add it here and run the set-up again, or create it in ODP).
 *
 * `json`: an object or array, sent as JSON text (an ODP text field); ODP field types are
 * `string`, `number`, `boolean`, `timestamp` (ZaiusInc/node-sdk src/Api/Types/Schema.ts FieldDefinition).
 */
export type OdpFieldType = 'string' | 'number' | 'boolean';
type PropertyType = OdpFieldType | 'json';

/** Braze Currents `properties` keys -> their type in Braze's samples. */
const CURRENTS_PROPERTY_TYPES: Readonly<Record<string, PropertyType>> = {
  abort_log: 'string',
  abort_type: 'string',
  action: 'string',
  activity_attributes_type: 'string',
  activity_id: 'string',
  ad_id: 'string',
  ad_id_type: 'string',
  ad_tracking_enabled: 'boolean',
  agent_id: 'string',
  agent_name: 'string',
  alt_accuracy: 'number',
  altitude: 'number',
  app_group_id: 'string',
  app_id: 'string',
  attempt_count: 'number',
  banner_placement_id: 'string',
  bounce_reason: 'string',
  browser: 'string',
  bsuid: 'string',
  button_action_type: 'string',
  button_id: 'string',
  button_string: 'string',
  cache_hit: 'boolean',
  cache_tokens: 'number',
  campaign_id: 'string',
  campaign_name: 'string',
  canvas_entry_id: 'string',
  canvas_id: 'string',
  canvas_name: 'string',
  canvas_step_id: 'string',
  canvas_step_message_variation_api_id: 'string',
  canvas_step_name: 'string',
  canvas_variation_id: 'string',
  canvas_variation_name: 'string',
  card_id: 'string',
  carrier: 'string',
  catalog_id: 'string',
  category: 'string',
  channel: 'string',
  channel_identifier: 'string',
  combination_token: 'string',
  completion_tokens: 'number',
  content_card_id: 'string',
  content_length: 'number',
  content_optimizer_step_id: 'string',
  conversion_behavior: 'string',
  conversion_behavior_index: 'number',
  country: 'string',
  currency: 'string',
  custom_properties: 'json',
  deferral_reason: 'string',
  device_class: 'string',
  device_model: 'string',
  device_os: 'string',
  dispatch_id: 'string',
  duration: 'number',
  element_label: 'string',
  element_type: 'string',
  email_address: 'string',
  endpoint_url: 'string',
  error: 'string',
  esp: 'string',
  exit_reason: 'string',
  experiment_split_id: 'string',
  experiment_split_name: 'string',
  experiment_step_id: 'string',
  feature_flag_id_name: 'string',
  flow_id: 'string',
  flow_response_json: 'string',
  from_domain: 'string',
  from_phone_number: 'string',
  from_rcs_sender: 'string',
  gender: 'string',
  host: 'string',
  http_status_code: 'number',
  in_control_group: 'boolean',
  in_reply_to: 'string',
  inbound_phone_number: 'string',
  input: 'string',
  interaction_type: 'string',
  invocation_id: 'string',
  invocation_source: 'string',
  ios_push_token_apns_gateway: 'number',
  ip_pool: 'string',
  is_amp: 'boolean',
  is_canvas_entry: 'boolean',
  is_drop: 'boolean',
  is_error: 'boolean',
  is_sms_fallback: 'boolean',
  is_suspected_bot_click: 'boolean',
  is_terminal: 'boolean',
  language: 'string',
  latitude: 'number',
  line_channel_id: 'string',
  line_channel_name: 'string',
  link_alias: 'string',
  link_id: 'string',
  live_activity_event_outcome: 'string',
  live_activity_event_type: 'string',
  ll_accuracy: 'number',
  llm_owned_by_customer: 'boolean',
  locale_key: 'string',
  longitude: 'number',
  machine_open: 'string',
  mailbox_provider: 'string',
  media_id: 'string',
  media_urls: 'json',
  message_body: 'string',
  message_extras: 'string',
  message_id: 'string',
  message_variation_id: 'string',
  message_variation_name: 'string',
  model_name: 'string',
  model_provider: 'string',
  name: 'string',
  native_line_id: 'string',
  next_step_id: 'string',
  os_version: 'string',
  output: 'string',
  phone_number: 'string',
  platform: 'string',
  price: 'number',
  product_id: 'string',
  progression_type: 'string',
  prompt_tokens: 'number',
  provider_error_code: 'string',
  provider_error_title: 'string',
  provider_request_id: 'string',
  purchase_properties: 'json',
  push_to_start_token: 'string',
  push_token: 'string',
  push_token_created_at: 'number',
  push_token_device_id: 'string',
  push_token_foreground_push_disabled: 'boolean',
  push_token_provisionally_opted_in: 'boolean',
  push_token_state_change_type: 'string',
  push_token_updated_at: 'number',
  quick_reply_text: 'string',
  raw_response: 'string',
  reasoning_tokens: 'number',
  recipient_domain: 'string',
  request_id: 'string',
  resolution: 'string',
  retry_count: 'number',
  retry_log: 'string',
  retry_type: 'string',
  sdk_version: 'string',
  send_id: 'string',
  sending_ip: 'string',
  session_id: 'string',
  short_url: 'string',
  source: 'string',
  state_change_source: 'string',
  subscription_group_id: 'string',
  subscription_status: 'string',
  suspected_bot_click_reason: 'json',
  template_name: 'string',
  time_ms: 'number',
  to_phone_number: 'string',
  to_rcs_sender: 'string',
  tool_arguments: 'string',
  tool_call_id: 'string',
  tool_name: 'string',
  total_tokens: 'number',
  update_token: 'string',
  url: 'string',
  url_path: 'string',
  user_agent: 'string',
  user_phone_number: 'string',
  web_push_token_public_key: 'string',
  web_push_token_user_auth: 'string',
  web_push_token_vapid_public_key: 'string',
  webhook_duration: 'number',
  webhook_failure_source: 'string',
};

/** Braze Currents `user` keys other than `user_id` (sent as `_braze_user_id`): `_braze_user_<key>`. */
const CURRENTS_USER_FIELDS: readonly string[] = ['device_id', 'external_user_id', 'timezone'];

export interface OdpEventField {
  /** The field's name on ODP's `events` object. */
  name: string;
  type: OdpFieldType;
  display_name: string;
  description: string;
}

/** `_braze_campaign_id` -> `Braze Campaign Id`: unique per field, as ODP wants display names. */
function displayName(name: string): string {
  return name
    .replace(/^_+/, '')
    .split('_')
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
}

const field = (name: string, type: OdpFieldType, description: string): OdpEventField => ({ name, type, display_name: displayName(name), description });

/** Every field the mapping writes for the documented events, in a stable order (ODP's own `ts` is not among them: ODP has it). */
export const ODP_EVENT_FIELDS: readonly OdpEventField[] = [
  field('_braze_event_id', 'string', 'Braze Currents: the event id'),
  field('_braze_event_type', 'string', 'Braze Currents: the event type, e.g. users.messages.email.Open'),
  field('_braze_user_id', 'string', 'Braze Currents: the Braze user id (user.user_id)'),
  ...CURRENTS_USER_FIELDS.map((key) => field(`_braze_user_${key}`, 'string', `Braze Currents: user.${key}`)),
  ...Object.entries(CURRENTS_PROPERTY_TYPES).map(([key, type]) =>
    field(`_braze_${key}`, type === 'json' ? 'string' : type, `Braze Currents: properties.${key}${type === 'json' ? ' (JSON text)' : ''}`),
  ),
];

/** The declared type of a field the mapping writes, by name. */
export const ODP_EVENT_FIELD_TYPES: ReadonlyMap<string, OdpFieldType> = new Map(ODP_EVENT_FIELDS.map((f) => [f.name, f.type]));
