/**
 * Questions to the person at the terminal: `-on-error=ask` and `-debug` pauses. One question at
 * a time, even when several builds ask at once.
 */
import { createInterface } from 'node:readline';

export interface Prompter {
  /** Shows `question`, returns the first answer that is one of `choices` (lower-cased). */
  choose(question: string, choices: readonly string[]): Promise<string>;
  /** Waits for Enter. */
  pause(message: string): Promise<void>;
  readonly interactive: boolean;
}

export function terminalPrompter(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Prompter {
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (q: string): Promise<string> => {
    const next = queue.then(
      () =>
        new Promise<string>((resolve) => {
          const rl = createInterface({ input, output, terminal: input.isTTY === true });
          rl.question(q, (a) => {
            rl.close();
            resolve(a);
          });
          rl.on('close', () => resolve(''));
        }),
    );
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    interactive: input.isTTY === true,
    async choose(question, choices) {
      for (;;) {
        const a = (await ask(`${question} `)).trim().toLowerCase();
        if (choices.includes(a)) return a;
        if (a === '' && !input.isTTY) return choices[0]!;
      }
    },
    async pause(message) {
      await ask(`${message} `);
    },
  };
}
