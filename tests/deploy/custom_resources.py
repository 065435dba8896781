"""The shape of the operators' custom resources we write, as JSON Schemas.

kubernetes-validate knows only Kubernetes' own kinds; RabbitmqCluster, MongoDBCommunity,
ServiceMonitor and ExternalSecret are defined by their operators' CustomResourceDefinitions,
which are not in this repository. These schemas are written from those definitions (field
names, types, enums, required fields of the versions named below) and cover every field we
set; each object that lists its fields refuses any other (`additionalProperties: false`), as
the API server's strict field validation would, so a misspelt field fails here rather than
being silently dropped on apply. Free-form parts (pod overrides, affinity, mongod options)
are only checked to be objects.

- RabbitmqCluster rabbitmq.com/v1beta1: RabbitMQ Cluster Operator 2.x
- MongoDBCommunity mongodbcommunity.mongodb.com/v1: MongoDB Community Operator 0.12/0.13
- ServiceMonitor monitoring.coreos.com/v1: Prometheus Operator 0.8x
- ExternalSecret external-secrets.io/v1: External Secrets Operator 0.17 and later
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

OBJECT: Schema = {"type": "object"}
STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
QUANTITY: Schema = {
    "anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"}]
}
DURATION: Schema = {"type": "string", "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
DNS_NAME: Schema = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}


def closed(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these optional fields (and these required ones)."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


RESOURCES = closed(
    {
        "requests": {"type": "object", "additionalProperties": QUANTITY},
        "limits": {"type": "object", "additionalProperties": QUANTITY},
        "claims": {"type": "array"},
    }
)
LABEL_SELECTOR = closed(
    {
        "matchLabels": {"type": "object", "additionalProperties": STRING},
        "matchExpressions": {
            "type": "array",
            "items": closed(
                {
                    "key": STRING,
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": STRING},
                },
                required=("key", "operator"),
            ),
        },
    }
)
METADATA = {
    "type": "object",
    "properties": {
        "name": DNS_NAME,
        "namespace": DNS_NAME,
        "labels": {"type": "object", "additionalProperties": STRING},
        "annotations": {"type": "object", "additionalProperties": STRING},
    },
    "required": ["name", "namespace"],
}


def resource(api_version: str, kind: str, spec: Schema) -> Schema:
    return closed(
        {"apiVersion": {"const": api_version}, "kind": {"const": kind}, "metadata": METADATA, "spec": spec},
        required=("apiVersion", "kind", "metadata", "spec"),
    )


RABBITMQ_CLUSTER = resource(
    "rabbitmq.com/v1beta1",
    "RabbitmqCluster",
    closed(
        {
            "replicas": {"type": "integer", "minimum": 0},
            "image": STRING,
            "imagePullSecrets": {"type": "array"},
            "resources": RESOURCES,
            "persistence": closed({"storage": QUANTITY, "storageClassName": STRING, "emptyDir": OBJECT}),
            "rabbitmq": closed(
                {
                    "additionalConfig": STRING,
                    "advancedConfig": STRING,
                    "envConfig": STRING,
                    "erlangInetConfig": STRING,
                    "additionalPlugins": {"type": "array", "items": STRING},
                }
            ),
            "affinity": OBJECT,
            "tolerations": {"type": "array"},
            "override": OBJECT,
            "service": OBJECT,
            "tls": OBJECT,
            "secretBackend": OBJECT,
            "terminationGracePeriodSeconds": INTEGER,
            "delayStartSeconds": INTEGER,
            "skipPostDeploySteps": BOOLEAN,
            "autoEnableAllFeatureFlags": BOOLEAN,
        }
    ),
)

SECRET_KEY_REF = closed({"name": STRING, "key": STRING}, required=("name",))
MONGODB_ROLE = closed({"name": STRING, "db": STRING}, required=("name", "db"))
MONGODB_COMMUNITY = resource(
    "mongodbcommunity.mongodb.com/v1",
    "MongoDBCommunity",
    closed(
        {
            "members": {"type": "integer", "minimum": 1},
            "arbiters": INTEGER,
            "type": {"enum": ["ReplicaSet"]},
            "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$"},
            "featureCompatibilityVersion": STRING,
            "security": closed(
                {
                    "authentication": closed(
                        {
                            "modes": {
                                "type": "array",
                                "items": {"enum": ["SCRAM", "SCRAM-SHA-256", "SCRAM-SHA-1", "X509"]},
                            },
                            "ignoreUnknownUsers": BOOLEAN,
                            "agentMode": STRING,
                            "agentCertificateSecretRef": OBJECT,
                        },
                        required=("modes",),
                    ),
                    "tls": OBJECT,
                    "roles": {"type": "array"},
                }
            ),
            "users": {
                "type": "array",
                "items": closed(
                    {
                        "name": STRING,
                        "db": STRING,
                        "passwordSecretRef": SECRET_KEY_REF,
                        "roles": {"type": "array", "items": MONGODB_ROLE},
                        "scramCredentialsSecretName": DNS_NAME,
                        "connectionStringSecretName": DNS_NAME,
                        "connectionStringSecretNamespace": STRING,
                        "additionalConnectionStringConfig": OBJECT,
                    },
                    required=("name", "roles"),
                ),
            },
            "additionalConnectionStringConfig": OBJECT,
            "additionalMongodConfig": OBJECT,
            "statefulSet": closed({"spec": OBJECT, "metadata": OBJECT}, required=("spec",)),
            "replicaSetHorizons": {"type": "array"},
            "memberConfig": {"type": "array"},
            "agent": OBJECT,
            "automationConfig": OBJECT,
            "prometheus": OBJECT,
        },
        required=("security", "type", "users", "version", "members"),
    ),
)

SERVICE_MONITOR = resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    closed(
        {
            "selector": LABEL_SELECTOR,
            "namespaceSelector": closed({"any": BOOLEAN, "matchNames": {"type": "array", "items": STRING}}),
            "jobLabel": STRING,
            "targetLabels": {"type": "array", "items": STRING},
            "podTargetLabels": {"type": "array", "items": STRING},
            "sampleLimit": INTEGER,
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": closed(
                    {
                        "port": STRING,
                        "targetPort": {"anyOf": [INTEGER, STRING]},
                        "path": STRING,
                        "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                        "interval": DURATION,
                        "scrapeTimeout": DURATION,
                        "honorLabels": BOOLEAN,
                        "relabelings": {"type": "array"},
                        "metricRelabelings": {"type": "array"},
                        "tlsConfig": OBJECT,
                    }
                ),
            },
        },
        required=("selector", "endpoints"),
    ),
)

EXTERNAL_SECRET = resource(
    "external-secrets.io/v1",
    "ExternalSecret",
    closed(
        {
            "refreshInterval": DURATION,
            "secretStoreRef": closed(
                {"kind": {"enum": ["SecretStore", "ClusterSecretStore"]}, "name": DNS_NAME}, required=("name",)
            ),
            "target": closed(
                {
                    "name": DNS_NAME,
                    "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None", "CreateOrMerge"]},
                    "deletionPolicy": {"enum": ["Delete", "Merge", "Retain"]},
                    "immutable": BOOLEAN,
                    "template": OBJECT,
                }
            ),
            "data": {"type": "array"},
            "dataFrom": {
                "type": "array",
                "items": closed(
                    {
                        "extract": closed(
                            {
                                "key": STRING,
                                "property": STRING,
                                "version": STRING,
                                "conversionStrategy": STRING,
                                "decodingStrategy": STRING,
                                "metadataPolicy": STRING,
                            },
                            required=("key",),
                        ),
                        "find": OBJECT,
                        "rewrite": {"type": "array"},
                        "sourceRef": OBJECT,
                    }
                ),
            },
        }
    ),
)

SCHEMAS: dict[tuple[str, str], Schema] = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): RABBITMQ_CLUSTER,
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): MONGODB_COMMUNITY,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("external-secrets.io/v1", "ExternalSecret"): EXTERNAL_SECRET,
}
