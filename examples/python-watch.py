#!/usr/bin/env python3
"""Watch ConfigMaps with Debian's Python client (python3-kubernetes), then list their metadata only.

    KUBECONFIG=~/.minikube-lite/clusters/<name>/kubeconfig /usr/bin/python3 examples/python-watch.py

Create or delete a ConfigMap in `default` while it runs; it stops after 30 s.
"""
from kubernetes import client, config, watch

config.load_kube_config()
v1 = client.CoreV1Api()
for ev in watch.Watch().stream(v1.list_namespaced_config_map, namespace="default", timeout_seconds=30):
    print(ev["type"], ev["object"].metadata.name)

# as=PartialObjectMetadataList: names and labels without the data
meta = client.ApiClient().call_api(
    "/api/v1/namespaces/default/configmaps", "GET",
    header_params={"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"},
    response_type="object", auth_settings=["BearerToken"], _return_http_data_only=True)
print(meta["kind"], [i["metadata"]["name"] for i in meta["items"]])
