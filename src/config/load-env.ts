import { config as loadDotenv } from 'dotenv';
import { Env, parseEnv } from './env.schema';

/** Reads `.env` (when present; real environment variables win) and validates everything. */
export function loadEnv(): Env {
  loadDotenv({ quiet: true });
  return parseEnv(process.env);
}
