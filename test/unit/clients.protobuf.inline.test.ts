import { describe, expect, it } from 'vitest';
import { decodeProtobuf, encodeProtobuf } from '../../src/apiserver/protobuf.js';

/** Go's `json:",inline"` embedded structs: one nested protobuf message, spread fields in JSON. */
describe('protobuf inline fields', () => {
  it.each([
    ['an Ingress rule\'s http (IngressRuleValue)', {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop' },
      spec: { rules: [{ host: 'shop.local', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    }],
    ['a Volume\'s secret and a Probe\'s httpGet (VolumeSource, ProbeHandler)', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        volumes: [{ name: 'v', secret: { secretName: 's' } }],
        containers: [{ name: 'c', image: 'nginx', readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 2 } }],
      },
    }],
  ])('survives a round trip for %s, as kubectl sends it', (_name, obj) => {
    const bytes = encodeProtobuf(obj);
    expect(bytes).toBeDefined();
    const back = decodeProtobuf(bytes as Buffer);
    expect(back.spec).toEqual(obj.spec);
  });
});
