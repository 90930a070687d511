/* odd-gateway.h: the gateway service (HTTP job intake that publishes confirmed job.created events)
 *
 * The object owns the HTTP server, the confirmed AMQP publisher, the schema registry and the
 * metrics. main.c only loads the configuration, starts it and forwards signals; the tests run
 * it in-process on port 0.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "odd-http.h"

G_BEGIN_DECLS

#define ODD_GATEWAY_MAX_BODY_BYTES   (1024 * 1024)
#define ODD_GATEWAY_SHUTDOWN_GRACE_S 5

typedef struct {
  guint  port;             /* PORT (3000); 0 = any free port */
  char  *bind;             /* ODD_BIND (127.0.0.1) */
  char  *rabbitmq_url;     /* RABBITMQ_URL */
  char  *read_model_url;   /* READ_MODEL_URL (http://127.0.0.1:8080), no trailing slash */
  char  *contracts_path;   /* CONTRACTS_PATH, NULL = odd_contracts_dir () */
  guint  max_outstanding;  /* ODD_MAX_OUTSTANDING (2048) */
  char  *api_token;        /* ODD_API_TOKEN, NULL = POST endpoints are open */
} OddGatewayConfig;

/* Reads the environment; FALSE with a message naming the variable when a value is invalid. */
gboolean odd_gateway_config_load  (OddGatewayConfig *config,
                                   GError          **error);
void     odd_gateway_config_clear (OddGatewayConfig *config);

#define ODD_TYPE_GATEWAY (odd_gateway_get_type ())
G_DECLARE_FINAL_TYPE (OddGateway, odd_gateway, ODD, GATEWAY, GObject)

/* Loads the schemas and sets everything up; nothing listens or connects yet. The config is
 * copied. Fails when the contracts cannot be loaded. */
OddGateway *odd_gateway_new           (const OddGatewayConfig *config,
                                       GError                **error);
/* Starts the publisher and listens on the thread-default main context. */
gboolean    odd_gateway_start         (OddGateway             *self,
                                       GError                **error);
guint       odd_gateway_get_port      (OddGateway             *self);
OddHttpServer *odd_gateway_get_server (OddGateway             *self);
/* Publishes awaiting their confirm (and so HTTP requests awaiting their answer). */
guint       odd_gateway_get_outstanding (OddGateway           *self);

/* Stops accepting jobs (503 from then on), waits for the outstanding confirms, until
 * @cancellable is cancelled (the service's grace is over) or, without one, at most
 * ODD_GATEWAY_SHUTDOWN_GRACE_S seconds, then closes the listener. The result is TRUE when
 * nothing was left outstanding. */
void        odd_gateway_shutdown_async  (OddGateway           *self,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
gboolean    odd_gateway_shutdown_finish (OddGateway           *self,
                                         GAsyncResult         *result,
                                         GError              **error);

/* The OpenAPI 3.0.3 document of this gateway (a new node) and the self-hosted docs page. */
JsonNode   *odd_gateway_openapi_document (guint port);
const char *odd_gateway_docs_html        (void);

G_END_DECLS
