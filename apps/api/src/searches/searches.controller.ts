import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  type MessageEvent,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from '../http/express-types';
import { SearchId } from '../http/ids';
import { LaunchBodyPipe } from './launch-body.pipe';
import { LaunchQuota } from '../http/launch-quota';
import { clientOf } from '../http/client';
import { Observable } from 'rxjs';
import type { SearchEvent } from '@detsearch/orchestrator';
import { ORCHESTRATOR } from '../tokens';
import type { OrchestratorPort } from '../orchestrator.port';
import { ErrorDto } from '../http/error.dto';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../openapi';
import { MetricsService } from '../metrics/metrics.service';
import {
  CreateSearchDto,
  CreatedSearchDto,
  ParetoFormat,
  ParetoQueryDto,
  SearchEstimateDto,
  SearchesQueryDto,
  TrialsQueryDto,
  TrialView,
} from './searches.dto';
import { ParetoFrontDto, SearchViewDto, TrialPageDto } from './views.dto';

@ApiTags('searches')
@ApiNotFoundResponse({ type: ErrorDto, description: 'Unknown search id' })
@Controller('searches')
export class SearchesController {
  constructor(
    @Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort,
    private readonly metrics: MetricsService,
    private readonly launchQuota: LaunchQuota,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Launch a search' })
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiCreatedResponse({ type: CreatedSearchDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid body; the message names the field' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiBody({ type: CreateSearchDto })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    description: 'Too many launches or requests from this client',
  })
  async create(@Body(LaunchBodyPipe) body: unknown, @Req() req: Request): Promise<CreatedSearchDto> {
    // The one launch schema validates the body inside createSearch; nothing is stored on a 400.
    const client = clientOf(req);
    this.launchQuota.check(client);
    const created = await this.orchestrator.createSearch(body);
    this.launchQuota.record(client);
    this.metrics.searchesCreated.inc();
    return created as CreatedSearchDto;
  }

  @Post('estimate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Estimate how long a launch would take here (same body as POST /searches; nothing is created)',
    description:
      'From the budget, the fidelity (epochs, ASHA), the search space, the dataset size and this ' +
      "machine's measured training throughput (stored from earlier trials, or a short probe the first time).",
  })
  @ApiOkResponse({ type: SearchEstimateDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid body; the message names the field' })
  @ApiBody({ type: CreateSearchDto })
  estimate(@Body(LaunchBodyPipe) body: unknown): Promise<SearchEstimateDto> {
    return this.orchestrator.estimateSearch(body);
  }

  @Get()
  @ApiOperation({ summary: 'All searches with status, progress and best so far' })
  @ApiOkResponse({ type: [SearchViewDto] })
  list(@Query() query: SearchesQueryDto): Promise<unknown> {
    return this.orchestrator.listSearches(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One search: status, progress, best so far' })
  @ApiOkResponse({ type: SearchViewDto })
  get(@Param('id', SearchId) id: string): Promise<unknown> {
    return this.orchestrator.getSearch(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a search; running trials finish or stop, no new ones start' })
  @ApiOkResponse({ type: SearchViewDto })
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The search already ended' })
  async cancel(@Param('id', SearchId) id: string): Promise<SearchViewDto> {
    const search = await this.orchestrator.cancel(id);
    this.metrics.searchTransitions.inc({ action: 'cancel' });
    return search as unknown as SearchViewDto;
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a cancelled or interrupted search from the stored trials' })
  @ApiOkResponse({ type: SearchViewDto })
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The search is running or complete' })
  async resume(@Param('id', SearchId) id: string): Promise<SearchViewDto> {
    const search = await this.orchestrator.resume(id);
    this.metrics.searchTransitions.inc({ action: 'resume' });
    return search as unknown as SearchViewDto;
  }

  @Get(':id/trials')
  @ApiOperation({
    summary: 'Leaderboard: trials sorted, filtered by status, paginated by offset or by cursor (after)',
  })
  @ApiOkResponse({ type: TrialPageDto })
  @ApiBadRequestResponse({
    type: ErrorDto,
    description: 'Invalid query: unknown sort, a malformed cursor or one for another sort, after with offset',
  })
  trials(@Param('id', SearchId) id: string, @Query() query: TrialsQueryDto): Promise<unknown> {
    const { view, ...page } = query;
    return view === TrialView.full
      ? this.orchestrator.listTrials(id, page)
      : this.orchestrator.leaderboard(id, page);
  }

  @Get(':id/pareto')
  @ApiOperation({ summary: 'Pareto front of the completed trials, as JSON or CSV' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: ParetoFrontDto, description: 'JSON; with format=csv one row per point (RFC 4180)' })
  async pareto(
    @Param('id', SearchId) id: string,
    @Query() query: ParetoQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    if (query.format === ParetoFormat.csv) {
      const csv = await this.orchestrator.paretoCsv(id);
      res.type('text/csv').attachment(`pareto-${id}.csv`).send(csv);
      return;
    }
    res.json(await this.orchestrator.pareto(id));
  }

  /**
   * Written by hand rather than with @Sse: Nest's SSE route may put the 200 and its headers on the
   * wire before an asynchronous lookup fails, so an unknown id would be an empty stream, not a 404.
   */
  @Get(':id/events')
  @ApiOperation({ summary: 'Server-sent progress events; the stream ends when the search ends' })
  @ApiProduces('text/event-stream')
  async events(@Param('id', SearchId) id: string, @Res() res: Response): Promise<void> {
    await this.orchestrator.getSearch(id);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const subscription = sseStream(this.orchestrator.events.bind(this.orchestrator), id).subscribe({
      next: (m) => res.write(formatSse(m)),
      complete: () => res.end(),
      error: () => res.end(),
    });
    res.on('close', () => subscription.unsubscribe());
  }
}

/** One server-sent event on the wire (what Nest's SSE writer produces). */
export function formatSse(m: MessageEvent): string {
  const data = typeof m.data === 'string' ? m.data : JSON.stringify(m.data);
  return (
    (m.id !== undefined ? `id: ${m.id}\n` : '') +
    (m.type ? `event: ${m.type}\n` : '') +
    data
      .split('\n')
      .map((line) => `data: ${line}\n`)
      .join('') +
    '\n'
  );
}

/** A 'heartbeat' event this often keeps proxies from dropping a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Bridges the orchestrator's async iterator to the Observable Nest streams. A disconnecting
 * client aborts the iterator at once (rxjs' `from` would only notice at the next event, leaving
 * the listener behind for a search that may never emit again).
 */
export function sseStream(
  events: (id: string, options: { signal: AbortSignal }) => AsyncIterable<SearchEvent>,
  id: string,
  heartbeatMs = HEARTBEAT_MS,
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    const abort = new AbortController();
    const heartbeat = setInterval(
      () => subscriber.next({ type: 'heartbeat', data: { at: Date.now() } }),
      heartbeatMs,
    );
    (async () => {
      for await (const event of events(id, { signal: abort.signal })) {
        if (subscriber.closed) break;
        subscriber.next({ type: event.type, data: event });
      }
    })().then(
      () => subscriber.complete(),
      (err: unknown) => subscriber.error(err),
    );
    return () => {
      clearInterval(heartbeat);
      abort.abort();
    };
  });
}
