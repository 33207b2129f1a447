/**
 * `get TYPE[,TYPE...] [NAME...] | TYPE/NAME...`: tables like kubectl's (or `-o wide|yaml|json|name`),
 * `-l`/`--field-selector` passed to the server, `-A` across namespaces, and `-w` printing one
 * row per watch event after the table.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import { RESOURCES } from '../../api/registry.js';
import { apiVersionOf, type ResourceDef } from '../../api/resource.js';
import type { KubeObject, Status } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { asList, formatApiError, TABLE_LAYOUT, TabWriter, toJson, toYaml } from '../print.js';
import { kindString, refFor, resolveType, splitTypeName, type CommandDeps } from './shared.js';
import { customColumnCells, executeJsonPath, parseCustomColumns, parseJsonPath, type CustomColumn, type JsonPath } from './jsonpath.js';
import { sortEvents, tableHeader, tableRow } from './tables.js';

export interface GetFlags {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
  allNamespaces?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
  ignoreNotFound?: boolean;
  /** Keep `metadata.managedFields` in `-o yaml|json` (kubectl hides them by default). */
  showManagedFields?: boolean;
}

/** `obj` without `metadata.managedFields` (for a List, without its items'), as kubectl prints by default. */
export function omitManagedFields(obj: KubeObject): KubeObject {
  const strip = (o: KubeObject): KubeObject => {
    if (!o.metadata || !('managedFields' in o.metadata)) return o;
    const { managedFields: _hidden, ...metadata } = o.metadata;
    return { ...o, metadata } as KubeObject;
  };
  const items = (obj as { items?: unknown }).items;
  return Array.isArray(items) ? ({ ...obj, items: items.map((i) => strip(i as KubeObject)) } as KubeObject) : strip(obj);
}

/** How `-o` asked for the objects to be printed. */
export type OutputFormat =
  | { kind: 'table'; wide: boolean }
  | { kind: 'yaml' | 'json' | 'name' }
  | { kind: 'jsonpath'; template: JsonPath }
  | { kind: 'custom-columns'; columns: CustomColumn[] };

/**
 * Parses `-o`: (none), `wide`, `yaml`, `json`, `name`, `jsonpath=TEMPLATE`,
 * `custom-columns=HEADER:PATH,...`, with kubectl's errors for anything else.
 */
export function parseOutput(output: string | undefined): OutputFormat {
  const o = output ?? '';
  const eq = o.indexOf('=');
  const format = eq < 0 ? o : o.slice(0, eq);
  const arg = eq < 0 ? '' : o.slice(eq + 1);
  switch (format) {
    case '':
    case 'wide':
      if (eq < 0) return { kind: 'table', wide: format === 'wide' };
      break;
    case 'yaml':
    case 'json':
    case 'name':
      if (eq < 0) return { kind: format };
      break;
    case 'jsonpath':
      if (!arg) throw new CliError('template format specified but no template given');
      return { kind: 'jsonpath', template: parseJsonPath(arg) };
    case 'custom-columns':
      return { kind: 'custom-columns', columns: parseCustomColumns(arg) };
  }
  throw new CliError(`unable to match a printer suitable for the output format "${o}", allowed formats are: custom-columns,json,jsonpath,name,wide,yaml`);
}

/** Custom-column rows (header first unless `noHeaders`), aligned as kubectl aligns them. */
function customColumnsText(columns: CustomColumn[], objs: KubeObject[], noHeaders: boolean | undefined): string {
  let text = '';
  const tw = new TabWriter((s) => { text += s; }, TABLE_LAYOUT);
  if (!noHeaders) tw.write(columns.map((c) => c.header).join('\t') + '\n');
  for (const obj of objs) tw.write(customColumnCells(columns, obj).join('\t') + '\n');
  tw.flush();
  return text;
}

/** What was asked for: a kind and either names or (none) a listing. */
export interface GetRequest {
  def: ResourceDef;
  names: string[];
}

/**
 * Turns `get` arguments into requests: `TYPE[,TYPE] [NAME...]` or `TYPE/NAME...`. `single`
 * is kubectl's "single item implied": one kind and one name, printed as the object itself in
 * `-o yaml|json` rather than as a List.
 */
export function parseGetArgs(args: string[]): { requests: GetRequest[]; single: boolean } {
  if (!args.length) throw new CliError("Required resource not specified.\nSee 'minikube-lite get -h' for help and examples");
  if (args.every((a) => a.includes('/'))) {
    const requests = args.map((a) => {
      const tn = splitTypeName(a)!;
      if (!tn.name) throw new CliError(`arguments in resource/name form must have a single resource and name`);
      return { def: resolveType(tn.type), names: [tn.name] };
    });
    return { requests, single: args.length === 1 };
  }
  if (args.slice(1).some((a) => a.includes('/'))) {
    throw new CliError('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form ' +
      `(e.g. 'minikube-lite get resource/<resource_name>' instead of 'minikube-lite get resource resource/<resource_name>')`);
  }
  const defs = [...new Set(args[0].split(',').filter(Boolean).flatMap((word) => (word.toLowerCase() === 'all' ? allCategory() : [resolveType(word)])))];
  const names = args.slice(1);
  return { requests: defs.map((def) => ({ def, names })), single: defs.length === 1 && names.length === 1 };
}

/** What `get all` lists, as kubectl's `all` category: the workload kinds the server serves. */
function allCategory(): ResourceDef[] {
  const order = ['pods', 'services', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'cronjobs'];
  return order.flatMap((r) => RESOURCES.filter((d) => d.resource === r && d.group !== 'metrics.k8s.io'));
}

/** Fills in apiVersion/kind, which items of a LIST may lack. */
function typed(def: ResourceDef, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(def), kind: obj.kind ?? def.kind };
}

interface Found {
  def: ResourceDef;
  obj: KubeObject;
}

/**
 * Prints found objects as tables: one section per kind (blank line between), with `kind/name`
 * names when `withKind` (kubectl: the answers were of more than one kind, an empty list
 * counting as an answer). Returns whether anything was printed.
 */
export function printTables(found: Found[], f: GetFlags, now: number, out: (s: string) => void, withKind: boolean): boolean {
  let written = false;
  let i = 0;
  while (i < found.length) {
    const def = found[i].def;
    let j = i;
    while (j < found.length && found[j].def === def) j++;
    const o = { wide: f.output === 'wide', withNamespace: !!f.allNamespaces && def.namespaced, withKind, showLabels: f.showLabels, now };
    let text = '';
    const tw = new TabWriter((s) => { text += s; }, TABLE_LAYOUT);
    if (!f.noHeaders) tw.write(tableHeader(def, o).join('\t') + '\n');
    for (const x of found.slice(i, j)) tw.write(tableRow(def, x.obj, o).join('\t') + '\n');
    tw.flush();
    if (written && !f.noHeaders) out('\n');
    out(text);
    written = true;
    i = j;
  }
  return written;
}

/**
 * Lists or reads what the arguments name and prints it in the chosen format. Server errors for
 * named objects are printed after the output and make the exit code 1; an empty table prints
 * kubectl's `No resources found ...` on stderr.
 */
export async function runGet(deps: CommandDeps, globals: GlobalOptions, args: string[], f: GetFlags): Promise<void> {
  const { io } = deps;
  const output = parseOutput(f.output);
  if (f.showLabels && output.kind !== 'table') throw new CliError(`--show-labels option cannot be used with ${f.output} printer`);
  if (!args.length) io.err('You must specify the type of resource to get. Use "minikube-lite get pods|nodes|events|namespaces|TYPE".\n\n');
  const { requests, single } = parseGetArgs(args);
  if (f.selector && requests.some((r) => r.names.length)) throw new CliError('name cannot be provided when a selector is specified');
  if (f.allNamespaces && requests.some((r) => r.names.length && r.def.namespaced)) {
    throw new CliError('a resource cannot be retrieved by name across all namespaces');
  }
  if (f.watch) return watchGet(deps, globals, requests, f);

  const client = deps.client(globals);
  const namespace = f.allNamespaces ? undefined : globals.namespace;
  const found: Found[] = [];
  const errors: ApiError[] = [];
  for (const { def, names } of requests) {
    if (names.length) {
      for (const name of names) {
        try {
          found.push({ def, obj: typed(def, await client.get(refFor(def, globals.namespace), name)) });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          if (!(e.code === 404 && f.ignoreNotFound)) errors.push(e);
        }
      }
    } else {
      const list = await client.list(refFor(def, namespace), { labelSelector: f.selector, fieldSelector: f.fieldSelector });
      const items = def.resource === 'events' && !def.group ? sortEvents(list.items) : list.items;
      for (const obj of items) found.push({ def, obj: typed(def, obj) });
    }
  }

  // One object asked for by name prints as itself; anything else as a List.
  const doc = (): KubeObject => (single && found.length === 1 ? found[0].obj : asList(found.map((x) => x.obj)));
  if (output.kind === 'yaml' || output.kind === 'json') {
    const shown = f.showManagedFields ? doc() : omitManagedFields(doc());
    if (!(single && errors.length)) io.out(output.kind === 'yaml' ? toYaml(shown) : toJson(shown));
  } else if (output.kind === 'jsonpath') {
    if (!(single && errors.length)) io.out(executeJsonPath(output.template, doc()));
  } else if (output.kind === 'custom-columns') {
    if (!(single && errors.length)) io.out(customColumnsText(output.columns, found.map((x) => x.obj), f.noHeaders));
  } else if (output.kind === 'name') {
    for (const x of found) io.out(`${kindString(x.def)}/${x.obj.metadata?.name ?? ''}\n`);
  } else {
    const kinds = new Set([...requests.filter((r) => !r.names.length).map((r) => r.def), ...found.map((x) => x.def)]);
    const written = printTables(found, f, io.now(), (s) => io.out(s), kinds.size > 1);
    if (!written && !errors.length && !f.ignoreNotFound) {
      const allNamespaced = !f.allNamespaces && requests.every((r) => r.def.namespaced);
      io.err(allNamespaced ? `No resources found in ${globals.namespace} namespace.\n` : 'No resources found\n');
    }
  }
  if (errors.length) {
    for (const e of errors) io.err(formatApiError(e) + '\n');
    io.setExitCode(1);
  }
}

/**
 * `get -w`: prints the current state, then one more row (or document) per watch event, with
 * column widths kept from the rows before, until the stream ends or Ctrl-C.
 */
async function watchGet(deps: CommandDeps, globals: GlobalOptions, requests: GetRequest[], f: GetFlags): Promise<void> {
  const { io } = deps;
  if (requests.length !== 1) throw new CliError('you may only specify a single resource type');
  const { def, names } = requests[0];
  if (names.length > 1) throw new CliError('watch is only supported on individual resources and resource collections - more than 1 resource was found');
  const client = deps.client(globals);
  const ref = refFor(def, f.allNamespaces ? undefined : globals.namespace);
  const output = parseOutput(f.output);
  const o = { wide: output.kind === 'table' && output.wide, withNamespace: !!f.allNamespaces && def.namespaced, showLabels: f.showLabels };
  const tw = new TabWriter((s) => io.out(s), TABLE_LAYOUT);
  // Like kubectl, the header comes with the first row, whether from the list or the watch.
  let headerPending = (output.kind === 'table' || output.kind === 'custom-columns') && !f.noHeaders;
  let printedDocs = 0;
  const print = (obj: KubeObject): void => {
    if (output.kind === 'yaml') io.out((printedDocs++ ? '---\n' : '') + toYaml(f.showManagedFields ? obj : omitManagedFields(obj)));
    else if (output.kind === 'json') io.out(toJson(f.showManagedFields ? obj : omitManagedFields(obj)));
    else if (output.kind === 'name') io.out(`${kindString(def)}/${obj.metadata?.name ?? ''}\n`);
    else if (output.kind === 'jsonpath') io.out(executeJsonPath(output.template, obj));
    else if (output.kind === 'custom-columns') {
      if (headerPending) tw.write(output.columns.map((c) => c.header).join('\t') + '\n');
      headerPending = false;
      tw.write(customColumnCells(output.columns, obj).join('\t') + '\n');
    } else {
      if (headerPending) tw.write(tableHeader(def, o).join('\t') + '\n');
      headerPending = false;
      tw.write(tableRow(def, obj, { ...o, now: io.now() }).join('\t') + '\n');
    }
  };

  let rv: string | undefined;
  let fieldSelector = f.fieldSelector;
  let labelSelector = f.selector;
  let watchRef = ref;
  if (names.length) {
    watchRef = refFor(def, globals.namespace);
    const obj = typed(def, await client.get(watchRef, names[0]));
    print(obj);
    rv = obj.metadata?.resourceVersion;
    fieldSelector = `metadata.name=${names[0]}`;
    labelSelector = undefined;
  } else {
    const list = await client.list(ref, { labelSelector, fieldSelector });
    const items = def.resource === 'events' && !def.group ? sortEvents(list.items) : list.items;
    for (const obj of items) print(typed(def, obj));
    rv = list.metadata.resourceVersion;
  }
  tw.flush();

  await new Promise<void>((resolve, reject) => {
    const handle = client.watch(watchRef, { resourceVersion: rv, labelSelector, fieldSelector }, (e) => {
      if (e.type === 'ERROR') {
        const s = e.object as unknown as Status;
        handle.stop();
        reject(ApiError.fromStatus(s, s.code ?? 500));
        return;
      }
      if (e.type === 'BOOKMARK') return;
      print(typed(def, e.object));
      tw.flush();
    });
    const off = io.onInterrupt(() => {
      handle.stop();
      io.setExitCode(130); // as a kubectl killed by Ctrl-C
      resolve();
    });
    handle.done.then(() => { off(); resolve(); }, (err: unknown) => { off(); reject(err); });
  });
}

/** The `get` command (commander), running {@link runGet}. */
export function getCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('get')
    .summary('Display one or many resources')
    .description([
      'Display one or many resources.',
      'Prints a table of the most important information about the specified resources. You can filter the list using a label ' +
        'selector and the --selector flag. If the desired resource type is namespaced you will only see results in your current ' +
        'namespace unless you pass --all-namespaces.',
      'Resource types: pods (po), nodes (no), events (ev), namespaces (ns), and any other kind the server serves.',
    ].join('\n\n'))
    .usage('[(-o|--output=)json|yaml|wide|name|custom-columns=...|jsonpath=...] (TYPE[,TYPE...] [NAME | -l label] | TYPE/NAME ...) [options]')
    .argument('[args...]', 'TYPE[,TYPE...] [NAME...] or TYPE/NAME...')
    .option('-o, --output <format>', 'Output format. One of: (json, yaml, name, wide, custom-columns=HEADER:PATH,..., jsonpath=TEMPLATE). ' +
      'jsonpath supports {.a.b}, [n], [a:b], [*], [?(@.k=="v")], {"literal"} and {range ...}{end}.')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('--field-selector <selector>', 'Selector (field query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.')
    .option('-w, --watch', 'After listing/getting the requested object, watch for changes.')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('--show-labels', 'When printing, show all labels as the last column (default hide labels column)')
    .option('--no-headers', 'When using the default or custom-column output format, don\'t print headers (default print headers).')
    .option('--ignore-not-found', 'If the requested object does not exist the command will return exit code 0.')
    .option('--show-managed-fields', 'If true, keep the managedFields when printing objects in JSON or YAML format.')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # List all pods in ps output format',
      '  minikube-lite get pods',
      '',
      '  # List all pods in ps output format with more information (such as node name)',
      '  minikube-lite get pods -o wide',
      '',
      '  # List a single pod in JSON output format',
      '  minikube-lite get -o json pod nginx',
      '',
      '  # List pods with label app=nginx in all namespaces',
      '  minikube-lite get pods -l app=nginx -A',
      '',
      '  # List nodes with their labels',
      '  minikube-lite get nodes --show-labels',
      '',
      '  # Print a pod\'s IP only',
      '  minikube-lite get pod nginx -o jsonpath=\'{.status.podIP}\'',
      '',
      '  # One line per pod: its name and node',
      '  minikube-lite get pods -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\t"}{.spec.nodeName}{"\\n"}{end}\'',
      '',
      '  # Columns of your choice',
      '  minikube-lite get pods -o custom-columns=NAME:.metadata.name,IP:.status.podIP',
      '',
      '  # Deployments, their replica sets and pods together',
      '  minikube-lite get deploy,rs,pods',
      '',
      '  # List pods and nodes together',
      '  minikube-lite get pods,nodes',
      '',
      '  # List one or more resources by their type and names',
      '  minikube-lite get pod/nginx node/node-1',
      '',
      '  # Watch pods change state',
      '  minikube-lite get pods -w',
    ].join('\n'))
    .action(async (args: string[], opts: GetFlags & { headers?: boolean }) => {
      // `-o=json` reaches the action as `=json` (commander's reading of short options).
      await runGet(deps, globals(), args, { ...opts, output: opts.output?.replace(/^=/, ''), noHeaders: opts.headers === false });
    });
}
