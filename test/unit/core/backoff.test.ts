import { deliveryQueues } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import {
  DELIVERY_MAX_RECEIVE_COUNT,
  FIRST_RETRY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  retryDelaySeconds,
  secondsBeforeReceive,
  waitSeconds,
} from '../../../functions/core/delivery/backoff';
import { loadSettings } from '../../../functions/core/settings';
import { seenSettings } from '../../../functions/seen/settings';

const DAY = 24 * 3600;
const awsMax = loadConfig({}).DELIVERY_BACKOFF_MAX_SECONDS;

describe('the retry backoff', () => {
  it('doubles from the first wait with each receive, up to the longest', () => {
    const backoff = { firstSeconds: 30, maxSeconds: 900 };

    expect([1, 2, 3, 4, 5, 6, 50].map((receive) => retryDelaySeconds(receive, backoff))).toEqual([30, 60, 120, 240, 480, 900, 900]);
  });

  it('honours a longer wait the destination asked for, within the longest visibility SQS allows', () => {
    const backoff = { firstSeconds: 30, maxSeconds: 900 };

    expect(waitSeconds(1, backoff, 3_600_000)).toBe(3600);
    expect(waitSeconds(1, backoff, 10)).toBe(30);
    expect(waitSeconds(1, backoff, 40 * 3_600_000)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it('is 900 s at most in AWS unless DELIVERY_BACKOFF_MAX_SECONDS says otherwise', () => {
    expect(awsMax).toBe(900);
    expect(loadConfig({ DELIVERY_BACKOFF_MAX_SECONDS: '60' }).DELIVERY_BACKOFF_MAX_SECONDS).toBe(60);
  });
});

describe('maxReceiveCount of every delivery queue', () => {
  const seenInterval = loadSettings(seenSettings, {}).SEEN_DRAIN_INTERVAL_SECONDS;

  it.each(deliveryQueues.map((queue) => [queue.id, queue] as const))(
    '%s rides out a 24-hour outage of its destination without parking anything',
    (_id, queue) => {
      const firstSeconds = queue.drive.kind === 'schedule' ? seenInterval : FIRST_RETRY_SECONDS;

      const waited = secondsBeforeReceive(queue.maxReceiveCount, { firstSeconds, maxSeconds: awsMax });

      expect(queue.maxReceiveCount).toBe(DELIVERY_MAX_RECEIVE_COUNT);
      expect(waited).toBeGreaterThanOrEqual(DAY);
    },
  );

  it('is not so large that a message that keeps failing waits more than two days before it is parked', () => {
    expect(secondsBeforeReceive(DELIVERY_MAX_RECEIVE_COUNT, { firstSeconds: FIRST_RETRY_SECONDS, maxSeconds: awsMax })).toBeLessThan(2 * DAY);
  });
});
