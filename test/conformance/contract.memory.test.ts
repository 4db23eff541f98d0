/** The contract conformance suite on the in-memory engine. */
import { contractConformance } from './contract.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

contractConformance('memory', memoryApp, forgetMemoryEngines, { sharedQueue: true });
