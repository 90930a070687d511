#define G_LOG_DOMAIN "odd-config"

#include "odd-config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

G_DEFINE_QUARK (odd-config-error-quark, odd_config_error)

const char *
odd_config_string (const char *name,
                   const char *fallback)
{
  const char *value = g_getenv (name);

  /* An empty variable is how shells and compose files say "unset". */
  if (value == NULL || *value == '\0')
    return fallback;
  return value;
}

gboolean
odd_config_int (const char  *name,
                gint64       fallback,
                gint64       min,
                gint64       max,
                gint64      *out,
                GError     **error)
{
  const char *value = odd_config_string (name, NULL);
  g_autofree char *trimmed = NULL;
  gint64 parsed;
  char *end = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  if (value == NULL)
    {
      *out = fallback;
      return TRUE;
    }

  trimmed = g_strstrip (g_strdup (value));
  errno = 0;
  parsed = g_ascii_strtoll (trimmed, &end, 10);
  if (*trimmed == '\0' || end == NULL || *end != '\0' || errno != 0
      || parsed < min || parsed > max)
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0,
                   "%s=\"%s\" is not an integer in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]: "
                   "set it to one, or unset it for the default (%" G_GINT64_FORMAT ")",
                   name, value, min, max, fallback);
      return FALSE;
    }

  *out = parsed;
  return TRUE;
}

gboolean
odd_config_double (const char  *name,
                   double       fallback,
                   double       min,
                   double       max,
                   double      *out,
                   GError     **error)
{
  const char *value = odd_config_string (name, NULL);
  g_autofree char *trimmed = NULL;
  double parsed;
  char *end = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  if (value == NULL)
    {
      *out = fallback;
      return TRUE;
    }

  trimmed = g_strstrip (g_strdup (value));
  errno = 0;
  /* g_ascii_strtod: a locale with ',' as decimal separator must not change the meaning. */
  parsed = g_ascii_strtod (trimmed, &end);
  if (*trimmed == '\0' || end == NULL || *end != '\0' || errno != 0
      || !isfinite (parsed) || parsed < min || parsed > max)
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0,
                   "%s=\"%s\" is not a number in [%g, %g]: set it to one, or unset it for the "
                   "default (%g)", name, value, min, max, fallback);
      return FALSE;
    }

  *out = parsed;
  return TRUE;
}

gboolean
odd_config_bool (const char *name,
                 gboolean    fallback)
{
  const char *value = odd_config_string (name, NULL);
  static const char *const truthy[] = { "1", "true", "yes", "on" };

  if (value == NULL)
    return fallback;

  /* Any other set value ("0", "false", "off", a typo) is FALSE, as the header says. */
  for (guint i = 0; i < G_N_ELEMENTS (truthy); i++)
    if (g_ascii_strcasecmp (value, truthy[i]) == 0)
      return TRUE;
  return FALSE;
}

const char *
odd_config_instance_id (void)
{
  const char *host = odd_config_string ("HOSTNAME", NULL);

  return host != NULL ? host : g_get_host_name ();
}
