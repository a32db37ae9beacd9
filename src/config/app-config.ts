import { Injectable } from '@nestjs/common';
import { Env } from './env.schema';

/**
 * The validated configuration, read through typed properties. Built once in
 * `main.ts` (or a test) from `parseEnv` and provided globally.
 */
@Injectable()
export class AppConfig {
  constructor(readonly env: Readonly<Env>) {}

  get<K extends keyof Env>(key: K): Env[K] {
    return this.env[key];
  }

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }
}
