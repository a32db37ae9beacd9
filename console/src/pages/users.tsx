import { FormEvent, useState } from 'react';
import { ApiError, del, get, Page, post, User } from '../api';
import { useAuth } from '../auth';
import { dateTime } from '../format';
import { useLoad } from '../hooks';
import { Card, ConfirmButton, ErrorBox, Loading } from '../ui';

export function UsersPage() {
  const { isAdmin, me } = useAuth();
  const users = useLoad(() => (isAdmin ? get<Page<User>>('/users?limit=500') : Promise.resolve(undefined)), [isAdmin]);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'admin' | 'viewer'>('viewer');
  const [error, setError] = useState<unknown>();
  if (!isAdmin) return <ErrorBox error={new Error('Only admins manage users.')} />;
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await post('/users', { username, password, role });
      setUsername('');
      setPassword('');
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (id: string) => {
    setError(undefined);
    try {
      await del(`/users/${id}`);
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="page">
      <h1>Users</h1>
      <ErrorBox error={error instanceof ApiError || error instanceof Error ? error : undefined} />
      <div className="grid-2">
        <Card title="Users">
          {!users.data ? (
            <Loading />
          ) : (
            <table className="table" data-testid="users-table">
              <thead>
                <tr>
                  <th>Username</th>
                  <th>Role</th>
                  <th className="hide-narrow">Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.username}</td>
                    <td>
                      <span className="badge badge-role">{u.role}</span>
                    </td>
                    <td className="hide-narrow">{dateTime(u.created_at)}</td>
                    <td>{u.id !== me?.id && <ConfirmButton label="Delete" confirm={`Delete ${u.username}?`} onConfirm={() => void remove(u.id)} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="New user">
          <form className="form" onSubmit={(e) => void create(e)} aria-label="New user">
            <label>
              Username
              <input name="new-username" value={username} onChange={(e) => setUsername(e.target.value)} required />
            </label>
            <label>
              Password
              <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
            </label>
            <label>
              Role
              <select name="role" value={role} onChange={(e) => setRole(e.target.value as 'admin' | 'viewer')}>
                <option value="viewer">viewer: sees everything, changes nothing, no secrets</option>
                <option value="admin">admin</option>
              </select>
            </label>
            <button type="submit" className="primary">
              Create user
            </button>
          </form>
        </Card>
      </div>
    </div>
  );
}
