/**
 * `kiln build -tui`: the interactive view, one more subscriber of the event stream. Events only
 * update the state; a timer draws at most ten frames a second, so a flood of output lines costs
 * the build next to nothing. When the run ends the last frame stays in the scrollback and the
 * plain renderer's final summary follows, written as ordinary lines.
 *
 * Loaded with a dynamic import from `kiln build` only when -tui is given: ink and react are in
 * this module's chunk and nowhere else.
 */
import { render, type Instance } from 'ink';
import { createElement } from 'react';
import type { Listener } from '../../core/events.js';
import { plainRenderer } from '../plain.js';
import { finalFrame, liveFrame, type Line } from './layout.js';
import { TuiState } from './state.js';
import { Frame } from './view.js';

export interface TuiOptions {
  stdout: NodeJS.WriteStream;
  color: boolean;
  timestamps: boolean;
  /** Time between frames; 100 ms is the ~10 frames a second the view needs. */
  frameMs?: number;
}

export interface Tui {
  listener: Listener;
  /** Ends the live view (idempotent); the run's end does it too. */
  stop(): void;
}

export function startTui(opts: TuiOptions): Tui {
  const { stdout } = opts;
  const state = new TuiState();
  const size = (): { columns: number; rows: number } => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const element = (lines: readonly Line[]) => createElement(Frame, { lines, columns: size().columns, color: opts.color });

  // The summary is the plain renderer's own: it sees every event (it collects the failures as
  // they come) but writes only from run.finished on.
  let summaryOpen = false;
  const summary = plainRenderer({ write: (t) => void (summaryOpen && stdout.write(t)), color: opts.color, timestamps: opts.timestamps });

  const instance: Instance = render(element(liveFrame(state, Date.now(), size())), {
    stdout,
    // Ctrl-C stays kiln's (cancel, clean up, exit 130): ink reads no input and never puts the
    // terminal in raw mode, so the terminal still turns Ctrl-C into SIGINT.
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 30,
  });
  let lastSecond = -1;
  const draw = (): void => {
    const now = Date.now();
    // Elapsed times and the spinner move even when no event came.
    const running = [...state.builds.values()].some((b) => b.status === 'running');
    if (!state.dirty && !running && Math.floor(now / 1000) === lastSecond) return;
    state.dirty = false;
    lastSecond = Math.floor(now / 1000);
    instance.rerender(element(liveFrame(state, now, size())));
  };
  const timer = setInterval(draw, opts.frameMs ?? 100);
  // The build's own work keeps kiln alive; this timer must not.
  timer.unref();
  const onResize = (): void => void (state.dirty = true);
  stdout.on('resize', onResize);

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    stdout.off('resize', onResize);
    instance.rerender(element(finalFrame(state, Date.now(), size())));
    instance.unmount();
  };

  return {
    listener: (e) => {
      state.apply(e);
      if (e.type === 'run.finished') {
        stop();
        summaryOpen = true;
      }
      summary(e);
    },
    stop,
  };
}
