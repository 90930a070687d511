/* odd-gateway-openapi.c: the gateway's OpenAPI 3.0.3 document
 *
 * The document is written by hand in data/openapi.json (easier to review than C building
 * JSON) and embedded as a resource; only what depends on the build and the process (version,
 * server URL) is filled in here.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include "odd-gateway-private.h"
#include "odd-gateway-resources.h"

#define OPENAPI_RESOURCE "/org/oddessentials/Observatory/gateway/openapi.json"

/* Parsed once; each caller gets a copy to change and free. */
static JsonNode *
openapi_template (void)
{
  static JsonNode *template = NULL;

  if (g_once_init_enter (&template))
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      JsonNode *parsed;
      gsize len;
      const char *data;

      bytes = g_resource_lookup_data (odd_gateway_get_resource (), OPENAPI_RESOURCE,
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      /* Both are built in and checked by the tests: failing here is a build bug. */
      if (bytes == NULL)
        g_error ("Missing resource %s: %s", OPENAPI_RESOURCE, error->message);
      data = g_bytes_get_data (bytes, &len);
      parsed = odd_json_parse (data, (gssize) len, &error);
      if (parsed == NULL)
        g_error ("Built-in OpenAPI document is not JSON: %s", error->message);

      g_once_init_leave (&template, parsed);
    }

  return template;
}

JsonNode *
odd_gateway_openapi_document (guint port)
{
  JsonNode *document = json_node_copy (openapi_template ());
  JsonObject *root = json_node_get_object (document);
  JsonObject *info = json_object_get_object_member (root, "info");
  JsonArray *servers = json_object_get_array_member (root, "servers");
  g_autofree char *url = g_strdup_printf ("http://localhost:%u", port != 0 ? port : 3000);

  json_object_set_string_member (info, "version", ODD_VERSION);
  json_object_set_string_member (json_array_get_object_element (servers, 0), "url", url);

  return document;
}
