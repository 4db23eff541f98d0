import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  moduleNameMapper: {
    '^qtasks$': '<rootDir>/src/index.ts',
    '^qtasks/(redis|memory|postgres|rabbitmq)$': '<rootDir>/src/engines/$1/index.ts',
    '^qtasks/(.*)$': '<rootDir>/src/$1/index.ts',
  },
  testTimeout: 30_000,
};

export default config;
