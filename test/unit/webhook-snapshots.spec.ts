import { WebhookSnapshots } from '../../src/webhooks/webhook-snapshots';
import type { Webhook } from '../../src/webhooks/webhook.entity';

const hook = (id: string, url: string) => ({ id, url }) as unknown as Webhook;

describe('WebhookSnapshots', () => {
  let stored: Map<string, Webhook>;
  let loads: string[][];
  let snapshots: WebhookSnapshots;

  beforeEach(() => {
    stored = new Map([
      ['a', hook('a', 'http://a/1')],
      ['b', hook('b', 'http://b/1')],
    ]);
    loads = [];
    snapshots = new WebhookSnapshots((ids) => {
      loads.push(ids);
      return Promise.resolve(ids.flatMap((id) => (stored.has(id) ? [stored.get(id)!] : [])));
    });
  });

  it('loads webhooks it has not seen, then serves the same versions from memory', async () => {
    const first = await snapshots.at(
      new Map([
        ['a', 'v1'],
        ['b', 'v1'],
      ]),
    );
    expect(first.map((w) => w.url).sort()).toEqual(['http://a/1', 'http://b/1']);
    const again = await snapshots.at(
      new Map([
        ['a', 'v1'],
        ['b', 'v1'],
      ]),
    );
    expect(again.map((w) => w.url).sort()).toEqual(['http://a/1', 'http://b/1']);
    expect(loads).toEqual([['a', 'b']]);
  });

  it('loads again only the webhook whose version moved, and serves its new copy', async () => {
    await snapshots.at(
      new Map([
        ['a', 'v1'],
        ['b', 'v1'],
      ]),
    );
    stored.set('a', hook('a', 'http://a/2'));
    const after = await snapshots.at(
      new Map([
        ['a', 'v2'],
        ['b', 'v1'],
      ]),
    );
    expect(loads).toEqual([['a', 'b'], ['a']]);
    expect(after.find((w) => w.id === 'a')!.url).toBe('http://a/2');
    // and the new version is what it remembers now
    await snapshots.at(new Map([['a', 'v2']]));
    expect(loads).toHaveLength(2);
  });

  it('leaves out a deleted webhook (null version) without a query, and forgets it', async () => {
    await snapshots.at(new Map([['a', 'v1']]));
    expect(await snapshots.at(new Map([['a', null]]))).toEqual([]);
    expect(loads).toEqual([['a']]);
    // a webhook seen again after that is loaded afresh
    await snapshots.at(new Map([['a', 'v1']]));
    expect(loads).toEqual([['a'], ['a']]);
  });

  it('leaves out a webhook deleted between the claim and the load', async () => {
    stored.delete('b');
    const got = await snapshots.at(
      new Map([
        ['a', 'v1'],
        ['b', 'v1'],
      ]),
    );
    expect(got.map((w) => w.id)).toEqual(['a']);
  });
});
