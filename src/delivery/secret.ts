/**
 * Moved to src/webhooks/secret.ts (the webhooks module owns secrets; delivery imports from it).
 * This re-export keeps bench/run.ts compiling until its import is updated; nothing in src/ uses it.
 */
export { generateSecret, maskSecret, SECRET_PREFIX, standardWebhooksKey } from '../webhooks/secret';
