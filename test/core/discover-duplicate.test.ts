/**
 * Discovery refuses two classes declaring one task name, as register() does (the second must not
 * silently replace the first). A file of its own: discovery sees every decorated class imported.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task } from 'qtasks';

@Task({ name: 'dd.same' })
class First {
  run() {
    return 'first';
  }
}

class Second {
  @Task({ name: 'dd.same' })
  other() {
    return 'second';
  }
}

it('start() with discover rejects QTASKS_ERR_DUPLICATE_TASK for a name declared twice', async () => {
  const app = new QTasks({ name: `dd-${Date.now()}`, config: { logLevel: 'silent' } });
  try {
    app.register(First);
    await expect(app.start()).rejects.toMatchObject({ code: ErrorCodes.DUPLICATE_TASK });
  } finally {
    await app.close();
  }
  void Second;
});
