import { FormEvent, useEffect, useMemo, useState } from 'react';
import { ApiError, EventType, get, post, put, Webhook } from '../api';
import { useAuth } from '../auth';
import { useLoad } from '../hooks';
import { Link, navigate } from '../router';
import { Card, CopyButton, ErrorBox, Loading } from '../ui';

const FIELDS = ['url', 'name', 'description', 'events', 'retry_enabled', 'timeout_ms', 'headers'] as const;

interface HeaderRow {
  name: string;
  value: string;
}

/** Create (no id) or edit a webhook. Validation messages from the API appear next to their field. */
export function WebhookFormPage({ id }: { id?: string }) {
  const { isAdmin } = useAuth();
  const types = useLoad(() => get<EventType[]>('/events/types'), []);
  const existing = useLoad(() => (id ? get<Webhook>(`/webhooks/${id}`) : Promise.resolve(undefined)), [id]);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [retry, setRetry] = useState(true);
  const [timeout, setTimeoutMs] = useState('10000');
  const [headers, setHeaders] = useState<HeaderRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Webhook>();

  useEffect(() => {
    const w = existing.data;
    if (!w) return;
    setUrl(w.url);
    setName(w.name);
    setDescription(w.description ?? '');
    setEvents(w.events);
    setRetry(w.retry_enabled);
    setTimeoutMs(String(w.timeout_ms));
    setHeaders(Object.entries(w.headers).map(([n, v]) => ({ name: n, value: v })));
  }, [existing.data]);

  const categories = useMemo(() => {
    const by = new Map<string, EventType[]>();
    for (const t of types.data ?? []) if (t.type !== 'webhook.test') by.set(t.category, [...(by.get(t.category) ?? []), t]);
    return [...by];
  }, [types.data]);

  if (!isAdmin) return <ErrorBox error={new Error('Only admins can create or edit webhooks.')} />;
  if (id && !existing.data) return existing.error ? <ErrorBox error={existing.error} /> : <Loading />;

  const toggle = (value: string) => setEvents((list) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(undefined);
    const body: Record<string, unknown> = {
      url: url.trim(),
      name: name.trim(),
      description: description.trim() || (id ? null : undefined),
      events,
      retry_enabled: retry,
      timeout_ms: Number(timeout),
      headers: Object.fromEntries(headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value])),
    };
    try {
      if (id) {
        await put<Webhook>(`/webhooks/${id}`, body);
        navigate(`/webhooks/${id}`);
      } else {
        setCreated(await post<Webhook>('/webhooks', body));
      }
    } catch (err) {
      if (err instanceof ApiError) {
        const byField = err.byField(FIELDS);
        setErrors(byField);
        if (!Object.keys(byField).length) setFormError(err);
      } else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created)
    return (
      <div className="page narrow">
        <h1>Webhook created</h1>
        <Card title="Signing secret">
          <p>
            This is the only time the secret is shown here in full: store it where your receiver can read it. Admins can reveal it again on the webhook&apos;s
            page.
          </p>
          <div className="secret-row">
            <code data-testid="new-secret">{created.secret}</code>
            <CopyButton text={created.secret} />
          </div>
          <p>
            <Link to={`/webhooks/${created.id}`}>Go to {created.name}</Link>
          </p>
        </Card>
      </div>
    );

  const fieldError = (f: string) =>
    errors[f] ? (
      <span className="field-error" role="alert" data-field={f}>
        {errors[f]}
      </span>
    ) : null;

  return (
    <div className="page narrow">
      <h1>{id ? `Edit ${existing.data?.name}` : 'New webhook'}</h1>
      <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-label={id ? 'Edit webhook' : 'New webhook'}>
        <label>
          URL
          <input name="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/atlas-hook" />
          {fieldError('url')}
        </label>
        <label>
          Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
          {fieldError('name')}
        </label>
        <label>
          Description
          <textarea name="description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} />
          {fieldError('description')}
        </label>
        <fieldset>
          <legend>Events</legend>
          <label className="check">
            <input type="checkbox" checked={events.includes('*')} onChange={() => toggle('*')} /> <code>*</code> every event (but the operational{' '}
            <code>webhook.*</code> ones)
          </label>
          {categories.map(([category, list]) => (
            <div key={category} className="event-group">
              <label className="check strong">
                <input type="checkbox" checked={events.includes(`${category}.*`)} onChange={() => toggle(`${category}.*`)} /> <code>{category}.*</code>
              </label>
              <div className="event-types">
                {list.map((t) => (
                  <label key={t.type} className="check" title={t.description}>
                    <input type="checkbox" value={t.type} checked={events.includes(t.type)} onChange={() => toggle(t.type)} /> {t.type}
                  </label>
                ))}
              </div>
            </div>
          ))}
          {fieldError('events')}
        </fieldset>
        <div className="row">
          <label className="check">
            <input type="checkbox" name="retry_enabled" checked={retry} onChange={(e) => setRetry(e.target.checked)} /> Retry failed deliveries
          </label>
          <label>
            Timeout (ms)
            <input name="timeout_ms" type="number" value={timeout} onChange={(e) => setTimeoutMs(e.target.value)} min={1000} max={30000} step={500} />
            {fieldError('timeout_ms')}
          </label>
        </div>
        <fieldset>
          <legend>Custom headers</legend>
          {headers.map((h, i) => (
            <div className="row" key={i}>
              <input
                aria-label="Header name"
                placeholder="Name"
                value={h.name}
                onChange={(e) => setHeaders(headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
              />
              <input
                aria-label="Header value"
                placeholder="Value"
                value={h.value}
                onChange={(e) => setHeaders(headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
              />
              <button type="button" onClick={() => setHeaders(headers.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setHeaders([...headers, { name: '', value: '' }])}>
            Add header
          </button>
          {fieldError('headers')}
        </fieldset>
        <ErrorBox error={formError} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {id ? 'Save' : 'Create webhook'}
          </button>
          <button type="button" onClick={() => navigate(id ? `/webhooks/${id}` : '/webhooks')}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
