#define G_LOG_DOMAIN "odd-read-model-openapi"

#include <gio/gio.h>

#include "odd-build-config.h"
#include "odd-envelope.h"
#include "odd-read-model-openapi.h"
#include "odd-read-model-resources.h"

/* The document is data (data/openapi.json, compiled in as a resource) so that it reads like
 * the API it describes; only info.version is filled in here. */
JsonNode *
odd_read_model_openapi (void)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *document;
  JsonObject *info;
  gsize len = 0;
  const char *text;

  bytes = g_resource_lookup_data (odd_read_model_get_resource (), "/org/odd/read-model/openapi.json",
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  /* Both failures are build bugs (a missing or broken data file), caught by the unit test. */
  g_assert_no_error (error);
  text = g_bytes_get_data (bytes, &len);
  document = odd_json_parse (text, len, &error);
  g_assert_no_error (error);

  info = json_object_get_object_member (json_node_get_object (document), "info");
  json_object_set_string_member (info, "version", ODD_VERSION);

  return document;
}
