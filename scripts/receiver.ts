/**
 * `npm run receiver -- --port 9000 --secret whsec_…`: the offline replacement
 * for webhook.site. Prints every delivery, checks both signature schemes and
 * answers as told (see receiver-options.ts for the flags, `--help`).
 */
import { parseReceiverArgs, RECEIVER_HELP, ReceiverOptions, ReceiverUsageError } from './receiver-options';
import { RunningReceiver, startReceiver } from './receiver-server';
import { describeSecret, NOT_CHECKED_NOTE } from './receiver-signatures';

export { startReceiver } from './receiver-server';
export type { ReceivedDelivery, RunningReceiver, StartReceiverOptions } from './receiver-server';
export { parseReceiverArgs } from './receiver-options';
export type { ReceiverOptions } from './receiver-options';
export { verifySignatures } from './receiver-signatures';

function banner(r: RunningReceiver, o: ReceiverOptions): string {
  const answer = [`answers ${o.status}`];
  if (o.failRate > 0) answer.push(`but ${Math.round(o.failRate * 1000) / 10}% of deliveries 500${o.seed === undefined ? '' : ` (seed ${o.seed})`}`);
  if (o.delayMs > 0) answer.push(`after ${o.delayMs} ms`);
  return [
    `ATLAS local receiver listening on ${r.url} (POST to any path)`,
    `  ${answer.join(', ')}`,
    `  signatures: ${o.secret ? `checked with ${describeSecret(o.secret)}` : NOT_CHECKED_NOTE}`,
    '  The service only delivers to this machine when allowed: WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8,::1/128',
    '  Ctrl+C to stop.',
    '',
  ].join('\n');
}

function summary(r: RunningReceiver): string {
  const got = r.deliveries;
  const checked = got.filter((d) => d.signatures.checked);
  const valid = checked.filter((d) => d.signatures.checked && d.signatures.all_ok).length;
  return `Received ${r.count()} deliveries${checked.length ? `, ${valid} of ${checked.length} with every signature valid` : ''}.\n`;
}

/** Runs the CLI; resolves once listening (the process then lives until SIGINT/SIGTERM). */
export async function main(argv: string[]): Promise<void> {
  let options: ReceiverOptions;
  try {
    const parsed = parseReceiverArgs(argv);
    if (parsed.help) {
      process.stdout.write(RECEIVER_HELP);
      return;
    }
    options = parsed.options;
  } catch (err) {
    if (!(err instanceof ReceiverUsageError)) throw err;
    process.stderr.write(`receiver: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  let receiver: RunningReceiver;
  try {
    receiver = await startReceiver({ ...options, output: options.json ? 'json' : 'pretty' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE'
        ? `port ${options.port} on ${options.host} is already in use; pick another with --port`
        : e.code === 'EADDRNOTAVAIL'
          ? `cannot bind to ${options.host}: no such address on this machine`
          : e.message;
    process.stderr.write(`receiver: ${why}\n`);
    process.exitCode = 1;
    return;
  }
  // In --json mode stdout carries only delivery lines; the human text goes to stderr.
  const say = (text: string) => void (options.json ? process.stderr : process.stdout).write(text);
  say(banner(receiver, options));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void receiver.close().finally(() => {
      say(summary(receiver));
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  void main(process.argv.slice(2));
}
