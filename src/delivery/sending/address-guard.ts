import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { BlockList, isIP, LookupFunction } from 'node:net';
import { blockListOf } from '../../config/cidr';

/**
 * SSRF protection for outgoing deliveries (DESIGN §5): a webhook URL must not
 * reach loopback, private, link-local (cloud metadata at 169.254.169.254) or
 * other non-public addresses, judged on the addresses DNS actually returns,
 * unless the operator allows those networks in WEBHOOK_ALLOWED_NETWORKS.
 */

type Rule = { name: string; list: BlockList };

function rules(family: 'ipv4' | 'ipv6', table: Array<[string, string[]]>): Rule[] {
  return table.map(([name, cidrs]) => {
    const list = new BlockList();
    for (const cidr of cidrs) {
      const [address, prefix] = cidr.split('/');
      list.addSubnet(address, Number(prefix), family);
    }
    return { name, list };
  });
}

// IANA special-purpose registries (RFC 6890 and successors). First match wins.
const IPV4_RULES = rules('ipv4', [
  ['broadcast', ['255.255.255.255/32']],
  ['unspecified (0.0.0.0/8)', ['0.0.0.0/8']],
  ['loopback (127.0.0.0/8)', ['127.0.0.0/8']],
  ['private (RFC 1918)', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['link-local (169.254.0.0/16, cloud metadata)', ['169.254.0.0/16']],
  ['carrier-grade NAT (100.64.0.0/10)', ['100.64.0.0/10']],
  ['IETF protocol assignments (192.0.0.0/24)', ['192.0.0.0/24']],
  ['documentation (TEST-NET)', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']],
  ['6to4 relay anycast (192.88.99.0/24)', ['192.88.99.0/24']],
  ['benchmarking (198.18.0.0/15)', ['198.18.0.0/15']],
  ['multicast', ['224.0.0.0/4']],
  ['reserved', ['240.0.0.0/4']],
]);

// IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses are judged by
// their embedded IPv4 address before these rules apply (see embeddedIpv4).
const IPV6_RULES = rules('ipv6', [
  ['unspecified (::)', ['::/128']],
  ['loopback (::1)', ['::1/128']],
  ['IPv4-compatible (::/96, deprecated)', ['::/96']],
  ['NAT64 local-use (64:ff9b:1::/48)', ['64:ff9b:1::/48']],
  ['discard-only (100::/64)', ['100::/64']],
  ['Teredo (2001::/32)', ['2001::/32']],
  ['documentation (2001:db8::/32, 3fff::/20)', ['2001:db8::/32', '3fff::/20']],
  ['IETF protocol assignments (2001::/23)', ['2001::/23']],
  ['6to4 (2002::/16)', ['2002::/16']], // tunnels to an arbitrary embedded IPv4 address
  ['unique local (fc00::/7)', ['fc00::/7']],
  ['link-local (fe80::/10)', ['fe80::/10']],
  ['site-local (fec0::/10, deprecated)', ['fec0::/10']],
  ['multicast (ff00::/8)', ['ff00::/8']],
  ['reserved (outside global unicast 2000::/3)', ['::/3', '4000::/2', '8000::/1']],
]);

/** A valid IPv6 address (as accepted by net.isIP) → its eight 16-bit groups. */
function ipv6Groups(ip: string): number[] {
  const side = (text: string): number[] => {
    if (text === '') return [];
    const out: number[] = [];
    for (const group of text.split(':')) {
      if (group.includes('.')) {
        const [a, b, c, d] = group.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const [head, tail] = ip.split('::');
  if (tail === undefined) return side(head);
  const left = side(head);
  const right = side(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address inside ::ffff:a.b.c.d (any spelling) or 64:ff9b::a.b.c.d, else null. */
function embeddedIpv4(ipv6: string): string | null {
  const g = ipv6Groups(ipv6);
  const mapped = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0;
  if (!mapped && !nat64) return null;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

/** Drops an IPv6 zone id ("fe80::1%eth0"), which BlockList does not accept. */
function withoutZone(ip: string): string {
  const i = ip.indexOf('%');
  return i < 0 ? ip : ip.slice(0, i);
}

/** null for a public address, else a short name of its class (also for a string that is no IP at all). */
export function classifyAddress(ip: string): string | null {
  const address = withoutZone(ip);
  const version = isIP(address);
  if (version === 4) return IPV4_RULES.find((r) => r.list.check(address, 'ipv4'))?.name ?? null;
  if (version !== 6) return 'not an IP address';
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return classifyAddress(v4);
  return IPV6_RULES.find((r) => r.list.check(address, 'ipv6'))?.name ?? null;
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';

  constructor(
    readonly address: string,
    readonly addressClass: string,
    readonly host?: string,
  ) {
    const forHost = host && host !== address ? ` for host ${host}` : '';
    super(`refused to connect to ${address} (${addressClass})${forHost}: non-public addresses are blocked; allow them with WEBHOOK_ALLOWED_NETWORKS`);
    this.name = 'BlockedAddressError';
  }
}

export interface AddressGuard {
  /** Throws BlockedAddressError unless `ip` is public or inside an allowed network. */
  check(ip: string, host?: string): void;
  /**
   * For URLs whose host is an IP literal, which Node connects to without calling
   * `lookup`. WHATWG URL has already normalised `[::1]`, `0x7f.1`, `2130706433`,
   * `0177.0.0.1` to a plain address, so only the brackets need removing.
   */
  checkUrlHost(url: URL): void;
  /** A dns.lookup replacement for net/http/https `lookup` options: resolves, then checks every address. */
  lookup: LookupFunction;
}

export function createAddressGuard(allowedCidrs: string[]): AddressGuard {
  const allowed = blockListOf(allowedCidrs);

  const isAllowed = (address: string): boolean => {
    if (allowedCidrs.length === 0) return false;
    const version = isIP(address);
    if (version === 4) return allowed.check(address, 'ipv4');
    if (allowed.check(address, 'ipv6')) return true;
    const v4 = embeddedIpv4(address); // ::ffff:127.0.0.1 is allowed by 127.0.0.0/8
    return v4 !== null && allowed.check(v4, 'ipv4');
  };

  const check = (ip: string, host?: string): void => {
    const addressClass = classifyAddress(ip);
    if (addressClass === null) return;
    if (isIP(withoutZone(ip)) !== 0 && isAllowed(withoutZone(ip))) return;
    throw new BlockedAddressError(ip, addressClass, host);
  };

  // The verdict on a literal address never changes for this guard: remember it (the check
  // allocates, and it runs on every request of the hot path).
  const verdicts = new Map<string, BlockedAddressError | null>();
  const checkUrlHost = (url: URL): void => {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let verdict = verdicts.get(host);
    if (verdict === undefined) {
      verdict = null;
      if (isIP(host) !== 0) {
        try {
          check(host, host);
        } catch (err) {
          if (!(err instanceof BlockedAddressError)) throw err;
          verdict = err;
        }
      }
      if (verdicts.size >= 10_000) verdicts.clear();
      verdicts.set(host, verdict);
    }
    if (verdict) throw verdict;
  };

  // Node calls lookup(hostname, options, callback), with options.all true when it
  // wants every address (autoSelectFamily, the default on Node 20) and false for
  // the (err, address, family) form. We always ask DNS for all addresses and refuse
  // the host if any of them is blocked: a name that mixes public and internal
  // answers is a DNS-rebinding trick, not a webhook receiver.
  const lookup = ((hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    } else if (typeof options === 'number') {
      options = { family: options };
    }
    const wantAll = options.all === true;
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      try {
        if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        for (const { address } of addresses) check(address, hostname);
      } catch (error) {
        return callback(error as NodeJS.ErrnoException);
      }
      if (wantAll) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  }) as LookupFunction;

  return { check, checkUrlHost, lookup };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;
