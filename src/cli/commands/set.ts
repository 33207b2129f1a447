/**
 * `set image (TYPE NAME | TYPE/NAME | TYPE -l SEL | TYPE --all) CONTAINER=IMAGE...`: changes
 * container images in a pod template (Deployments, ReplicaSets) or a pod, matching containers
 * and init containers by name (`*` = all). Written back with optimistic concurrency; prints
 * `deployment.apps/NAME image updated` for each object that changed.
 */
import { Command } from 'commander';
import type { Container, KubeObject, PodSpec } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { parseGetArgs } from './get.js';
import { aggregateError, findTargets, kindString, NO_RESOURCES_MESSAGE, refFor, resourceString, updateWithRetry, type CommandDeps, type Target } from './shared.js';

export interface SetImageFlags {
  selector?: string;
  all?: boolean;
}

/**
 * Splits `set image` arguments as kubectl does: resources first, then `NAME=IMAGE` pairs.
 * Throws kubectl's errors for a resource after a pair and for a malformed pair.
 */
export function splitImageArgs(args: string[]): { resources: string[]; images: Map<string, string> } {
  const resources: string[] = [];
  const pairs: string[] = [];
  for (const a of args) {
    const isPair = (a.includes('=') && !a.startsWith('=')) || (a.endsWith('-') && a !== '-');
    if (isPair) pairs.push(a);
    else if (pairs.length) throw new CliError(`all resources must be specified before image changes: ${a}`);
    else resources.push(a);
  }
  const invalid = pairs.filter((p) => !p.includes('=') || p.startsWith('='));
  if (invalid.length) throw new CliError(`invalid image format: ${invalid.join(', ')}`);
  const images = new Map<string, string>();
  for (const p of pairs) images.set(p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1));
  return { resources, images };
}

/** The pod spec inside an object: a Pod's own, a workload's template's; undefined for other kinds. */
function podSpecOf(t: Target, obj: KubeObject): PodSpec | undefined {
  const o = obj as { spec?: PodSpec & { template?: { spec?: PodSpec } } };
  if (t.def.group === '' && t.def.resource === 'pods') return o.spec;
  if (t.def.group === 'apps' && o.spec && 'template' in o.spec) return o.spec.template?.spec;
  return undefined;
}

/**
 * Sets the images in a pod spec (in place). Returns whether anything changed, and the names
 * (other than `*`) that matched no container or init container.
 */
export function setImages(spec: PodSpec, images: Map<string, string>): { changed: boolean; missing: string[] } {
  let changed = false;
  const missing: string[] = [];
  const apply = (containers: Container[] | undefined, name: string, image: string): boolean => {
    let found = false;
    for (const c of containers ?? []) {
      if (c.name !== name && name !== '*') continue;
      found = true;
      if (c.image !== image) changed = true;
      c.image = image;
    }
    return found;
  };
  for (const [name, image] of images) {
    const inInit = apply(spec.initContainers, name, image);
    const inContainers = apply(spec.containers, name, image);
    if (!inInit && !inContainers) missing.push(name);
  }
  return { changed, missing };
}

/** Updates the images of every object named; errors (unknown containers, kinds) come last. */
export async function runSetImage(deps: CommandDeps, globals: GlobalOptions, args: string[], f: SetImageFlags): Promise<void> {
  const { resources, images } = splitImageArgs(args);
  if (f.all && f.selector) throw new CliError('cannot set --all and --selector at the same time');
  if (!resources.length) throw new CliError(NO_RESOURCES_MESSAGE);
  if (!images.size) throw new CliError('at least one image update is required');
  if (images.size > 1 && images.has('*')) {
    throw new CliError('all containers are already specified by *, but saw more than one container_name=container_image pairs');
  }
  const client = deps.client(globals);
  const targets = await findTargets(client, globals.namespace, parseGetArgs(resources).requests, { selector: f.selector, all: f.all });
  const errors: string[] = [];
  for (const t of targets) {
    let missing: string[] = [];
    let unsupported = false;
    const written = await updateWithRetry<KubeObject>(client, refFor(t.def, t.namespace), t.name, (obj) => {
      const spec = podSpecOf(t, obj);
      unsupported = !spec;
      if (!spec) return false;
      const r = setImages(spec, images);
      missing = r.missing;
      return r.changed;
    });
    if (unsupported) errors.push(`${resourceString(t.def)}/${t.name} the object is not a pod or does not have a pod template`);
    if (written) deps.io.out(`${kindString(t.def)}/${t.name} image updated\n`);
    for (const name of missing) errors.push(`unable to find container named "${name}"`);
  }
  if (errors.length) throw aggregateError(errors);
}

/** `set image`: the `set` command (commander) with its one subcommand. */
export function setCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const set = new Command('set')
    .summary('Set specific features on objects')
    .description('Configure application resources.\n\nThese commands help you make changes to existing application resources.')
    .usage('SUBCOMMAND [options]')
    .addHelpText('after', ['', 'Examples:', '  # Set a deployment\'s web container image to nginx:1.22', '  minikube-lite set image deployment/myapp web=nginx:1.22'].join('\n'));
  set.addCommand(new Command('image')
    .summary('Update the image of a pod template')
    .description('Update existing container image(s) of resources.\n\nPossible resources include:\n  pod (po), deployment (deploy), replicaset (rs)')
    .usage('(TYPE NAME | TYPE/NAME | TYPE -l label | TYPE --all) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ... CONTAINER_NAME_N=CONTAINER_IMAGE_N [options]')
    .argument('[args...]', 'resources, then CONTAINER=IMAGE pairs')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('--all', 'Select all resources, in the namespace of the specified resource types')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Set a deployment\'s nginx container image to \'nginx:1.9.1\', and its busybox container image to \'busybox\'',
      '  minikube-lite set image deployment/nginx busybox=busybox nginx=nginx:1.9.1',
      '',
      '  # Update image of all containers of deployment nginx to \'nginx:1.9.1\'',
      '  minikube-lite set image deployment nginx *=nginx:1.9.1',
    ].join('\n'))
    .action(async (args: string[], opts: SetImageFlags) => runSetImage(deps, globals(), args, opts)));
  return set;
}
