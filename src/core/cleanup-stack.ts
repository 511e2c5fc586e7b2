/** Undo actions of one build, run in reverse order; a failing action does not stop the others. */
import type { CleanupStack } from '../sdk/plugin.js';

export interface CleanupEntry {
  description: string;
  fn: () => Promise<void> | void;
}

export class Cleanups implements CleanupStack {
  private entries: CleanupEntry[] = [];
  /** Descriptions of the actions running now (a second Ctrl-C lists them). */
  readonly running = new Set<string>();

  push(description: string, fn: () => Promise<void> | void): void {
    this.entries.push({ description, fn });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs every action, newest first; each failure goes to `onError` and the rest still run. */
  async unwind(onError: (description: string, err: Error) => void): Promise<void> {
    while (this.entries.length > 0) await this.runEntry(this.entries.pop()!, onError);
  }

  /**
   * Runs and removes only the newest action with this description, leaving every other undone
   * (-on-error=run-cleanup-provisioner skips all cleanup but the error-cleanup-provisioner).
   */
  async runOnly(description: string, onError: (description: string, err: Error) => void): Promise<void> {
    const i = this.entries.map((e) => e.description).lastIndexOf(description);
    if (i >= 0) await this.runEntry(this.entries.splice(i, 1)[0]!, onError);
  }

  private async runEntry(e: CleanupEntry, onError: (description: string, err: Error) => void): Promise<void> {
    this.running.add(e.description);
    try {
      await e.fn();
    } catch (err) {
      onError(e.description, err as Error);
    } finally {
      this.running.delete(e.description);
    }
  }

  pending(): string[] {
    return [...this.running, ...this.entries.map((e) => e.description).reverse()];
  }
}
