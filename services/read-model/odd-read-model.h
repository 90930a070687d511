/* odd-read-model.h: the read-model service (GET-only query API of the UIs)
 *
 * OddReadModel owns the HTTP server and the readiness machinery: a periodic self-check of its
 * PostgreSQL and Redis connections (for /readyz and alerts) and asynchronous /readyz probes of
 * the other services (ODD_SERVICE_URLS, for the ServiceNotReady alert).
 */
#pragma once

#include <glib-object.h>
#include "odd-http.h"

G_BEGIN_DECLS

#define ODD_READ_MODEL_DEFAULT_SERVICE_URLS \
  "gateway=http://127.0.0.1:3000,processor=http://127.0.0.1:8000,metrics-engine=http://127.0.0.1:8001"

typedef struct {
  char  *postgres_url;
  char  *redis_url;
  char  *rabbitmq_url;
  char  *service_urls;       /* "name=url,name=url"; "" probes nothing */
  guint  probe_interval_ms;  /* probes and self-check period (5000) */
  guint  probe_timeout_sec;  /* per probe (2) */
} OddReadModelConfig;

/* From POSTGRES_URL, REDIS_URL, RABBITMQ_URL, ODD_SERVICE_URLS (defaults in odd-config.h). */
OddReadModelConfig *odd_read_model_config_new_from_env (void);
void                odd_read_model_config_free         (OddReadModelConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddReadModelConfig, odd_read_model_config_free)

#define ODD_TYPE_READ_MODEL (odd_read_model_get_type ())
G_DECLARE_FINAL_TYPE (OddReadModel, odd_read_model, ODD, READ_MODEL, GObject)

/* Fails (ODD_CONFIG_ERROR) when service_urls is malformed. Nothing connects yet. */
OddReadModel  *odd_read_model_new        (const OddReadModelConfig  *config,
                                          GError                   **error);
/* Listens on @host:@port (0 = any free port) and starts the self-check, which applies the
 * migrations (retried on every check and request until they are: the database may come up
 * after the read model), and the probes. */
gboolean       odd_read_model_start      (OddReadModel              *self,
                                          const char                *host,
                                          guint                      port,
                                          GError                   **error);
guint          odd_read_model_get_port   (OddReadModel              *self);
OddHttpServer *odd_read_model_get_server (OddReadModel              *self);

G_END_DECLS
