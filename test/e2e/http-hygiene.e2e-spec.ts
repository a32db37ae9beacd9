import { gzipSync } from 'node:zlib';
import { createTestApp, TestApp } from '../utils/test-app';

describe('HTTP hygiene, health and Swagger (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT_BYTES: '2kb' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /api/health is public and reports the database', async () => {
    const res = await t.http().get('/api/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'up' });
  });

  it('accepts a trailing slash', async () => {
    await t.http().get('/api/health/').expect(200);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t.http().post('/api/auth/login').set('Content-Type', 'application/json').send('{"username": "admin",').expect(400);
    expect(res.body.message).toMatch(/JSON/);
  });

  it('answers unknown fields with 400 naming them', async () => {
    const res = await t.http().post('/api/auth/login').send({ username: 'a', password: 'b', is_admin: true }).expect(400);
    expect(res.body.message).toMatch(/is_admin/);
  });

  it('answers a compressed body with 415 naming the encoding', async () => {
    const res = await t
      .http()
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(JSON.stringify({ username: 'a', password: 'b' })))
      .expect(415);
    expect(res.body.message).toMatch(/Content-Encoding: gzip/);
  });

  it('answers a body over the limit with 413', async () => {
    const res = await t
      .http()
      .post('/api/auth/login')
      .send({ username: 'a', password: 'x'.repeat(4096) })
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('sets security headers and a request id', async () => {
    const res = await t.http().get('/api/health').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  it('gives the errors of body parsing (413, 415, malformed JSON) a request id too, like every other response', async () => {
    const big = await t
      .http()
      .post('/api/auth/login')
      .set('X-Request-Id', 'big-1')
      .send({ username: 'a', password: 'x'.repeat(4096) })
      .expect(413);
    const form = await t.http().post('/api/auth/login').set('X-Request-Id', 'form-1').type('form').send('username=a&password=b').expect(415);
    const broken = await t.http().post('/api/auth/login').set('Content-Type', 'application/json').send('{"username":').expect(400);
    expect([big.body.request_id, big.headers['x-request-id']]).toEqual(['big-1', 'big-1']);
    expect([form.body.request_id, form.headers['x-request-id']]).toEqual(['form-1', 'form-1']);
    expect(broken.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(broken.headers['x-request-id']).toBe(broken.body.request_id);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const token = await t.login();
    const res = await t.http().get('/api/nothing-here').set('Authorization', `Bearer ${token}`).expect(404);
    expect(res.body.status_code).toBe(404);
  });

  it('serves Swagger UI and the OpenAPI document with bearer auth and tags', async () => {
    await t.http().get('/docs').expect(200).expect('Content-Type', /html/);
    const res = await t.http().get('/docs-json').expect(200);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const tags = res.body.tags.map((x: { name: string }) => x.name);
    expect(tags).toEqual(expect.arrayContaining(['Auth', 'Users', 'Webhooks', 'Events', 'Health']));
    expect(res.body.paths['/api/auth/login'].post.responses).toHaveProperty('401');
  });
});
