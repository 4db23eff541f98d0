import { QTasks } from 'qtasks';
import { workflowCases } from './workflow.cases';

workflowCases('memory', ({ name, concurrency, config }) => new QTasks({ name, concurrency, discover: false, config }));
