// The login page: POST /login sets the session and CSRF cookies.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

export function LoginPage({ session }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await session.login(username, password);
    } catch (err) {
      setError(err.status === 401 ? 'Wrong username or password.' : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login-wrap">
    <form class="login card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title"><span class="brand-mark" aria-hidden="true">◆</span> Portico</h1>
      <p class="muted">Log in to the controller.</p>
      ${session.notice ? html`<p class="notice" role="status">${session.notice}</p>` : null}
      ${error ? html`<p class="field-error" role="alert" id="login-error">${error}</p>` : null}
      <div class="field">
        <label for="login-username">Username</label>
        <input id="login-username" name="username" autocomplete="username" required value=${username}
          onInput=${(e) => setUsername(e.currentTarget.value)}/>
      </div>
      <div class="field">
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required value=${password}
          aria-describedby=${error ? 'login-error' : undefined} onInput=${(e) => setPassword(e.currentTarget.value)}/>
      </div>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
    </form>
  </main>`;
}
