/** The Ui a build's plugins write to: each call becomes an event on the bus. */
import type { Ui } from '../sdk/ui.js';
import type { EventBus } from './events.js';

export function buildUi(bus: EventBus, build: string): Ui {
  return {
    say: (message) => bus.emit({ type: 'say', build, message }),
    message: (message) => bus.emit({ type: 'message', build, message }),
    error: (message) => bus.emit({ type: 'error', build, message }),
    output: (stream, line) => bus.emit({ type: 'output', build, stream, line }),
    progress: (id, done, total, label) => bus.emit({ type: 'progress', build, id, done, total, ...(label !== undefined && { label }) }),
  };
}
