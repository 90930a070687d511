#define G_LOG_DOMAIN "odd-read-model-docs"

#include <gio/gio.h>

#include "odd-read-model-docs.h"
#include "odd-read-model-resources.h"

/* data/docs.html: its own small renderer of /openapi.json, so the page works offline and
 * behind firewalls (the reference loaded Swagger UI from a CDN). */
const char *
odd_read_model_docs_html (void)
{
  static GBytes *html;

  if (g_once_init_enter (&html))
    {
      g_autoptr(GError) error = NULL;
      GBytes *bytes;

      bytes = g_resource_lookup_data (odd_read_model_get_resource (), "/org/odd/read-model/docs.html",
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      /* A missing data file is a build bug, caught by the unit test. */
      g_assert_no_error (error);
      g_once_init_leave (&html, bytes);
    }

  /* Resource data is NUL-terminated. */
  return g_bytes_get_data (html, NULL);
}
