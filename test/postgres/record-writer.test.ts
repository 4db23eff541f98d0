/**
 * The PostgreSQL storage's record writer (what a RabbitMQ broker writes its records through): the
 * changes asked while statements are out go together, those of one kind in one statement and one
 * commit, each still a compare-and-set of its own row; a row changed twice applies its changes in
 * the order asked; a batch of inserts is one statement.
 */
import 'reflect-metadata';
import { QTasks } from 'qtasks';
import type { RecordWriter, TaskRecord } from 'qtasks';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('prw').hooks();
let seq = 0;
const apps: QTasks[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A storage's writer, and the statements it sends by label. */
async function writerOf(): Promise<{ app: QTasks; writer: RecordWriter; sent: string[] }> {
  const app = pgApp(db, { name: `prw-${process.pid}-${++seq}`, config: { logLevel: 'silent' } });
  apps.push(app);
  await app.init();
  const storage = app.storage as unknown as { q: (what: string, text: string, params: unknown[]) => Promise<unknown> };
  const q = storage.q.bind(storage);
  const sent: string[] = [];
  storage.q = (what, text, params) => {
    sent.push(what);
    return q(what, text, params);
  };
  return { app, writer: app.storage.recordWriter!, sent };
}

function rec(id: string, n: number): TaskRecord {
  return { id, name: 'prw.t', status: 'new', priority: 0, args: [n], attempt: 0, createdAt: Date.now(), updatedAt: Date.now() };
}

it('inserts a batch in one statement; changes of one kind asked together go in one statement, each a compare-and-set of its row', async () => {
  const { app, writer, sent } = await writerOf();
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const stored = await writer.insert(ids.map((id, i) => rec(id, i)));
  expect(stored.map((r) => r.id)).toEqual(ids);
  expect(sent.filter((w) => w === 'insert')).toHaveLength(1);
  // d is claimed first: the claims of one tick find it in another status
  expect((await writer.transition('d', ['new'], { status: 'process', attempt: 1, startedAt: 1, workerId: 'w0' }))?.status).toBe('process');
  const before = sent.length;
  const claims = await Promise.all(ids.map((id) => writer.transition(id, ['new'], { status: 'process', attempt: 1, startedAt: 2, workerId: 'w1' })));
  expect(claims.map((r) => r?.status)).toEqual(['process', 'process', 'process', undefined, 'process']);
  expect(claims[0]).toMatchObject({ id: 'a', args: [0], attempt: 1, workerId: 'w1', startedAt: 2 });
  expect(sent.slice(before)).toEqual(['transition']);
  expect((await app.getTask('d'))?.workerId).toBe('w0');
});

it('a row changed twice in one tick applies its changes in the order asked', async () => {
  const { app, writer, sent } = await writerOf();
  await writer.insert([rec('x', 1), rec('y', 2)]);
  const before = sent.length;
  const [claimX, endX, claimY] = await Promise.all([
    writer.transition('x', ['new'], { status: 'process', attempt: 1, startedAt: 5, workerId: 'w' }),
    writer.transition('x', ['process'], { status: 'success', returning: 42, finishedAt: 6 }),
    writer.transition('y', ['new'], { status: 'process', attempt: 1, startedAt: 5, workerId: 'w' }),
  ]);
  expect([claimX?.status, endX?.status, claimY?.status]).toEqual(['process', 'success', 'process']);
  // the two claims in one statement, the end of x after it
  expect(sent.slice(before)).toEqual(['transition', 'transition']);
  expect(await app.getTask('x')).toMatchObject({ status: 'success', returning: 42, attempt: 1 });
});
