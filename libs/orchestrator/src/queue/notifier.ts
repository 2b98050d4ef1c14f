import { Client } from 'pg';
import type { Sql } from '@detsearch/persistence';
import type { SearchEvent } from '../types';

/** What goes over the channel: progress events for other processes, and "jobs are waiting". */
export type QueueMessage =
  { kind: 'event'; origin: string; event: SearchEvent } | { kind: 'jobs'; queue: string };

/** NOTIFY payloads above this are refused by Postgres (8000 bytes); such events are dropped. */
const MAX_PAYLOAD = 7900;

/** The channel of a database schema, so test schemas sharing one server do not wake each other. */
export const channelFor = (schema: string | undefined): string => `detsearch:${schema ?? 'public'}`;

/**
 * Postgres LISTEN/NOTIFY for the queue: a worker wakes as soon as a job is committed instead of
 * at its next poll, and the search loop hears that a trial finished at once. Notifications are
 * a latency optimization only; every waiter also polls, so a dropped connection costs speed, not
 * correctness. One dedicated connection per process (LISTEN needs a session of its own).
 */
export class PgNotifier {
  private client: Client | null = null;
  private readonly listeners = new Set<(m: QueueMessage) => void>();
  private closed = false;
  private reconnect: NodeJS.Timeout | null = null;

  constructor(
    private readonly databaseUrl: string,
    readonly channel: string,
    private readonly log?: (msg: string, extra?: Record<string, unknown>) => void,
  ) {}

  async start(): Promise<this> {
    await this.connect();
    return this;
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', (n) => {
      if (n.channel !== this.channel || !n.payload) return;
      let message: QueueMessage;
      try {
        message = JSON.parse(n.payload) as QueueMessage;
      } catch {
        return;
      }
      for (const l of this.listeners) l(message);
    });
    const retry = (err: unknown) => {
      if (this.closed || this.client !== client) return;
      this.client = null;
      this.log?.('notification connection lost; retrying', { error: String(err) });
      client.end().catch(() => undefined);
      this.reconnect = setTimeout(() => void this.connect().catch(retry), 1000);
      this.reconnect.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry('ended'));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${quoteIdent(this.channel)}`);
  }

  on(listener: (m: QueueMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends `message`; inside a transaction it is delivered when that transaction commits. */
  async notify(sql: Sql, message: QueueMessage): Promise<void> {
    const payload = JSON.stringify(message);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) {
      this.log?.('notification too large; dropped', { kind: message.kind, bytes: payload.length });
      return;
    }
    await sql.query(`SELECT pg_notify($1, $2)`, [this.channel, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    const c = this.client;
    this.client = null;
    this.listeners.clear();
    await c?.end().catch(() => undefined);
  }
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
