/** The readable (default) and JSON-line forms of one received delivery. */
import type { ReceivedDelivery } from './receiver-server';
import type { SignatureVerdict } from './receiver-signatures';

/** Headers shown on their own line, before the rest. */
export const HEADLINE_HEADERS = ['x-atlas-event', 'webhook-id', 'x-atlas-delivery', 'x-atlas-attempt', 'webhook-timestamp'];

function mark(v: SignatureVerdict): string {
  return v.ok ? '✔' : '✘';
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function timestampText(raw: string | null, receivedAt: string): string {
  if (raw === null) return '—';
  if (!/^\d+$/.test(raw)) return `${raw} (not a Unix time)`;
  const when = new Date(Number(raw) * 1000);
  const ageS = Math.round((Date.parse(receivedAt) - when.getTime()) / 1000);
  return `${raw} (${when.toISOString()}, ${ageS >= 0 ? `${ageS} s before receipt` : `${-ageS} s in the future`})`;
}

/** Several lines, ending with a blank line. */
export function formatDeliveryPretty(d: ReceivedDelivery): string {
  const r = d.response;
  const answer = `→ ${r.status}${r.simulated_failure ? ' (simulated failure)' : ''}${r.delay_ms ? ` after ${r.delay_ms} ms` : ''}`;
  const lines = [`━━ #${d.seq}  ${d.received_at}  ${d.method} ${d.path}  ${answer}`];
  lines.push(`  event        ${d.event ?? '— (no X-ATLAS-Event header)'}`);
  lines.push(`  webhook-id   ${d.webhook_id ?? '—'}`);
  lines.push(`  delivery     ${d.delivery_id ?? '—'}`);
  lines.push(`  attempt      ${d.attempt ?? '—'}`);
  lines.push(`  timestamp    ${timestampText(d.webhook_timestamp, d.received_at)}`);
  const others = Object.entries(d.headers).filter(([name]) => !HEADLINE_HEADERS.includes(name));
  others.forEach(([name, value], i) => lines.push(`  ${i === 0 ? 'headers    ' : '           '}  ${name}: ${value}`));
  const s = d.signatures;
  if (!s.checked) {
    lines.push(`  signatures   ${s.note}`);
  } else {
    lines.push(`  signatures   ${mark(s.atlas)} X-ATLAS-Signature: ${s.atlas.detail}`);
    lines.push(`               ${mark(s.atlas_reserialised)} X-ATLAS-Signature (re-serialised): ${s.atlas_reserialised.detail}`);
    lines.push(`               ${mark(s.standard_webhooks)} webhook-signature (Standard Webhooks): ${s.standard_webhooks.detail}`);
  }
  lines.push(`  body (${d.size} bytes)`);
  if (d.json_error === null) {
    lines.push(indent(JSON.stringify(d.body, null, 2), '    '));
  } else {
    lines.push(`    not JSON (${d.json_error}):`);
    lines.push(indent(d.raw_body, '    '));
  }
  return lines.join('\n') + '\n\n';
}

/** One line of JSON, ending with a newline. */
export function formatDeliveryJson(d: ReceivedDelivery): string {
  return JSON.stringify(d) + '\n';
}
