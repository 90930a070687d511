/* test-schema-compat.c: breaking / additive / neutral schema changes and the $version bump */
#define G_LOG_DOMAIN "test-schema-compat"

#include "odd-contracts.h"

#include <string.h>

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

static gboolean
changes_contain (GPtrArray  *changes,
                 const char *part)
{
  for (guint i = 0; i < changes->len; i++)
    if (strstr (g_ptr_array_index (changes, i), part) != NULL)
      return TRUE;
  return FALSE;
}

/* expected.txt: the level, "version ok|insufficient", then lines that must be among the changes. */
static void
test_case (gconstpointer data)
{
  const char *dir = data;
  g_autofree char *old_path = g_build_filename (dir, "old.json", NULL);
  g_autofree char *new_path = g_build_filename (dir, "new.json", NULL);
  g_autofree char *expected_path = g_build_filename (dir, "expected.txt", NULL);
  g_autofree char *expected = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonNode) old_schema = load_json (old_path);
  g_autoptr(JsonNode) new_schema = load_json (new_path);
  g_autoptr(GPtrArray) changes = NULL;
  gboolean version_ok;
  OddCompatLevel level;

  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, NULL));
  lines = g_strsplit (g_strstrip (expected), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 2);
  /* Start from the wrong answer, so a check that never sets it fails. */
  version_ok = strcmp (lines[1], "version ok") != 0;

  level = odd_schema_compat_check (old_schema, new_schema, &changes, &version_ok);
  for (guint i = 0; i < changes->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (changes, i));

  g_assert_cmpstr (odd_compat_level_to_string (level), ==, lines[0]);
  g_assert_cmpstr (version_ok ? "version ok" : "version insufficient", ==, lines[1]);
  for (guint i = 2; lines[i] != NULL; i++)
    {
      g_test_message ("expecting a change with: %s", lines[i]);
      g_assert_true (changes_contain (changes, lines[i]));
    }
  if (level == ODD_COMPAT_NONE && g_strv_length (lines) == 2)
    g_assert_cmpuint (changes->len, ==, 0);
}

static OddCompatLevel
compare_texts (const char  *old_text,
               const char  *new_text,
               GPtrArray  **changes,
               gboolean    *version_ok)
{
  g_autoptr(JsonNode) o = odd_json_parse (old_text, -1, NULL);
  g_autoptr(JsonNode) n = odd_json_parse (new_text, -1, NULL);

  g_assert_nonnull (o);
  g_assert_nonnull (n);
  return odd_schema_compat_check (o, n, changes, version_ok);
}

static void
test_versions (void)
{
  gboolean ok = TRUE;
  g_autoptr(GPtrArray) changes = NULL;

  /* No $version at all: never ok. */
  g_assert_cmpint (compare_texts ("{}", "{}", NULL, &ok), ==, ODD_COMPAT_NONE);
  g_assert_false (ok);
  /* Not SemVer */
  compare_texts ("{\"$version\":\"1.0\"}", "{\"$version\":\"1.1\"}", NULL, &ok);
  g_assert_false (ok);
  /* Going backwards */
  compare_texts ("{\"$version\":\"1.2.0\"}", "{\"$version\":\"1.1.9\"}", NULL, &ok);
  g_assert_false (ok);
  /* A MAJOR bump covers an additive change; numbers compare as numbers, not text */
  compare_texts ("{\"$version\":\"9.0.0\",\"properties\":{}}",
                 "{\"$version\":\"10.0.0\",\"properties\":{\"a\":{}}}", &changes, &ok);
  g_assert_true (ok);
  g_assert_cmpuint (changes->len, ==, 1);
}

static void
test_rules (void)
{
  struct {
    const char     *old_text;
    const char     *new_text;
    OddCompatLevel  level;
    const char     *part;
  } cases[] = {
    { "{\"type\":\"integer\"}", "{\"type\":\"number\"}", ODD_COMPAT_ADDITIVE, "type widened" },
    { "{\"type\":\"number\"}", "{\"type\":\"integer\"}", ODD_COMPAT_BREAKING, "type changed" },
    { "{}", "{\"type\":\"string\"}", ODD_COMPAT_BREAKING, "type changed from any" },
    { "{\"type\":\"string\"}", "{}", ODD_COMPAT_ADDITIVE, "type widened" },
    { "{\"pattern\":\"^a\"}", "{\"pattern\":\"^b\"}", ODD_COMPAT_BREAKING, "pattern changed" },
    { "{\"pattern\":\"^a\"}", "{}", ODD_COMPAT_ADDITIVE, "pattern '^a' removed" },
    { "{}", "{\"format\":\"uuid\"}", ODD_COMPAT_BREAKING, "format 'uuid' added" },
    { "{\"minimum\":1}", "{\"minimum\":0}", ODD_COMPAT_ADDITIVE, "minimum relaxed" },
    { "{\"minimum\":1}", "{\"minimum\":2}", ODD_COMPAT_BREAKING, "minimum tightened" },
    { "{\"maxItems\":3}", "{}", ODD_COMPAT_ADDITIVE, "maxItems 3 removed" },
    { "{}", "{\"minItems\":1}", ODD_COMPAT_BREAKING, "minItems 1 added" },
    { "{\"additionalProperties\":false}", "{}", ODD_COMPAT_ADDITIVE, "additionalProperties relaxed" },
    { "{}", "{\"additionalProperties\":{\"type\":\"string\"}}", ODD_COMPAT_BREAKING, "restricted" },
    { "{\"additionalProperties\":{\"type\":\"string\"}}", "{\"additionalProperties\":{\"type\":\"integer\"}}",
      ODD_COMPAT_BREAKING, "#/additionalProperties: type changed" },
    { "{}", "{\"items\":{\"type\":\"string\"}}", ODD_COMPAT_BREAKING, "items restricted" },
    { "{\"enum\":[1,2]}", "{}", ODD_COMPAT_ADDITIVE, "enum removed" },
    { "{}", "{\"enum\":[1]}", ODD_COMPAT_BREAKING, "enum added" },
    { "{\"enum\":[1,\"a\"]}", "{\"enum\":[\"a\",1.0]}", ODD_COMPAT_NONE, NULL },
    { "{\"const\":1}", "{\"const\":2}", ODD_COMPAT_BREAKING, "const changed" },
    { "{\"properties\":{\"a\":true}}", "{\"properties\":{\"a\":false}}", ODD_COMPAT_BREAKING, "schema became false" },
    { "{\"properties\":{\"a\":false}}", "{\"properties\":{\"a\":{}}}", ODD_COMPAT_ADDITIVE, "no longer false" },
    { "{\"properties\":{\"a\":true}}", "{\"properties\":{\"a\":{}}}", ODD_COMPAT_NONE, NULL },
    { "{\"$id\":\"https://a/x.json\"}", "{\"$id\":\"https://b/x.json\"}", ODD_COMPAT_BREAKING, "$id changed" },
    { "{\"title\":\"A\",\"examples\":[1]}", "{\"title\":\"B\"}", ODD_COMPAT_NONE, "title changed" },
    { "{}", "{\"x-owner\":\"me\"}", ODD_COMPAT_NONE, "x-owner changed" },
    { "{}", "{\"uniqueItems\":true}", ODD_COMPAT_BREAKING, "uniqueItems" },
    { "{\"properties\":{\"a/b\":{}}}", "{}", ODD_COMPAT_BREAKING, "#/properties/a~1b: property 'a/b' removed" },
    { "{\"properties\":{\"a\":{\"$ref\":\"#/definitions/x\"}},\"definitions\":{\"x\":{\"type\":\"string\"}}}",
      "{\"properties\":{\"a\":{\"type\":\"string\"}}}", ODD_COMPAT_NONE, NULL },
    { "{\"properties\":{\"a\":{\"$ref\":\"#/definitions/gone\"}}}", "{\"properties\":{\"a\":{}}}",
      ODD_COMPAT_BREAKING, "cannot be resolved" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) changes = NULL;
      OddCompatLevel level;

      g_test_message ("%s -> %s", cases[i].old_text, cases[i].new_text);
      level = compare_texts (cases[i].old_text, cases[i].new_text, &changes, NULL);
      for (guint c = 0; c < changes->len; c++)
        g_test_message ("  %s", (const char *) g_ptr_array_index (changes, c));
      g_assert_cmpint (level, ==, cases[i].level);
      if (cases[i].part != NULL)
        g_assert_true (changes_contain (changes, cases[i].part));
      else
        g_assert_cmpuint (changes->len, ==, 0);
    }
}

static void
test_recursive_refs (void)
{
  const char *tree_v1 = "{\"$version\":\"1.0.0\",\"properties\":{\"name\":{\"type\":\"string\"},"
                        "\"children\":{\"items\":{\"$ref\":\"#\"}}}}";
  const char *tree_v2 = "{\"$version\":\"2.0.0\",\"properties\":{\"name\":{\"type\":\"integer\"},"
                        "\"children\":{\"items\":{\"$ref\":\"#\"}}}}";
  g_autoptr(GPtrArray) changes = NULL;
  gboolean ok = FALSE;

  /* Terminates, and reports the change once. */
  g_assert_cmpint (compare_texts (tree_v1, tree_v2, &changes, &ok), ==, ODD_COMPAT_BREAKING);
  g_assert_true (ok);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpstr (odd_compat_level_to_string (ODD_COMPAT_ADDITIVE), ==, "additive");
}

/* Every real schema compared with itself: no change, and its own $version is enough. */
static void
test_real_schemas_stable (void)
{
  g_autofree char *contracts = odd_contracts_dir ();
  g_autofree char *schemas = g_build_filename (contracts, "schemas", NULL);
  g_autoptr(GDir) dir = g_dir_open (schemas, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (schemas, name, NULL);
      g_autoptr(JsonNode) a = load_json (path);
      g_autoptr(JsonNode) b = load_json (path);
      g_autoptr(GPtrArray) changes = NULL;
      gboolean ok = FALSE;

      g_assert_cmpint (odd_schema_compat_check (a, b, &changes, &ok), ==, ODD_COMPAT_NONE);
      g_assert_cmpuint (changes->len, ==, 0);
      g_assert_true (ok);
      n++;
    }
  g_assert_cmpuint (n, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *contracts = NULL;
  g_autofree char *compat_dir = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_test_init (&argc, &argv, NULL);

  contracts = odd_contracts_dir ();
  compat_dir = g_build_filename (contracts, "fixtures", "compat", NULL);
  dir = g_dir_open (compat_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *test_path = g_strconcat ("/compat/fixture/", name, NULL);
      char *case_dir = g_build_filename (compat_dir, name, NULL);

      g_ptr_array_add (cases, case_dir);
      g_test_add_data_func (test_path, case_dir, test_case);
    }
  /* The brief asks for at least eight cases; fewer means fixtures went missing. */
  g_assert_cmpuint (cases->len, >=, 8);

  g_test_add_func ("/compat/versions", test_versions);
  g_test_add_func ("/compat/rules", test_rules);
  g_test_add_func ("/compat/recursive-refs", test_recursive_refs);
  g_test_add_func ("/compat/real-schemas-stable", test_real_schemas_stable);

  return g_test_run ();
}
