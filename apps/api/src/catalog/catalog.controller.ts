import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CATALOG, ORCHESTRATOR } from '../tokens';
import type { CatalogPort } from './catalog.port';
import type { OrchestratorPort } from '../orchestrator.port';
import { ErrorDto } from '../http/error.dto';
import { CatalogDto } from './catalog.dto';

@ApiTags('hardware')
@Controller()
export class CatalogController {
  constructor(
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort,
  ) {}

  @Get('catalog')
  @ApiTags('catalog')
  @ApiOperation({
    summary:
      'Every name a client may choose: strategies, evaluators, objectives, constraints, genome dimensions, trial statuses, presets, hardware profiles',
  })
  @ApiOkResponse({ type: CatalogDto })
  all(): unknown {
    return this.catalog.catalog(this.orchestrator.evaluatorInfos());
  }

  @Get('presets')
  @ApiOperation({ summary: 'Hardware-targeted presets: a profile, a latency budget, a search-space subset' })
  @ApiOkResponse({ description: 'Every preset', schema: { type: 'array', items: { type: 'object' } } })
  presets(): unknown {
    return this.catalog.presets();
  }

  @Get('presets/:name')
  @ApiOperation({ summary: 'One preset by name' })
  @ApiOkResponse({ schema: { type: 'object' } })
  @ApiNotFoundResponse({ type: ErrorDto })
  preset(@Param('name') name: string): unknown {
    return this.catalog.preset(name);
  }

  @Get('hardware-profiles')
  @ApiOperation({ summary: 'Hardware profiles the latency predictor knows' })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object' } } })
  hardwareProfiles(): unknown {
    return this.catalog.hardwareProfiles();
  }
}
