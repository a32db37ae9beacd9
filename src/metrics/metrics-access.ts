import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { blockListOf } from '../config/cidr';

export type MetricsAccessDecision = 'allowed' | 'unauthenticated' | 'forbidden';

export interface MetricsAccessOptions {
  /** METRICS_TOKEN; undefined when unset. */
  token: string | undefined;
  /** METRICS_ALLOWED_NETWORKS (CIDRs). */
  allowedNetworks: string[];
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** "::ffff:127.0.0.1" (how a dual-stack socket reports an IPv4 client) → "127.0.0.1". */
function unmapped(ip: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return m ? m[1] : ip;
}

/**
 * Who may read `GET /metrics`: a client whose address is in
 * METRICS_ALLOWED_NETWORKS, or one presenting `Authorization: Bearer
 * <METRICS_TOKEN>` (compared in constant time). The address is Express's
 * `req.ip`, which honours X-Forwarded-For only from a loopback proxy
 * (`trust proxy` is 'loopback').
 *
 * Denied: 'unauthenticated' (401) when a token is configured, so the client
 * can present one; 'forbidden' (403) when there is no token to present.
 */
export function createMetricsAccess(options: MetricsAccessOptions): (clientIp: string | undefined, authorization: string | undefined) => MetricsAccessDecision {
  const networks = blockListOf(options.allowedNetworks);
  const hasNetworks = options.allowedNetworks.length > 0;
  const expected = options.token === undefined ? null : digest(options.token);

  const inNetworks = (ip: string | undefined): boolean => {
    if (!hasNetworks || !ip) return false;
    const address = unmapped(ip);
    const version = isIP(address);
    if (version === 4) return networks.check(address, 'ipv4');
    if (version === 6) return networks.check(address, 'ipv6');
    return false;
  };

  const tokenMatches = (authorization: string | undefined): boolean => {
    if (!expected || !authorization) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return false;
    // hashing first gives equal lengths, so the comparison leaks neither the token nor its length
    return timingSafeEqual(digest(m[1]), expected);
  };

  return (clientIp, authorization) => {
    if (inNetworks(clientIp)) return 'allowed';
    if (tokenMatches(authorization)) return 'allowed';
    return expected ? 'unauthenticated' : 'forbidden';
  };
}
