import json

from shared.contracts import asyncapi_document

print(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False))
