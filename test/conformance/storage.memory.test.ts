/** The storage conformance suite on the in-memory engine (apps of one queue name share an engine). */
import { storageConformance } from './storage.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

storageConformance('memory', memoryApp, forgetMemoryEngines, { sharedQueue: true });
