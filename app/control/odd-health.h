/* odd-health.h: whether one service is ready (GET /readyz, health.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "odd-endpoints.h"

G_BEGIN_DECLS

#define ODD_TYPE_HEALTH (odd_health_get_type ())
G_DECLARE_FINAL_TYPE (OddHealth, odd_health, ODD, HEALTH, GObject)

OddHealth  *odd_health_new_from_json  (OddService  service,
                                       JsonObject *object);

/* Properties "service", "ready", "version", "reason". */
OddService  odd_health_get_service    (OddHealth  *self);
/* TRUE for "ok", FALSE for "not_ready" (a 503 with a health body is an answer, not an error). */
gboolean    odd_health_is_ready       (OddHealth  *self);
const char *odd_health_get_version    (OddHealth  *self);
/* Why not ready; NULL when ready. */
const char *odd_health_get_reason     (OddHealth  *self);

G_END_DECLS
