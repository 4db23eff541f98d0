/**
 * HTTP routes of the sample: `POST /tasks/:name` enqueues (body `{ "args": [...] }`),
 * `GET /tasks/:id?wait=ms` reads the task (waiting up to `wait` ms for its end).
 */
import { Body, Controller, Get, HttpException, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { QTasksError } from 'qtasks';
import { QTasksService } from 'qtasks/nest';

@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: QTasksService) {}

  @Post(':name')
  async add(@Param('name') name: string, @Body() body: { args?: unknown[] } = {}): Promise<{ id: string }> {
    try {
      const handle = await this.tasks.addTask(name, body.args ?? []);
      return { id: handle.id };
    } catch (err) {
      throw new HttpException({ code: (err as QTasksError).code, message: (err as Error).message }, HttpStatus.BAD_REQUEST);
    }
  }

  @Get(':id')
  async get(@Param('id') id: string, @Query('wait') wait?: string): Promise<Record<string, unknown>> {
    if (wait !== undefined) await this.tasks.handle(id).result({ timeout: Number(wait) }).catch(() => undefined);
    const rec = await this.tasks.getTask(id);
    if (!rec) throw new HttpException({ code: 'QTASKS_ERR_TASK_NOT_FOUND', message: `No task ${id}` }, HttpStatus.NOT_FOUND);
    return { id: rec.id, name: rec.name, status: rec.status, result: rec.returning, error: rec.error?.message };
  }
}
