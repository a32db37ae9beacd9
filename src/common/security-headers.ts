import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

type HelmetOptions = Parameters<typeof helmet>[0];

/** The helmet options of the API and the console: helmet's defaults, with `data:` images allowed and no upgrade-insecure-requests. */
export const API_SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], upgradeInsecureRequests: null } },
};

/**
 * The headers helmet sets, as pairs, worked out once: with static options
 * (no nonce or other function of the request) helmet's twelve middlewares set
 * the same headers on every response, so they are run once here against a
 * recording response instead of once per request. Throws if helmet would not
 * finish synchronously or reads the request (options that need it do not
 * belong here).
 */
export function helmetHeaders(options: HelmetOptions): Array<[string, string]> {
  const csp = options?.contentSecurityPolicy;
  const directives = typeof csp === 'object' && csp !== null ? Object.entries(csp.directives ?? {}) : [];
  for (const [name, value] of directives) {
    if (typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function')))
      throw new Error(`the CSP directive ${name} is a function of the request: its header cannot be worked out once`);
  }
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, Array.isArray(value) ? value.join(', ') : String(value)]);
    },
    removeHeader() {
      // X-Powered-By: Fastify never sets it
    },
  };
  const request = new Proxy(
    {},
    {
      get(_, key) {
        throw new Error(`helmet options that read the request (req.${String(key)}) cannot be worked out once`);
      },
    },
  );
  let finished = false;
  let failure: unknown;
  helmet(options)(request as never, recorder as never, (err?: unknown) => {
    finished = true;
    failure = err;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(`helmet failed: ${JSON.stringify(failure)}`);
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

/** helmet's headers (worked out once by `helmetHeaders`) on every response, set when the request arrives. */
export function installSecurityHeaders(fastify: FastifyInstance, options: HelmetOptions): void {
  const headers = helmetHeaders(options);
  fastify.addHook('onRequest', (_req, reply, done) => {
    for (let i = 0; i < headers.length; i++) void reply.header(headers[i][0], headers[i][1]);
    done();
  });
}
