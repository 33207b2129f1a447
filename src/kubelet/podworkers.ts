/**
 * One serialized worker per pod (Kubernetes `pod_workers.go`): syncs of one pod never overlap,
 * and while a sync runs, any number of new triggers collapse into one more sync afterwards, which
 * reads the newest state. A global limit caps how many pods sync at once.
 */
import PQueue from 'p-queue';

export class PodWorkers {
  private readonly perPod = new Map<string, { queue: PQueue; pending: boolean }>();
  private readonly global: PQueue;

  constructor(
    private readonly sync: (uid: string) => Promise<void>,
    private readonly onError: (uid: string, e: unknown) => void,
    concurrency = 8,
  ) {
    this.global = new PQueue({ concurrency });
  }

  /** Schedules a sync of the pod; a sync already waiting to start covers this trigger too. */
  enqueue(uid: string): void {
    let w = this.perPod.get(uid);
    if (!w) {
      w = { queue: new PQueue({ concurrency: 1 }), pending: false };
      this.perPod.set(uid, w);
    }
    if (w.pending) return;
    w.pending = true;
    const worker = w;
    void worker.queue.add(async () => {
      worker.pending = false;
      await this.global.add(() => this.sync(uid)).catch((e: unknown) => this.onError(uid, e));
    }).then(() => {
      if (!worker.pending && worker.queue.size === 0 && worker.queue.pending === 0) this.perPod.delete(uid);
    });
  }

  /** Resolves when no pod has work queued or running. */
  async idle(): Promise<void> {
    while ([...this.perPod.values()].some((w) => w.queue.size > 0 || w.queue.pending > 0)) {
      await Promise.all([...this.perPod.values()].map((w) => w.queue.onIdle()));
    }
  }

  /** Whether any pod has a sync queued or running. */
  get busy(): boolean {
    return [...this.perPod.values()].some((w) => w.queue.size > 0 || w.queue.pending > 0);
  }

  get active(): number {
    return this.perPod.size;
  }
}
