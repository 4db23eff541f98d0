import { brokerConformance } from './broker.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

brokerConformance('memory', memoryApp, forgetMemoryEngines, { sharedQueue: true });
