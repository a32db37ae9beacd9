import { BlockedAddressError } from './address-guard';
import { CONNECT_TIMEOUT_MS } from './delivery-agent';

/** The sender aborted the request: the service is shutting down (timeouts are undici's own errors). */
export class DeliveryAbort extends Error {
  constructor() {
    super('shutdown');
  }
}

/** A clear, log-friendly cause for a request that got no HTTP answer. */
export function describeRequestError(err: unknown, url: string, timeoutMs: number): string {
  if (err instanceof BlockedAddressError) return err.message;
  if (err instanceof DeliveryAbort) return 'cancelled: the service was shutting down';
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e?.cause instanceof BlockedAddressError) return e.cause.message;
  if (e?.cause instanceof DeliveryAbort) return describeRequestError(e.cause, url, timeoutMs);
  const host = hostOf(url);
  switch (e?.code) {
    case 'EBLOCKEDADDRESS':
      return e.message ?? 'refused: non-public address';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect to ${host} within ${CONNECT_TIMEOUT_MS / 1000} s`;
    case 'ETIMEDOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timed out after ${timeoutMs} ms waiting for ${host}`;
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `connection reset by ${host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS lookup failed for ${host}`;
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

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
