import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { AppConfig } from '../config/app-config';
import { BlockedAddressError, createAddressGuard } from './address-guard';
import { SendResult } from './attempt.types';
import { parseRetryAfter } from './backoff';
import { createHttpAgents } from './http-agents';

export interface OutgoingRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

const RESPONSE_HEADER_LIMIT = 50;

/** Reads at most `limit` bytes of a response stream, then stops reading (and discards the rest). */
async function readCapped(stream: Readable, limit: number, deadlineMs: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => stream.destroy(), Math.max(1, deadlineMs));
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (size < limit) chunks.push(size + buf.length > limit ? buf.subarray(0, limit - size) : buf);
      size += buf.length;
      if (size >= limit) {
        stream.destroy();
        break;
      }
    }
  } catch {
    // a body cut short (deadline, reset) keeps what arrived
  } finally {
    clearTimeout(timer);
  }
  // text columns cannot hold NUL
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\u0000/g, '\ufffd');
}

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    if (n++ >= RESPONSE_HEADER_LIMIT) break;
    out[k.toLowerCase()] = (Array.isArray(v) ? v.join(', ') : String(v)).slice(0, 1024).replace(/\u0000/g, '');
  }
  return out;
}

/** " to <origin>" of a redirect, without path or query (they may carry tokens). */
function redirectTarget(location: string | undefined, base: string): string {
  if (!location) return '';
  try {
    return ` to ${new URL(location, base).origin}`;
  } catch {
    return '';
  }
}

/** A clear, log-friendly cause for a request that got no HTTP answer. */
export function describeRequestError(err: unknown, url: string, timeoutMs: number): string {
  if (err instanceof BlockedAddressError) return err.message;
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e?.cause instanceof BlockedAddressError) return e.cause.message;
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    /* keep url */
  }
  switch (e?.code) {
    case 'EBLOCKEDADDRESS':
      return e.message ?? 'refused: non-public address';
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
      return `timed out after ${timeoutMs} ms waiting for ${host}`;
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ECONNRESET':
      return `connection reset by ${host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS lookup failed for ${host}`;
    case 'ERR_CANCELED':
      return 'cancelled: the service was shutting down';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} is unreachable (${e.code})`;
    default:
      if (e?.code?.startsWith('CERT_') || e?.code?.startsWith('ERR_TLS') || /certificate/i.test(e?.message ?? '')) {
        return `TLS error talking to ${host}: ${e?.message}`;
      }
      return `request to ${host} failed: ${e?.code ? e.code + ' ' : ''}${e?.message ?? String(err)}`;
  }
}

/**
 * Sends one attempt with axios: keep-alive agents whose DNS lookup refuses
 * non-public addresses, the webhook's timeout, no redirects, and a capped
 * read of the response body.
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly client: AxiosInstance;
  private readonly guard: ReturnType<typeof createAddressGuard>;
  private readonly agents: ReturnType<typeof createHttpAgents>;
  private readonly bodyLimit: number;

  constructor(config: AppConfig) {
    const allowed = config.get('WEBHOOK_ALLOWED_NETWORKS');
    this.guard = createAddressGuard(allowed);
    this.agents = createHttpAgents({ allowedCidrs: allowed, maxSockets: config.get('WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT') * 2, keepAlive: true });
    this.bodyLimit = config.get('WEBHOOK_RESPONSE_BODY_LIMIT');
    this.client = axios.create({
      httpAgent: this.agents.httpAgent,
      httpsAgent: this.agents.httpsAgent,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'stream',
      decompress: true,
      proxy: false,
      transformRequest: [(data: unknown) => data],
    });
  }

  /**
   * Not onModuleDestroy: Nest runs every onModuleDestroy before any
   * beforeApplicationShutdown, so destroying the agents there reset the
   * sockets of in-flight attempts (recorded as failed "connection reset")
   * before DeliveryLifecycle had let them finish within the grace.
   * onApplicationShutdown runs after that drain.
   */
  onApplicationShutdown(): void {
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  async send(req: OutgoingRequest): Promise<SendResult> {
    const startedAt = new Date();
    const t0 = performance.now();
    const done = (partial: Omit<SendResult, 'durationMs' | 'startedAt' | 'finishedAt' | 'requestHeaders'>): SendResult => ({
      ...partial,
      requestHeaders: req.headers,
      durationMs: Math.round(performance.now() - t0),
      startedAt,
      finishedAt: new Date(),
    });
    try {
      this.guard.checkUrlHost(new URL(req.url));
      const res = await this.client.post<Readable>(req.url, req.body, { headers: req.headers, timeout: req.timeoutMs, signal: req.signal });
      const responseBody = await readCapped(res.data, this.bodyLimit, req.timeoutMs - (performance.now() - t0));
      const status = res.status;
      const success = status >= 200 && status < 300;
      const responseHeaders = flattenHeaders(res.headers);
      let error: string | null = null;
      if (!success) {
        error = `HTTP ${status}${res.statusText ? ' ' + res.statusText : ''}`;
        if (status >= 300 && status < 400) error += `: redirect${redirectTarget(responseHeaders.location, req.url)} not followed`;
      }
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(responseHeaders['retry-after'], new Date()) : null;
      return done({ success, statusCode: status, error, responseHeaders, responseBody, retryAfterMs });
    } catch (err) {
      return done({
        success: false,
        statusCode: null,
        error: describeRequestError(err, req.url, req.timeoutMs),
        responseHeaders: null,
        responseBody: null,
        retryAfterMs: null,
      });
    }
  }
}
