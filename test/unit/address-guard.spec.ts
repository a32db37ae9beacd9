import * as http from 'node:http';
import { AddressInfo, LookupFunction } from 'node:net';
import { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { Agent } from 'undici';
import { BlockedAddressError, classifyAddress, createAddressGuard } from '../../src/delivery/sending/address-guard';
import { createDeliveryAgent } from '../../src/delivery/sending/delivery-agent';

describe('classifyAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified (0.0.0.0/8)'],
    ['0.1.2.3', 'unspecified (0.0.0.0/8)'],
    ['127.0.0.1', 'loopback (127.0.0.0/8)'],
    ['127.255.255.254', 'loopback (127.0.0.0/8)'],
    ['10.0.0.5', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['169.254.169.254', 'link-local (169.254.0.0/16, cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT (100.64.0.0/10)'],
    ['100.127.255.255', 'carrier-grade NAT (100.64.0.0/10)'],
    ['192.0.0.8', 'IETF protocol assignments (192.0.0.0/24)'],
    ['192.0.2.10', 'documentation (TEST-NET)'],
    ['198.51.100.7', 'documentation (TEST-NET)'],
    ['203.0.113.200', 'documentation (TEST-NET)'],
    ['192.88.99.1', '6to4 relay anycast (192.88.99.0/24)'],
    ['198.18.0.1', 'benchmarking (198.18.0.0/15)'],
    ['198.19.255.255', 'benchmarking (198.18.0.0/15)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified (::)'],
    ['::1', 'loopback (::1)'],
    ['0:0:0:0:0:0:0:1', 'loopback (::1)'],
    ['::7f00:1', 'IPv4-compatible (::/96, deprecated)'],
    ['fc00::1', 'unique local (fc00::/7)'],
    ['fd12:3456:789a::1', 'unique local (fc00::/7)'],
    ['fe80::1', 'link-local (fe80::/10)'],
    ['fe80::1%eth0', 'link-local (fe80::/10)'],
    ['febf::1', 'link-local (fe80::/10)'],
    ['fec0::1', 'site-local (fec0::/10, deprecated)'],
    ['ff02::1', 'multicast (ff00::/8)'],
    ['64:ff9b:1::a00:1', 'NAT64 local-use (64:ff9b:1::/48)'],
    ['100::1', 'discard-only (100::/64)'],
    ['2001::1', 'Teredo (2001::/32)'],
    ['2001:db8::1', 'documentation (2001:db8::/32, 3fff::/20)'],
    ['3fff::1', 'documentation (2001:db8::/32, 3fff::/20)'],
    ['2001:2::1', 'IETF protocol assignments (2001::/23)'],
    ['2002:a00:1::1', '6to4 (2002::/16)'],
    ['4000::1', 'reserved (outside global unicast 2000::/3)'],
    ['1::1', 'reserved (outside global unicast 2000::/3)'],
    ['::ffff:0:7f00:1', 'reserved (outside global unicast 2000::/3)'], // SIIT, not IPv4-mapped
  ])('%s → %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback (127.0.0.0/8)'],
    ['::ffff:7f00:1', 'loopback (127.0.0.0/8)'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback (127.0.0.0/8)'],
    ['::FFFF:A9FE:A9FE', 'link-local (169.254.0.0/16, cloud metadata)'],
    ['::ffff:10.0.0.5', 'private (RFC 1918)'],
    ['::ffff:0.0.0.0', 'unspecified (0.0.0.0/8)'],
    ['64:ff9b::10.0.0.1', 'private (RFC 1918)'],
    ['64:ff9b::7f00:1', 'loopback (127.0.0.0/8)'],
  ])('IPv4-mapped and NAT64 %s → its IPv4 class %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '223.255.255.255',
    '2606:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('public %s → null', (ip) => {
    expect(classifyAddress(ip)).toBeNull();
  });

  it('treats a string that is no IP address as blocked', () => {
    expect(classifyAddress('example.com')).toBe('not an IP address');
    expect(classifyAddress('')).toBe('not an IP address');
  });
});

describe('classifyAddress against the special ranges ipaddr.js knows', () => {
  type Special = Record<string, [ipaddr.IPv4 | ipaddr.IPv6, number] | Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>>;
  // ipaddr.js's own range table (not in its typings): what its range() answers from
  const tables = [ipaddr.IPv4.prototype, ipaddr.IPv6.prototype].map((proto) => (proto as unknown as { SpecialRanges: Special }).SpecialRanges);
  // globally reachable per the IANA registries (anycast DNS sinks, AMT relays): ipaddr.js names them, we let them through
  const GLOBAL = ['as112', 'amt', 'as112v6'];
  const probes = tables.flatMap((table) =>
    Object.entries(table)
      .filter(([name]) => !GLOBAL.includes(name))
      .flatMap(([name, subnets]) =>
        (Array.isArray(subnets[0]) ? (subnets as Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>) : [subnets as [ipaddr.IPv4 | ipaddr.IPv6, number]]).map(
          ([net, len]) => [name, `${net.toString()}/${len}`, net.toString()],
        ),
      ),
  );

  it('has ranges to compare with', () => {
    expect(probes.length).toBeGreaterThan(20);
  });

  it.each(probes)('%s %s: %s is refused', (_name, _cidr, address) => {
    expect(classifyAddress(address)).not.toBeNull();
  });
});

describe('createAddressGuard().check', () => {
  it('throws BlockedAddressError with a clear message and code', () => {
    const guard = createAddressGuard([]);
    let error: unknown;
    try {
      guard.check('10.0.0.5', 'internal.example');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error).toMatchObject({
      code: 'EBLOCKEDADDRESS',
      address: '10.0.0.5',
      addressClass: 'private (RFC 1918)',
      host: 'internal.example',
      message:
        'refused to connect to 10.0.0.5 (private (RFC 1918)) for host internal.example: non-public addresses are blocked; allow them with WEBHOOK_ALLOWED_NETWORKS',
    });
    expect(() => guard.check('::1')).toThrow('refused to connect to ::1 (loopback (::1)): non-public');
  });

  it('lets public addresses through', () => {
    const guard = createAddressGuard([]);
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) expect(() => guard.check(ip, 'example.com')).not.toThrow();
  });

  it('lets allowed networks through, and only those', () => {
    const guard = createAddressGuard(['127.0.0.0/8', 'fd00::/8']);
    expect(() => guard.check('127.0.0.1')).not.toThrow();
    expect(() => guard.check('127.9.9.9')).not.toThrow();
    expect(() => guard.check('::ffff:127.0.0.1')).not.toThrow();
    expect(() => guard.check('::ffff:7f00:1')).not.toThrow();
    expect(() => guard.check('fd00::5')).not.toThrow();
    expect(() => guard.check('10.0.0.1')).toThrow(BlockedAddressError);
    expect(() => guard.check('::1')).toThrow(BlockedAddressError);
    expect(() => guard.check('::ffff:10.0.0.1')).toThrow(BlockedAddressError);
    expect(() => guard.check('fc00::5')).toThrow(BlockedAddressError);
  });

  it('allows a single address given without a prefix', () => {
    const guard = createAddressGuard(['10.1.2.3']);
    expect(() => guard.check('10.1.2.3')).not.toThrow();
    expect(() => guard.check('10.1.2.4')).toThrow(BlockedAddressError);
  });
});

describe('createAddressGuard().checkUrlHost', () => {
  const guard = createAddressGuard([]);

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://[::1]:8080/hook',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'https://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://0/',
  ])('refuses the IP literal in %s', (url) => {
    expect(() => guard.checkUrlHost(new URL(url))).toThrow(BlockedAddressError);
  });

  it('reports the normalised address', () => {
    expect(() => guard.checkUrlHost(new URL('http://0x7f.1/'))).toThrow('refused to connect to 127.0.0.1 (loopback');
  });

  it('accepts public literals and leaves names to the lookup', () => {
    expect(() => guard.checkUrlHost(new URL('https://8.8.8.8/'))).not.toThrow();
    expect(() => guard.checkUrlHost(new URL('https://[2606:4700::1111]/'))).not.toThrow();
    expect(() => guard.checkUrlHost(new URL('https://localhost/'))).not.toThrow();
  });

  it('honours allowed networks', () => {
    expect(() => createAddressGuard(['::1/128']).checkUrlHost(new URL('http://[::1]:9/'))).not.toThrow();
  });
});

describe('createAddressGuard().lookup', () => {
  type AnyLookup = (hostname: string, options: unknown, callback?: unknown) => void;
  const call = (lookup: LookupFunction, options: unknown) =>
    new Promise<{ err: unknown; address: unknown; family: unknown }>((resolve) => {
      const cb = (err: unknown, address?: unknown, family?: unknown) => resolve({ err, address, family });
      if (options === undefined) (lookup as AnyLookup)('localhost', cb);
      else (lookup as AnyLookup)('localhost', options, cb);
    });
  const loopback = createAddressGuard(['127.0.0.0/8', '::1/128']).lookup;

  it('answers an array of {address, family} when options.all is true', async () => {
    const { err, address } = await call(loopback, { all: true });
    expect(err).toBeNull();
    expect(Array.isArray(address)).toBe(true);
    expect((address as LookupAddress[]).map((a) => a.address)).toContain('127.0.0.1');
  });

  it('answers (err, address, family) when options.all is false, for a family number, and without options', async () => {
    await expect(call(loopback, { all: false, family: 4 })).resolves.toEqual({ err: null, address: '127.0.0.1', family: 4 });
    await expect(call(loopback, 4)).resolves.toEqual({ err: null, address: '127.0.0.1', family: 4 });
    const bare = await call(loopback, undefined);
    expect(bare.err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(bare.address);
  });

  it('refuses a name that resolves to a blocked address, in both forms', async () => {
    const lookup = createAddressGuard([]).lookup;
    for (const options of [{ all: true }, { all: false }]) {
      const { err } = await call(lookup, options);
      expect(err).toBeInstanceOf(BlockedAddressError);
      expect((err as BlockedAddressError).host).toBe('localhost');
      expect((err as Error).message).toMatch(/^refused to connect to (127\.0\.0\.1|::1) \(loopback .* for host localhost: /);
    }
  });
});

describe('the delivery agent on a real loopback socket', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('pong'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = async (agent: Agent, origin: string) => {
    const res = await agent.request({ origin, path: '/', method: 'GET' });
    return { status: res.statusCode, body: await res.body.text() };
  };

  it('refuses http://localhost through the lookup when nothing is allowed', async () => {
    const { agent } = createDeliveryAgent({ allowedCidrs: [], connectionsPerOrigin: 4 });
    try {
      await expect(get(agent, `http://localhost:${port}`)).rejects.toBeInstanceOf(BlockedAddressError);
      await expect(get(agent, `http://localhost:${port}`)).rejects.toThrow(/for host localhost: non-public addresses are blocked/);
    } finally {
      await agent.destroy();
    }
  });

  it('connects when loopback is allowed, keeping the connection alive', async () => {
    const { agent } = createDeliveryAgent({ allowedCidrs: ['127.0.0.0/8', '::1/128'], connectionsPerOrigin: 4 });
    try {
      const before = connections;
      await expect(get(agent, `http://localhost:${port}`)).resolves.toEqual({ status: 200, body: 'pong' });
      await new Promise((r) => setImmediate(r)); // the connection goes back to the pool once the response is complete
      await expect(get(agent, `http://localhost:${port}`)).resolves.toEqual({ status: 200, body: 'pong' });
      expect(connections - before).toBe(1);
    } finally {
      await agent.destroy();
    }
  });

  it('skips the lookup for an IP literal, which is why the sender calls checkUrlHost', async () => {
    const { agent, guard } = createDeliveryAgent({ allowedCidrs: [], connectionsPerOrigin: 4 });
    try {
      const url = `http://127.0.0.1:${port}`;
      await expect(get(agent, url)).resolves.toEqual({ status: 200, body: 'pong' });
      expect(() => guard.checkUrlHost(new URL(url))).toThrow(BlockedAddressError);
    } finally {
      await agent.destroy();
    }
  });
});
