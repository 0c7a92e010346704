import { createInterface } from 'node:readline';
import { UsageError } from './command.js';

/**
 * A new password, never from the command line (where `ps` and the shell's history would show
 * it): typed twice at a prompt that does not echo, or, when stdin is not a terminal, its first line.
 */
export async function readNewPassword(what: string): Promise<string> {
  if (process.stdin.isTTY !== true) {
    const text = await readAll(process.stdin);
    const password = text.split(/\r?\n/, 1)[0] ?? '';
    if (password === '') throw new UsageError('no password on stdin: send it as the first line');
    return password;
  }
  const first = await prompt(`New password for ${what}: `);
  const second = await prompt('Again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  if (first === '') throw new UsageError('the password is empty');
  return first;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** One line from the terminal; what is typed is not shown. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    process.stderr.write(question);
    // readline echoes through _writeToOutput; silencing it hides the characters typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
