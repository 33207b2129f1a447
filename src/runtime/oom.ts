/**
 * Why a container that ran out of memory can read as a plain `Error` (exit 137, OOMKilled
 * false) on Docker 20.10 with cgroup v1, and what the adapter does about it.
 *
 * Docker learns of an OOM kill only from containerd's `TaskOOM` event, which the shim raises
 * from the memory cgroup's OOM notification. When the process the kernel kills is the
 * container's only process, the container exits and its cgroup is torn down at once, and the
 * notification is often lost: measured here, 6 of 12 `docker run -m 8m … dd bs=64M` runs exited
 * 137 with no `oom` event and `State.OOMKilled=false`, while the kernel's own `oom_kill` counter
 * (/proc/vmstat) counted every one; with `sh -c` as PID 1 and dd its child, 6 of 6 were caught.
 * When the event does arrive it can also come after `die`, and Docker records OOMKilled only
 * from an event processed before the exit. The contract test's
 * occasional `reason ""` was this race, not a slow read.
 *
 * So, as containerd's CRI does with TaskOOM, the adapter treats the engine's flag as one source
 * among three: (1) `State.OOMKilled`; (2) an `oom` event seen for the container at any time,
 * before or after its `die`; (3) for a container this adapter started with a memory limit that
 * exited with 137 without anyone asking it to stop: the host's OOM-kill count went up between
 * its start and its death. (3) can mistake an outside `kill -9` for an OOM kill only when some
 * other OOM kill happened on the host in that same window.
 */
import { readFileSync } from 'node:fs';

/** The kernel's count of OOM kills since boot (`oom_kill` in /proc/vmstat, Linux 4.13+), or undefined. */
export function hostOomKills(): number | undefined {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // not Linux, or no /proc: only the engine's flag and events count
  }
}

/** Bound on the containers remembered (oldest forgotten first). */
const MAX_TRACKED = 4096;

interface Watched {
  limited: boolean;
  atStart?: number;
  atDie?: number;
  stopRequested: boolean;
}

/** OOM evidence per container id, fed by the adapter's calls and the engine's events. */
export class OomTracker {
  private readonly watched = new Map<string, Watched>();
  private readonly oomEvents = new Set<string>();

  constructor(private readonly counter: () => number | undefined = hostOomKills) {}

  /** A container was created; `memoryLimited` when it has a memory limit. */
  created(id: string, memoryLimited: boolean): void {
    this.remember(id, { limited: memoryLimited, stopRequested: false });
  }

  started(id: string): void {
    const w = this.watched.get(id);
    if (w) Object.assign(w, { atStart: this.counter(), atDie: undefined, stopRequested: false });
  }

  /** Someone asked the container to stop (or removed it): a 137 from now on is that, not OOM. */
  stopRequested(id: string): void {
    const w = this.watched.get(id);
    if (w) w.stopRequested = true;
  }

  /** An engine event about the container. */
  event(id: string, action: string): void {
    if (action === 'oom') {
      this.oomEvents.add(id);
      if (this.oomEvents.size > MAX_TRACKED) this.oomEvents.delete(this.oomEvents.values().next().value ?? '');
    } else if (action === 'die') {
      const w = this.watched.get(id);
      if (w && w.atDie === undefined) w.atDie = this.counter();
    } else if (action === 'destroy') {
      this.watched.delete(id);
      this.oomEvents.delete(id);
    }
  }

  /** Whether an exited container with `exitCode` was OOM-killed, given the engine's own flag. */
  oomKilled(id: string, engineFlag: boolean, exitCode: number): boolean {
    if (engineFlag || this.oomEvents.has(id)) return true;
    const w = this.watched.get(id);
    if (!w || !w.limited || w.stopRequested || exitCode !== 137 || w.atStart === undefined) return false;
    const after = w.atDie ?? this.counter();
    return after !== undefined && after > w.atStart;
  }

  private remember(id: string, w: Watched): void {
    this.watched.delete(id);
    this.watched.set(id, w);
    if (this.watched.size > MAX_TRACKED) this.watched.delete(this.watched.keys().next().value ?? '');
  }
}
