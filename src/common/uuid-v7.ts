import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

/**
 * A random UUID whose first 48 bits are the time in milliseconds (RFC 9562
 * version 7). Ids made one after another sort in the order they were made
 * (to the millisecond), so the indexes keyed by them grow at one end instead
 * of at random pages all over: an event store or attempt log of millions of
 * rows keeps its write cost (docs/engine.md, "The write path"). The other
 * 74 bits are random, from a pooled buffer refilled 256 ids at a time.
 */
export function uuidv7(now: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
