import type { Partner } from '../core/catalogue-types';
import { movableInkFlows, movableInkQueues } from './catalogue';
import { movableInkDoctor } from './doctor';
import { movableInkSandboxAnswer } from './sandbox';
import { movableInkSettings } from './settings';

/** Movable Ink Customer Data API (seed 001). */
export const movableInk: Partner = {
  id: 'movable-ink',
  description: 'Movable Ink Customer Data API: Braze behavioural events as track / identify',
  // No deploy default URL: Movable Ink issues each customer its own endpoint (key included).
  settings: { schema: movableInkSettings, deployRequired: ['MOVABLE_INK_API_URL'] },
  // Basic credentials (Authorization); `username` / `password`, as Movable Ink names them, are read too (delivery.ts).
  secret: { inbound: true, outbound: ['api_username', 'api_password'], optional: ['username', 'password'] },
  sandbox: { urlSetting: 'MOVABLE_INK_API_URL', answer: movableInkSandboxAnswer },
  doctor: movableInkDoctor,
  flows: movableInkFlows,
  queues: movableInkQueues,
  jobs: [],
};
