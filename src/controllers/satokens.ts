/**
 * The service-account token controller (Kubernetes' `serviceaccount-token` controller, for the
 * long-lived tokens it still fills in): a Secret of type `kubernetes.io/service-account-token`
 * annotated `kubernetes.io/service-account.name: <account>` gets `token` (a non-expiring
 * legacy token signed with the cluster key), `ca.crt` and `namespace`, and the account's uid
 * as `kubernetes.io/service-account.uid`. Such a Secret whose account is gone (or replaced: other
 * uid) is deleted, and its token stops working. Keys are Secret keys (`namespace/name`).
 */
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { SECRETS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
import { SERVICE_ACCOUNTS } from './serviceaccount.js';

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const ANN_SA_NAME = 'kubernetes.io/service-account.name';
export const ANN_SA_UID = 'kubernetes.io/service-account.uid';

/** Signs legacy tokens (the control plane's TokenIssuer). */
export interface LegacyTokenSigner {
  issueLegacy(c: { namespace: string; serviceAccount: { name: string; uid: string }; secretName: string }): Promise<string>;
}

type SecretObject = Secret & KubeObject;
type SA = ServiceAccount & KubeObject;

/** Pure: what to do with one token Secret given its account. */
export function planTokenSecret(secret: Secret, sa: ServiceAccount | undefined): 'none' | 'delete' | 'populate' {
  if (secret.type !== SA_TOKEN_TYPE || secret.metadata?.deletionTimestamp) return 'none';
  const a = secret.metadata?.annotations ?? {};
  if (!sa || (a[ANN_SA_UID] && a[ANN_SA_UID] !== sa.metadata?.uid)) return 'delete';
  const d = secret.data ?? {};
  return d.token && d['ca.crt'] && d.namespace && a[ANN_SA_UID] ? 'none' : 'populate';
}

export class ServiceAccountTokenController extends Controller {
  private readonly secrets = this.informer<SecretObject>(SECRETS);
  private readonly accounts = this.informer<SA>(SERVICE_ACCOUNTS);

  constructor(ctx: ControllerContext, private readonly signer: LegacyTokenSigner, private readonly rootCA: string) {
    super('serviceaccount-token-controller', ctx, { workers: 1, quiet: (e) => e instanceof ApiError && e.code === 409 });
    const onSecret = (s: SecretObject) => {
      if (s.type === SA_TOKEN_TYPE) this.enqueue(s);
    };
    this.secrets.addHandlers({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s) });
    const onAccount = (sa: SA) => {
      for (const s of this.secrets.list()) {
        if (s.type === SA_TOKEN_TYPE && s.metadata?.namespace === sa.metadata?.namespace && s.metadata?.annotations?.[ANN_SA_NAME] === sa.metadata?.name) this.enqueue(s);
      }
    };
    this.accounts.addHandlers({ onAdd: onAccount, onDelete: onAccount });
  }

  protected async sync(key: string): Promise<void> {
    const secret = this.secrets.get(key);
    if (!secret) return;
    const ns = secret.metadata?.namespace ?? '';
    const name = secret.metadata?.name ?? '';
    const saName = secret.metadata?.annotations?.[ANN_SA_NAME] ?? '';
    const sa = this.accounts.get(`${ns}/${saName}`);
    const ref = { ...SECRETS, namespace: ns };
    switch (planTokenSecret(secret, sa)) {
      case 'none':
        return;
      case 'delete':
        try {
          await this.client.delete(ref, name, { resourceVersion: secret.metadata?.resourceVersion });
        } catch (e) {
          if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
        }
        return;
      case 'populate': {
        const uid = sa?.metadata?.uid ?? '';
        const token = await this.signer.issueLegacy({ namespace: ns, serviceAccount: { name: saName, uid }, secretName: name });
        const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
        await this.client.update<SecretObject>(ref, {
          ...secret,
          metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, [ANN_SA_UID]: uid } },
          data: { ...secret.data, token: secret.data?.token ?? b64(token), 'ca.crt': b64(this.rootCA), namespace: b64(ns) },
        });
      }
    }
  }
}
