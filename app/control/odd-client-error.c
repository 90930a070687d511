#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

typedef struct
{
  guint  status;
  char  *reason;
  char  *url;
} OddClientErrorPrivate;

static void
odd_client_error_private_init (OddClientErrorPrivate *priv)
{
}

static void
odd_client_error_private_copy (const OddClientErrorPrivate *src,
                               OddClientErrorPrivate       *dest)
{
  dest->status = src->status;
  dest->reason = g_strdup (src->reason);
  dest->url = g_strdup (src->url);
}

static void
odd_client_error_private_clear (OddClientErrorPrivate *priv)
{
  g_clear_pointer (&priv->reason, g_free);
  g_clear_pointer (&priv->url, g_free);
}

/* Extended, so that views can word the failure their own way from its parts. */
G_DEFINE_EXTENDED_ERROR (OddClientError, odd_client_error)

GError *
odd_client_error_new (OddClientError  code,
                      guint           status,
                      const char     *reason,
                      const char     *url,
                      const char     *format,
                      ...)
{
  g_autofree char *message = NULL;
  OddClientErrorPrivate *priv;
  GError *error;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  error = g_error_new_literal (ODD_CLIENT_ERROR, code, message);
  priv = odd_client_error_get_private (error);
  priv->status = status;
  priv->reason = g_strdup (reason);
  priv->url = g_strdup (url);
  return error;
}

guint
odd_client_error_get_status (const GError *error)
{
  OddClientErrorPrivate *priv = error != NULL ? odd_client_error_get_private (error) : NULL;

  return priv != NULL ? priv->status : 0;
}

const char *
odd_client_error_get_reason (const GError *error)
{
  OddClientErrorPrivate *priv = error != NULL ? odd_client_error_get_private (error) : NULL;

  return priv != NULL ? priv->reason : NULL;
}

const char *
odd_client_error_get_url (const GError *error)
{
  OddClientErrorPrivate *priv = error != NULL ? odd_client_error_get_private (error) : NULL;

  return priv != NULL ? priv->url : NULL;
}

/* ---- JSON members of checked answers ---- */

double
odd_client_json_double (JsonObject *object,
                        const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return 0;
}

gint64
odd_client_json_int (JsonObject *object,
                     const char *name,
                     gint64      fallback)
{
  gint64 value;

  return odd_json_get_int (object, name, &value) ? value : fallback;
}

char *
odd_client_json_strdup (JsonObject *object,
                        const char *name)
{
  return g_strdup (odd_json_get_string (object, name));
}

GDateTime *
odd_client_json_time (JsonObject *object,
                      const char *name)
{
  const char *text = odd_json_get_string (object, name);
  g_autoptr(GDateTime) time = text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;

  return time != NULL ? g_date_time_to_utc (time) : NULL;
}
