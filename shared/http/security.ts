/**
 * The HTTP hardening every function shares: strict response headers, a request-body ceiling and
 * uncacheable API responses by default.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Config } from '../config/config';
import { HttpError } from './errors';

const SELF = "'self'";

/** Headers for every response; HSTS only where the browser actually reached us over TLS. */
export function securityHeaders(config: Config): MiddlewareHandler {
  const headers = secureHeaders({
    xContentTypeOptions: true,
    xFrameOptions: 'DENY',
    referrerPolicy: 'strict-origin-when-cross-origin',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    strictTransportSecurity: false,
    permissionsPolicy: {
      camera: [],
      microphone: [],
      geolocation: [],
      payment: [],
      usb: [],
      browsingTopics: [],
    },
    contentSecurityPolicy: {
      defaultSrc: [SELF],
      scriptSrc: [SELF],
      // Svelte and CodeMirror set inline style attributes.
      styleSrc: [SELF, "'unsafe-inline'"],
      imgSrc: [SELF, 'data:'],
      connectSrc: [SELF],
      frameAncestors: ["'none'"],
      baseUri: [SELF],
      formAction: [SELF],
    },
  });
  return async (c, next) => {
    await headers(c, async () => {
      await next();
      if (config.COOKIE_SECURE && new URL(c.req.url).protocol === 'https:') {
        c.res.headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
      }
    });
  };
}

/** Rejects bodies over `maxBytes`, by Content-Length up front or by counting a streamed body. */
export const bodySizeLimit = (maxBytes: number): MiddlewareHandler => {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(413, `Request body exceeds ${maxBytes} bytes`);
    },
  });
  // GET and HEAD carry no body; checking one would make the Node adapter build a full Request for
  // every stream opened and every page read.
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next));
};

/** API answers carry personal data: nothing is cached unless a route says otherwise. */
export const noStoreByDefault: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
};
