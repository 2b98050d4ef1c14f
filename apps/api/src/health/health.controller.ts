import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ORCHESTRATOR } from '../tokens';
import type { OrchestratorPort } from '../orchestrator.port';
import { HealthDto } from './health.dto';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort) {}

  @Get()
  @ApiOperation({ summary: 'Liveness, with a round trip to the database' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ description: 'The database did not answer' })
  async health(): Promise<unknown> {
    let report: Awaited<ReturnType<OrchestratorPort['health']>>;
    try {
      report = await this.orchestrator.health();
    } catch (err) {
      throw new ServiceUnavailableException(`database unavailable: ${(err as Error).message}`);
    }
    if (!report.ok)
      throw new ServiceUnavailableException(`database unavailable: ${report.database.error ?? 'no answer'}`);
    return report;
  }
}
