/**
 * A self-signed serving certificate for the API server, made in-process with the `selfsigned`
 * library (Node's WebCrypto underneath; no openssl).
 *
 * Why it exists: kubectl (client-go's clientcmd) only applies a kubeconfig's credentials when
 * the server URL is https, so a bearer token is never sent to an http:// API server. Serving
 * TLS with this certificate, and putting it in the kubeconfig as `certificate-authority-data`,
 * lets the real kubectl authenticate.
 *
 * The certificate is its own CA (basicConstraints CA, keyCertSign) and a server certificate
 * (serverAuth) for the given DNS names and IP addresses; RSA 2048 with SHA-256, as kubeadm's
 * serving certificates are, because small in-cluster TLS clients (BusyBox's `wget`) speak RSA only.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';

export interface ServingCertificate {
  /** PEM certificate: serve it, and trust it as the CA in clients. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

/**
 * Makes a certificate valid for `hosts` (DNS names and IP addresses) for `days` days (default
 * 365) from an hour before `now` (clock skew between processes is harmless).
 */
export async function selfSignedCertificate(opts: { hosts: string[]; days?: number; commonName?: string; now?: Date }): Promise<ServingCertificate> {
  const now = opts.now ?? new Date();
  // Loaded on use: it costs every CLI command ~60 ms to load, and only `up` needs it.
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: opts.commonName ?? 'minikube-lite' }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + (opts.days ?? 365) * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: opts.hosts.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * The cipher list the API server offers: Node's defaults, with OpenSSL's security level 0 so that
 * a TLS 1.2 client that sends no `signature_algorithms` extension (BusyBox's `wget` in a pod,
 * reaching `https://kubernetes.default.svc`) gets the SHA-1 handshake signature TLS 1.2 then
 * implies, as Go's TLS server (the real kube-apiserver) gives it. The ciphers themselves stay
 * Node's strong defaults; clients that send the extension (kubectl, client libraries) are
 * unaffected.
 */
export const API_SERVER_CIPHERS = `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0`;
