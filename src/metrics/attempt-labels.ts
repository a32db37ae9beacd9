/** `2xx` … `5xx` for an HTTP status, `none` when no response arrived (timeout, refused, blocked, TLS). */
export function statusClass(statusCode: number | null): string {
  if (statusCode === null || statusCode < 100 || statusCode > 599) return 'none';
  return `${Math.floor(statusCode / 100)}xx`;
}

/**
 * Histogram buckets for attempt durations, in seconds: from a fast loopback
 * receiver (1 ms) to the longest webhook timeout (30 s).
 */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];
