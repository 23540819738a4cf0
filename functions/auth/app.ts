/** HTTP surface of the auth function: `/api/v1/auth/{register,login,logout,me}`. */
import type { Context, Hono } from 'hono';
import { clearSessionCookies, sessionToken, setSessionCookies } from '../../shared/http/auth';
import { clientAddress } from '../../shared/http/client-address';
import { readJson, ValidationFailed } from '../../shared/http/errors';
import { addressRanges } from '../../shared/http/ip-addresses';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { type ClientInfo, login, logout, me, register } from './handlers';

function clientInfo(c: Context, trusted: (address: string) => boolean): ClientInfo {
  const ipAddress = clientAddress(c, trusted);
  const userAgent = c.req.header('User-Agent');
  return {
    ...(ipAddress ? { ipAddress } : {}),
    ...(userAgent ? { userAgent: userAgent.slice(0, 512) } : {}),
  };
}

/** Login form fields (an OAuth2 password form); uploaded files are not credentials. */
async function readForm(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return {};
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch (error) {
    throw new ValidationFailed([
      { loc: ['body'], msg: `Malformed form: ${(error as Error).message}`, type: 'form_invalid' },
    ]);
  }
  return Object.fromEntries(Object.entries(body).filter(([, value]) => typeof value === 'string'));
}

export function createAuthApp(platform: Platform): Hono<AppEnv> {
  const app = createFunctionApp(platform, 'auth');
  const trusted = addressRanges(platform.config.TRUSTED_PROXIES);

  app.post('/api/v1/auth/register', async (c) =>
    c.json(await register(platform, await readJson(c), clientInfo(c, trusted))),
  );

  app.post('/api/v1/auth/login', async (c) => {
    const { user, session } = await login(platform, await readForm(c), clientInfo(c, trusted));
    setSessionCookies(c, platform.config, session);
    c.header('Cache-Control', 'no-store');
    return c.json({
      message: 'Login successful',
      username: user.username,
      role: user.role,
      csrf_token: session.csrfToken,
    });
  });

  app.post('/api/v1/auth/logout', async (c) => {
    await logout(platform, sessionToken(c), clientInfo(c, trusted));
    clearSessionCookies(c, platform.config);
    return c.json({ message: 'Logout successful' });
  });

  app.get('/api/v1/auth/me', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await me(platform, c.get('user')));
  });

  return app;
}
