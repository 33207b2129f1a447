/** The fake runtime's stand-in programs and its very small `sh -c`. */
import { describe, expect, it } from 'vitest';
import { parseScript, runFakeProgram, type FakeProcessHost } from '../../src/runtime/fake-process.js';

function host(env: Record<string, string> = {}) {
  const files = new Map<string, string>();
  let out = '';
  let err = '';
  const h: FakeProcessHost = {
    env,
    hostname: 'pod-1',
    cwd: '/',
    stdin: '',
    now: () => new Date(0),
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    readFile: (f) => files.get(f),
    writeFile: (f, c, append) => void files.set(f, (append ? (files.get(f) ?? '') : '') + c),
    removeFile: (f) => (files.delete(f) ? undefined : 'No such file or directory'),
    listen: () => {},
    fetch: () => ({ error: 'download timed out' }),
  };
  return { h, files, out: () => out, err: () => err };
}

describe('fake sh -c', () => {
  it.each<{ script: string; env: Record<string, string>; out: string; exit: number }>([
    { script: 'echo "$FOO" $BAR', env: { FOO: 'a  b', BAR: 'c' }, out: 'a  b c\n', exit: 0 },
    { script: "echo '$FOO' \"${FOO}\"", env: { FOO: 'x' }, out: '$FOO x\n', exit: 0 },
    { script: 'false && echo no; echo yes', env: {}, out: 'yes\n', exit: 0 },
    { script: 'false || echo fallback', env: {}, out: 'fallback\n', exit: 0 },
    { script: 'exit 3; echo never', env: {}, out: '', exit: 3 },
    { script: 'false; echo $?', env: {}, out: '1\n', exit: 0 },
    { script: 'unknown-cmd', env: {}, out: '', exit: 127 },
    { script: 'seq 2\necho done', env: {}, out: '1\n2\ndone\n', exit: 0 },
  ])('`$script` prints $out and exits $exit', ({ script, env, out, exit }) => {
    const t = host(env);
    expect(runFakeProgram(['sh', '-c', script], t.h, true)).toEqual({ exit });
    expect(t.out()).toBe(out);
  });

  it('redirects output into files and reads them back', () => {
    const t = host();
    expect(runFakeProgram(['sh', '-c', 'echo one > /f; echo two >> /f; cat /f'], t.h, true)).toEqual({ exit: 0 });
    expect(t.out()).toBe('one\ntwo\n');
  });

  it('a script that reaches a long-running command keeps running', () => {
    const t = host();
    expect(runFakeProgram(['sh', '-c', 'echo started; sleep 3600; echo never'], t.h, true)).toEqual({ running: true });
    expect(t.out()).toBe('started\n');
  });

  it('parses operators, redirections and variables into commands', () => {
    expect(parseScript('a "b$X" && c > f || d')).toEqual([
      { words: [['a'], ['b', { variable: 'X' }]], redirect: undefined, after: ';' },
      { words: [['c']], redirect: { file: ['f'], append: false }, after: '&&' },
      { words: [['d']], redirect: undefined, after: '||' },
    ]);
  });
});

describe('fake programs', () => {
  it('an unknown top-level program runs like a server; inside a shell it is not found', () => {
    expect(runFakeProgram(['/app/server', '--port=8080'], host().h, true)).toEqual({ running: true });
    const t = host();
    expect(runFakeProgram(['/app/server'], t.h, false)).toEqual({ exit: 127 });
    expect(t.err()).toContain('not found');
  });

  it('timeout ends a command that would run forever with 143', () => {
    expect(runFakeProgram(['timeout', '5', 'sleep', '60'], host().h, false)).toEqual({ exit: 143 });
  });

  it('wget reports an unreachable address and fails', () => {
    const t = host();
    expect(runFakeProgram(['wget', '-qO-', 'http://10.0.0.9/'], t.h, false)).toEqual({ exit: 1 });
    expect(t.err()).toBe('wget: download timed out\n');
  });

  it('touch creates a file and rm removes it; rm of a missing file fails unless forced', () => {
    const t = host();
    expect(runFakeProgram(['sh', '-c', 'touch /tmp/ready && cat /tmp/ready && rm /tmp/ready'], t.h, false)).toEqual({ exit: 0 });
    expect(t.files.has('/tmp/ready')).toBe(false);
    expect(runFakeProgram(['rm', '/tmp/ready'], t.h, false)).toEqual({ exit: 1 });
    expect(t.err()).toBe("rm: can't remove '/tmp/ready': No such file or directory\n");
    expect(runFakeProgram(['rm', '-f', '/tmp/ready'], t.h, false)).toEqual({ exit: 0 });
  });

  it('nginx serves files from its document root, index.html for a directory, and 404 for the rest', () => {
    let serve: ((req: { path: string; clientIp: string }) => { status: number; body: string }) | undefined;
    const t = host();
    t.files.set('/usr/share/nginx/html/index.html', 'home');
    t.files.set('/usr/share/nginx/html/healthz', 'ok');
    expect(runFakeProgram(['nginx', '-g', 'daemon off;'], { ...t.h, listen: (_port, s) => (serve = s) }, true)).toEqual({ running: true });
    expect(serve?.({ path: '/', clientIp: '10.0.0.1' })).toEqual({ status: 200, body: 'home' });
    expect(serve?.({ path: '/healthz?x=1', clientIp: '10.0.0.1' })).toEqual({ status: 200, body: 'ok' });
    expect(serve?.({ path: '/gone', clientIp: '10.0.0.1' })?.status).toBe(404);
    expect(t.out()).toMatch(/"GET \/gone HTTP\/1.1" 404 /);
  });
});
