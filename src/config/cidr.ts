import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "127.0.0.0/8, ::1/128, 10.1.2.3" → parsed CIDRs (a bare address is a /32 or /128). */
export function parseCidrList(raw: string): string[] {
  const items = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const item of items) parseCidr(item);
  return items;
}

export function parseCidr(item: string): Cidr {
  const [address, prefixText] = item.split('/');
  const version = isIP(address);
  if (version === 0) throw new Error(`has "${item}", which is not an IP address or CIDR`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix < 0 || prefix > max) {
    throw new Error(`has "${item}", whose prefix length must be 0-${max}`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A BlockList holding the given CIDRs, for fast membership checks. */
export function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const item of cidrs) {
    const { address, prefix, family } = parseCidr(item);
    list.addSubnet(address, prefix, family);
  }
  return list;
}
