/**
 * The Ingress kinds: networking.k8s.io/v1 Ingress and IngressClass. Spread into `RESOURCES`
 * (src/api/registry.ts). The default class is filled in on create by the DefaultIngressClass
 * admission plugin (src/apiserver/admission/ingressclass.ts); routing is the ingress
 * controller's (src/ingress).
 */
import type { Ingress, IngressClass } from '../ingressvalidation.js';
import { applyIngressClassDefaults, validateIngress, validateIngressClass } from '../ingressvalidation.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';

export const INGRESS_KINDS: ResourceDef[] = [
  defineResource<Ingress>({
    group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', singular: 'ingress', kind: 'Ingress', namespaced: true,
    shortNames: ['ing'], subresources: ['status'],
    // Clients do not set status on create; the ingress controller writes it.
    prepareForCreate: (ing) => { (ing as { status?: object }).status = {}; },
    validate: validateIngress,
  }),
  defineResource<IngressClass>({
    group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', singular: 'ingressclass', kind: 'IngressClass', namespaced: false,
    shortNames: [], subresources: [],
    applyDefaults: applyIngressClassDefaults,
    validate: validateIngressClass,
  }),
];
