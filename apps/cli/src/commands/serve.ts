import type { Command } from 'commander';
import { cliConfig, fail, parseIntOption } from '../cli-kit';

interface ServeOptions {
  port?: number;
  host?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the REST API (embedded PGlite under DETSEARCH_HOME unless DATABASE_URL is set)')
    .option(
      '--port <n>',
      'port to listen on (default PORT or 3000; 0 picks a free one)',
      parseIntOption('port', 0, 65_535),
    )
    .option('--host <addr>', 'address to bind', '0.0.0.0')
    .action(async (o: ServeOptions) => {
      try {
        // Loaded here so other commands do not pay for Nest and the database drivers.
        const { startServer } = await import('../../../api/src/create-app');
        const { url } = await startServer({
          config: o.port === undefined ? {} : { PORT: o.port },
          host: o.host,
        });
        const database = cliConfig().DATABASE_URL ? 'postgres (DATABASE_URL)' : 'embedded PGlite';
        process.stdout.write(`detsearch API listening on ${url} (docs ${url}/docs, ${database})\n`);
      } catch (err) {
        fail(err);
      }
    });
}
