import { WaitingRoom } from '../../src/delivery/queue/waiting-room';

describe('WaitingRoom', () => {
  it('hands out a webhook’s attempts oldest first and forgets webhooks with none left', () => {
    const room = new WaitingRoom<string>(10, 1000);
    room.park('w1', 'a', 0);
    room.park('w2', 'b', 0);
    room.park('w1', 'c', 1);
    expect(room.size).toBe(3);
    const expired: string[] = [];
    expect(room.take('w1', expired, 5)).toBe('a');
    expect(room.take('w1', expired, 5)).toBe('c');
    expect(room.take('w1', expired, 5)).toBeUndefined();
    expect(room.webhooks()).toEqual(['w2']);
    expect(room.size).toBe(1);
    expect(expired).toEqual([]);
  });

  it('refuses past its capacity', () => {
    const room = new WaitingRoom<number>(2, 1000);
    expect(room.park('w', 1)).toBe(true);
    expect(room.park('w', 2)).toBe(true);
    expect(room.park('x', 3)).toBe(false);
    expect(room.size).toBe(2);
  });

  it('lists the webhooks with attempts waiting in the order they came, as a copy that taking from does not change', () => {
    const room = new WaitingRoom<string>(10, 1000);
    room.park('w1', 'a');
    room.park('w2', 'b');
    room.park('w3', 'c');
    const listed = room.webhooks();
    expect(listed).toEqual(['w1', 'w2', 'w3']);
    expect(room.take('w1', [])).toBe('a');
    expect(listed).toEqual(['w1', 'w2', 'w3']);
    expect(room.webhooks()).toEqual(['w2', 'w3']);
  });

  it('does not hand out attempts that waited longer than the limit: take skips them into expired, takeExpired collects them', () => {
    const room = new WaitingRoom<string>(10, 100);
    room.park('w1', 'old', 0);
    room.park('w1', 'new', 150);
    room.park('w2', 'old2', 0);
    room.park('w3', 'fresh', 190);
    const expired: string[] = [];
    expect(room.take('w1', expired, 200)).toBe('new');
    expect(expired).toEqual(['old']);
    expect(room.takeExpired(200)).toEqual(['old2']);
    expect(room.size).toBe(1);
    expect(room.webhooks()).toEqual(['w3']);
  });

  it('takeAll empties the room', () => {
    const room = new WaitingRoom<string>(10, 100);
    room.park('w1', 'a');
    room.park('w2', 'b');
    expect(room.takeAll().sort()).toEqual(['a', 'b']);
    expect(room.size).toBe(0);
    expect(room.webhooks()).toEqual([]);
  });

  it('counts per webhook, and takeWebhook removes one webhook’s attempts only', () => {
    const room = new WaitingRoom<string>(10, 100);
    room.park('w1', 'a');
    room.park('w1', 'b');
    room.park('w2', 'c');
    expect(room.counts()).toEqual(
      new Map([
        ['w1', 2],
        ['w2', 1],
      ]),
    );
    expect(room.has('w1')).toBe(true);
    expect(room.takeWebhook('w1')).toEqual(['a', 'b']);
    expect(room.has('w1')).toBe(false);
    expect(room.takeWebhook('w1')).toEqual([]);
    expect(room.size).toBe(1);
    expect(room.counts()).toEqual(new Map([['w2', 1]]));
  });

  it("holds places for attempts being created: they count against the capacity and the webhook's share until parked or given back", () => {
    const room = new WaitingRoom<string>(3, 1000);
    expect(room.hold('w', 2)).toBe(true);
    expect(room.hold('w', 2)).toBe(true);
    expect(room.hold('w', 2)).toBe(false); // the webhook's share is taken
    expect(room.size).toBe(2);
    expect(room.counts()).toEqual(new Map([['w', 2]]));
    expect(room.hold('x', 2)).toBe(true);
    expect(room.hold('y', 2)).toBe(false); // the room is full
    expect(room.park('y', 'late')).toBe(false);
    room.unhold('w');
    expect(room.park('w', 'a', 0)).toBe(true); // the hold it replaces was given back first
    room.unhold('x');
    room.unhold('x'); // a second give-back of one hold changes nothing
    expect(room.size).toBe(2);
    expect(room.counts()).toEqual(new Map([['w', 2]]));
    room.unhold('w');
    expect(room.size).toBe(1);
    expect(room.take('w', [], 1)).toBe('a');
    expect(room.size).toBe(0);
  });

  it('keeps a long line in order through many takes (its storage is compacted as it goes)', () => {
    const room = new WaitingRoom<number>(10_000, 1000);
    for (let i = 0; i < 5000; i++) room.park('w', i, 0);
    const seen: number[] = [];
    for (let i = 0; i < 3000; i++) seen.push(room.take('w', [], 1)!);
    for (let i = 5000; i < 5100; i++) room.park('w', i, 2);
    while (room.size > 0) seen.push(room.take('w', [], 3)!);
    expect(seen).toEqual([...Array.from({ length: 5100 }, (_, i) => i)]);
    expect(room.has('w')).toBe(false);
  });
});
