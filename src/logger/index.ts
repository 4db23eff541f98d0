export * from './logger';
export * from './console-logger';
