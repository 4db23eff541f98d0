export * from './keys';
export * from './types';
export * from './registry';
export * from './accessor';
