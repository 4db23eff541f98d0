/**
 * `qtasks migrate --url postgres://… [--schema name]`: creates (or brings up to date) the tables of
 * the PostgreSQL engine ahead of time. Apps also make them on first use; this is for deployments
 * that run schema changes as a separate step. Needs no app module.
 */
import { ErrorCodes, QTasksError } from '../../errors';
import type { Command } from '../command';

/** The PostgreSQL engine's migration, loaded only when this command runs (it needs `pg`). */
type Migrate = (o: { connectionString: string; schema?: string }) => Promise<{ schema: string; changed: boolean }>;

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'migrate --url postgres://… [--schema name] [--json]',
  flags: ['url', 'schema', 'json'],
  summary: 'create the PostgreSQL tables ahead of time (no -A needed)',
  async run() {
    throw new QTasksError(ErrorCodes.CLI_USAGE, 'migrate runs without an app');
  },
  async standalone(args, io) {
    const url = typeof args.flags.url === 'string' ? args.flags.url : process.env.QTASKS_URL;
    if (!url || !/^postgres(ql)?:\/\//i.test(url)) {
      throw new QTasksError(ErrorCodes.CLI_USAGE, 'migrate needs a PostgreSQL URL: --url postgres://user@host/db (memory and Redis need no migration)');
    }
    const parsed = new URL(url);
    const schema = typeof args.flags.schema === 'string' ? args.flags.schema : (parsed.searchParams.get('schema') ?? undefined);
    parsed.searchParams.delete('schema');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { migratePostgres } = require('../../engines/postgres/migrate') as { migratePostgres: Migrate };
    const res = await migratePostgres({ connectionString: parsed.toString(), schema });
    if (args.flags.json) io.out(JSON.stringify(res));
    else io.out(res.changed ? `created the qtasks tables in schema ${res.schema}` : `schema ${res.schema} is up to date`);
    return 0;
  },
};
