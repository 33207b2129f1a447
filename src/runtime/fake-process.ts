/**
 * The "processes" of the fake runtime: a handful of deterministic stand-ins for the programs
 * minikube-lite's tests and examples run (busybox `sh -c`, `echo`, `cat`, `seq`, `sleep`,
 * `touch`, `rm`, `wget`, `timeout`, and nginx / pause as servers), so that the same contract cases run on
 * the fake and on Docker.
 *
 * A program either finishes at once (output + exit code) or keeps running until the container
 * is stopped (`sleep`, servers, and any program the fake does not know — a simulated app).
 * Nothing here uses timers or real I/O: the outcome depends only on the inputs.
 */
import path from 'node:path';

/** What a program may do to the world around it; implemented by the fake runtime per container. */
export interface FakeProcessHost {
  env: Record<string, string>;
  hostname: string;
  /** Working directory. */
  cwd: string;
  stdin: string;
  /** The fake's clock. */
  now(): Date;
  stdout(text: string): void;
  stderr(text: string): void;
  /** File contents, or undefined when missing. */
  readFile(file: string): string | undefined;
  /** Writes (or appends) a file; returns an error sentence when it cannot. */
  writeFile(file: string, content: string, append: boolean): string | undefined;
  /** Removes a file; returns an error sentence when it cannot (missing, read-only). */
  removeFile(file: string): string | undefined;
  /** Starts serving HTTP on a port of the pod's network namespace. */
  listen(port: number, serve: (req: { path: string; clientIp: string }) => FakeHttpResponse): void;
  /** An HTTP GET from this pod: the response, or an error sentence (`connection refused`, …). */
  fetch(url: string): FakeHttpResponse | { error: string };
}

/** What a stand-in server answers. */
export interface FakeHttpResponse {
  status: number;
  body: string;
}

/** Where the stand-in nginx serves files from, as the nginx image does. */
export const NGINX_ROOT = '/usr/share/nginx/html';

/** `exit` with a code, or still running (until the container is stopped). */
export type FakeOutcome = { exit: number } | { running: true };

const RUNNING: FakeOutcome = { running: true };
const exit = (code: number): FakeOutcome => ({ exit: code });

export const NGINX_WELCOME = '<!DOCTYPE html>\n<html>\n<head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body>\n</html>\n';
const NGINX_NOT_FOUND = '<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center><h1>404 Not Found</h1></center>\n</body>\n</html>\n';

/**
 * Runs `argv` as a container's main process (`topLevel`) or as an exec'd/child command.
 * An unknown top-level program keeps running, like a real app would; inside a shell an
 * unknown command fails with 127 as `sh` does.
 */
export function runFakeProgram(argv: string[], host: FakeProcessHost, topLevel: boolean): FakeOutcome {
  if (argv.length === 0) return topLevel ? RUNNING : exit(0);
  const [file, ...args] = argv;
  const name = path.posix.basename(file);
  switch (name) {
    case 'sh':
    case 'ash':
    case 'bash': {
      if (args[0] !== '-c') return exit(0); // Non-interactive shell without a script: stdin is empty.
      return runScript(args[1] ?? '', args.slice(2), host);
    }
    case 'echo': {
      const noNewline = args[0] === '-n';
      const words = noNewline ? args.slice(1) : args;
      host.stdout(words.join(' ') + (noNewline ? '' : '\n'));
      return exit(0);
    }
    case 'cat': {
      if (args.length === 0) {
        host.stdout(host.stdin);
        return exit(0);
      }
      let status = 0;
      for (const f of args) {
        const content = host.readFile(f);
        if (content === undefined) {
          host.stderr(`cat: can't open '${f}': No such file or directory\n`);
          status = 1;
        } else {
          host.stdout(content);
        }
      }
      return exit(status);
    }
    case 'seq': {
      const nums = args.map(Number);
      const [first, last] = nums.length >= 2 ? [nums[0], nums[1]] : [1, nums[0] ?? 0];
      for (let i = first; i <= last; i++) host.stdout(`${i}\n`);
      return exit(0);
    }
    case 'true':
      return exit(0);
    case 'false':
      return exit(1);
    case 'pwd':
      host.stdout(`${host.cwd}\n`);
      return exit(0);
    case 'hostname':
      host.stdout(`${host.hostname}\n`);
      return exit(0);
    case 'env':
    case 'printenv': {
      if (args.length === 0) {
        for (const [k, v] of Object.entries(host.env)) host.stdout(`${k}=${v}\n`);
        return exit(0);
      }
      const missing = args.filter((a) => !(a in host.env));
      for (const a of args) if (a in host.env) host.stdout(`${host.env[a]}\n`);
      return exit(missing.length ? 1 : 0);
    }
    case 'mkdir':
      return exit(0); // Directories are implicit in the fake's file maps.
    case 'touch': {
      for (const f of args.filter((a) => !a.startsWith('-'))) {
        const err = host.writeFile(f, '', true);
        if (err) {
          host.stderr(`touch: ${f}: ${err}\n`);
          return exit(1);
        }
      }
      return exit(0);
    }
    case 'rm': {
      const force = args.some((a) => /^-[a-zA-Z]*f/.test(a));
      let status = 0;
      for (const f of args.filter((a) => !a.startsWith('-'))) {
        const err = host.removeFile(f);
        if (err && !(force && host.readFile(f) === undefined)) {
          host.stderr(`rm: can't remove '${f}': ${err}\n`);
          status = 1;
        }
      }
      return exit(status);
    }
    case 'sleep':
      return Number(args[0]) === 0 ? exit(0) : RUNNING;
    case 'timeout': {
      // `timeout N cmd…`: a command still running after N seconds gets SIGTERM (exit 143).
      const outcome = runFakeProgram(args.slice(1), host, false);
      return 'exit' in outcome ? outcome : exit(143);
    }
    case 'wget':
      return wget(args, host);
    case 'nginx':
      // Like the nginx image: files under NGINX_ROOT (index.html for a directory), 404 for
      // anything else; the access log goes to stdout (the container log).
      host.listen(80, (req) => {
        const file = path.posix.join(NGINX_ROOT, req.path.split('?')[0]);
        const content = host.readFile(req.path.split('?')[0].endsWith('/') ? path.posix.join(file, 'index.html') : file);
        const res = content === undefined ? { status: 404, body: NGINX_NOT_FOUND } : { status: 200, body: content };
        host.stdout(`${req.clientIp} - - [${host.now().toISOString()}] "GET ${req.path} HTTP/1.1" ${res.status} ${res.body.length} "-" "Wget"\n`);
        return res;
      });
      return RUNNING;
    case 'pause':
      return RUNNING;
    default:
      if (topLevel) return RUNNING;
      host.stderr(`sh: ${file}: not found\n`);
      return exit(127);
  }
}

/** `wget [-q] -O- URL` / `wget -qO- URL`: prints the body to stdout. */
function wget(args: string[], host: FakeProcessHost): FakeOutcome {
  const url = args.find((a) => /^https?:\/\//.test(a));
  if (!url) {
    host.stderr('wget: missing URL\n');
    return exit(1);
  }
  const res = host.fetch(url);
  if ('error' in res) {
    host.stderr(`wget: ${res.error}\n`);
    return exit(1);
  }
  if (res.status >= 400) {
    host.stderr(`wget: server returned error: HTTP/1.1 ${res.status} ${res.status === 404 ? 'Not Found' : 'Error'}\n`);
    return exit(1);
  }
  host.stdout(res.body);
  return exit(0);
}

// ---- a very small `sh -c` -----------------------------------------------------------------

type Operator = ';' | '&&' | '||';
/** A word as written: literal text and variable references, expanded when the command runs. */
type Word = (string | { variable: string })[];
interface Command {
  words: Word[];
  /** `> file` or `>> file`. */
  redirect?: { file: Word; append: boolean };
  /** How this command is joined to the previous one. */
  after: Operator;
}

/**
 * Interprets a script of simple commands joined by `;`, `&&`, `||` or newlines, with quotes,
 * `$VAR`/`${VAR}`/`$?`/`$0…$9` expansion, `>`/`>>` redirection and the `exit` builtin.
 * No pipes, loops or subshells: tests that need more run on Docker only.
 */
function runScript(script: string, positional: string[], host: FakeProcessHost): FakeOutcome {
  let status = 0;
  const expand = (word: Word) =>
    word
      .map((part) => {
        if (typeof part === 'string') return part;
        const name = part.variable;
        if (name === '?') return String(status);
        if (/^\d$/.test(name)) return positional[Number(name)] ?? '';
        return host.env[name] ?? '';
      })
      .join('');
  for (const cmd of parseScript(script)) {
    if ((cmd.after === '&&' && status !== 0) || (cmd.after === '||' && status === 0)) continue;
    const words = cmd.words.map(expand);
    if (words[0] === 'exit') return exit(words[1] === undefined ? status : Number(words[1]) & 0xff);
    let captured = '';
    const target: FakeProcessHost = cmd.redirect ? { ...host, stdout: (t) => (captured += t) } : host;
    const outcome = runFakeProgram(words, target, false);
    if (cmd.redirect) {
      const file = expand(cmd.redirect.file);
      const err = host.writeFile(file, captured, cmd.redirect.append);
      if (err) {
        host.stderr(`sh: can't create ${file}: ${err}\n`);
        status = 1;
        continue;
      }
    }
    if (!('exit' in outcome)) return outcome;
    status = outcome.exit;
  }
  return exit(status);
}

/** Splits a script into commands of words; variables stay unexpanded until a command runs. */
export function parseScript(script: string): Command[] {
  const commands: Command[] = [];
  let words: Word[] = [];
  let word: Word = [];
  let inWord = false;
  let redirect: Command['redirect'];
  let pendingRedirect: boolean | undefined; // append flag while waiting for the file name
  let after: Operator = ';';
  const addText = (t: string) => {
    const last = word[word.length - 1];
    if (typeof last === 'string') word[word.length - 1] = last + t;
    else word.push(t);
    inWord = true;
  };
  const endWord = () => {
    if (!inWord) return;
    if (pendingRedirect !== undefined) {
      redirect = { file: word, append: pendingRedirect };
      pendingRedirect = undefined;
    } else {
      words.push(word);
    }
    word = [];
    inWord = false;
  };
  const endCommand = (next: Operator) => {
    endWord();
    if (words.length) commands.push({ words, redirect, after });
    words = [];
    redirect = undefined;
    after = next;
  };
  const readVar = (i: number): [string, number] => {
    if (script[i] === '{') {
      const close = script.indexOf('}', i);
      return close < 0 ? [script.slice(i + 1), script.length] : [script.slice(i + 1, close), close + 1];
    }
    const m = /^(\?|\d|[A-Za-z_][A-Za-z0-9_]*)/.exec(script.slice(i));
    return m ? [m[1], i + m[1].length] : ['', i];
  };
  let quote: "'" | '"' | undefined;
  let i = 0;
  while (i < script.length) {
    const c = script[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else addText(c);
      i++;
      continue;
    }
    if (c === '$') {
      const [name, next] = readVar(i + 1);
      if (name) {
        word.push({ variable: name });
        inWord = true;
        i = next;
        continue;
      }
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < script.length && '"\\$'.includes(script[i + 1])) addText(script[++i]);
      else addText(c);
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      i++;
    } else if (c === '\\' && i + 1 < script.length) {
      addText(script[i + 1]);
      i += 2;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === ';' || c === '\n') {
      endCommand(';');
      i++;
    } else if (script.startsWith('&&', i) || script.startsWith('||', i)) {
      endCommand(script.slice(i, i + 2) as Operator);
      i += 2;
    } else if (c === '>') {
      endWord();
      pendingRedirect = script[i + 1] === '>';
      i += pendingRedirect ? 2 : 1;
    } else {
      addText(c);
      i++;
    }
  }
  endCommand(';');
  return commands;
}

/**
 * Exit code of a main process asked to stop, as on Docker: nginx and pause shut down cleanly
 * on SIGTERM (0); a shell or `sleep` running as PID 1 ignores SIGTERM and is SIGKILLed when
 * the grace period ends (137); any other (simulated) app dies of the SIGTERM (143).
 */
export function exitCodeOnStop(argv: string[]): number {
  const name = argv.length ? path.posix.basename(argv[0]) : '';
  if (name === 'nginx' || name === 'pause') return 0;
  if (['sh', 'ash', 'bash', 'sleep', 'timeout'].includes(name)) return 137;
  return 143;
}
