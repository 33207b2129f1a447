/**
 * The DefaultIngressClass admission plugin (Kubernetes' `plugin/pkg/admission/network/
 * defaultingressclass`): an Ingress created without `spec.ingressClassName` (and without the
 * deprecated `kubernetes.io/ingress.class` annotation) gets the class marked
 * `ingressclass.kubernetes.io/is-default-class: "true"` — the most recently created one when
 * several are marked. Without a default class the Ingress is admitted unchanged.
 */
import type { AdmissionPlugin } from '../admission.js';
import { defaultIngressClass, LEGACY_CLASS_ANNOTATION, type Ingress, type IngressClass } from '../../api/ingressvalidation.js';

export const defaultIngressClassAdmission: AdmissionPlugin = {
  name: 'DefaultIngressClass',
  async admit(req, objects) {
    if (req.def.group !== 'networking.k8s.io' || req.def.resource !== 'ingresses') return;
    const ing = req.object as Ingress;
    if (ing.spec?.ingressClassName || ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
    const cls = defaultIngressClass((await objects.list('networking.k8s.io', 'ingressclasses')) as IngressClass[]);
    if (cls?.metadata?.name) (ing.spec ??= {}).ingressClassName = cls.metadata.name;
  },
};
