import { BRAZE_MAX_RECIPIENTS_PER_TRIGGER } from '../braze/limits';
import type { DeliveryQueue, IngressFlow, ScheduledJob } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

export const odpFlows: readonly IngressFlow[] = [
  {
    id: 'odp-activation',
    seed: '004',
    description: `ODP activation -> Braze: profile update (/users/track), campaign or Canvas trigger (${BRAZE_MAX_RECIPIENTS_PER_TRIGGER} recipients per call)`,
    source: 'odp',
    method: 'POST',
    path: '/optimizely/activation',
    entry: 'functions/odp/activation.ts',
    // Profile updates take the realtime /users/track lane; campaign and Canvas triggers their own.
    queue: 'braze-track',
    alsoFeeds: ['braze-triggers'],
    // ODP's activation webhook sets headers.
    auth: ['bearer'],
    throttle: { rateLimit: 100, burstLimit: 200 },
    // The schema's 10,000 records; `fields` become Braze attributes and trigger properties (nested objects allowed).
    limits: { maxRecords: 10_000, recordsField: 'records', maxDepth: 32 },
    caller: 'ODP: activation webhook, header `Authorization: Bearer <odp inbound_token>`',
  },
  {
    id: 'odp-currents',
    seed: '004',
    description: 'Braze Currents custom HTTP export -> ODP events (/v3/events), every field under _braze, dated by ts, each event id once',
    source: 'odp',
    method: 'POST',
    path: '/optimizely/currents',
    entry: 'functions/odp/currents.ts',
    queue: 'odp-events',
    // Currents' custom HTTP connector sends a bearer token in the Authorization header.
    auth: ['bearer'],
    throttle: { rateLimit: 100, burstLimit: 200 },
    // Braze batches 100 events by default and the batch size is configurable ("if batch size is
    // configured for 200 events", Braze's custom Currents connector page): up to 1,000 are taken.
    // Their properties are the app's own JSON.
    limits: { maxRecords: 1_000, recordsField: 'events', maxDepth: 32 },
    caller: 'Braze: *Currents*, Custom HTTP export, bearer token = `<odp inbound_token>`',
    // Braze checks a Current's credentials with zero events or an empty body and wants a 2xx no-op
    // (braze-inc/braze-docs _docs/_partners/isv_partners/currents_integration.md, "Payload examples").
    emptyBody: { events: [] },
  },
];

export const odpQueues: readonly DeliveryQueue[] = [
  {
    id: 'odp-events',
    destination: 'odp',
    lane: 'realtime',
    description: 'ODP events from Braze Currents, combined up to 500 per /v3/events call.',
    rateLimit: 'ODP events: no documented limit, up to 500 objects per request (ODP_MAX_OBJECTS_PER_REQUEST); 429 honours Retry-After',
    limits: { itemsPerCall: 500, itemsPerCallSetting: 'ODP_MAX_OBJECTS_PER_REQUEST', bytesPerCall: 4 * 1024 * 1024, concurrency: 2 },
    drive: { kind: 'event-source', batchSize: 500, maxBatchingWindowSeconds: 2, maxConcurrency: 2 },
    consumer: { entry: 'functions/odp/events-delivery.ts', flowId: 'odp-events-delivery', timeoutSeconds: 60, memoryMb: 512 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
    // Currents resends whole batches: an event id is remembered two days.
    dedupe: { ttlSeconds: 48 * 3600 },
  },
];

export const odpJobs: readonly ScheduledJob[] = [
  {
    id: 'odp-segment-sync',
    seed: '004',
    description: 'Nightly: Braze segments (/segments/list, /users/export/segment) -> ODP profiles (/v3/profiles, 500 per call, 10 calls/s)',
    destination: 'odp',
    // It lists and exports Braze segments with Braze's key (segments.list, users.export.segment).
    alsoReads: ['braze'],
    entry: 'functions/odp/segment-sync.ts',
    flowId: 'odp-segment-sync',
    trigger: { kind: 'schedule', scheduleSetting: 'ODP_SYNC_SCHEDULE' },
    // A step stops starting calls 60 s before this and saves where it stopped; the next step goes on.
    timeoutSeconds: 900,
    memoryMb: 512,
    // Nightly: a run still going after 20 h is stopped (and alarmed) before the next one starts.
    maxRunHours: 20,
    localScript: 'sync:odp',
    // The sandbox's export is ready at the second check: no need to wait a minute locally.
    localDefaults: { ODP_EXPORT_POLL_SECONDS: '1' },
  },
];
