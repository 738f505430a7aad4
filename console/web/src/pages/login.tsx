/** Sign-in form. */
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';

export function LoginPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      await call('POST', '/session', { username: form.get('username'), password: form.get('password') });
      await onSignedIn();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.problem.detail : String(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <h1>ElasticJob-TS console</h1>
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <label>
          User
          <input name="username" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
