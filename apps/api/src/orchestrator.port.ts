import type {
  SearchEstimate,
  CurvesView,
  HealthReport,
  HypervolumeView,
  ImportanceObjective,
  ParetoFrontView,
  PlotTrialsView,
  SearchEvent,
  SearchView,
  SupernetView,
  Trial,
  TrialModelDownload,
  SearchArtifactsView,
} from '@detsearch/orchestrator';
import type { EvaluatorInfo } from '@detsearch/domain';
import type { LeaderboardTrial, ListTrialsQuery, TrialPage } from '@detsearch/persistence';

/**
 * What the API needs from the orchestrator facade (libs/orchestrator's SearchOrchestrator
 * satisfies it). An interface so controllers can be tested with a fake and the OpenAPI document
 * written without a database.
 */
export interface OrchestratorPort {
  createSearch(body: unknown): Promise<{ id: string; status: string }>;
  /** The duration the same body would take here (nothing is created). */
  estimateSearch(body: unknown): Promise<SearchEstimate>;
  listSearches(query?: {
    limit?: number;
    offset?: number;
    status?: SearchView['status'];
  }): Promise<SearchView[]>;
  getSearch(id: string): Promise<SearchView>;
  cancel(id: string): Promise<SearchView>;
  resume(id: string): Promise<SearchView>;
  /** Leaderboard pages with every field of each trial (`view=full`). */
  listTrials(id: string, query: ListTrialsQuery): Promise<TrialPage<Trial>>;
  /** The same pages, each row projected to LEADERBOARD_FIELDS (the default view). */
  leaderboard(id: string, query: ListTrialsQuery): Promise<TrialPage<LeaderboardTrial>>;
  pareto(id: string): Promise<ParetoFrontView>;
  paretoCsv(id: string): Promise<string>;
  getTrial(id: string): Promise<Trial>;
  /**
   * The trial's model from the artifact store (any machine may have run it), as a stream with its
   * size and SHA-256; a *.NOT_FOUND DomainError when it has none.
   */
  openTrialModel(id: string): Promise<TrialModelDownload>;
  /** A search's artifacts and their sizes. */
  searchArtifacts(id: string): Promise<SearchArtifactsView>;
  /** Hypervolume history over the completed trials (the steps where it changes). */
  hypervolume(id: string): Promise<HypervolumeView>;
  /** Trials the plots draw (a sample past `limit`) and the genome dimensions' importance. */
  plotTrials(
    id: string,
    options: { limit?: number; objective?: ImportanceObjective },
  ): Promise<PlotTrialsView>;
  /** Learning curves of the running trials, then the best ranked ones. */
  curves(id: string, options: { limit?: number }): Promise<CurvesView>;
  trialCurves(trialId: string): Promise<CurvesView>;
  /** Deletes a search, its trials and their artifacts; SEARCH.INVALID_STATE while it is queued or running. */
  deleteSearch(id: string): Promise<void>;
  /** Progress of one search: a snapshot first, then live events, ending after 'search-completed'. */
  events(id: string, options?: { signal?: AbortSignal }): AsyncIterable<SearchEvent>;
  health(): Promise<HealthReport>;
  /** Starts training a supernet (a child process), or returns the ready one of the same match. */
  createSupernet(body: unknown): Promise<{ supernet: SupernetView; training: boolean }>;
  listSupernets(query?: { limit?: number; offset?: number }): Promise<{ items: SupernetView[] }>;
  /** Throws SUPERNET.NOT_FOUND for an unknown id. */
  getSupernet(id: string): Promise<SupernetView>;
  /** The evaluators this process can run, described. */
  evaluatorInfos(): EvaluatorInfo[];
  /** Resumes searches interrupted by a crash (called once the server listens). */
  startResuming(): Promise<void>;
  close(): Promise<void>;
}
