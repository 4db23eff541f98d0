import { storageConformance } from './storage.cases';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

storageConformance('memory', memoryApp, forgetMemoryEngines, { sharedQueue: true });
