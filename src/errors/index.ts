export * from './codes';
export * from './qtasks-error';
export * from './unrecoverable-error';
