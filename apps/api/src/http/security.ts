import helmet from 'helmet';

/**
 * Security headers for the dashboard and the API. The dashboard loads only its own files and the
 * chart libraries served from this origin, so the policy allows 'self' and nothing inline; it may
 * not be framed (it holds the API key in localStorage).
 */
export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Chart.js and plotly set element styles at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    noSniff: true,
    referrerPolicy: { policy: 'no-referrer' },
    // The API is called cross-origin by tools; do not isolate it.
    crossOriginResourcePolicy: { policy: 'same-site' },
    crossOriginEmbedderPolicy: false,
    // Served over plain HTTP on loopback by default; HSTS belongs on the TLS proxy.
    strictTransportSecurity: false,
  });
}
