/* odd-read-model-openapi.h: GET /openapi.json */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The OpenAPI 3.0.3 document of the read model, info.version = ODD_VERSION. */
JsonNode *odd_read_model_openapi (void);

G_END_DECLS
