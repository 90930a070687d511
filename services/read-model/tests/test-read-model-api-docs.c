/* Unit tests of GET /openapi.json and GET /docs content (no server needed). */
#include <string.h>

#include "odd-build-config.h"
#include "odd-read-model-docs.h"
#include "odd-read-model-openapi.h"

static JsonNode *
resolve_pointer (JsonNode   *root,
                 const char *ref)
{
  g_auto(GStrv) parts = NULL;
  JsonNode *node = root;

  g_assert_true (g_str_has_prefix (ref, "#/"));
  parts = g_strsplit (ref + 2, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !json_object_has_member (json_node_get_object (node), parts[i]))
        return NULL;
      node = json_object_get_member (json_node_get_object (node), parts[i]);
    }
  return node;
}

/* Every $ref in the document points at something. */
static void
check_refs (JsonNode *root,
            JsonNode *node,
            guint    *n_refs)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (object);

      if (json_object_has_member (object, "$ref"))
        {
          const char *ref = json_object_get_string_member (object, "$ref");

          if (resolve_pointer (root, ref) == NULL)
            g_error ("dangling $ref %s", ref);
          (*n_refs)++;
        }
      for (GList *l = members; l != NULL; l = l->next)
        check_refs (root, json_object_get_member (object, l->data), n_refs);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        check_refs (root, json_array_get_element (array, i), n_refs);
    }
}

static void
test_openapi (void)
{
  g_autoptr(JsonNode) doc = odd_read_model_openapi ();
  JsonObject *root = json_node_get_object (doc);
  JsonObject *info = json_object_get_object_member (root, "info");
  JsonObject *contact = json_object_get_object_member (info, "contact");
  JsonObject *paths = json_object_get_object_member (root, "paths");
  JsonArray *servers = json_object_get_array_member (root, "servers");
  const char *expected_paths[] = {
    "/health", "/healthz", "/readyz", "/metrics", "/stats", "/stats/series", "/jobs/recent",
    "/jobs", "/jobs/{id}", "/events", "/queues", "/dlq", "/alerts", "/openapi.json", "/docs",
  };
  guint n_refs = 0;

  g_assert_cmpstr (json_object_get_string_member (root, "openapi"), ==, "3.0.3");
  g_assert_cmpstr (json_object_get_string_member (info, "title"), ==, "Read Model API");
  g_assert_nonnull (strstr (json_object_get_string_member (info, "description"),
                            "provides aggregated statistics and query endpoints"));
  g_assert_cmpstr (json_object_get_string_member (info, "version"), ==, ODD_VERSION);
  g_assert_cmpstr (json_object_get_string_member (contact, "name"), ==, "Odd Essentials");
  g_assert_cmpstr (json_object_get_string_member (contact, "url"), ==, "https://oddessentials.com");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (servers, 0), "url"),
                   ==, "http://localhost:8080");

  g_assert_cmpuint (json_object_get_size (paths), ==, G_N_ELEMENTS (expected_paths));
  for (guint i = 0; i < G_N_ELEMENTS (expected_paths); i++)
    {
      JsonObject *item;
      JsonObject *get;
      JsonObject *responses;

      if (!json_object_has_member (paths, expected_paths[i]))
        g_error ("path %s missing", expected_paths[i]);
      item = json_object_get_object_member (paths, expected_paths[i]);
      /* Read only: GET is the one method documented. */
      g_assert_cmpuint (json_object_get_size (item), ==, 1);
      get = json_object_get_object_member (item, "get");
      g_assert_nonnull (get);
      g_assert_true (json_object_has_member (get, "summary"));
      responses = json_object_get_object_member (get, "responses");
      g_assert_true (json_object_has_member (responses, "200"));
    }

  /* Parameters named in the API. */
  {
    JsonObject *jobs = json_object_get_object_member (json_object_get_object_member (paths, "/jobs"), "get");
    JsonArray *params = json_object_get_array_member (jobs, "parameters");
    g_autoptr(GString) names = g_string_new (NULL);

    for (guint i = 0; i < json_array_get_length (params); i++)
      g_string_append_printf (names, "%s,", json_object_get_string_member (json_array_get_object_element (params, i), "name"));
    g_assert_cmpstr (names->str, ==, "status,type,q,limit,cursor,order,");
  }
  {
    JsonObject *events = json_object_get_object_member (json_object_get_object_member (paths, "/events"), "get");
    JsonArray *params = json_object_get_array_member (events, "parameters");

    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (params, 0), "name"), ==, "jobId");
  }

  check_refs (doc, doc, &n_refs);
  g_assert_cmpuint (n_refs, >, 20);
}

static void
test_openapi_fresh_copies (void)
{
  g_autoptr(JsonNode) a = odd_read_model_openapi ();
  g_autoptr(JsonNode) b = odd_read_model_openapi ();

  /* Each call returns its own document: a caller may change it. */
  g_assert_true (a != b);
  g_assert_true (json_node_equal (a, b));
}

static void
test_docs (void)
{
  const char *html = odd_read_model_docs_html ();

  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE html>"));
  g_assert_nonnull (strstr (html, "/openapi.json"));
  /* The reference's page was Swagger UI; its markers stay for clients that look for them. */
  g_assert_nonnull (strstr (html, "swagger-ui"));
  g_assert_nonnull (strstr (html, "SwaggerUIBundle"));
  g_assert_nonnull (strstr (html, "dom_id"));
  /* Self-hosted: nothing loaded from elsewhere. */
  g_assert_null (strstr (html, "unpkg"));
  g_assert_null (strstr (html, "cdn"));
  g_assert_null (strstr (html, "src=\"http"));
  g_assert_null (strstr (html, "href=\"http"));
  g_assert_nonnull (strstr (html, "</html>"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/read-model/api-docs/openapi", test_openapi);
  g_test_add_func ("/read-model/api-docs/openapi-copies", test_openapi_fresh_copies);
  g_test_add_func ("/read-model/api-docs/docs", test_docs);

  return g_test_run ();
}
