/**
 * The main module of a child process of the pool: runs the jobs the app sends over IPC, one at a
 * time, and exits when the app disconnects.
 */
import 'reflect-metadata';
import { childSide } from './child-runner';
import { mapPackageToSources, preloadModules } from './module-loader';
import { ParentLink } from './parent-link';
import type { ChildMessage, ParentMessage } from './protocol';

mapPackageToSources(__filename);

const send = (m: ChildMessage): void => {
  process.send?.(m);
};
let link: ParentLink | undefined;

if (process.send === undefined) {
  process.stderr.write('qtasks: this module is started by the process executor, not by hand\n');
  process.exit(1);
}
process.on('message', (m: ParentMessage) => {
  if (m.t !== 'run') {
    link?.receive(m);
    return;
  }
  const own = (link = new ParentLink(send));
  void childSide.run(m.job, own, 'process').then((outcome) => {
    if (link === own) link = undefined;
    send({ t: 'done', outcome });
  });
});
// the app closed or died: nothing more will come; worker-scoped resources are closed first
process.on('disconnect', () => {
  void childSide.close().finally(() => process.exit(0));
});
preloadModules(JSON.parse(process.env.QTASKS_EXECUTOR_PRELOAD ?? '[]') as string[]);
