/** The in-memory engine: broker and storage in this process, nothing to install. */
export * from './memory-broker';
export * from './memory-storage';
