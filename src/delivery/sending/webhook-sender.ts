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
}

const RESPONSE_HEADER_LIMIT = 50;
const SHUTDOWN = new DeliveryAbort();

/**
 * Reads at most `limit` bytes of a response body within `deadlineMs`, then
 * stops reading (and drops the connection).
 */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number, deadlineMs: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => body.destroy(), Math.max(1, deadlineMs));
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
  } finally {
    clearTimeout(timer);
  }
  // text columns cannot hold NUL
  const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
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
      const responseBody = await readCapped(res.body, this.bodyLimit, req.timeoutMs - (performance.now() - t0));
      const status = res.statusCode;
      const success = status >= 200 && status < 300;
      const responseHeaders = flattenHeaders(res.headers);
      let error: string | null = null;
      if (!success) {
        const text = STATUS_CODES[status];
        error = `HTTP ${status}${text ? ' ' + text : ''}`;
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
