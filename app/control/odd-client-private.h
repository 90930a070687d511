/* odd-client-private.h: what the client's files share and nobody else needs */
#pragma once

#include <json-glib/json-glib.h>

#include "odd-client.h"
#include "odd-ids.h"
#include "odd-json.h"

G_BEGIN_DECLS

/* Typed members of an answer that passed its schema: absent or null gives the fallback. */
double      odd_client_json_double  (JsonObject *object,
                                     const char *name);
gint64      odd_client_json_int     (JsonObject *object,
                                     const char *name,
                                     gint64      fallback);
/* A copy of a string member, NULL when absent, null or not a string. */
char       *odd_client_json_strdup  (JsonObject *object,
                                     const char *name);
/* An RFC 3339 member as a GDateTime (UTC), NULL when absent, null or not a date-time. */
GDateTime  *odd_client_json_time    (JsonObject *object,
                                     const char *name);

/* The error of a failed call, with the private data of odd-client-error.h. */
GError     *odd_client_error_new    (OddClientError  code,
                                     guint           status,
                                     const char     *reason,
                                     const char     *url,
                                     const char     *format,
                                     ...) G_GNUC_PRINTF (5, 6);

G_END_DECLS
