import { ReactNode, useState } from 'react';
import type { Attempt } from './api';
import { ApiError } from './api';

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function EnabledBadge({ enabled, failing }: { enabled: boolean; failing?: boolean }) {
  if (!enabled) return <span className="badge badge-disabled">disabled</span>;
  if (failing) return <span className="badge badge-failed">failing</span>;
  return <span className="badge badge-succeeded">enabled</span>;
}

export function attemptOutcome(a: Attempt): string {
  if (a.status_code !== null) return `HTTP ${a.status_code}`;
  return a.error ?? a.status;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? `${error.message} (${error.code})`
      : error instanceof Error
        ? error.message
        : typeof error === 'string'
          ? error
          : 'Something went wrong';
  return (
    <div className="alert alert-error" role="alert">
      {message}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p className="muted">{what}…</p>;
}

export function Card({ title, children, actions, className }: { title?: ReactNode; children: ReactNode; actions?: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

/** A button that asks once more before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  confirm,
  onConfirm,
  className = 'danger',
}: {
  label: string;
  confirm: string;
  onConfirm: () => void;
  className?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className={className} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={confirm}>
      <span>{confirm}</span>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Pager({
  total,
  limit,
  offset,
  onOffset,
  capped,
}: {
  total: number;
  limit: number;
  offset: number;
  onOffset: (o: number) => void;
  capped?: boolean;
}) {
  if (total <= limit && offset === 0) return <div className="pager muted">{total} in all</div>;
  return (
    <div className="pager">
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        ← Newer
      </button>
      <span className="muted">
        {offset + 1}–{Math.min(offset + limit, total)} of {total}
        {capped ? '+' : ''}
      </span>
      <button type="button" disabled={offset + limit >= total} onClick={() => onOffset(offset + limit)}>
        Older →
      </button>
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no clipboard permission (plain http on another host): select it for the user instead
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" onClick={() => void copy()}>
      {copied ? 'Copied' : label}
    </button>
  );
}

export function KeyValues({ values }: { values: Record<string, string> | null | undefined }) {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return <p className="muted">none</p>;
  return (
    <table className="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
