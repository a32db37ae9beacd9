import { createContext, ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { get, Me, post, session } from './api';

interface AuthState {
  me: Me | null;
  /** True until the token in sessionStorage (if any) has been checked. */
  checking: boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => void;
  isAdmin: boolean;
}

const AuthContext = createContext<AuthState>({ me: null, checking: true, signIn: () => Promise.resolve(), signOut: () => undefined, isAdmin: false });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);

  const signOut = useCallback(() => {
    session.clear();
    setMe(null);
  }, []);

  useEffect(() => {
    session.onUnauthorized(() => setMe(null));
    if (!session.token()) {
      setChecking(false);
      return;
    }
    get<Me>('/auth/me')
      .then(setMe, () => session.clear())
      .finally(() => setChecking(false));
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    const res = await post<{ access_token: string }>('/auth/login', { username, password });
    session.set(res.access_token);
    setMe(await get<Me>('/auth/me'));
  }, []);

  return <AuthContext.Provider value={{ me, checking, signIn, signOut, isAdmin: me?.role === 'admin' }}>{children}</AuthContext.Provider>;
}

export const useAuth = () => useContext(AuthContext);

/** Renders its children for admins only: viewers never see write controls (the API refuses their writes anyway). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const { isAdmin } = useAuth();
  return isAdmin ? <>{children}</> : null;
}
