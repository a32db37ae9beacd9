import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
 * its own, and the API's headers (CSP included) apply to it unchanged.
 */
export function serveConsole(app: NestExpressApplication, dir = consoleDir()): boolean {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    new Logger('Console').warn(`The web console is not built (${index} is missing): run npm run build. The API is unaffected.`);
    return false;
  }
  const noCache = (res: Response) => res.setHeader('Cache-Control', 'no-cache');
  app.useStaticAssets(join(dir, 'assets'), {
    prefix: '/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
  });
  app.useStaticAssets(dir, {
    index: false,
    redirect: false,
    maxAge: '1h',
    setHeaders: (res: Response, path: string) => {
      if (path.endsWith('.html')) noCache(res);
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVICE_PATHS.test(req.path) || ASSETS.test(req.path) || !req.accepts('html')) return next();
    noCache(res);
    res.sendFile(index);
  });
  return true;
}
