/* odd-endpoints.h: where the read model and the gateway of the current stack answer
 *
 * An immutable value: the four service URLs (no trailing slash; the processor's and the
 * metrics engine's may be unknown, as on the kind cluster) and where they came from.
 * odd_endpoints_discover() applies the rules every UI shares:
 *   READ_MODEL_URL / GATEWAY_URL (each on its own), else the running local stack's
 *   stack.json (odd_stack_default_state_dir()), else http://localhost:8080 / :3000;
 *   the source is ENV when READ_MODEL_URL is set, else STACK when stack.json was found.
 * Once a UI starts a stack or a cluster, odd_endpoints_follow() tells which endpoints to use.
 */
#pragma once

#include <glib-object.h>

#include "odd-stack-paths.h"

G_BEGIN_DECLS

#define ODD_ENDPOINTS_DEFAULT_READ_MODEL_URL "http://localhost:8080"
#define ODD_ENDPOINTS_DEFAULT_GATEWAY_URL    "http://localhost:3000"

typedef enum
{
  ODD_ENDPOINTS_SOURCE_DEFAULT,  /* the reference's localhost:8080 / :3000 */
  ODD_ENDPOINTS_SOURCE_ENV,      /* READ_MODEL_URL / GATEWAY_URL */
  ODD_ENDPOINTS_SOURCE_STACK,    /* the local stack's stack.json */
  ODD_ENDPOINTS_SOURCE_CLUSTER,  /* the kind cluster's mapped ports */
} OddEndpointsSource;

#define ODD_TYPE_ENDPOINTS_SOURCE (odd_endpoints_source_get_type ())
GType odd_endpoints_source_get_type (void) G_GNUC_CONST;

typedef enum
{
  ODD_SERVICE_GATEWAY,
  ODD_SERVICE_READ_MODEL,
  ODD_SERVICE_PROCESSOR,
  ODD_SERVICE_METRICS_ENGINE,
  ODD_SERVICE_LAST,
} OddService;

#define ODD_TYPE_SERVICE (odd_service_get_type ())
GType       odd_service_get_type    (void) G_GNUC_CONST;
/* "gateway", "read-model", "processor", "metrics-engine" */
const char *odd_service_to_string   (OddService service);
/* "the gateway", "the read model", ... for messages */
const char *odd_service_describe    (OddService service);

#define ODD_TYPE_ENDPOINTS (odd_endpoints_get_type ())
G_DECLARE_FINAL_TYPE (OddEndpoints, odd_endpoints, ODD, ENDPOINTS, GObject)

/* Trailing slashes are dropped. */
OddEndpoints       *odd_endpoints_new                 (const char         *read_model_url,
                                                       const char         *gateway_url,
                                                       OddEndpointsSource  source);
/* The environment, else stack.json, else the defaults (see above). Also reads $ODD_API_TOKEN,
 * sent as a bearer token to the gateway. */
OddEndpoints       *odd_endpoints_discover            (void);
/* All four services of the local stack described by @paths (source STACK). */
OddEndpoints       *odd_endpoints_new_for_stack       (OddStackPaths      *paths);
/* http://127.0.0.1:<port> of the kind cluster's mapped gateway and read-model ports (source
 * CLUSTER); the processor and metrics engine are not reachable from the host. */
OddEndpoints       *odd_endpoints_new_for_cluster     (guint16             read_model_port,
                                                       guint16             gateway_port);
/* What to use once the stack or cluster @started is up: @self when its URLs came from the
 * environment (they always win), else @started. Returns a new reference. */
OddEndpoints       *odd_endpoints_follow              (OddEndpoints       *self,
                                                       OddEndpoints       *started);

const char         *odd_endpoints_get_read_model_url  (OddEndpoints       *self);
const char         *odd_endpoints_get_gateway_url     (OddEndpoints       *self);
/* NULL when not known. */
const char         *odd_endpoints_get_service_url     (OddEndpoints       *self,
                                                       OddService          service);
OddEndpointsSource  odd_endpoints_get_source          (OddEndpoints       *self);
/* NULL when none. */
const char         *odd_endpoints_get_api_token       (OddEndpoints       *self);
/* A copy with @token as the gateway's bearer token (NULL: none). */
OddEndpoints       *odd_endpoints_with_api_token      (OddEndpoints       *self,
                                                       const char         *token);
gboolean            odd_endpoints_equal               (OddEndpoints       *a,
                                                       OddEndpoints       *b);

G_END_DECLS
