import {
  Body,
  Controller,
  Delete,
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
  ApiNoContentResponse,
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
import { DEFAULT_LEADERBOARD_SORT, type ListTrialsQuery } from '@detsearch/persistence';
import { csvField } from '@detsearch/report';
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
import { ParetoFrontDto, SearchArtifactsDto, SearchViewDto, TrialPageDto } from './views.dto';
import { LEADERBOARD_COLUMNS } from '@detsearch/report';
import { CurvesDto, CurvesQueryDto, HypervolumeDto, PlotTrialsDto, PlotTrialsQueryDto } from './analysis.dto';

/** Columns of the leaderboard CSV (GET /searches/:id/trials?format=csv). */

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

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a search, its trials and their artifacts (cancel a queued or running one first)',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The search is queued or running: cancel it first' })
  async remove(@Param('id', SearchId) id: string): Promise<void> {
    await this.orchestrator.deleteSearch(id);
    this.metrics.searchTransitions.inc({ action: 'delete' });
  }

  @Get(':id/trials')
  @ApiOperation({
    summary:
      'Leaderboard: trials ranked (feasible completed first) or sorted, filtered by status and feasibility, ' +
      'paginated by offset or by cursor (after); format=csv: every matching row as CSV',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: TrialPageDto })
  @ApiBadRequestResponse({
    type: ErrorDto,
    description: 'Invalid query: unknown sort, a malformed cursor or one for another sort, after with offset',
  })
  async trials(
    @Param('id', SearchId) id: string,
    @Query() query: TrialsQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { view, feasible, format, sort = DEFAULT_LEADERBOARD_SORT, ...rest } = query;
    const page: ListTrialsQuery = {
      ...rest,
      sort,
      ...(feasible === undefined ? {} : { feasible: feasible === 'true' }),
    };
    if (format === ParetoFormat.csv) return this.leaderboardCsv(id, page, res);
    return view === TrialView.full
      ? this.orchestrator.listTrials(id, page)
      : this.orchestrator.leaderboard(id, page);
  }

  /** Every row of the filtered, sorted leaderboard, streamed page by page along the keyset cursor. */
  private async leaderboardCsv(id: string, query: ListTrialsQuery, res: Response): Promise<void> {
    const first = await this.orchestrator.leaderboard(id, {
      ...query,
      limit: 1000,
      offset: 0,
      after: undefined,
    });
    res.type('text/csv').attachment(`leaderboard-${id}.csv`);
    res.write(`${LEADERBOARD_COLUMNS.join(',')}\n`);
    let page = first;
    for (;;) {
      const rows = page.items as unknown as Record<string, unknown>[];
      if (rows.length)
        res.write(rows.map((r) => `${LEADERBOARD_COLUMNS.map((c) => csvField(r[c])).join(',')}\n`).join(''));
      if (!page.nextCursor) break;
      page = await this.orchestrator.leaderboard(id, {
        ...query,
        limit: 1000,
        offset: 0,
        after: page.nextCursor,
      });
    }
    res.end();
  }

  @Get(':id/artifacts')
  @ApiOperation({
    summary:
      "The search's artifacts (trials' models and weights) with their sizes, checksums and total bytes",
  })
  @ApiOkResponse({ type: SearchArtifactsDto })
  artifacts(@Param('id', SearchId) id: string): Promise<unknown> {
    return this.orchestrator.searchArtifacts(id);
  }

  @Get(':id/hypervolume')
  @ApiOperation({
    summary:
      'Hypervolume history of (max mAP@0.5:0.95, min latency) over the completed trials, as the CLI draws it',
  })
  @ApiOkResponse({ type: HypervolumeDto })
  hypervolume(@Param('id', SearchId) id: string): Promise<unknown> {
    return this.orchestrator.hypervolume(id);
  }

  @Get(':id/plot-trials')
  @ApiOperation({
    summary:
      'Trials with results for the plots (a sample past limit) and the importance of each genome dimension',
  })
  @ApiOkResponse({ type: PlotTrialsDto })
  plotTrials(@Param('id', SearchId) id: string, @Query() query: PlotTrialsQueryDto): Promise<unknown> {
    return this.orchestrator.plotTrials(id, query);
  }

  @Get(':id/curves')
  @ApiOperation({
    summary: 'Learning curves (metrics per epoch): running trials first, then the best ranked',
  })
  @ApiOkResponse({ type: CurvesDto })
  curves(@Param('id', SearchId) id: string, @Query() query: CurvesQueryDto): Promise<unknown> {
    return this.orchestrator.curves(id, query);
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
