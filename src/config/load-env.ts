import { config as loadDotenv } from 'dotenv';
import { Env, parseEnv } from './env.schema';

/** Reads `.env` (when present; real environment variables win) and validates everything. */
export function loadEnv(): Env {
  loadDotenv({ quiet: true } as Parameters<typeof loadDotenv>[0]);
  return parseEnv(process.env);
}
