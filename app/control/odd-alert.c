#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

struct _OddAlert
{
  GObject    parent_instance;
  char      *name;
  char      *severity;
  char      *service;
  char      *summary;
  GDateTime *since;
  char      *runbook;
};

G_DEFINE_FINAL_TYPE (OddAlert, odd_alert, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_SEVERITY, PROP_SERVICE, PROP_SUMMARY, PROP_SINCE, PROP_RUNBOOK, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
odd_alert_finalize (GObject *object)
{
  OddAlert *self = ODD_ALERT (object);

  g_free (self->name);
  g_free (self->severity);
  g_free (self->service);
  g_free (self->summary);
  g_clear_pointer (&self->since, g_date_time_unref);
  g_free (self->runbook);
  G_OBJECT_CLASS (odd_alert_parent_class)->finalize (object);
}

static void
odd_alert_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OddAlert *self = ODD_ALERT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SEVERITY:
      g_value_set_string (value, self->severity);
      break;
    case PROP_SERVICE:
      g_value_set_string (value, self->service);
      break;
    case PROP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;
    case PROP_SINCE:
      g_value_set_boxed (value, self->since);
      break;
    case PROP_RUNBOOK:
      g_value_set_string (value, self->runbook);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_alert_class_init (OddAlertClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_alert_finalize;
  object_class->get_property = odd_alert_get_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_SEVERITY] = g_param_spec_string ("severity", NULL, NULL, NULL, flags);
  properties[PROP_SERVICE] = g_param_spec_string ("service", NULL, NULL, NULL, flags);
  properties[PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL, flags);
  properties[PROP_SINCE] = g_param_spec_boxed ("since", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_RUNBOOK] = g_param_spec_string ("runbook", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_alert_init (OddAlert *self)
{
}

OddAlert *
odd_alert_new_from_json (JsonObject *object)
{
  OddAlert *self;

  g_return_val_if_fail (object != NULL, NULL);
  g_return_val_if_fail (odd_json_get_string (object, "name") != NULL, NULL);

  self = g_object_new (ODD_TYPE_ALERT, NULL);
  self->name = odd_client_json_strdup (object, "name");
  self->severity = odd_client_json_strdup (object, "severity");
  self->service = odd_client_json_strdup (object, "service");
  self->summary = odd_client_json_strdup (object, "summary");
  self->since = odd_client_json_time (object, "since");
  self->runbook = odd_client_json_strdup (object, "runbook");
  return self;
}

const char *
odd_alert_get_name (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->name;
}

const char *
odd_alert_get_severity (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->severity;
}

gboolean
odd_alert_is_critical (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), FALSE);
  return g_strcmp0 (self->severity, "critical") == 0;
}

const char *
odd_alert_get_service (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->service;
}

const char *
odd_alert_get_summary (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->summary;
}

GDateTime *
odd_alert_get_since (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->since;
}

const char *
odd_alert_get_runbook (OddAlert *self)
{
  g_return_val_if_fail (ODD_IS_ALERT (self), NULL);
  return self->runbook;
}
