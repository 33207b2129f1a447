import { describe, expect, it } from 'vitest';
import { familiarImageReference, normalizeImageReference } from '../../src/runtime/reference.js';

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25', 'nginx:1.25'],
    ['library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['docker.io/library/nginx:latest', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['me/app:v1', 'docker.io/me/app:v1', 'me/app:v1'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['127.0.0.1:5000/library/nginx', '127.0.0.1:5000/library/nginx:latest', '127.0.0.1:5000/library/nginx:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['nginx@sha256:abc', 'docker.io/library/nginx@sha256:abc', 'nginx@sha256:abc'],
    ['nginx:1.25@sha256:abc', 'docker.io/library/nginx:1.25@sha256:abc', 'nginx:1.25@sha256:abc'],
  ])('%s normalizes to %s and reads as %s', (ref, normalized, familiar) => {
    expect(normalizeImageReference(ref)).toBe(normalized);
    expect(familiarImageReference(ref)).toBe(familiar);
  });
});
