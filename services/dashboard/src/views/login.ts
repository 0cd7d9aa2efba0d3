// The login form shown when a token protects the dashboard: a plain form POST (no script), so
// the session cookie is set by the server and the token is never stored by the page.
import { esc } from './html.js';

export function loginPage(o: { next: string; failed?: boolean }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · Nightshift</title></head>
<body style="font:14px system-ui;margin:3rem">
<h1>Nightshift dashboard</h1>
${o.failed ? '<p data-testid="login-failed" style="color:#b00">That token is not right.</p>' : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${esc(o.next)}">
<label>Dashboard token <input type="password" name="token" autocomplete="current-password" data-testid="login-token" required></label>
<button type="submit" data-testid="login-submit">Log in</button>
</form>
</body></html>`;
}
