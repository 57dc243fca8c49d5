// Scenario scripts in etcd's datadriven style (etcd-io/raft testdata/*.txt, run by interaction_test.go):
// a file is a story of commands, each followed by `----` and the lines the world printed. Running a script
// re-renders the file with the actual output; a test compares it with the file as written. Set
// UPDATE_SCRIPTS=1 to rewrite the files from the actual output, on purpose, then review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScriptWorld } from './world.js';

/** Runs a script's text and returns it with every command's output replaced by the actual one. */
export function render(text: string): string {
  let world = new ScriptWorld();
  const lines = text.split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      out.push(line);
      i++;
      continue;
    }
    // A command: skip the old output (from `----` to the next blank line), print the new one.
    out.push(line);
    i++;
    if (lines[i] === '----') {
      i++;
      while (i < lines.length && lines[i]!.trim() !== '') i++;
    }
    // `reset` starts a new world (another group, other settings) within the same story.
    if (line.trim() === 'reset') world = new ScriptWorld();
    const printed = line.trim() === 'reset' ? [] : world.run(line);
    out.push('----', ...(printed.length > 0 ? printed : ['ok']));
  }
  return out.join('\n');
}

/** Renders a script file; with UPDATE_SCRIPTS=1 also writes the result back. Returns [expected, actual]. */
export function runScriptFile(path: string): [string, string] {
  const expected = readFileSync(path, 'utf8');
  const actual = render(expected);
  if (process.env.UPDATE_SCRIPTS === '1' && actual !== expected) writeFileSync(path, actual);
  return [expected, actual];
}

/** The path of a script in test/testdata. */
export function scriptPath(name: string): string {
  return fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
}
