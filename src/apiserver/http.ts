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

/** Request bodies larger than this are refused, as Kubernetes refuses them (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/**
 * How deeply JSON (and YAML) bodies may nest. Kubernetes' decoder allows 10,000 levels; here
 * the bound is 1,000 because JavaScript's own JSON.stringify and the patch code recurse and
 * overflow the stack a few thousand levels down. No Kubernetes object nests past ~30.
 */
export const MAX_JSON_DEPTH = 1000;
/** A refused body is still read (and thrown away) up to this size, so the client gets its 413. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/** 413 `Request entity too large: limit is 3145728`, as Kubernetes answers. */
export const tooLarge = (): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`);

/**
 * Reads the whole request body; 413 when it is (or announces to be) larger than
 * `MAX_BODY_BYTES`. A refused body is still read to its end (and thrown away) before the 413
 * is given, so the client, which is still sending, reads a Status instead of a reset
 * connection; past `MAX_DISCARD_BYTES` the connection is dropped instead.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = Number(req.headers['content-length'] ?? NaN) > MAX_BODY_BYTES;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused || size > MAX_BODY_BYTES) {
        refused = true;
        chunks.length = 0;
        if (size > MAX_DISCARD_BYTES) {
          reject(tooLarge());
          req.socket.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (refused ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * Scans JSON text without building it: 400 when it nests deeper than `MAX_JSON_DEPTH`, and
 * returns the paths of keys repeated within one object (`spec.replicas`), which JSON.parse
 * would silently collapse. Malformed text is left for JSON.parse to report.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): { duplicates: string[] } {
  interface Frame { keys?: Set<string>; key: string; index: number }
  const stack: Frame[] = [];
  const duplicates: string[] = [];
  let expectKey = false;
  const pathTo = (key: string): string => {
    let p = '';
    for (let f = 0; f < stack.length - 1; f++) {
      const fr = stack[f];
      p = fr.keys ? (p ? `${p}.${fr.key}` : fr.key) : `${p}[${fr.index}]`;
    }
    return p ? `${p}.${key}` : key;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, j);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(`"${raw}"`) as string;
          } catch {
            key = raw; // malformed escape: JSON.parse of the whole body reports it
          }
        }
        if (top.keys.has(key)) duplicates.push(pathTo(key));
        else top.keys.add(key);
        top.key = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: exceeded max depth of ${maxDepth}`);
      stack.push(c === 0x7b ? { keys: new Set(), key: '', index: 0 } : { key: '', index: 0 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
  }
  return { duplicates };
}

/** A request body, decoded, with what the strict decoder would say about it. */
export interface DecodedBody {
  value: unknown;
  /** Keys given twice in one object, by path. */
  duplicates: string[];
}

/** The body formats the API server reads for objects. */
export const SUPPORTED_MEDIA_TYPES = ['application/json', 'application/yaml'];

/** The request's media type, lower case, without parameters ('' when absent). */
export const mediaType = (req: IncomingMessage): string => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

/**
 * 415 for a body in a format the server does not read, worded as Kubernetes words it.
 * (No Content-Type at all is read as JSON, which is what curl users and older clients mean.)
 */
export function unsupportedMediaType(type: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${SUPPORTED_MEDIA_TYPES.join(', ')}`
    + (type ? ` (got ${JSON.stringify(type)})` : ''));
}

/** Parses a JSON request body, bounded in depth; 400 with Kubernetes' wording when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  return decodeJson(body).value;
}

/** {@link parseJson}, also reporting duplicate keys. */
export function decodeJson(body: Buffer): DecodedBody {
  const text = body.toString('utf8');
  const { duplicates } = scanJson(text);
  try {
    return { value: JSON.parse(text) as unknown, duplicates };
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** Parses a JSON body that must be an object (an API object, DeleteOptions, a Binding...). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  return asObject(parseJson(body));
}

/** 400 unless `v` is a JSON object. */
export function asObject(v: unknown): Record<string, unknown> {
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
