/**
 * AWS list prices bench/cost.ts multiplies by: us-east-1, on-demand, no free tier, the first
 * (smallest-volume) tier of each. The one place they are written.
 *
 * As of 2025-06 per the AWS pricing pages (the URLs below), from memory of those pages and checked
 * on 2026-11-23 against secondary sources quoting them (an AWS whitepaper for API Gateway; price
 * guides dated 2026 for SQS, Lambda and CloudWatch Logs), not fetched from aws.amazon.com itself:
 * check them there before quoting a figure to a customer. `sure: false` marks a price less certain
 * than the rest.
 */
export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  source: string;
  sure: boolean;
  note?: string;
}

export const PRICES_AS_OF = '2025-06';
export const PRICES_REGION = 'us-east-1';

export const prices = {
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'request',
    source: 'https://aws.amazon.com/lambda/pricing/',
    sure: true,
    note: '$0.20 per 1M requests, x86 and Arm alike',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-s',
    source: 'https://aws.amazon.com/lambda/pricing/',
    sure: true,
    note: 'Arm, first 7.5 billion GB-s a month; billed per ms, memory as configured',
  },
  httpApiRequest: {
    usd: 1.0 / 1e6,
    unit: 'request',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    sure: true,
    note: 'HTTP API, first 300M requests a month ($0.90 after); metered in 512 KB increments',
  },
  sqsStandardRequest: {
    usd: 0.4 / 1e6,
    unit: 'request',
    source: 'https://aws.amazon.com/sqs/pricing/',
    sure: true,
    note: 'standard queue, first 100 billion requests a month; each 64 KB chunk of a payload is one request',
  },
  secretsManagerApiCall: {
    usd: 0.05 / 10_000,
    unit: 'API call',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    sure: true,
    note: '$0.05 per 10,000 calls (plus $0.40 per secret a month, not per record)',
  },
  cloudWatchLogsIngestedGb: {
    usd: 0.5,
    unit: 'GB',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    sure: false,
    note: 'Standard class, first tier of the Lambda log tiers since May 2025 (lower above 10 TB a month); storage $0.03 per GB-month extra',
  },
  dataTransferOutGb: {
    usd: 0.09,
    unit: 'GB',
    source: 'https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer',
    sure: true,
    note: 'to the internet, first 10 TB a month (100 GB a month free across services, not counted here)',
  },
} as const satisfies Record<string, Price>;

/** Billing units AWS counts requests in. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
export const HTTP_API_BILLING_CHUNK_BYTES = 512 * 1024;
