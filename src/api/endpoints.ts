/**
 * Defaults and validation of the two kinds that list a Service's backends: core/v1 Endpoints
 * and discovery.k8s.io/v1 EndpointSlice, in Kubernetes' words and field paths
 * (`ValidateEndpoints`, `discovery/validation.ValidateEndpointSlice`). Pure functions.
 */
import type { CoreEndpointPort, EndpointAddress, Endpoints, EndpointSlice, SliceEndpoint, SliceEndpointPort } from './types.js';
import type { FieldError } from './errors.js';
import { duplicate, invalidValue, notSupported, required, requiredWithDetail, tooMany } from './errors.js';
import { isValidIP, isValidIPv4Address, nonSpecialIPErrors } from './ip.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortNum, nameIsDNSSubdomain } from './names.js';
import { SERVICE_PROTOCOLS } from './servicevalidation.js';

/** Names the Service a slice belongs to (`discovery.LabelServiceName`). */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Names the controller that manages a slice (`discovery.LabelManagedBy`). */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** Endpoints carrying this label set to "true" are not mirrored (kube-apiserver sets it on `kubernetes`). */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
/** Label a headless Service's Endpoints and EndpointSlices carry (`v1.IsHeadlessService`). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** `discovery.k8s.io/v1` limits. */
export const MAX_SLICE_ENDPOINTS = 1000;
const MAX_SLICE_PORTS = 20000;
const MAX_ADDRESSES = 100;
const MAX_TOPOLOGY_LABELS = 16;
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

/** Endpoints defaults: each port's protocol is TCP unless given. */
export function applyEndpointsDefaults(ep: Endpoints): void {
  for (const ss of Array.isArray(ep.subsets) ? ep.subsets : []) {
    for (const p of Array.isArray(ss?.ports) ? ss.ports : []) if (p && !p.protocol) p.protocol = 'TCP';
  }
}

/** EndpointSlice defaults: each port has a name (`""`) and a protocol (TCP). */
export function applyEndpointSliceDefaults(slice: EndpointSlice): void {
  for (const p of Array.isArray(slice.ports) ? slice.ports : []) {
    if (!p) continue;
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

function validateProtocol(protocol: string | undefined, path: string): FieldError[] {
  if (!protocol) return [required(path)];
  return SERVICE_PROTOCOLS.includes(protocol) ? [] : [notSupported(path, protocol, SERVICE_PROTOCOLS)];
}

function validateAppProtocol(appProtocol: string | undefined, path: string): FieldError[] {
  return appProtocol === undefined ? [] : isQualifiedName(appProtocol).map((m) => invalidValue(path, appProtocol, m));
}

function validateNodeName(nodeName: string | undefined, path: string): FieldError[] {
  return nodeName === undefined ? [] : isDNS1123Subdomain(nodeName).map((m) => invalidValue(path, nodeName, m));
}

function validateEndpointAddress(a: EndpointAddress, path: string): FieldError[] {
  const ip = a?.ip ?? '';
  const errs = isValidIP(ip).map((m) => invalidValue(`${path}.ip`, ip, m));
  if (a?.hostname) errs.push(...isDNS1123Label(a.hostname).map((m) => invalidValue(`${path}.hostname`, a.hostname, m)));
  errs.push(...validateNodeName(a?.nodeName, `${path}.nodeName`));
  if (!errs.length) errs.push(...nonSpecialIPErrors(ip).map((m) => invalidValue(`${path}.ip`, ip, m)));
  return errs;
}

function validateEndpointsPort(p: CoreEndpointPort, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(`${path}.name`));
  else if (p.name) errs.push(...isDNS1123Label(p.name).map((m) => invalidValue(`${path}.name`, p.name, m)));
  errs.push(...isValidPortNum(p.port).map((m) => invalidValue(`${path}.port`, p.port ?? 0, m)));
  errs.push(...validateProtocol(p.protocol, `${path}.protocol`), ...validateAppProtocol(p.appProtocol, `${path}.appProtocol`));
  return errs;
}

/** An Endpoints object on create, or on update when `old` is given (`ValidateEndpoints[Update]`). */
export function validateEndpoints(ep: Endpoints, old?: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(ep.metadata, old.metadata));
  (Array.isArray(ep.subsets) ? ep.subsets : []).forEach((ss, i) => {
    const path = `subsets[${i}]`;
    const addresses = ss?.addresses ?? [];
    const notReady = ss?.notReadyAddresses ?? [];
    if (addresses.length === 0 && notReady.length === 0) errs.push(requiredWithDetail(path, 'must specify `addresses` or `notReadyAddresses`'));
    addresses.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${path}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${path}.notReadyAddresses[${j}]`)));
    const ports = ss?.ports ?? [];
    ports.forEach((p, j) => errs.push(...validateEndpointsPort(p, ports.length > 1, `${path}.ports[${j}]`)));
  });
  return errs;
}

function validateSliceEndpoint(e: SliceEndpoint, addressType: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const addresses = Array.isArray(e?.addresses) ? e.addresses : [];
  if (addresses.length === 0) errs.push(requiredWithDetail(`${path}.addresses`, 'must contain at least 1 address'));
  else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(`${path}.addresses`, addresses.length, MAX_ADDRESSES));
  addresses.forEach((a, i) => {
    const p = `${path}.addresses[${i}]`;
    if (addressType === 'IPv4') {
      const bad = isValidIPv4Address(a);
      errs.push(...(bad.length ? bad : nonSpecialIPErrors(a)).map((m) => invalidValue(p, a, m)));
    } else if (addressType === 'IPv6') {
      const bad = isValidIP(a).length || a.includes('.') ? ['must be a valid IPv6 address'] : nonSpecialIPErrors(a);
      errs.push(...bad.map((m) => invalidValue(p, a, m)));
    } else if (addressType === 'FQDN') {
      errs.push(...isDNS1123Subdomain(a.replace(/\.$/, '')).map((m) => invalidValue(p, a, m)));
    }
  });
  errs.push(...validateNodeName(e?.nodeName, `${path}.nodeName`));
  const topology = e?.deprecatedTopology ?? {};
  if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(`${path}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
  errs.push(...validateLabels(topology, `${path}.deprecatedTopology`));
  if (e?.hostname !== undefined) errs.push(...isDNS1123Label(e.hostname).map((m) => invalidValue(`${path}.hostname`, e.hostname, m)));
  (e?.hints?.forZones ?? []).forEach((z, i) => {
    if (!z?.name) errs.push(required(`${path}.hints.forZones[${i}].name`));
  });
  return errs;
}

function validateSlicePorts(ports: SliceEndpointPort[]): FieldError[] {
  const errs: FieldError[] = [];
  if (ports.length > MAX_SLICE_PORTS) errs.push(tooMany('ports', ports.length, MAX_SLICE_PORTS));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `ports[${i}]`;
    const name = p?.name ?? '';
    if (name) errs.push(...isDNS1123Label(name).map((m) => invalidValue(`${path}.name`, name, m)));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    names.add(name);
    if (p?.port !== undefined && p.port !== null) errs.push(...isValidPortNum(p.port).map((m) => invalidValue(`${path}.port`, p.port, m)));
    errs.push(...validateProtocol(p?.protocol, `${path}.protocol`), ...validateAppProtocol(p?.appProtocol, `${path}.appProtocol`));
  });
  return errs;
}

/** An EndpointSlice on create, or on update when `old` is given (addressType is immutable). */
export function validateEndpointSlice(slice: EndpointSlice, old?: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, true, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(slice.metadata, old.metadata));
  const addressType = slice.addressType ?? '';
  if (!addressType) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  if (endpoints.length > MAX_SLICE_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_SLICE_ENDPOINTS));
  endpoints.forEach((e, i) => errs.push(...validateSliceEndpoint(e, addressType, `endpoints[${i}]`)));
  errs.push(...validateSlicePorts(Array.isArray(slice.ports) ? slice.ports : []));
  if (old && old.addressType !== slice.addressType) errs.push(invalidValue('addressType', slice.addressType ?? '', 'field is immutable'));
  return errs;
}
