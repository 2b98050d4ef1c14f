import type { NextFunction, Request, Response } from '../http/express-types';
import type { MetricsService } from './metrics.service';

/**
 * Times every request, labelled by the matched route template (not the raw URL, which would
 * make one series per id). Middleware rather than an interceptor so 401s, 404s and 413s count too.
 */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
