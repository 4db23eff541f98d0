export * from './depends-token';
