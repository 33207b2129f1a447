"""Server-side apply with Debian's python3-kubernetes dynamic client (driven by clients.ssa.test.ts).

Usage: python3 clients.ssa.py SERVER TOKEN. Prints one line per step.
"""
import json
import sys

from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

config = client.Configuration()
config.host = sys.argv[1]
config.api_key = {"authorization": "Bearer " + sys.argv[2]}
dyn = dynamic.DynamicClient(client.ApiClient(config))
cms = dyn.resources.get(api_version="v1", kind="ConfigMap")


def cm(data):
    # This client's REST layer sends an apply-patch+yaml body only when it is already serialized.
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py", "namespace": "default"}, "data": data})


created = cms.server_side_apply(body=cm({"a": "1"}), name="py", namespace="default", field_manager="python")
print("applied", created.data.a, created.metadata.managedFields[0].manager, created.metadata.managedFields[0].operation)
try:
    cms.server_side_apply(body=cm({"a": "2"}), name="py", namespace="default", field_manager="other")
except ApiException as e:
    print("conflict", e.status)
forced = cms.server_side_apply(body=cm({"a": "2"}), name="py", namespace="default", field_manager="other", force_conflicts=True)
print("forced", forced.data.a, ",".join(m.manager for m in forced.metadata.managedFields))
