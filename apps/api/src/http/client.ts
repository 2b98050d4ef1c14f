import type { IncomingMessage } from 'node:http';

/** The client a limit applies to: its address as Express sees it (honours `trust proxy`). */
export function clientOf(req: IncomingMessage & { ip?: string }): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}
