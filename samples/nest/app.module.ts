/**
 * The sample's root module: qtasks in memory (set QTASKS_REDIS_URL for Redis), the greeter, the
 * task providers and the controller.
 */
import { Module } from '@nestjs/common';
import { QTasksModule } from 'qtasks/nest';
import { GreetTasks, ShoutTask } from './greet.tasks';
import { GreeterService } from './greeter.service';
import { TasksController } from './tasks.controller';

@Module({
  imports: [QTasksModule.forRoot({ name: 'nest-sample', concurrency: 4, discover: false })],
  controllers: [TasksController],
  providers: [GreeterService, GreetTasks, ShoutTask],
})
export class AppModule {}
