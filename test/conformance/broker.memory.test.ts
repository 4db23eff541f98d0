/** The broker conformance suite on the in-memory engine (apps of one queue name share an engine). */
import { brokerConformance } from './broker.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

brokerConformance('memory', memoryApp, forgetMemoryEngines, { sharedQueue: true });
