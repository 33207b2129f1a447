/**
 * How a container's process command line is derived, shared by the Docker runtime (which
 * hands overrides to the engine) and the fake (which computes the final argv itself).
 */
import type { ContainerConfig } from './types.js';

/**
 * The ENTRYPOINT/CMD overrides for a container, with Kubernetes semantics: `command`
 * (entrypoint) replaces the image's ENTRYPOINT and drops the image's CMD; `args` (cmd) alone
 * replace only CMD. Empty lists count as unset, as in Kubernetes. Undefined = keep the image's.
 */
export function commandOverrides(config: Pick<ContainerConfig, 'entrypoint' | 'cmd'>): { entrypoint?: string[]; cmd?: string[] } {
  const entrypoint = config.entrypoint?.length ? [...config.entrypoint] : undefined;
  const cmd = config.cmd?.length ? [...config.cmd] : undefined;
  return { entrypoint, cmd: cmd ?? (entrypoint ? [] : undefined) };
}

/** The argv the engine runs: (ENTRYPOINT or override) followed by (CMD or override). */
export function effectiveArgv(
  image: { entrypoint?: string[]; cmd?: string[] },
  config: Pick<ContainerConfig, 'entrypoint' | 'cmd'>,
): string[] {
  const o = commandOverrides(config);
  return [...(o.entrypoint ?? image.entrypoint ?? []), ...(o.cmd ?? image.cmd ?? [])];
}
