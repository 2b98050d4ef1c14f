import type { PipeTransform } from '@nestjs/common';
import { parseLaunchRequest } from '@detsearch/orchestrator';

/**
 * POST /searches validated at the edge by the domain's launch schema (the same one the
 * orchestrator applies), so every 400 names the field whatever orchestrator sits behind the API.
 * The body passes on unchanged: the orchestrator resolves presets and defaults from it.
 */
export class LaunchBodyPipe implements PipeTransform<unknown, unknown> {
  transform(body: unknown): unknown {
    parseLaunchRequest(body);
    return body;
  }
}
