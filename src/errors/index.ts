export * from './codes';
export * from './qtasks-error';
