/**
 * Every metadata key qtasks writes, namespaced `qtasks:`. Decorators write them; the accessor reads.
 */
export const META = {
  task: 'qtasks:task',
  methodTasks: 'qtasks:method-tasks',
  state: 'qtasks:state',
  depends: 'qtasks:depends',
  inject: 'qtasks:inject',
  arg: 'qtasks:arg',
  middleware: 'qtasks:middleware',
  plugin: 'qtasks:plugin',
  /** false when a `@Plugin` class is left out of discovery */
  pluginDiscover: 'qtasks:plugin-discover',
  hooks: 'qtasks:hooks',
} as const;
