/** What a plugin may show: Packer's two message levels, output lines, and progress. */
export interface Ui {
  /** A step-level message: `==> name: text` in Packer's output. */
  say(message: string): void;
  /** A detail line: `    name: text`. */
  message(message: string): void;
  /** An error shown to the user (the build may still continue). */
  error(message: string): void;
  /** One line of output from a command run on the machine being built. */
  output(stream: 'stdout' | 'stderr', line: string): void;
  /** Progress of a transfer or long step; `id` distinguishes concurrent ones. */
  progress(id: string, done: number, total: number, label?: string): void;
}
