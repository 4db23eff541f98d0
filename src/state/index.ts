export * from './state-store';
