/**
 * Image pulls per `imagePullPolicy`, with the kubelet's reasons and events: `ErrImageNeverPull`,
 * `ErrImagePull` then `ImagePullBackOff` while a failed image is in back-off. Concurrent pulls
 * of one image are shared by the runtime adapter.
 */
import type { Container, KubeObject, Pod } from '../api/types.js';
import type { Runtime } from '../runtime/types.js';
import { defaultPullPolicy } from '../api/defaults.js';
import type { PullBackoff } from './backoff.js';
import type { Waiting } from './status.js';
import { NO_TRACE, type Tracer } from '../trace/recorder.js';
import { traceImage } from '../trace/kubelet.js';

/** Where the kubelet's events go (the EventRecorder, or a test double). */
export interface Recorder {
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export type EnsureResult = { ok: true } | { ok: false; waiting: Waiting; retryInMs: number };

export class ImageManager {
  constructor(
    private readonly runtime: Runtime,
    private readonly recorder: Recorder,
    private readonly backoff: PullBackoff,
    private readonly now: () => number,
    private readonly tracer: Tracer = NO_TRACE,
  ) {}

  /** Makes sure the container's image is present as its pull policy asks. */
  async ensure(pod: Pod, container: Container): Promise<EnsureResult> {
    const image = container.image ?? '';
    const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
    const t0 = performance.now();
    const present = policy === 'Always' ? undefined : await this.runtime.imageStatus(image);
    if (policy === 'Never') {
      traceImage(this.tracer, pod, image, policy, present ? 'present' : 'not-present', t0);
      if (present) return { ok: true };
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.recorder.event(pod, 'Warning', 'ErrImageNeverPull', message);
      return { ok: false, waiting: { reason: 'ErrImageNeverPull', message }, retryInMs: 10_000 };
    }
    if (policy === 'IfNotPresent' && present) {
      traceImage(this.tracer, pod, image, policy, 'present', t0);
      this.recorder.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true };
    }
    const key = image;
    const left = this.backoff.remaining(key);
    if (left > 0) {
      const message = `Back-off pulling image "${image}"`;
      this.recorder.event(pod, 'Normal', 'BackOff', message);
      return { ok: false, waiting: { reason: 'ImagePullBackOff', message }, retryInMs: left };
    }
    this.recorder.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const started = this.now();
    try {
      await this.runtime.pullImage(image);
      this.backoff.succeeded(key);
      traceImage(this.tracer, pod, image, policy, 'pulled', t0);
      const secs = ((this.now() - started) / 1000).toFixed(3).replace(/\.?0+$/, '') || '0';
      this.recorder.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s`);
      return { ok: true };
    } catch (e) {
      const delay = this.backoff.failed(key);
      const message = `Failed to pull image "${image}": ${(e as Error).message}`;
      this.recorder.event(pod, 'Warning', 'Failed', message);
      this.recorder.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
      return { ok: false, waiting: { reason: 'ErrImagePull', message }, retryInMs: delay };
    }
  }
}
