/**
 * {@link HostDirectories} on this machine's file system: volume directories live under one
 * root (the cluster's `volumes/` directory), made mode 0777 so containers running as any user
 * can write, and removed recursively. Nothing outside the root is ever touched.
 */
import { mkdir, rm, chmod } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { HostDirectories } from './provisioner.js';

export class LocalHostDirectories implements HostDirectories {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async create(name: string): Promise<string> {
    const path = join(this.root, name);
    if (!this.owns(path)) throw new Error(`volume directory name ${JSON.stringify(name)} leaves ${this.root}`);
    await mkdir(path, { recursive: true, mode: 0o777 });
    await chmod(path, 0o777); // mkdir's mode is masked by the umask
    return path;
  }

  async remove(path: string): Promise<void> {
    if (!this.owns(path)) throw new Error(`refusing to remove ${path}: not under ${this.root}`);
    await rm(path, { recursive: true, force: true });
  }

  owns(path: string): boolean {
    const rel = relative(this.root, resolve(path));
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.includes('/');
  }
}
