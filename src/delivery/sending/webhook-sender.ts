import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { AppConfig } from '../../config/app-config';
import { AddressGuard } from './address-guard';
import { SendResult } from '../attempt.types';
import { parseRetryAfter } from '../queue/backoff';
import { createDeliveryAgent } from './delivery-agent';
import { DeliveryAbort, describeRequestError } from './request-error';

export interface OutgoingRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** The headers as the log records them (secret-bearing custom headers masked); `headers` when absent. */
  recordedHeaders?: Record<string, string>;
}

const RESPONSE_HEADER_LIMIT = 50;
const SHUTDOWN = new DeliveryAbort();

/**
 * Reads at most `limit` bytes of a response body within `deadlineMs`, then
 * stops reading (and drops the connection). A body that declares a length
 * within the limit is read whole in one go (no stream iterator, the common
 * case); if it is cut short (deadline, reset), no body is recorded. One that
 * has arrived whole already needs no deadline. A longer or undeclared body
 * is read chunk by chunk and keeps what arrived.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], contentLength: unknown, limit: number, deadlineMs: number): Promise<string> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : NaN;
  // the usual small answer has arrived whole with its headers: nothing to wait for, so no deadline timer
  const arrived = declared < limit && body.readableLength >= declared;
  const timer = arrived ? undefined : setTimeout(() => body.destroy(), Math.max(1, deadlineMs));
  let text: string;
  try {
    text = declared < limit ? await readWhole(body) : await readChunks(body, limit);
  } finally {
    if (timer) clearTimeout(timer);
  }
  // text columns cannot hold NUL
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
}

function readWhole(body: Dispatcher.ResponseData['body']): Promise<string> {
  return body.text().catch(() => '');
}

async function readChunks(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (size + buf.length >= limit) {
        chunks.push(buf.subarray(0, limit - size));
        size = limit;
        body.destroy();
        break;
      }
      chunks.push(buf);
      size += buf.length;
    }
  } catch {
    // a body cut short (deadline, reset) keeps what arrived
  }
  return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (n++ >= RESPONSE_HEADER_LIMIT) break;
    const text = (Array.isArray(v) ? v.join(', ') : v).slice(0, 1024);
    out[k] = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  }
  return out;
}

/** " to <origin>" of a redirect, without path or query (they may carry tokens). */
function statusError(status: number, location: string | undefined, url: string): string {
  const text = STATUS_CODES[status];
  const error = `HTTP ${status}${text ? ' ' + text : ''}`;
  return status >= 300 && status < 400 ? `${error}: redirect${redirectTarget(location, url)} not followed` : error;
}

function redirectTarget(location: string | undefined, base: string): string {
  if (!location) return '';
  try {
    return ` to ${new URL(location, base).origin}`;
  } catch {
    return '';
  }
}

interface Target {
  url: URL;
  origin: string;
  path: string;
}

/**
 * Sends one attempt with undici: a keep-alive pool per origin whose DNS
 * lookup refuses non-public addresses, the webhook's timeout for the answer
 * and for the body, no redirects, and a capped read of the response body.
 * The timeouts are undici's own (per request, no timer or AbortController
 * of ours): when one fires undici closes the connection before it fails the
 * request, so the endpoint never sees more requests open than its slots. undici directly rather than axios: measured on this machine its
 * ceiling is five to six times axios's, and the sender is the largest cost
 * of a delivery (see docs/engine.md).
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly guard: AddressGuard;
  private readonly bodyLimit: number;
  /** Parsed webhook URLs (a URL parse per request is measurable on the hot path). */
  private readonly targets = new Map<string, Target>();

  constructor(config: AppConfig) {
    const { agent, guard } = createDeliveryAgent({
      allowedCidrs: config.get('WEBHOOK_ALLOWED_NETWORKS'),
      connectionsPerOrigin: config.get('WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT') * 2,
    });
    this.agent = agent;
    this.guard = guard;
    this.bodyLimit = config.get('WEBHOOK_RESPONSE_BODY_LIMIT');
  }

  /** Aborts every request still running (shutdown, after the grace); each is recorded as cancelled. */
  abortInFlight(): void {
    void this.agent.destroy(SHUTDOWN);
  }

  /**
   * Not onModuleDestroy: Nest runs every onModuleDestroy before any
   * beforeApplicationShutdown, so closing the pool there cut the
   * connections of in-flight attempts before DeliveryLifecycle had let them
   * finish within the grace. onApplicationShutdown runs after that drain.
   */
  async onApplicationShutdown(): Promise<void> {
    if (!this.agent.destroyed) await this.agent.destroy();
  }

  async send(req: OutgoingRequest): Promise<SendResult> {
    const startedAt = Date.now();
    const t0 = performance.now();
    let statusCode: number | null;
    let error: string | null = null;
    let responseHeaders: Record<string, string> | null;
    let responseBody: string | null;
    let retryAfterMs: number | null = null;
    try {
      const target = this.target(req.url);
      this.guard.checkUrlHost(target.url);
      const res = await this.agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      statusCode = res.statusCode;
      responseHeaders = flattenHeaders(res.headers);
      responseBody = await readCapped(res.body, res.headers['content-length'], this.bodyLimit, req.timeoutMs - (performance.now() - t0));
      if (statusCode < 200 || statusCode >= 300) error = statusError(statusCode, responseHeaders.location, req.url);
      if (statusCode === 429 || statusCode === 503) retryAfterMs = parseRetryAfter(responseHeaders['retry-after'], new Date());
    } catch (err) {
      statusCode = null;
      responseHeaders = null;
      responseBody = null;
      error = describeRequestError(err, req.url, req.timeoutMs);
    }
    const durationMs = Math.round(performance.now() - t0);
    return {
      success: error === null,
      statusCode,
      durationMs,
      error,
      requestHeaders: req.recordedHeaders ?? req.headers,
      responseHeaders,
      responseBody,
      retryAfterMs,
      startedAt: new Date(startedAt),
      finishedAt: new Date(),
    };
  }

  private target(raw: string): Target {
    let t = this.targets.get(raw);
    if (!t) {
      const url = new URL(raw);
      t = { url, origin: url.origin, path: url.pathname + url.search };
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(raw, t);
    }
    return t;
  }
}
