import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * How many searches one client may launch per window. Only launches that were accepted count, so
 * a client correcting bad bodies is not locked out; everything else falls under the general rate
 * limit. In memory, per API process.
 */
export class LaunchQuota {
  private readonly launches = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 when `client` has used its launches in the current window. */
  check(client: string): void {
    if (this.limit <= 0) return;
    const recent = this.recent(client);
    if (recent.length >= this.limit) {
      const retryS = Math.ceil((recent[0]! + this.windowMs - this.now()) / 1000);
      throw new HttpException(
        {
          message: `budget: at most ${this.limit} searches per ${this.windowMs / 1000} s from one client; retry in ${retryS} s`,
          error: 'Too Many Requests',
          field: 'budget',
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  record(client: string): void {
    if (this.limit <= 0) return;
    const recent = this.recent(client);
    recent.push(this.now());
    this.launches.set(client, recent);
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.launches.get(client) ?? []).filter((t) => t > since);
    if (kept.length) this.launches.set(client, kept);
    else this.launches.delete(client);
    return kept;
  }
}
