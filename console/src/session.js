// Login state: the controller's session cookie is the truth; the console adds an idle timeout
// (a person who walks away is logged out) and returns to the login page on any 401.
import { useEffect, useState } from 'preact/hooks';
import { get, login as apiLogin, logout as apiLogout, onUnauthorized } from './api.js';

/** Idle minutes before the console logs out; localStorage `portico.idleMinutes` overrides. */
export function idleLimitMs() {
  const v = Number(localStorage.getItem('portico.idleMinutes'));
  return (Number.isFinite(v) && v > 0 ? v : 30) * 60000;
}

export function useSession() {
  const [session, setSession] = useState({ state: 'checking', user: '', notice: '' });

  useEffect(() => {
    // Only a logged-in console can have its session expire: a 401 to a request still in flight
    // after a logout must not replace the logout's own message.
    onUnauthorized(() => setSession((s) => (s.state === 'in' ? { state: 'out', user: '', notice: 'Your session has expired. Please log in again.' } : s)));
    get('/api/tenant?page_size=1&fields=name', { quiet401: true })
      .then(() => setSession({ state: 'in', user: localStorage.getItem('portico.user') || 'admin', notice: '' }))
      .catch(() => setSession({ state: 'out', user: '', notice: '' }));
  }, []);

  // Idle timeout: any key, click or pointer movement counts as activity.
  useEffect(() => {
    if (session.state !== 'in') return undefined;
    let last = Date.now();
    // The browser sends zero-distance moves when the page changes under a resting pointer: not activity.
    const touch = (e) => { if (e.type !== 'pointermove' || e.movementX || e.movementY) last = Date.now(); };
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel'];
    events.forEach((e) => addEventListener(e, touch, { passive: true }));
    const timer = setInterval(async () => {
      if (Date.now() - last > idleLimitMs()) {
        setSession({ state: 'out', user: '', notice: 'You were logged out after a period of inactivity.' });
        await apiLogout();
      }
    }, 1000);
    return () => { clearInterval(timer); events.forEach((e) => removeEventListener(e, touch)); };
  }, [session.state]);

  return {
    ...session,
    async login(username, password) {
      await apiLogin(username, password);
      localStorage.setItem('portico.user', username);
      setSession({ state: 'in', user: username, notice: '' });
    },
    async logout() {
      setSession({ state: 'out', user: '', notice: 'You have logged out.' });
      await apiLogout();
    },
  };
}
