import { Logger } from '@nestjs/common';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathOf } from '../common/request-path';

/** Paths the service itself answers; everything else that asks for HTML is a console page. */
const SERVICE_PATHS = /^\/(api|docs|metrics)(\/|$|-json|-yaml)/;
/** A missing hashed file is a 404 (an old page asking for an asset of a previous build), not the console page. */
const ASSETS = /^\/assets\//;

/** The repository (package) root: the nearest folder above this file with a package.json (from src/ under ts-jest, from dist/src/ when built). */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where `npm run build` puts the console (console/vite.config.mjs). */
export function consoleDir(): string {
  return join(packageRoot(), 'dist', 'console');
}

/**
 * Serves the web console at `/`: the hashed files under /assets with a year
 * of immutable caching, index.html never cached (it names the current
 * assets), and index.html for every other GET that accepts HTML outside
 * /api, /docs and /metrics, so that console paths (/webhooks/…) load on
 * reload. The console is static files on the same REST API: no route of
 * its own, and the API's headers (CSP included, set when the request
 * arrives) apply to it unchanged.
 */
export async function serveConsole(fastify: FastifyInstance, dir = consoleDir()): Promise<boolean> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    new Logger('Console').warn(`The web console is not built (${index} is missing): run npm run build. The API is unaffected.`);
    return false;
  }
  // the files next to index.html (favicon, …): served as files, never replaced by the console page
  const topLevel = new Set(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `/${e.name}`),
  );
  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: false,
    redirect: false,
    cacheControl: false,
    decorateReply: false,
    setHeaders: (res, path) => {
      const assets = path.startsWith(join(dir, 'assets') + '/');
      res.setHeader('Cache-Control', assets ? 'public, max-age=31536000, immutable' : path.endsWith('.html') ? 'no-cache' : 'public, max-age=3600');
    },
  });
  fastify.addHook('onRequest', (req, reply, done) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return done();
    const path = pathOf(req.url);
    if (SERVICE_PATHS.test(path) || ASSETS.test(path) || (topLevel.has(path) && path !== '/index.html') || !acceptsHtml(req.headers.accept)) return done();
    readFile(index).then(
      (html) => void reply.header('Cache-Control', 'no-cache').type('text/html; charset=UTF-8').send(html),
      (err: Error) => done(err),
    );
  });
  return true;
}

/** Whether an Accept header takes HTML (no header takes anything). */
function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return true;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().split(';');
    if (params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))) return false;
    const t = type.trim().toLowerCase();
    return t === 'text/html' || t === 'text/*' || t === '*/*';
  });
}
