import { FormEvent, useState } from 'react';
import { ApiError, post } from '../api';
import { useAuth } from '../auth';
import { Card } from '../ui';

export function AccountPage() {
  const { me } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (next !== repeat) {
      setMessage({ ok: false, text: 'The new passwords differ.' });
      return;
    }
    try {
      await post('/auth/change-password', { current_password: current, new_password: next });
      setMessage({ ok: true, text: 'Password changed.' });
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (err) {
      setMessage({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    }
  };
  return (
    <div className="page narrow">
      <h1>Account</h1>
      <Card title={`${me?.username} (${me?.role})`}>
        <form className="form" onSubmit={(e) => void submit(e)} aria-label="Change password">
          <label>
            Current password
            <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
          </label>
          <label>
            New password
            <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
          </label>
          <label>
            New password again
            <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
          </label>
          {message && <div className={`alert ${message.ok ? 'alert-ok' : 'alert-error'}`}>{message.text}</div>}
          <button type="submit" className="primary">
            Change password
          </button>
        </form>
      </Card>
    </div>
  );
}
