export * from './storage';
export * from './memory-storage';
