/**
 * Command-line options of the local receiver (`npm run receiver -- …`): their
 * defaults, their validation and the `--help` text.
 */
import { assertUsableSecret } from './receiver-signatures';

export interface ReceiverOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  host: string;
  /** Webhook secret used to check signatures; never printed. */
  secret?: string;
  /** Status answered to every delivery not picked by `failRate`. */
  status: number;
  /** Fraction (0..1) of deliveries answered 500. */
  failRate: number;
  /** Seed of the PRNG behind `failRate`, for repeatable runs. */
  seed?: number;
  /** Wait this long before answering. */
  delayMs: number;
  /** One JSON line per delivery on stdout instead of the readable form. */
  json: boolean;
}

export const DEFAULT_RECEIVER_OPTIONS: ReceiverOptions = {
  port: 9000,
  host: '127.0.0.1',
  status: 200,
  failRate: 0,
  delayMs: 0,
  json: false,
};

export const RECEIVER_HELP = `ATLAS local receiver: an offline stand-in for webhook.site. It prints every
delivery it gets (POST on any path), checks both signatures when given the
webhook's secret, and answers the way you tell it to.

Usage: npm run receiver -- [options]

Options:
  --port <n>         port to listen on (default 9000; 0 = any free port)
  --host <address>   address to bind (default 127.0.0.1)
  --secret <secret>  the webhook's secret (whsec_… or your own); checks
                     X-ATLAS-Signature and webhook-signature on each delivery
  --status <code>    status to answer, 200..599 (default 200)
  --fail-rate <r>    fraction 0..1 of deliveries answered 500 instead (default 0)
  --seed <n>         seed for --fail-rate, for repeatable runs
  --delay <ms>       wait this long before answering (default 0)
  --json             print one JSON line per delivery (for scripts and jq)
  -h, --help         show this help

Example:
  npm run receiver -- --port 9000 --secret whsec_... --fail-rate 0.3
  (the service must be allowed to reach this machine:
   WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8,::1/128)
`;

/** A mistake on the command line; the message is meant for the user. */
export class ReceiverUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReceiverUsageError';
  }
}

export type ParsedReceiverArgs = { help: true } | { help: false; options: ReceiverOptions };

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ReceiverUsageError(`${flag} must be a whole number between ${min} and ${max}, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ReceiverUsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function fraction(flag: string, raw: string): number {
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 1)) throw new ReceiverUsageError(`${flag} must be a number between 0 and 1 (e.g. 0.25), got "${raw}"`);
  return n;
}

const VALUE_FLAGS = ['--port', '--host', '--secret', '--status', '--fail-rate', '--seed', '--delay'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

function isValueFlag(flag: string): flag is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(flag);
}

/** Parses `argv` (without `node script`); throws ReceiverUsageError on anything unexpected. */
export function parseReceiverArgs(argv: string[]): ParsedReceiverArgs {
  const options: ReceiverOptions = { ...DEFAULT_RECEIVER_OPTIONS };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    if (!arg.startsWith('--')) throw new ReceiverUsageError(`Unexpected argument "${arg}". Run with --help for the options.`);
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (seen.has(flag)) throw new ReceiverUsageError(`${flag} is given twice`);
    seen.add(flag);
    if (flag === '--json') {
      if (eq >= 0) throw new ReceiverUsageError('--json takes no value');
      options.json = true;
      continue;
    }
    if (!isValueFlag(flag)) throw new ReceiverUsageError(`Unknown option ${flag}. Run with --help for the options.`);
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new ReceiverUsageError(`${flag} needs a value`);
      value = next;
      i++;
    }
    switch (flag) {
      case '--port':
        options.port = wholeNumber(flag, value, 0, 65535);
        break;
      case '--host':
        if (!value.trim()) throw new ReceiverUsageError('--host must not be empty');
        options.host = value.trim();
        break;
      case '--secret':
        if (!value) throw new ReceiverUsageError('--secret must not be empty');
        try {
          assertUsableSecret(value);
        } catch (err) {
          throw new ReceiverUsageError(`--secret: ${(err as Error).message}`);
        }
        options.secret = value;
        break;
      case '--status':
        options.status = wholeNumber(flag, value, 200, 599);
        break;
      case '--fail-rate':
        options.failRate = fraction(flag, value);
        break;
      case '--seed':
        options.seed = wholeNumber(flag, value, 0, 2 ** 32 - 1);
        break;
      case '--delay':
        options.delayMs = wholeNumber(flag, value, 0, 600_000);
        break;
    }
  }
  return { help: false, options };
}
