export * from './task.decorator';
export * from './state.decorator';
export * from './depends.decorator';
export * from './inject.decorator';
export * from './arg.decorator';
export * from './middleware.decorator';
