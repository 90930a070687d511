/* odd-alert.h: one active alert of GET /alerts (alerts.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_TYPE_ALERT (odd_alert_get_type ())
G_DECLARE_FINAL_TYPE (OddAlert, odd_alert, ODD, ALERT, GObject)

OddAlert   *odd_alert_new_from_json  (JsonObject *object);

/* Properties "name", "severity" ("warning", "critical"), "service", "summary", "since",
 * "runbook". */
const char *odd_alert_get_name       (OddAlert   *self);
const char *odd_alert_get_severity   (OddAlert   *self);
gboolean    odd_alert_is_critical    (OddAlert   *self);
const char *odd_alert_get_service    (OddAlert   *self);
const char *odd_alert_get_summary    (OddAlert   *self);
GDateTime  *odd_alert_get_since      (OddAlert   *self);
const char *odd_alert_get_runbook    (OddAlert   *self);

G_END_DECLS
