/**
 * The local receiver (`npm run receiver`) as a user runs it: the built script
 * in a child process, real loopback HTTP. No app and no database needed.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../src/common/canonical-json';

const ROOT = join(__dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'scripts', 'receiver.js');
const LAUNCHER = BUILT;

interface Line {
  event: string | null;
  webhook_id: string | null;
  delivery_id: string | null;
  attempt: number | null;
  body: unknown;
  headers: Record<string, string>;
  signatures:
    | { checked: false; note: string }
    | { checked: true; atlas: { ok: boolean }; atlas_reserialised: { ok: boolean }; standard_webhooks: { ok: boolean }; all_ok: boolean };
  response: { status: number; simulated_failure: boolean };
}

interface Receiver {
  url: string;
  child: ChildProcess;
  nextLine(): Promise<Line>;
  stop(): Promise<void>;
}

const running: Receiver[] = [];

/** Starts the receiver on a free port with --json and waits for its banner (on stderr in --json mode). */
async function startReceiver(args: string[]): Promise<Receiver> {
  const child = spawn(process.execPath, [LAUNCHER, '--port', '0', '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiting: ((line: Line) => void)[] = [];
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    let nl: number;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = JSON.parse(stdout.slice(0, nl)) as Line;
      stdout = stdout.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start: ${stderr}`)), 10_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver exited with ${code}: ${stderr}`));
    });
  });
  const receiver: Receiver = {
    url,
    child,
    nextLine: () =>
      lines.length
        ? Promise.resolve(lines.shift()!)
        : new Promise<Line>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no delivery line within 5 s')), 5_000);
            waiting.push((line) => {
              clearTimeout(timer);
              resolve(line);
            });
          }),
    stop: () => stopChild(child),
  };
  running.push(receiver);
  return receiver;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Runs the receiver to completion (for arguments that make it exit at once). */
function runReceiver(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A delivery signed the way the service signs it. */
function signedDelivery(secret: string, payload: unknown) {
  const body = canonicalJson(payload);
  const eventId = randomUUID();
  const timestamp = Math.floor(Date.now() / 1000);
  const swKey = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-ATLAS-Event': 'service.started',
      'X-ATLAS-Signature': createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex'),
      'X-ATLAS-Delivery': randomUUID(),
      'X-ATLAS-Attempt': '1',
      'webhook-id': eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': 'v1,' + createHmac('sha256', swKey).update(`${eventId}.${timestamp}.${body}`).digest('base64'),
    },
  };
}

const SECRET = 'whsec_' + randomBytes(32).toString('base64');
const PAYLOAD = { event: 'service.started', data: { service: 'nginx', note: 'café ☕', ratio: 0.25 }, timestamp: '2026-01-01T00:00:00Z' };

describe('local receiver (npm run receiver)', () => {
  beforeAll(() => {
    if (!existsSync(BUILT)) {
      // `npm test` builds first (pretest); this covers a lone `npx jest test/e2e/receiver…`.
      spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
    }
    expect(existsSync(BUILT)).toBe(true);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  it('verifies both signature schemes of a correctly signed delivery and prints its headers and body', async () => {
    const r = await startReceiver(['--secret', SECRET]);
    const d = signedDelivery(SECRET, PAYLOAD);
    const res = await fetch(r.url + 'hooks/atlas', { method: 'POST', headers: d.headers, body: d.body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true });
    const line = await r.nextLine();
    expect(line.signatures).toMatchObject({
      checked: true,
      atlas: { ok: true },
      atlas_reserialised: { ok: true },
      standard_webhooks: { ok: true },
      all_ok: true,
    });
    expect(line).toMatchObject({
      event: 'service.started',
      webhook_id: d.headers['webhook-id'],
      delivery_id: d.headers['X-ATLAS-Delivery'],
      attempt: 1,
      body: PAYLOAD,
      response: { status: 200, simulated_failure: false },
    });
    expect(JSON.stringify(line)).not.toContain(SECRET);
  });

  it('prints a readable form by default, with both verdicts and without the secret', async () => {
    const child = spawn(process.execPath, [LAUNCHER, '--port', '0', '--secret', SECRET], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push({ url: '', child, nextLine: () => Promise.reject(new Error('pretty mode')), stop: () => stopChild(child) });
    let out = '';
    const outputMatching = (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in: ${out}`)), 5_000);
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve(m);
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const [, url] = await outputMatching(/listening on (http:\/\/\S+)/);
    const d = signedDelivery(SECRET, PAYLOAD);
    await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
    await outputMatching(/"timestamp": "2026-01-01T00:00:00Z"\n\s*}\n/);
    expect(out).toContain('event        service.started');
    expect(out).toContain(`webhook-id   ${d.headers['webhook-id']}`);
    expect(out).toContain(`delivery     ${d.headers['X-ATLAS-Delivery']}`);
    expect(out).toContain('✔ X-ATLAS-Signature: matches');
    expect(out).toContain('✔ X-ATLAS-Signature (re-serialised)');
    expect(out).toContain('✔ webhook-signature (Standard Webhooks)');
    expect(out).not.toContain('✘');
    expect(out).not.toContain(SECRET);
  });

  it('rejects both schemes when the body was changed after signing', async () => {
    const r = await startReceiver(['--secret', SECRET]);
    const d = signedDelivery(SECRET, PAYLOAD);
    const tampered = d.body.replace('nginx', 'nginy');
    expect(tampered).not.toBe(d.body);
    await fetch(r.url, { method: 'POST', headers: d.headers, body: tampered });
    const line = await r.nextLine();
    expect(line.signatures).toMatchObject({
      checked: true,
      atlas: { ok: false },
      atlas_reserialised: { ok: false },
      standard_webhooks: { ok: false },
      all_ok: false,
    });
  });

  it('rejects both schemes when the receiver holds another secret', async () => {
    const r = await startReceiver(['--secret', 'whsec_' + randomBytes(32).toString('base64')]);
    const d = signedDelivery(SECRET, PAYLOAD);
    await fetch(r.url, { method: 'POST', headers: d.headers, body: d.body });
    const line = await r.nextLine();
    expect(line.signatures).toMatchObject({ checked: true, atlas: { ok: false }, standard_webhooks: { ok: false }, all_ok: false });
  });

  it('says signatures were not checked without --secret', async () => {
    const r = await startReceiver([]);
    const d = signedDelivery(SECRET, PAYLOAD);
    await fetch(r.url, { method: 'POST', headers: d.headers, body: d.body });
    const line = await r.nextLine();
    expect(line.signatures).toEqual({ checked: false, note: 'no secret given: signatures not checked' });
  });

  it('answers with --status', async () => {
    const r = await startReceiver(['--status', '503']);
    const res = await fetch(r.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect((await r.nextLine()).response).toEqual({ status: 503, delay_ms: 0, simulated_failure: false });
  });

  it('answers 500 to every delivery with --fail-rate 1', async () => {
    const r = await startReceiver(['--fail-rate', '1']);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(r.url, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect((await r.nextLine()).response).toMatchObject({ status: 500, simulated_failure: true });
    }
  });

  it('waits --delay milliseconds before answering', async () => {
    const r = await startReceiver(['--delay', '300']);
    const started = performance.now();
    const res = await fetch(r.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('accepts POST only', async () => {
    const r = await startReceiver([]);
    const res = await fetch(r.url);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it.each([
    [['--bogus'], /Unknown option --bogus/],
    [['--port', 'abc'], /--port must be a whole number/],
    [['--fail-rate', '1.5'], /--fail-rate must be a number between 0 and 1/],
    [['--delay'], /--delay needs a value/],
    [['--status', '42'], /--status must be between 200 and 599/],
    [['--secret', 'whsec_not base64!'], /--secret: .*not valid base64/],
  ])('refuses %j with a message and a non-zero exit code', (args, message) => {
    const r = runReceiver(args);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toMatch(message);
  });

  it('prints its options with --help', () => {
    const r = runReceiver(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--fail-rate/);
  });
});
