/**
 * Payload filters: a webhook's `filter` on the event data; an event that does
 * not match creates no attempt for that webhook. The filter is validated
 * (400 naming the path), stored, shown, replaced and removed; the try-it route
 * evaluates one on sample data.
 */
import { CaptureServer, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Payload filters (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await new CaptureServer().start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const issueFilter = { 'data.service': { $in: ['nginx', 'api'] }, 'data.node': { $eq: 'edge-1' } };

  async function createWebhook(path: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}${path}`, name: path, events: ['service.*'], ...extra })
      .expect(201);
    return res.body.id;
  }

  async function emit(type: string, data: Record<string, unknown>): Promise<string> {
    return (await t.http().post('/api/events').set(auth()).send({ type, data }).expect(202)).body.id;
  }

  async function eventIdsLogged(id: string): Promise<string[]> {
    const res = await t.http().get(`/api/webhooks/${id}/logs?limit=100`).set(auth()).expect(200);
    return res.body.items.map((i: { event_id: string }) => i.event_id);
  }

  it('stores the filter, shows it in GET and the list, replaces it and removes it with null; {} is no filter', async () => {
    const id = await createWebhook('/crud', { filter: issueFilter });
    expect((await t.http().get(`/api/webhooks/${id}`).set(auth()).expect(200)).body.filter).toEqual(issueFilter);
    const list = await t.http().get('/api/webhooks?limit=100').set(auth()).expect(200);
    expect(list.body.items.find((w: { id: string }) => w.id === id).filter).toEqual(issueFilter);

    const replaced = { $or: [{ 'data.cpu': { $gte: 90 } }, { event: 'service.stopped' }] };
    expect((await t.http().put(`/api/webhooks/${id}`).set(auth()).send({ filter: replaced }).expect(200)).body.filter).toEqual(replaced);
    // other fields leave it alone
    expect((await t.http().put(`/api/webhooks/${id}`).set(auth()).send({ name: 'renamed' }).expect(200)).body.filter).toEqual(replaced);
    expect((await t.http().put(`/api/webhooks/${id}`).set(auth()).send({ filter: null }).expect(200)).body.filter).toBeNull();
    expect((await t.http().put(`/api/webhooks/${id}`).set(auth()).send({ filter: {} }).expect(200)).body.filter).toBeNull();
    const plain = await createWebhook('/crud-plain');
    expect((await t.http().get(`/api/webhooks/${plain}`).set(auth()).expect(200)).body.filter).toBeNull();
  });

  it('refuses bad filters with a 400 naming the path and the problem, on create and update', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ 'data.service': { $regex: 'ng.*' } }, /filter\.data\.service\.\$regex is not a known operator/],
      [{ 'data.service': { $in: 'nginx' } }, /filter\.data\.service\.\$in takes an array/],
      [{ service: 'nginx' }, /path "service" is not a valid path/],
      [{ $or: [{ 'data.x': { $gt: [] } }] }, /filter\.\$or\[0\]\.data\.x\.\$gt takes a number or a string/],
      [['data.x'], /filter must be a JSON object/],
    ];
    for (const [filter, message] of bad) {
      const res = await t
        .http()
        .post('/api/webhooks')
        .set(auth())
        .send({ url: `${receiver.url}/bad`, name: 'bad', events: ['*'], filter })
        .expect(400);
      expect(res.body.message).toMatch(message);
    }
    const id = await createWebhook('/bad-update');
    const res = await t
      .http()
      .put(`/api/webhooks/${id}`)
      .set(auth())
      .send({ filter: { 'data.a': { $exists: 'yes' } } })
      .expect(400);
    expect(res.body.message).toMatch(/filter\.data\.a\.\$exists takes true or false/);
  });

  it('delivers only the matching events: the others get no attempt row; a changed filter applies to the next events', async () => {
    const filtered = await createWebhook('/filtered', { filter: issueFilter });
    const everything = await createWebhook('/everything');
    const hit1 = await emit('service.started', { service: 'nginx', node: 'edge-1' });
    const missNode = await emit('service.started', { service: 'nginx', node: 'edge-2' });
    const missService = await emit('service.stopped', { service: 'db', node: 'edge-1' });
    const missField = await emit('service.created', { name: 'api' });
    const hit2 = await emit('service.deleted', { service: 'api', node: 'edge-1', extra: [1, 2] });

    await eventually(async () => (await eventIdsLogged(everything)).length === 5);
    await eventually(async () => (await eventIdsLogged(filtered)).length === 2);
    // the unfiltered webhook's attempts are written in the same fan-outs: by now nothing more is coming for the filtered one
    expect((await eventIdsLogged(filtered)).sort()).toEqual([hit1, hit2].sort());
    const bodies = receiver.requests.filter((r) => r.path === '/filtered').map((r) => JSON.parse(r.body) as { id: string });
    expect(bodies.map((b) => b.id).sort()).toEqual([hit1, hit2].sort());
    expect([missNode, missService, missField].some((e) => bodies.some((b) => b.id === e))).toBe(false);

    // a new filter takes effect for the next events (recompiled for the new version of the webhook)
    await t
      .http()
      .put(`/api/webhooks/${filtered}`)
      .set(auth())
      .send({ filter: { 'data.node': 'edge-2' } })
      .expect(200);
    const hit3 = await emit('service.started', { service: 'nginx', node: 'edge-2' });
    const miss4 = await emit('service.started', { service: 'nginx', node: 'edge-1' });
    await eventually(async () => (await eventIdsLogged(everything)).length === 7);
    await eventually(async () => (await eventIdsLogged(filtered)).length === 3);
    const logged = await eventIdsLogged(filtered);
    expect(logged).toContain(hit3);
    expect(logged).not.toContain(miss4);
  });

  it('filters on the event type with "event"', async () => {
    const id = await createWebhook('/by-type', { filter: { event: { $neq: 'service.stopped' } } });
    const witness = await createWebhook('/by-type-witness');
    const stopped = await emit('service.stopped', { service: 'x' });
    const started = await emit('service.started', { service: 'x' });
    await eventually(async () => (await eventIdsLogged(witness)).length === 2);
    await eventually(async () => (await eventIdsLogged(id)).length === 1);
    expect(await eventIdsLogged(id)).toEqual([started]);
    expect(await eventIdsLogged(id)).not.toContain(stopped);
  });

  describe('POST /api/webhooks/filters/test', () => {
    it('says whether sample data matches', async () => {
      const tryIt = (body: Record<string, unknown>) => t.http().post('/api/webhooks/filters/test').set(auth()).send(body).expect(200);
      expect((await tryIt({ filter: issueFilter, payload: { service: 'api', node: 'edge-1' } })).body).toEqual({ matches: true });
      expect((await tryIt({ filter: issueFilter, payload: { service: 'api', node: 'edge-3' } })).body).toEqual({ matches: false });
      expect((await tryIt({ filter: { event: 'user.created' }, payload: {}, type: 'user.created' })).body).toEqual({ matches: true });
      expect((await tryIt({ filter: { event: 'user.created' }, payload: {} })).body).toEqual({ matches: false });
      expect((await tryIt({ filter: null, payload: 'anything' })).body).toEqual({ matches: true });
      // viewers may try filters too (it changes nothing)
      await t.http().post('/api/users').set(auth()).send({ username: 'viewer1', password: 'viewer-pass-1', role: 'viewer' }).expect(201);
      const viewer = await t.login('viewer1', 'viewer-pass-1');
      await t
        .http()
        .post('/api/webhooks/filters/test')
        .set({ Authorization: `Bearer ${viewer}` })
        .send({ filter: issueFilter, payload: {} })
        .expect(200);
    });

    it('answers 400 for a bad filter, a missing payload or an unknown type, and 401 without a token', async () => {
      const bad = (body: Record<string, unknown>) => t.http().post('/api/webhooks/filters/test').set(auth()).send(body).expect(400);
      expect((await bad({ filter: { 'data.x': { $like: 'a' } }, payload: {} })).body.message).toMatch(/filter\.data\.x\.\$like is not a known operator/);
      expect((await bad({ filter: { 'data.x': 1 } })).body.message).toMatch(/payload is required/);
      expect((await bad({ payload: {} })).body.message).toMatch(/filter is required/);
      expect((await bad({ filter: {}, payload: {}, type: 'nope.nope' })).body.message).toMatch(/unknown "nope.nope"/);
      await t.http().post('/api/webhooks/filters/test').send({ filter: {}, payload: {} }).expect(401);
    });
  });

  it('Swagger shows the filter field and the try-it route', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.paths['/api/webhooks/filters/test']?.post).toBeDefined();
    for (const dto of ['CreateWebhookDto', 'UpdateWebhookDto', 'WebhookDto']) expect(doc.components.schemas[dto].properties.filter).toBeDefined();
    expect(doc.components.schemas.FilterTestDto.properties.payload).toBeDefined();
  });
});
