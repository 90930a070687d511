/* odd-contract-cli.c: the `odd-contract` command (validate, compat, list) */
#define G_LOG_DOMAIN "odd-contract-cli"

#include "odd-contract-cli.h"
#include "odd-contracts.h"

#include <stdio.h>
#include <string.h>

enum {
  EXIT_OK = 0,
  EXIT_INVALID = 1,
  EXIT_USAGE = 2,
};

static const char usage[] =
  "Usage:\n"
  "  odd-contract validate SCHEMA FILE...   validate JSON files against a schema\n"
  "  odd-contract compat OLD.json NEW.json  classify a schema change, check its $version bump\n"
  "  odd-contract list                      list the schemas with their $id and $version\n"
  "  odd-contract --help                    show this help\n"
  "\n"
  "SCHEMA is a schema name (\"job\", \"event-envelope\"), its $id, or the path of a schema file.\n"
  "FILE \"-\" reads standard input.\n"
  "Schemas come from $CONTRACTS_PATH/schemas, else the installed contracts (now: %s/schemas).\n"
  "\n"
  "Exit status: validate 0 = all valid, 1 = some invalid; compat 0 = the bump is enough,\n"
  "1 = it is not; 2 = usage, I/O or schema loading error.\n";

static int
print_usage (FILE *stream)
{
  g_autofree char *dir = odd_contracts_dir ();

  fprintf (stream, usage, dir);
  return stream == stdout ? EXIT_OK : EXIT_USAGE;
}

static gboolean
read_file (const char  *path,
           char       **contents,
           gsize       *length,
           GError     **error)
{
  if (strcmp (path, "-") == 0)
    {
      g_autoptr(GString) data = g_string_new (NULL);
      char buf[8192];
      size_t n;

      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (data, buf, (gssize) n);
      if (ferror (stdin))
        {
          g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot read standard input");
          return FALSE;
        }
      *length = data->len;
      *contents = g_string_free (g_steal_pointer (&data), FALSE);
      return TRUE;
    }

  return g_file_get_contents (path, contents, length, error);
}

static JsonNode *
load_json_file (const char  *path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!read_file (path, &contents, &length, error))
    return NULL;
  return odd_json_parse (contents, (gssize) length, error);
}

/* A path (it names an existing file) loads only that schema; a name uses the contracts. */
static OddSchemaRegistry *
registry_for (const char  *schema,
              char       **name,
              GError     **error)
{
  g_autoptr(OddSchemaRegistry) registry = NULL;

  if ((strchr (schema, '/') != NULL || g_str_has_suffix (schema, ".json")) &&
      g_file_test (schema, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *base = g_path_get_basename (schema);

      registry = odd_schema_registry_new ();
      if (!odd_schema_registry_load_file (registry, schema, error))
        return NULL;
      *name = g_str_has_suffix (base, ".json") ? g_strndup (base, strlen (base) - 5) : g_strdup (base);
      return g_steal_pointer (&registry);
    }

  if (strchr (schema, '/') != NULL && !g_str_has_prefix (schema, "https://") &&
      !g_str_has_prefix (schema, "http://"))
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                   "no schema file at %s: check the path, or give a name from `odd-contract list`", schema);
      return NULL;
    }

  registry = odd_schema_registry_new_default (error);
  if (registry == NULL)
    return NULL;
  if (!odd_schema_registry_has (registry, schema))
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                   "unknown schema '%s': run `odd-contract list` for the names, or pass a schema file path",
                   schema);
      return NULL;
    }
  *name = g_strdup (schema);
  return g_steal_pointer (&registry);
}

static int
cmd_validate (int    argc,
              char **argv)
{
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  int status = EXIT_OK;

  if (argc < 2)
    {
      fprintf (stderr, "odd-contract validate: give a schema and at least one file, "
                       "e.g. `odd-contract validate job job.json`\n");
      return EXIT_USAGE;
    }

  registry = registry_for (argv[0], &name, &error);
  if (registry == NULL)
    {
      fprintf (stderr, "odd-contract: %s\n", error->message);
      return EXIT_USAGE;
    }

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(JsonNode) instance = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      g_autoptr(GError) local_error = NULL;

      instance = load_json_file (argv[i], &local_error);
      if (instance == NULL)
        {
          if (local_error->domain == JSON_PARSER_ERROR)
            {
              /* Bad content is an invalid instance, not a usage problem. */
              printf ("%s: %s\n", argv[i], local_error->message);
              if (status == EXIT_OK)
                status = EXIT_INVALID;
            }
          else
            {
              fprintf (stderr, "odd-contract: %s: %s (check the file path)\n", argv[i], local_error->message);
              status = EXIT_USAGE;
            }
          continue;
        }

      errors = odd_schema_registry_validate (registry, name, instance, &local_error);
      g_assert (errors != NULL);  /* the name was checked by registry_for() */

      if (errors->len == 0)
        {
          printf ("%s: ok\n", argv[i]);
          continue;
        }
      for (guint e = 0; e < errors->len; e++)
        {
          OddValidationError *ve = g_ptr_array_index (errors, e);
          printf ("%s: %s: %s\n", argv[i], ve->path[0] != '\0' ? ve->path : "(root)", ve->message);
        }
      if (status == EXIT_OK)
        status = EXIT_INVALID;
    }

  return status;
}

static const char *
version_of (JsonNode *schema)
{
  JsonNode *v;

  if (!JSON_NODE_HOLDS_OBJECT (schema))
    return "(none)";
  v = json_object_get_member (json_node_get_object (schema), "$version");
  if (v == NULL || !JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
    return "(none)";
  return json_node_get_string (v);
}

static int
cmd_compat (int    argc,
            char **argv)
{
  g_autoptr(JsonNode) old_schema = NULL;
  g_autoptr(JsonNode) new_schema = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  OddCompatLevel level;
  gboolean version_ok = FALSE;
  const char *need;

  if (argc != 2)
    {
      fprintf (stderr, "odd-contract compat: give the old and the new schema file, "
                       "e.g. `odd-contract compat old/job.json contracts/schemas/job.json`\n");
      return EXIT_USAGE;
    }

  old_schema = load_json_file (argv[0], &error);
  if (old_schema == NULL)
    {
      fprintf (stderr, "odd-contract: %s: %s\n", argv[0], error->message);
      return EXIT_USAGE;
    }
  new_schema = load_json_file (argv[1], &error);
  if (new_schema == NULL)
    {
      fprintf (stderr, "odd-contract: %s: %s\n", argv[1], error->message);
      return EXIT_USAGE;
    }

  level = odd_schema_compat_check (old_schema, new_schema, &changes, &version_ok);

  printf ("level: %s\n", odd_compat_level_to_string (level));
  for (guint i = 0; i < changes->len; i++)
    printf ("  %s\n", (const char *) g_ptr_array_index (changes, i));

  if (level == ODD_COMPAT_BREAKING)
    need = "a MAJOR bump";
  else if (level == ODD_COMPAT_ADDITIVE)
    need = "at least a MINOR bump";
  else if (changes->len > 0)
    need = "at least a PATCH bump";
  else
    need = "no bump";

  printf ("version: %s -> %s: %s (%s needed)\n",
          version_of (old_schema), version_of (new_schema),
          version_ok ? "ok" : "insufficient", need);
  return version_ok ? EXIT_OK : EXIT_INVALID;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  /* g_ptr_array_sort() passes pointers to the slots. */
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static int
cmd_list (void)
{
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *contracts = odd_contracts_dir ();
  g_autofree char *schemas = g_build_filename (contracts, "schemas", NULL);
  const char *file;

  registry = odd_schema_registry_new_default (&error);
  if (registry == NULL)
    {
      fprintf (stderr, "odd-contract: %s\n", error->message);
      return EXIT_USAGE;
    }

  dir = g_dir_open (schemas, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "odd-contract: %s\n", error->message);
      return EXIT_USAGE;
    }
  while ((file = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (file, ".json"))
      g_ptr_array_add (names, g_strndup (file, strlen (file) - 5));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      JsonNode *schema = odd_schema_registry_get_schema (registry, name);
      JsonNode *id = json_object_get_member (json_node_get_object (schema), "$id");

      printf ("%-16s %-8s %s\n", name, version_of (schema),
              id != NULL && JSON_NODE_HOLDS_VALUE (id) ? json_node_get_string (id) : "(no $id)");
    }

  return EXIT_OK;
}

int
odd_contract_cli_run (int    argc,
                      char **argv)
{
  const char *command;

  if (argc < 2)
    return print_usage (stderr);

  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0 || strcmp (command, "help") == 0)
    return print_usage (stdout);
  if (strcmp (command, "validate") == 0)
    return cmd_validate (argc - 2, argv + 2);
  if (strcmp (command, "compat") == 0)
    return cmd_compat (argc - 2, argv + 2);
  if (strcmp (command, "list") == 0 && argc == 2)
    return cmd_list ();

  fprintf (stderr, "odd-contract: unknown command '%s'; run `odd-contract --help`\n", command);
  return EXIT_USAGE;
}
