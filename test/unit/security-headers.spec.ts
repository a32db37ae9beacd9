import helmet from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { API_SECURITY_HEADERS as OPTIONS, helmetHeaders } from '../../src/common/security-headers';

/** The headers a real response carries after `middleware` ran on it. */
function headersAfter(middleware: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): Record<string, unknown> {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  let nextCalled = false;
  middleware(req, res, () => (nextCalled = true));
  expect(nextCalled).toBe(true);
  return res.getHeaders();
}

describe('helmetHeaders', () => {
  it('sets exactly the headers helmet sets, with the same values', () => {
    const fromHelmet = headersAfter(helmet(OPTIONS));
    const pairs = helmetHeaders(OPTIONS);
    const once = headersAfter((_req, res, next) => {
      for (const [name, value] of pairs) res.setHeader(name, value);
      next();
    });
    expect(Object.keys(fromHelmet).length).toBeGreaterThanOrEqual(10);
    expect(once).toEqual(fromHelmet);
    expect(String(once['content-security-policy'])).toContain("img-src 'self' data:");
    expect(once['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a CSP directive that is a function of the request', () => {
    const nonce = (_req: unknown, res: unknown) => `'nonce-${String((res as { locals?: { n?: string } }).locals?.n)}'`;
    expect(() => helmetHeaders({ contentSecurityPolicy: { directives: { 'script-src': ["'self'", nonce] } } })).toThrow(/script-src is a function/);
  });
});
