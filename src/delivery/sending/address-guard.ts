import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { isIP, LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { blockListOf } from '../../config/cidr';

/**
 * SSRF protection for outgoing deliveries (DESIGN §5): a webhook URL must not
 * reach loopback, private, link-local (cloud metadata at 169.254.169.254) or
 * other non-public addresses, judged on the addresses DNS actually returns,
 * unless the operator allows those networks in WEBHOOK_ALLOWED_NETWORKS.
 *
 * Addresses are parsed and matched against the ranges by ipaddr.js
 * (`subnetMatch`). The table of ranges stays ours: ipaddr.js's own `range()`
 * names lump ranges we report apart (its `reserved` is documentation,
 * benchmarking, the 6to4 relay, IETF assignments and 240/4 at once) and it
 * lets through ranges that are not global unicast (::/96, outside 2000::/3).
 * test/unit/address-guard.spec.ts checks that every non-public range
 * ipaddr.js knows is refused here too.
 */

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Named ranges as ipaddr.subnetMatch takes them. */
type RangeList = Record<string, Range[]>;

function ranges(table: Record<string, string[]>): RangeList {
  const out: Record<string, Range[]> = {};
  for (const [name, cidrs] of Object.entries(table)) out[name] = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return out;
}

/** subnetMatch's answer for an address in none of the ranges. */
const PUBLIC = '';

// IANA special-purpose registries (RFC 6890 and successors). First match wins (insertion order).
const IPV4_RANGES = ranges({
  broadcast: ['255.255.255.255/32'],
  'unspecified (0.0.0.0/8)': ['0.0.0.0/8'],
  'loopback (127.0.0.0/8)': ['127.0.0.0/8'],
  'private (RFC 1918)': ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  'link-local (169.254.0.0/16, cloud metadata)': ['169.254.0.0/16'],
  'carrier-grade NAT (100.64.0.0/10)': ['100.64.0.0/10'],
  'IETF protocol assignments (192.0.0.0/24)': ['192.0.0.0/24'],
  'documentation (TEST-NET)': ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'],
  '6to4 relay anycast (192.88.99.0/24)': ['192.88.99.0/24'],
  'benchmarking (198.18.0.0/15)': ['198.18.0.0/15'],
  multicast: ['224.0.0.0/4'],
  reserved: ['240.0.0.0/4'],
});

// IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses are judged by
// their embedded IPv4 address before these ranges apply (see embeddedIpv4).
const IPV6_RANGES = ranges({
  'unspecified (::)': ['::/128'],
  'loopback (::1)': ['::1/128'],
  'IPv4-compatible (::/96, deprecated)': ['::/96'],
  'NAT64 local-use (64:ff9b:1::/48)': ['64:ff9b:1::/48'],
  'discard-only (100::/64)': ['100::/64'],
  'Teredo (2001::/32)': ['2001::/32'],
  'documentation (2001:db8::/32, 3fff::/20)': ['2001:db8::/32', '3fff::/20'],
  'IETF protocol assignments (2001::/23)': ['2001::/23'],
  '6to4 (2002::/16)': ['2002::/16'], // tunnels to an arbitrary embedded IPv4 address
  'unique local (fc00::/7)': ['fc00::/7'],
  'link-local (fe80::/10)': ['fe80::/10'],
  'site-local (fec0::/10, deprecated)': ['fec0::/10'],
  'multicast (ff00::/8)': ['ff00::/8'],
  'reserved (outside global unicast 2000::/3)': ['::/3', '4000::/2', '8000::/1'],
});

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/** The IPv4 address inside ::ffff:a.b.c.d (any spelling) or 64:ff9b::a.b.c.d, else null. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (!address.match(NAT64_WELL_KNOWN)) return null;
  const [, , , , , , high, low] = address.parts;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Drops an IPv6 zone id ("fe80::1%eth0"): the zone does not change the address's class. */
function withoutZone(ip: string): string {
  const i = ip.indexOf('%');
  return i < 0 ? ip : ip.slice(0, i);
}

/**
 * A standard textual address (as net.isIP accepts it: no "0x7f.1" or "127.1", which ipaddr.js
 * would read too; URLs arrive here already normalised) → parsed, else null.
 */
function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const address = withoutZone(ip);
  return isIP(address) === 0 ? null : ipaddr.parse(address);
}

function classify(address: ipaddr.IPv4 | ipaddr.IPv6): string | null {
  if (address.kind() === 'ipv4') return ipaddr.subnetMatch(address, IPV4_RANGES, PUBLIC) || null;
  const v4 = embeddedIpv4(address as ipaddr.IPv6);
  if (v4 !== null) return classify(v4);
  return ipaddr.subnetMatch(address, IPV6_RANGES, PUBLIC) || null;
}

/** null for a public address, else a short name of its class (also for a string that is no IP at all). */
export function classifyAddress(ip: string): string | null {
  const address = parseAddress(ip);
  return address === null ? 'not an IP address' : classify(address);
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

  const isAllowed = (address: ipaddr.IPv4 | ipaddr.IPv6): boolean => {
    if (allowedCidrs.length === 0) return false;
    if (address.kind() === 'ipv4') return allowed.check(address.toString(), 'ipv4');
    if (allowed.check(address.toString(), 'ipv6')) return true;
    const v4 = embeddedIpv4(address as ipaddr.IPv6); // ::ffff:127.0.0.1 is allowed by 127.0.0.0/8
    return v4 !== null && allowed.check(v4.toString(), 'ipv4');
  };

  const check = (ip: string, host?: string): void => {
    const address = parseAddress(ip);
    const addressClass = address === null ? 'not an IP address' : classify(address);
    if (addressClass === null) return;
    if (address !== null && isAllowed(address)) return;
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
