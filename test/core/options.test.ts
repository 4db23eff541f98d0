/**
 * No silent misconfiguration: an unknown option or config key, a Redis connection this engine
 * cannot honour, or a bad QTASKS_* environment value is QTASKS_ERR_BAD_OPTION at construction,
 * naming the option and the closest known name.
 */
import 'reflect-metadata';
import { constructionError } from '../support/env-and-errors';
import { ErrorCodes, MemoryBroker, MemoryStorage, QTasks, QTasksError } from 'qtasks';


describe('options are checked at construction', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('QTASKS_') && !(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('refuses an unknown option, naming it and the closest known one', () => {
    const err = constructionError({ name: 'o1', concurency: 3 });
    expect(err).toBeInstanceOf(QTasksError);
    expect(err).toMatchObject({ code: ErrorCodes.BAD_OPTION, details: { option: 'concurency', closest: 'concurrency' } });
    expect(constructionError({ uri: 'postgres://db/x' })).toMatchObject({ code: ErrorCodes.BAD_OPTION, details: { option: 'uri' } });
    expect(constructionError({ discover: 'yes' })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
  });

  it('refuses an unknown config key, naming the closest setting', () => {
    expect(constructionError({ config: { leaseMS: 10 } })).toMatchObject({
      code: ErrorCodes.BAD_OPTION,
      details: { option: 'leaseMS', closest: 'leaseMs' },
    });
    expect(constructionError({ config: { maxdepth: 10 } })).toMatchObject({ details: { closest: 'maxDepth' } });
  });

  it('checks the payload limits', () => {
    expect(constructionError({ config: { maxDepth: 0 } })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(constructionError({ config: { maxDepth: 100_000 } })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(constructionError({ config: { maxPayloadBytes: 1.5 } })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    const app = new QTasks({ discover: false, config: { maxDepth: 8, maxPayloadBytes: 1024, logLevel: 'silent' } });
    expect(app.config).toMatchObject({ maxDepth: 8, maxPayloadBytes: 1024 });
    expect(new QTasks({ discover: false }).config).toMatchObject({ maxDepth: 64, maxPayloadBytes: 16 * 1024 * 1024 });
  });

  it('refuses Redis options it cannot honour instead of connecting to the default address', () => {
    expect(constructionError({ redis: { cluster: 'redis://10.0.0.1:7000' } })).toMatchObject({ code: ErrorCodes.BAD_OPTION, details: { option: 'cluster' } });
    expect(constructionError({ redis: { cluster: [] } })).toMatchObject({ code: ErrorCodes.BAD_OPTION, details: { option: 'cluster' } });
    expect(constructionError({ redis: { startupNodes: [{ host: '10.0.0.1', port: 7000 }] } })).toMatchObject({
      code: ErrorCodes.BAD_OPTION,
      details: { closest: 'cluster' },
    });
    expect(constructionError({ redis: 'postgres://u:secret@db/x' })).toMatchObject({ code: ErrorCodes.BAD_OPTION });
    expect(constructionError({ redis: 'postgres://u:secret@db/x' }).message).not.toContain('secret');
    expect(constructionError({ redis: 'redis://127.0.0.1:6379', broker: new MemoryBroker(), storage: new MemoryStorage() })).toMatchObject({
      code: ErrorCodes.BAD_OPTION,
    });
  });

  it('refuses bad QTASKS_* environment values, naming the variable', () => {
    for (const [name, value] of [
      ['QTASKS_CONCURRENCY', 'abc'],
      ['QTASKS_CONCURRENCY', '2.5'],
      ['QTASKS_CONCURRENCY', ' '],
      ['QTASKS_LEASE_MS', '10s'],
      ['QTASKS_MAX_DEPTH', '0'],
      ['QTASKS_MAX_PAYLOAD_BYTES', 'big'],
      ['QTASKS_MAX_STALLS', '1.5'],
    ]) {
      process.env[name] = value;
      expect(constructionError({ discover: false })).toMatchObject({ code: ErrorCodes.BAD_OPTION, details: { option: name } });
      delete process.env[name];
    }
    process.env.QTASKS_MAX_DEPTH = '12';
    expect(new QTasks({ discover: false }).config.maxDepth).toBe(12);
  });

  it('accepts every known option, and unknown keys whose value is undefined', () => {
    const app = new QTasks({ name: 'o-ok', discover: false, concurrency: 2, config: { logLevel: 'silent' }, ...{ later: undefined } });
    expect(app.config.concurrency).toBe(2);
  });
});
