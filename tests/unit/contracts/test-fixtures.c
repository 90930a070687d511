/* test-fixtures.c: every golden fixture validates, every negative one fails for its stated
 * reason, every schema is versioned and listed in VERSIONS.md */
#define G_LOG_DOMAIN "test-fixtures"

#include "odd-contracts.h"

#include <string.h>

static OddSchemaRegistry *registry;
static char *contracts;

static JsonNode *
load_json (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  JsonNode *node;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  node = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  return node;
}

/* The schema of a fixture is the file-name prefix before "--". */
static char *
schema_of (const char *file)
{
  const char *sep = strstr (file, "--");

  g_assert_nonnull (sep);
  return g_strndup (file, (gsize) (sep - file));
}

static GPtrArray *
list_fixtures (const char *kind)
{
  g_autofree char *path = g_build_filename (contracts, "fixtures", kind, NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (files, g_strdup (name));
  return files;
}

static GPtrArray *
validate_fixture (const char *kind,
                  const char *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (contracts, "fixtures", kind, file, NULL);
  g_autofree char *schema = schema_of (file);
  g_autoptr(JsonNode) instance = load_json (path);
  GPtrArray *errors;

  g_assert_true (odd_schema_registry_has (registry, schema));
  errors = odd_schema_registry_validate (registry, schema, instance, &error);
  g_assert_no_error (error);
  return errors;
}

static void
test_golden (void)
{
  g_autoptr(GPtrArray) files = list_fixtures ("golden");
  g_autoptr(GHashTable) schemas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autoptr(GPtrArray) errors = validate_fixture ("golden", file);
      g_autofree char *text = odd_validation_errors_to_string (errors);

      g_test_message ("%s: %s", file, errors->len == 0 ? "ok" : text);
      g_assert_cmpstr (text, ==, "");
      g_hash_table_add (schemas, schema_of (file));
    }

  g_assert_cmpuint (files->len, >=, 14);
  /* The core contracts each have golden examples. */
  g_assert_true (g_hash_table_contains (schemas, "job"));
  g_assert_true (g_hash_table_contains (schemas, "event-envelope"));
  g_assert_true (g_hash_table_contains (schemas, "job-accepted"));
  g_assert_true (g_hash_table_contains (schemas, "error"));
  g_assert_true (g_hash_table_contains (schemas, "dead-letter"));
  g_assert_true (g_hash_table_contains (schemas, "stats"));
  g_assert_true (g_hash_table_contains (schemas, "job-detail"));
}

typedef struct {
  char *path;
  char *message;
  gboolean seen;
} Expectation;

static void
expectation_free (Expectation *e)
{
  g_free (e->path);
  g_free (e->message);
  g_free (e);
}

/* file → GPtrArray of Expectation */
static GHashTable *
load_expected (void)
{
  g_autofree char *path = g_build_filename (contracts, "fixtures", "negative", "EXPECTED.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify) g_ptr_array_unref);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      GPtrArray *list;
      Expectation *e;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      fields = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, 3);

      list = g_hash_table_lookup (expected, fields[0]);
      if (list == NULL)
        {
          list = g_ptr_array_new_with_free_func ((GDestroyNotify) expectation_free);
          g_hash_table_insert (expected, g_strdup (fields[0]), list);
        }
      e = g_new0 (Expectation, 1);
      e->path = g_strdup (fields[1]);
      e->message = g_strdup (fields[2]);
      g_ptr_array_add (list, e);
    }
  return expected;
}

static void
test_negative (void)
{
  g_autoptr(GPtrArray) files = list_fixtures ("negative");
  g_autoptr(GHashTable) expected = load_expected ();

  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autoptr(GPtrArray) errors = validate_fixture ("negative", file);
      g_autofree char *text = odd_validation_errors_to_string (errors);
      GPtrArray *list = g_hash_table_lookup (expected, file);

      g_test_message ("%s: %s", file, text);
      g_assert_cmpuint (errors->len, >, 0);
      /* Every negative fixture says why it must fail. */
      g_assert_nonnull (list);
      g_assert_cmpuint (errors->len, ==, list->len);

      for (guint e = 0; e < errors->len; e++)
        {
          OddValidationError *ve = g_ptr_array_index (errors, e);
          gboolean matched = FALSE;

          for (guint x = 0; x < list->len && !matched; x++)
            {
              Expectation *exp = g_ptr_array_index (list, x);

              if (!exp->seen && strcmp (exp->path, ve->path) == 0 && strstr (ve->message, exp->message) != NULL)
                exp->seen = matched = TRUE;
            }
          if (!matched)
            g_test_message ("unexpected error: '%s' %s", ve->path, ve->message);
          g_assert_true (matched);
        }
      g_hash_table_remove (expected, file);
    }

  /* No expectation is left without its fixture. */
  g_assert_cmpuint (g_hash_table_size (expected), ==, 0);
  g_assert_cmpuint (files->len, >=, 28);
}

static void
test_schemas_versioned (void)
{
  g_autofree char *schemas = g_build_filename (contracts, "schemas", NULL);
  g_autofree char *versions_path = g_build_filename (contracts, "VERSIONS.md", NULL);
  g_autofree char *versions = NULL;
  g_autoptr(GDir) dir = g_dir_open (schemas, 0, NULL);
  g_autoptr(GRegex) semver = g_regex_new ("^\\d+\\.\\d+\\.\\d+$", 0, 0, NULL);
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;
  guint n = 0;

  g_assert_true (g_file_get_contents (versions_path, &versions, NULL, NULL));
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (schemas, name, NULL);
      g_autofree char *stem = g_strndup (name, strlen (name) - 5);
      g_autofree char *expected_id = g_strdup_printf ("https://odd-demonstration.local/schemas/%s", name);
      g_autofree char *row = NULL;
      g_autoptr(JsonNode) schema = load_json (path);
      JsonObject *o = json_node_get_object (schema);
      const char *id = json_object_get_string_member_with_default (o, "$id", "");
      const char *version = json_object_get_string_member_with_default (o, "$version", "");

      g_test_message ("%s: %s %s", name, id, version);
      g_assert_cmpstr (json_object_get_string_member_with_default (o, "$schema", ""), ==,
                       "http://json-schema.org/draft-07/schema#");
      g_assert_cmpstr (id, ==, expected_id);
      g_assert_false (g_hash_table_contains (ids, id));
      g_hash_table_add (ids, g_strdup (id));
      g_assert_true (g_regex_match (semver, version, 0, NULL));
      g_assert_true (odd_schema_registry_has (registry, stem));

      /* Its row in VERSIONS.md: | `name` | version | */
      row = g_strdup_printf ("| `%s` | %s |", stem, version);
      g_assert_nonnull (strstr (versions, row));
      n++;
    }
  g_assert_cmpuint (n, >=, 19);
}

static void
test_ui_registry (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (contracts, "ui-registry.json", NULL);
  g_autoptr(JsonNode) instance = load_json (path);
  g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "ui-registry", instance, &error);
  g_autofree char *text = odd_validation_errors_to_string (errors);
  JsonArray *entries;
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "");

  entries = json_object_get_array_member (json_node_get_object (instance), "entries");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      const char *id = json_object_get_string_member (json_array_get_object_element (entries, i), "id");

      /* Launchers key on the id. */
      g_assert_false (g_hash_table_contains (ids, id));
      g_hash_table_add (ids, (gpointer) id);
    }
  g_assert_true (g_hash_table_contains (ids, "gateway-docs"));
  g_assert_true (g_hash_table_contains (ids, "read-model-docs"));
  g_assert_true (g_hash_table_contains (ids, "grafana"));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  contracts = odd_contracts_dir ();
  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

  g_test_add_func ("/fixtures/golden", test_golden);
  g_test_add_func ("/fixtures/negative", test_negative);
  g_test_add_func ("/fixtures/schemas-versioned", test_schemas_versioned);
  g_test_add_func ("/fixtures/ui-registry", test_ui_registry);

  status = g_test_run ();
  g_clear_object (&registry);
  g_free (contracts);
  return status;
}
