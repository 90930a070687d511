/* odd-gateway.c: the gateway service object, its configuration and its shutdown
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include <string.h>

#include "odd-gateway-private.h"

G_DEFINE_FINAL_TYPE (OddGateway, odd_gateway, G_TYPE_OBJECT)

#define DEFAULT_READ_MODEL_URL "http://127.0.0.1:8080"

/* The schemas the gateway cannot work without: checked at start, so a request never finds
 * one missing. */
static const char *const required_schemas[] = { "job", "simulation", "event-envelope", NULL };

static gboolean
config_error (GError    **error,
              const char *format,
              ...) G_GNUC_PRINTF (2, 3);

static gboolean
config_error (GError    **error,
              const char *format,
              ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (ODD_CONFIG_ERROR, 0, format, args));
  va_end (args);

  return FALSE;
}

static gboolean
check_amqp_url (const char  *url,
                GError     **error)
{
  g_autofree char *copy = g_strdup (url);
  struct amqp_connection_info info;

  /* amqp_parse_url() writes into its argument, hence the copy. */
  amqp_default_connection_info (&info);
  if (amqp_parse_url (copy, &info) != AMQP_STATUS_OK)
    /* Not echoed: the URL carries the broker password. */
    return config_error (error, "RABBITMQ_URL is not an AMQP URL (amqp://user:password@host:port/vhost)");

  return TRUE;
}

static char *
check_http_url (const char  *url,
                GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;
  gsize len;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      config_error (error, "READ_MODEL_URL is not a URL (%s): %s", local_error->message, url);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  if ((g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      config_error (error, "READ_MODEL_URL must be an http:// or https:// URL with a host: %s", url);
      return NULL;
    }

  /* Paths are appended as "/jobs/<id>", so no trailing slash. */
  len = strlen (url);
  while (len > 0 && url[len - 1] == '/')
    len--;

  return g_strndup (url, len);
}

gboolean
odd_gateway_config_load (OddGatewayConfig  *config,
                         GError           **error)
{
  OddGatewayConfig loaded = { 0 };
  gint64 port;
  gint64 max_outstanding;
  const char *bind;
  const char *rabbitmq_url;
  const char *contracts_path;
  const char *api_token;

  g_return_val_if_fail (config != NULL, FALSE);

  if (!odd_config_int ("PORT", 3000, 0, 65535, &port, error))
    return FALSE;
  if (!odd_config_int ("ODD_MAX_OUTSTANDING", 2048, 1, 1000000, &max_outstanding, error))
    return FALSE;

  bind = odd_config_string ("ODD_BIND", "127.0.0.1");
  if (!g_hostname_is_ip_address (bind) && g_strcmp0 (bind, "localhost") != 0)
    return config_error (error, "ODD_BIND must be an IP address such as 127.0.0.1 or 0.0.0.0: %s", bind);

  rabbitmq_url = odd_config_string ("RABBITMQ_URL", ODD_DEFAULT_RABBITMQ_URL);
  if (!check_amqp_url (rabbitmq_url, error))
    return FALSE;

  loaded.read_model_url = check_http_url (odd_config_string ("READ_MODEL_URL", DEFAULT_READ_MODEL_URL), error);
  if (loaded.read_model_url == NULL)
    return FALSE;

  contracts_path = odd_config_string ("CONTRACTS_PATH", NULL);
  if (contracts_path != NULL)
    {
      g_autofree char *schemas = g_build_filename (contracts_path, "schemas", NULL);

      if (!g_file_test (schemas, G_FILE_TEST_IS_DIR))
        {
          odd_gateway_config_clear (&loaded);
          return config_error (error, "CONTRACTS_PATH has no schemas/ directory: %s", contracts_path);
        }
    }

  api_token = odd_config_string ("ODD_API_TOKEN", NULL);

  loaded.port = (guint) port;
  loaded.max_outstanding = (guint) max_outstanding;
  loaded.bind = g_strdup (g_strcmp0 (bind, "localhost") == 0 ? "127.0.0.1" : bind);
  loaded.rabbitmq_url = g_strdup (rabbitmq_url);
  loaded.contracts_path = g_strdup (contracts_path);
  loaded.api_token = g_strdup (api_token);

  odd_gateway_config_clear (config);
  *config = loaded;

  return TRUE;
}

void
odd_gateway_config_clear (OddGatewayConfig *config)
{
  g_return_if_fail (config != NULL);

  g_clear_pointer (&config->bind, g_free);
  g_clear_pointer (&config->rabbitmq_url, g_free);
  g_clear_pointer (&config->read_model_url, g_free);
  g_clear_pointer (&config->contracts_path, g_free);
  if (config->api_token != NULL)
    {
      /* The token is a secret: do not leave it in freed memory. */
      memset (config->api_token, 0, strlen (config->api_token));
      g_clear_pointer (&config->api_token, g_free);
    }
}

static void
config_copy (OddGatewayConfig       *dest,
             const OddGatewayConfig *src)
{
  dest->port = src->port;
  dest->bind = g_strdup (src->bind != NULL ? src->bind : "127.0.0.1");
  dest->rabbitmq_url = g_strdup (src->rabbitmq_url != NULL ? src->rabbitmq_url : ODD_DEFAULT_RABBITMQ_URL);
  dest->read_model_url = g_strdup (src->read_model_url != NULL ? src->read_model_url : DEFAULT_READ_MODEL_URL);
  dest->contracts_path = g_strdup (src->contracts_path);
  dest->max_outstanding = src->max_outstanding > 0 ? src->max_outstanding : 2048;
  dest->api_token = (src->api_token != NULL && *src->api_token != '\0') ? g_strdup (src->api_token) : NULL;
}

static void
odd_gateway_dispose (GObject *object)
{
  OddGateway *self = ODD_GATEWAY (object);

  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  if (self->shutdown_cancellable != NULL)
    g_cancellable_disconnect (self->shutdown_cancellable, self->shutdown_cancelled_id);
  self->shutdown_cancelled_id = 0;
  g_clear_object (&self->shutdown_cancellable);
  g_clear_object (&self->shutdown_task);
  if (self->publisher != NULL)
    g_signal_handlers_disconnect_by_data (self->publisher, self);
  g_clear_object (&self->publisher);
  if (self->read_model != NULL)
    soup_session_abort (self->read_model);
  g_clear_object (&self->read_model);
  g_clear_object (&self->http);
  /* Queued checks hold a reference to the gateway, so by now none is queued or running. */
  if (self->checks != NULL)
    g_thread_pool_free (g_steal_pointer (&self->checks), FALSE, TRUE);
  if (self->drainer != NULL)
    g_thread_pool_free (g_steal_pointer (&self->drainer), FALSE, TRUE);
  g_clear_object (&self->schemas);

  G_OBJECT_CLASS (odd_gateway_parent_class)->dispose (object);
}

static void
odd_gateway_finalize (GObject *object)
{
  OddGateway *self = ODD_GATEWAY (object);

  g_clear_pointer (&self->metrics, odd_metrics_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->checked, g_ptr_array_unref);
  g_clear_pointer (&self->to_check, g_ptr_array_unref);
  g_mutex_clear (&self->checked_lock);
  odd_gateway_config_clear (&self->config);

  G_OBJECT_CLASS (odd_gateway_parent_class)->finalize (object);
}

static void
odd_gateway_class_init (OddGatewayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_gateway_dispose;
  object_class->finalize = odd_gateway_finalize;
}

static void
odd_gateway_init (OddGateway *self)
{
  g_mutex_init (&self->checked_lock);
  self->checked = g_ptr_array_new ();
  self->to_check = g_ptr_array_new ();
}

/* /readyz: ready when jobs can be accepted, i.e. the publisher has a confirmed channel. */
static char *
odd_gateway_ready (gpointer user_data)
{
  OddGateway *self = user_data;
  g_autofree char *last_error = NULL;

  if (self->shutting_down)
    return g_strdup ("shutting down");
  if (self->publisher == NULL)
    return g_strdup ("not started");
  if (odd_amqp_publisher_is_connected (self->publisher))
    {
      if (odd_amqp_publisher_is_rejecting (self->publisher,
                                           ODD_GATEWAY_QUEUE_FULL_RETRY_AFTER_S * G_USEC_PER_SEC))
        return g_strdup ("jobs.created is full: the broker rejects new jobs (max-length policy)");
      return NULL;
    }

  last_error = odd_amqp_publisher_dup_error (self->publisher);
  if (last_error != NULL)
    return g_strdup_printf ("RabbitMQ not connected: %s", last_error);

  return g_strdup ("RabbitMQ not connected yet");
}

static gboolean
load_schemas (OddGateway  *self,
              GError     **error)
{
  g_autoptr(OddSchemaRegistry) schemas = NULL;

  if (self->config.contracts_path != NULL)
    {
      g_autofree char *dir = g_build_filename (self->config.contracts_path, "schemas", NULL);

      schemas = odd_schema_registry_new ();
      if (!odd_schema_registry_load_dir (schemas, dir, error))
        return FALSE;
    }
  else
    {
      schemas = odd_schema_registry_new_default (error);
      if (schemas == NULL)
        return FALSE;
    }

  for (guint i = 0; required_schemas[i] != NULL; i++)
    {
      if (!odd_schema_registry_has (schemas, required_schemas[i]))
        {
          g_autofree char *dir = self->config.contracts_path != NULL
            ? g_strdup (self->config.contracts_path) : odd_contracts_dir ();

          g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                       "The contracts in %s have no schema \"%s\"", dir, required_schemas[i]);
          return FALSE;
        }
    }

  self->schemas = g_steal_pointer (&schemas);

  return TRUE;
}

OddGateway *
odd_gateway_new (const OddGatewayConfig  *config,
                 GError                 **error)
{
  g_autoptr(OddGateway) self = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (ODD_TYPE_GATEWAY, NULL);
  config_copy (&self->config, config);

  if (!load_schemas (self, error))
    return NULL;

  self->metrics = odd_metrics_new ("gateway");
  /* No label on submissions: the job type is client text, a label would be unbounded. */
  self->jobs_submitted = odd_metrics_counter (self->metrics, "gateway_jobs_submitted_total",
                                              "Jobs that passed validation", NULL);
  self->jobs_accepted = odd_metrics_counter (self->metrics, "gateway_jobs_accepted_total",
                                             "Jobs confirmed by the broker and answered 202", NULL);
  self->jobs_rejected = odd_metrics_counter (self->metrics, "gateway_jobs_rejected_total",
                                             "Job submissions not accepted, by reason", "reason");
  self->publish_confirm_seconds = odd_metrics_histogram (self->metrics, "gateway_publish_confirm_seconds",
                                                         "Time from publish to broker confirm",
                                                         odd_metrics_latency_buckets,
                                                         odd_metrics_n_latency_buckets);
  self->amqp_connected = odd_metrics_gauge (self->metrics, "gateway_amqp_connected",
                                            "1 when the publisher has a broker connection", NULL);
  odd_gauge_set (self->amqp_connected, NULL, 0);

  self->http = odd_http_server_new ("gateway", self->metrics, odd_gateway_ready, self);
  /* Browser UIs on other ports submit jobs too (the reference had no CORS, section 11.11). */
  odd_http_server_set_cors (self->http, TRUE);
  self->read_model = soup_session_new_with_options ("timeout", 5,
                                                    "idle-timeout", 30,
                                                    "user-agent", "odd-gateway/" ODD_VERSION,
                                                    NULL);
  odd_gateway_add_routes (self);
  self->context = g_main_context_ref_thread_default ();
  /* As many checkers as cores, no more: more would only take turns with the main loop, which
   * answers /healthz, /readyz and the broker's confirms. */
  self->checks = g_thread_pool_new (odd_gateway_check_worker, self, (gint) g_get_num_processors (),
                                    FALSE, NULL);
  /* Exclusive: its thread is never one the checks pool has niced (GLib lends the idle threads
   * of shared pools to each other, and a thread cannot take back a lowered priority). */
  self->drainer = g_thread_pool_new (odd_gateway_drain_worker, self, 1, TRUE, NULL);

  return g_steal_pointer (&self);
}

static void
on_connected_changed (OddAmqpPublisher *publisher,
                      GParamSpec       *pspec,
                      OddGateway       *self)
{
  gboolean connected = odd_amqp_publisher_is_connected (publisher);

  odd_gauge_set (self->amqp_connected, NULL, connected ? 1 : 0);
  if (connected)
    {
      g_message ("Connected to RabbitMQ");
    }
  else
    {
      g_autofree char *reason = odd_amqp_publisher_dup_error (publisher);

      g_message ("RabbitMQ connection lost: %s", reason != NULL ? reason : "unknown reason");
    }
}

gboolean
odd_gateway_start (OddGateway  *self,
                   GError     **error)
{
  g_return_val_if_fail (ODD_IS_GATEWAY (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  if (!odd_http_server_listen (self->http, self->config.bind, self->config.port, error))
    return FALSE;

  self->publisher = odd_amqp_publisher_new (self->config.rabbitmq_url, "gateway",
                                            self->config.max_outstanding);
  g_signal_connect (self->publisher, "notify::connected",
                    G_CALLBACK (on_connected_changed), self);
  odd_gauge_set (self->amqp_connected, NULL,
                 odd_amqp_publisher_is_connected (self->publisher) ? 1 : 0);
  self->started = TRUE;

  return TRUE;
}

guint
odd_gateway_get_port (OddGateway *self)
{
  g_return_val_if_fail (ODD_IS_GATEWAY (self), 0);

  return odd_http_server_get_port (self->http);
}

OddHttpServer *
odd_gateway_get_server (OddGateway *self)
{
  g_return_val_if_fail (ODD_IS_GATEWAY (self), NULL);

  return self->http;
}

guint
odd_gateway_get_outstanding (OddGateway *self)
{
  g_return_val_if_fail (ODD_IS_GATEWAY (self), 0);

  return self->outstanding;
}

static gboolean
shutdown_drained_cb (gpointer user_data)
{
  OddGateway *self = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&self->shutdown_task);

  self->shutdown_timeout_id = 0;
  if (self->shutdown_cancellable != NULL)
    g_cancellable_disconnect (self->shutdown_cancellable, self->shutdown_cancelled_id);
  self->shutdown_cancelled_id = 0;
  g_clear_object (&self->shutdown_cancellable);
  soup_server_disconnect (odd_http_server_get_soup (self->http));
  g_task_return_boolean (task, self->outstanding == 0);

  return G_SOURCE_REMOVE;
}

static void
shutdown_drain (OddGateway *self)
{
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  self->shutdown_draining = TRUE;
  /* The last answers were only just queued on their connections: give them a moment to be
   * written before every connection is closed. */
  self->shutdown_timeout_id = g_timeout_add (200, shutdown_drained_cb, self);
}

static gboolean
shutdown_grace_cb (gpointer user_data)
{
  OddGateway *self = user_data;

  self->shutdown_timeout_id = 0;
  /* Their clients get no 202 and will resubmit; the broker may still have the message. */
  g_warning ("Shutting down with %u publishes still unconfirmed", self->outstanding);
  shutdown_drain (self);

  return G_SOURCE_REMOVE;
}

/* The caller's grace is over: the same as when ours is. */
static void
on_shutdown_cancelled (GCancellable *cancellable,
                       gpointer      user_data)
{
  OddGateway *self = user_data;

  if (self->shutdown_task != NULL && !self->shutdown_draining)
    shutdown_grace_cb (self);
}

void
odd_gateway_outstanding_done (OddGateway *self)
{
  g_return_if_fail (self->outstanding > 0);

  self->outstanding--;
  if (self->outstanding == 0 && self->shutdown_task != NULL && !self->shutdown_draining)
    shutdown_drain (self);
}

void
odd_gateway_shutdown_async (OddGateway          *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ODD_IS_GATEWAY (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_gateway_shutdown_async);

  if (self->shutdown_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "Already shutting down");
      return;
    }

  self->shutting_down = TRUE;
  self->shutdown_task = g_steal_pointer (&task);

  if (self->outstanding == 0)
    {
      shutdown_drain (self);
      return;
    }

  g_message ("Shutting down: waiting for %u outstanding confirms", self->outstanding);
  if (cancellable != NULL)
    {
      self->shutdown_cancellable = g_object_ref (cancellable);
      self->shutdown_cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_shutdown_cancelled),
                                                           self, NULL);
    }
  else
    self->shutdown_timeout_id = g_timeout_add_seconds (ODD_GATEWAY_SHUTDOWN_GRACE_S, shutdown_grace_cb, self);
}

gboolean
odd_gateway_shutdown_finish (OddGateway    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
