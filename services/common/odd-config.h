/* odd-config.h: configuration from the environment */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ODD_CONFIG_ERROR (odd_config_error_quark ())
GQuark odd_config_error_quark (void);

#define ODD_DEFAULT_RABBITMQ_URL "amqp://guest:guest@127.0.0.1:5672/"
#define ODD_DEFAULT_POSTGRES_URL "postgresql://postgres@127.0.0.1:5432/odd"
#define ODD_DEFAULT_REDIS_URL    "redis://127.0.0.1:6379/0"

/* $name if set and non-empty, else @fallback. */
const char *odd_config_string  (const char  *name,
                                const char  *fallback);
/* $name parsed as an integer in [@min, @max], else @fallback when unset.
 * A set but invalid value is an error naming the variable and the accepted range. */
gboolean    odd_config_int     (const char  *name,
                                gint64       fallback,
                                gint64       min,
                                gint64       max,
                                gint64      *out,
                                GError     **error);
gboolean    odd_config_double  (const char  *name,
                                double       fallback,
                                double       min,
                                double       max,
                                double      *out,
                                GError     **error);
/* "1", "true", "yes", "on" (any case) are TRUE. */
gboolean    odd_config_bool    (const char  *name,
                                gboolean     fallback);
/* The host name for producer.instanceId ($HOSTNAME, else g_get_host_name()). */
const char *odd_config_instance_id (void);

G_END_DECLS
