#define G_LOG_DOMAIN "odd-redelivery"

#include "odd-redelivery.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>

#include "odd-json.h"
#include "odd-pg.h"

char *
odd_redelivery_key (const void *body,
                    gsize       len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, body, len);
}

gboolean
odd_redelivery_count (PGconn      *conn,
                      const char  *key,
                      gint64      *deliveries,
                      GError     **error)
{
  const char *params[] = { key };
  g_autoptr(PGresult) res = NULL;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  res = odd_pg_query (conn,
                      "INSERT INTO message_deliveries AS d (message_key, deliveries) "
                      "VALUES ($1, 1) "
                      "ON CONFLICT (message_key) DO UPDATE "
                      "SET deliveries = d.deliveries + 1, last_at = now() "
                      "RETURNING d.deliveries",
                      1, params, error);
  if (res == NULL)
    return FALSE;
  *deliveries = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  return TRUE;
}

gboolean
odd_redelivery_forget (PGconn     *conn,
                       GPtrArray  *keys,
                       GError    **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  g_autofree char *text = NULL;
  g_autoptr(PGresult) res = NULL;
  const char *params[1];

  g_return_val_if_fail (conn != NULL, FALSE);

  for (guint i = 0; i < keys->len; i++)
    json_array_add_string_element (array, keys->pdata[i]);
  json_node_set_array (node, array);
  text = odd_json_to_string (node);
  params[0] = text;

  /* A count left behind (a consumer that died before forgetting) fades after a day. */
  res = odd_pg_query (conn,
                      "DELETE FROM message_deliveries "
                      "WHERE message_key IN (SELECT jsonb_array_elements_text ($1::jsonb)) "
                      "   OR last_at < now() - interval '1 day'",
                      1, params, error);
  return res != NULL;
}
