/**
 * Small HTTP helpers for the API server: reading bodies, writing JSON and `Status` answers, and
 * turning any error into the `Status` a Kubernetes client expects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api/errors.js';
import type { Status } from '../api/types.js';

/** Where the API server reports what it cannot tell the client (internal errors). */
export interface ApiServerLogger {
  info(message: string): void;
  error(message: string, err?: unknown): void;
}

/** Request bodies larger than this are refused (Kubernetes allows 3 MiB of JSON). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole request body; 413 when it is larger than `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(413, 'BadRequest', `the request body is too large: limit is ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body; 400 with the wording Kubernetes uses when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** Parses a JSON body that must be an object (an API object, DeleteOptions, a Binding...). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const v = parseJson(body);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: expected a JSON object, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
  }
  return v as Record<string, unknown>;
}

/**
 * Adds each warning as an HTTP `Warning: 299 - "<text>"` header, as the Kubernetes API server
 * does (clients print them as `Warning: <text>`). Non-ASCII characters become `?`, since header
 * values are Latin-1; quotes and backslashes are escaped.
 */
export function setWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (!warnings.length) return;
  const values = [...new Set(warnings)].map((w) => `299 - "${w.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, (c) => `\\${c}`)}"`);
  res.setHeader('Warning', values);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/** A `Status` of success, as Kubernetes answers a binding (201) or a delete without object. */
export function successStatus(code: number, details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) s.details = details;
  return s;
}

/**
 * Turns any thrown value into a `Status` answer. ApiErrors are user-facing and sent as they
 * are; anything else is a bug: logged with its stack, answered with a 500 InternalError that
 * carries no stack.
 */
export function errorStatus(err: unknown, logger: ApiServerLogger, what: string): Status {
  if (err instanceof ApiError) return err.toStatus();
  logger.error(`internal error serving ${what}`, err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`).toStatus();
}

export function sendError(res: ServerResponse, err: unknown, logger: ApiServerLogger, what: string): void {
  const status = errorStatus(err, logger, what);
  if (res.headersSent) {
    // A stream already started: the status line is gone, all we can do is stop.
    res.destroy();
    return;
  }
  sendJson(res, status.code ?? 500, status);
}

export const notFoundPath = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
