import { PermanentDeliveryError } from '../core/errors';
import { type HttpClient, joinUrl } from '../core/http';
import type { OdpProfile } from './profile-map';

export interface OdpProfilesClientOptions {
  /** ODP_API_URL. */
  apiUrl: string;
  /** The ODP API key, read once per `send` (from the secret store). */
  apiKey: () => Promise<string>;
  /** Holds the retry policy: 429/5xx are retried there. */
  http: HttpClient;
  /** Awaited before every call (ODP_PROFILE_CALLS_PER_SECOND); one pacer per process. */
  pace: () => Promise<void>;
}

export interface SendProfilesOptions {
  deadline: number;
  /** Called for each profile ODP refused on its own (its status); the caller knows where it came from. */
  onRefused?: (status: number | undefined) => void;
}

export interface ProfilesSent {
  /** /v3/profiles calls that succeeded. */
  requests: number;
  /** Profiles ODP refused on their own. */
  rejected: number;
}

/** What ODP says about the profiles of a call (not about the key or the endpoint: those are DestinationConfigErrors). */
const refusesProfiles = (error: unknown): error is PermanentDeliveryError =>
  error instanceof PermanentDeliveryError && (error.status === 400 || error.status === 413 || error.status === 422);

/**
 * ODP `POST /v3/profiles` (`x-api-key`), one call at a time at the pacer's rate. A call ODP refuses
 * (400, 413, 422) is split in halves down to the profile it refuses, which is counted, never
 * retried; every other fault (a 401/403 DestinationConfigError, retries run out) is thrown.
 */
export class OdpProfilesClient {
  private readonly url: string;

  constructor(private readonly options: OdpProfilesClientOptions) {
    this.url = joinUrl(options.apiUrl, 'v3/profiles');
  }

  async send(profiles: readonly OdpProfile[], options: SendProfilesOptions): Promise<ProfilesSent> {
    const sent: ProfilesSent = { requests: 0, rejected: 0 };
    if (profiles.length > 0) await this.sendSplitting(profiles, await this.options.apiKey(), options, sent);
    return sent;
  }

  private async sendSplitting(profiles: readonly OdpProfile[], key: string, options: SendProfilesOptions, sent: ProfilesSent): Promise<void> {
    await this.options.pace();
    try {
      await this.options.http.send(
        { method: 'POST', url: this.url, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(profiles) },
        { label: 'odp profiles', deadline: options.deadline },
      );
      sent.requests += 1;
    } catch (error) {
      if (!refusesProfiles(error)) throw error;
      if (profiles.length === 1) {
        options.onRefused?.(error.status);
        sent.rejected += 1;
        return;
      }
      const half = Math.ceil(profiles.length / 2);
      await this.sendSplitting(profiles.slice(0, half), key, options, sent);
      await this.sendSplitting(profiles.slice(half), key, options, sent);
    }
  }
}
