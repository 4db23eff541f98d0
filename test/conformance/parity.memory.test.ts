/** The parity conformance suite on the in-memory engine. */
import { parityConformance } from './parity.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

parityConformance('memory', memoryApp, forgetMemoryEngines);
