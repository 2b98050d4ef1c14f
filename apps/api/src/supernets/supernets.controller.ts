import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from '../http/express-types';
import { ORCHESTRATOR } from '../tokens';
import type { OrchestratorPort } from '../orchestrator.port';
import { ErrorDto } from '../http/error.dto';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../openapi';
import { CreateSupernetDto, SupernetListDto, SupernetsQueryDto, SupernetViewDto } from './supernets.dto';

@ApiTags('supernets')
@Controller('supernets')
export class SupernetsController {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort) {}

  @Post()
  @ApiOperation({
    summary:
      'Train a weight-sharing supernet for a search space and dataset (in a child process); ' +
      'a ready one of the same dataset, space and activation is returned instead',
  })
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiAcceptedResponse({ type: SupernetViewDto, description: 'Training started (or already running)' })
  @ApiCreatedResponse({ type: SupernetViewDto, description: 'A ready supernet of this match exists' })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid body; the message names the field' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async create(@Body() body: CreateSupernetDto, @Res() res: Response): Promise<void> {
    const { supernet, training } = await this.orchestrator.createSupernet({ ...body });
    res.status(training ? 202 : 201).json(supernet);
  }

  @Get()
  @ApiOperation({ summary: 'Supernets, newest first, with status and training progress' })
  @ApiOkResponse({ type: SupernetListDto })
  list(@Query() query: SupernetsQueryDto): Promise<unknown> {
    return this.orchestrator.listSupernets(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One supernet: status, progress (fraction, epoch, ETA), metrics' })
  @ApiOkResponse({ type: SupernetViewDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'Unknown supernet id' })
  get(@Param('id') id: string): Promise<unknown> {
    return this.orchestrator.getSupernet(id);
  }
}
