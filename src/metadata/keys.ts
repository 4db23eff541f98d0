/**
 * Every metadata key qtasks writes, namespaced `qtasks:`. Decorators write them; the accessor reads.
 */
export const META = {
  task: 'qtasks:task',
  methodTasks: 'qtasks:method-tasks',
  state: 'qtasks:state',
  depends: 'qtasks:depends',
  inject: 'qtasks:inject',
  middleware: 'qtasks:middleware',
  plugin: 'qtasks:plugin',
  hooks: 'qtasks:hooks',
} as const;
