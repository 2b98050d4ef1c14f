import type { IncomingMessage, ServerResponse } from 'node:http';

/*
 * The few Express request/response members the API uses. @types/express is not installed;
 * these keep the code typed without it (swap for `express` types if it is added).
 */
export interface Request extends IncomingMessage {
  method: string;
  baseUrl: string;
  route?: { path?: unknown };
}

export interface Response extends ServerResponse {
  status(code: number): this;
  type(type: string): this;
  json(body: unknown): this;
  send(body: unknown): this;
  attachment(filename?: string): this;
  sendFile(
    path: string,
    options: { headers?: Record<string, string> },
    callback: (err?: Error) => void,
  ): void;
}

export type NextFunction = (err?: unknown) => void;
