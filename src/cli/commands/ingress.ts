/**
 * `ingress port [--tls] [--url]`: where the ingress controller answers on this host — the ports
 * of its LoadBalancer Service `ingress-nginx/ingress-nginx-controller` (chosen by `up
 * --ingress-port`/`--ingress-tls-port`), on the address the service proxy published in the
 * Service's `status.loadBalancer` (127.0.0.1 unless `up --listen-address` said otherwise).
 * `curl -H 'Host: shop.local' http://127.0.0.1:$(minikube-lite ingress port)/`.
 */
import { Command } from 'commander';
import type { Service } from '../../api/types.js';
import { SERVICES } from '../../client/client.js';
import { INGRESS_CONTROLLER_NAME, INGRESS_NAMESPACE } from '../../controllers/ingress.js';
import { CliError, type GlobalOptions } from '../context.js';
import { ApiError } from '../../api/errors.js';
import type { CommandDeps } from './shared.js';

/** The HTTP or HTTPS port (and load-balancer address, once published) of the ingress Service. */
export function ingressAddress(svc: Service, tls: boolean): { ip?: string; port: number } {
  const name = tls ? 'https' : 'http';
  const p = (svc.spec?.ports ?? []).find((x) => x.name === name);
  if (!p) throw new CliError(`service ${INGRESS_NAMESPACE}/${INGRESS_CONTROLLER_NAME} has no port named ${name}`);
  return { ip: svc.status?.loadBalancer?.ingress?.[0]?.ip, port: p.port };
}

export function ingressCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const ingress = new Command('ingress').description('The cluster\'s ingress controller (nginx): where it answers on this host')
    .addHelpText('after', '\nExamples:\n  minikube-lite ingress port\n  minikube-lite ingress port --tls');
  ingress.command('port')
    .description('Print the port the ingress controller answers HTTP on (HTTPS with --tls), on 127.0.0.1')
    .option('--tls', 'the HTTPS port (TLS terminated with the Ingresses\' kubernetes.io/tls Secrets)')
    .option('--url', 'print a URL (http://127.0.0.1:PORT) instead of the port')
    .addHelpText('after', "\nExamples:\n  curl -H 'Host: shop.local' http://127.0.0.1:$(minikube-lite ingress port)/\n  curl --resolve shop.local:$(minikube-lite ingress port --tls):127.0.0.1 https://shop.local:$(minikube-lite ingress port --tls)/")
    .action(async (o: { tls?: boolean; url?: boolean }) => {
      const client = deps.client(globals());
      let svc: Service;
      try {
        svc = await client.get<Service>({ ...SERVICES, namespace: INGRESS_NAMESPACE }, INGRESS_CONTROLLER_NAME);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) throw new CliError(`the ingress controller's Service ${INGRESS_NAMESPACE}/${INGRESS_CONTROLLER_NAME} does not exist yet (it is created when the control plane starts)`);
        throw e;
      }
      const { ip, port } = ingressAddress(svc, o.tls === true);
      deps.io.out(o.url ? `${o.tls ? 'https' : 'http'}://${ip ?? '127.0.0.1'}:${port}\n` : `${port}\n`);
    });
  return ingress;
}
