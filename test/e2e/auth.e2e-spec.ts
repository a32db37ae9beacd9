import { createHmac } from 'node:crypto';
import { createTestApp, TestApp } from '../utils/test-app';

function b64url(value: object | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function forgeToken(header: object, payload: object, secret?: string): string {
  const unsigned = `${b64url(header)}.${b64url(payload)}`;
  const sig = secret ? createHmac('sha256', secret).update(unsigned).digest('base64url') : '';
  return `${unsigned}.${sig}`;
}

describe('Auth and users (e2e)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp({ LOGIN_RATE_LIMIT: '5' });
    admin = await t.login();
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs in as the default admin and returns a bearer token', async () => {
    const res = await t.http().post('/api/auth/login').send({ username: 'admin', password: 'admin123' }).expect(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600 });
    const [header] = res.body.access_token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'HS256' });
  });

  it('answers a wrong password and an unknown user with the same 401', async () => {
    const wrong = await t.http().post('/api/auth/login').send({ username: 'admin', password: 'nope-nope' }).expect(401);
    const unknown = await t.http().post('/api/auth/login').send({ username: 'ghost', password: 'nope-nope' }).expect(401);
    expect(wrong.body.message).toBe('Invalid username or password');
    expect(unknown.body.message).toBe(wrong.body.message);
  });

  it('rejects missing fields with 400 naming them', async () => {
    const res = await t.http().post('/api/auth/login').send({ username: 'admin' }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.message).toMatch(/password/);
  });

  it('rate-limits login attempts per client and username', async () => {
    for (let i = 0; i < 5; i++) {
      await t
        .http()
        .post('/api/auth/login')
        .send({ username: 'victim', password: 'guess-' + i })
        .expect(401);
    }
    const res = await t.http().post('/api/auth/login').send({ username: 'victim', password: 'guess-x' }).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // another username from the same client is not affected
    await t.http().post('/api/auth/login').send({ username: 'someone-else', password: 'x' }).expect(401);
  });

  it('GET /api/auth/me returns the user without its password hash', async () => {
    const res = await t.http().get('/api/auth/me').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(res.body).toMatchObject({ username: 'admin', role: 'admin' });
    expect(JSON.stringify(res.body)).not.toMatch(/password|\$2[aby]\$/);
  });

  describe('rejects bad tokens with 401', () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => string | undefined]> = [
      ['missing', () => undefined],
      ['malformed', () => 'not-a-jwt'],
      ['wrongly signed', () => forgeToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', iat: now, exp: now + 60 }, 'another-secret-another-secret-xx')],
      ['alg none', () => forgeToken({ alg: 'none', typ: 'JWT' }, { sub: 'x', iat: now, exp: now + 60 })],
      [
        'expired',
        () => forgeToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', iat: now - 120, exp: now - 60 }, 'test-secret-that-is-at-least-32-characters-long'),
      ],
    ];
    it.each(cases)('%s', async (_name, token) => {
      const req = t.http().get('/api/auth/me');
      const value = token();
      if (value) req.set('Authorization', `Bearer ${value}`);
      const res = await req.expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });
  });

  it('lets an admin manage users and forbids viewers', async () => {
    const created = await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'viewer1', password: 'viewer-pass-1', role: 'viewer' })
      .expect(201);
    expect(created.body).toMatchObject({ username: 'viewer1', role: 'viewer' });
    expect(created.body.password_hash).toBeUndefined();

    await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'viewer1', password: 'viewer-pass-1', role: 'viewer' })
      .expect(409);
    await t.http().post('/api/users').set('Authorization', `Bearer ${admin}`).send({ username: 'v2', password: 'short', role: 'root' }).expect(400);

    const viewer = await t.login('viewer1', 'viewer-pass-1');
    await t.http().get('/api/users').set('Authorization', `Bearer ${viewer}`).expect(403);
    const list = await t.http().get('/api/users').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(list.body.items.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['admin', 'viewer1']));

    await t.http().delete('/api/users/not-a-uuid').set('Authorization', `Bearer ${admin}`).expect(400);
    await t.http().delete('/api/users/00000000-0000-4000-8000-000000000000').set('Authorization', `Bearer ${admin}`).expect(404);
    await t.http().delete(`/api/users/${created.body.id}`).set('Authorization', `Bearer ${admin}`).expect(204);
    // the deleted user's token stops working
    await t.http().get('/api/auth/me').set('Authorization', `Bearer ${viewer}`).expect(401);
  });

  it('answers concurrent creates of the same username with one 201 and 409s, never a 500', async () => {
    // each request checks "is it taken?" before hashing the password, so most pass the check together
    // and the unique index refuses all but one insert: that unique violation must read as a 409 too
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await t
          .http()
          .post('/api/users')
          .set('Authorization', `Bearer ${admin}`)
          .send({ username: 'racer', password: 'racer-pass-1', role: 'viewer' });
        return { status: res.status, code: res.body.code as string | undefined };
      }),
    );
    expect(statuses.filter((s) => s.status === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s.status !== 201)).toEqual(Array.from({ length: 5 }, () => ({ status: 409, code: 'USERNAME_TAKEN' })));
    const list = await t.http().get('/api/users?limit=500').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(list.body.items.filter((u: { username: string }) => u.username === 'racer')).toHaveLength(1);
  });

  it('refuses to delete the own account', async () => {
    const me = await t.http().get('/api/auth/me').set('Authorization', `Bearer ${admin}`).expect(200);
    const res = await t.http().delete(`/api/users/${me.body.id}`).set('Authorization', `Bearer ${admin}`).expect(409);
    expect(res.body.message).toMatch(/own account/);
  });

  it('changes the password', async () => {
    await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'changer', password: 'first-pass-1', role: 'viewer' })
      .expect(201);
    const token = await t.login('changer', 'first-pass-1');
    await t
      .http()
      .post('/api/auth/change-password')
      .set('Authorization', `Bearer ${token}`)
      .send({ current_password: 'wrong-one', new_password: 'second-pass-2' })
      .expect(401);
    await t
      .http()
      .post('/api/auth/change-password')
      .set('Authorization', `Bearer ${token}`)
      .send({ current_password: 'first-pass-1', new_password: 'second-pass-2' })
      .expect(204);
    await t.http().post('/api/auth/login').send({ username: 'changer', password: 'first-pass-1' }).expect(401);
    await t.login('changer', 'second-pass-2');
  });
});
