/* test-cli.c: the installed `odd-contract` over the fixtures (suite "data")
 *
 * Usage: test-cli PATH-TO-odd-contract
 */
#define G_LOG_DOMAIN "test-cli"

#include "odd-contracts.h"

#include <gio/gio.h>

#include <string.h>

static const char *cli;
static char *contracts;

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs the CLI with the NULL-terminated arguments; @env_contracts NULL keeps CONTRACTS_PATH. */
static void
run (Run        *r,
     const char *env_contracts,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = g_get_environ ();
  const char *arg;
  int wait_status = 0;
  va_list args;

  g_ptr_array_add (argv, (gpointer) cli);
  va_start (args, env_contracts);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  if (env_contracts != NULL)
    envp = g_environ_setenv (envp, "CONTRACTS_PATH", env_contracts, TRUE);

  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

static char *
fixture (const char *kind,
         const char *name)
{
  return g_build_filename (contracts, "fixtures", kind, name, NULL);
}

static void
test_golden (void)
{
  g_autofree char *dir_path = g_build_filename (contracts, "fixtures", "golden", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_auto(Run) r = { 0 };
      g_autofree char *schema = g_strndup (name, (gsize) (strstr (name, "--") - name));
      g_autofree char *path = fixture ("golden", name);
      g_autofree char *ok_line = g_strdup_printf ("%s: ok\n", path);

      run (&r, NULL, "validate", schema, path, NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpstr (r.out, ==, ok_line);
    }
}

static void
test_negative (void)
{
  g_autofree char *expected_path = fixture ("negative", "EXPECTED.tsv");
  g_autofree char *expected = NULL;
  g_auto(GStrv) lines = NULL;
  guint checked = 0;

  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, NULL));
  lines = g_strsplit (expected, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(Run) r = { 0 };
      g_auto(GStrv) fields = NULL;
      g_autofree char *schema = NULL;
      g_autofree char *path = NULL;
      g_autofree char *line = NULL;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      fields = g_strsplit (lines[i], "\t", 3);
      schema = g_strndup (fields[0], (gsize) (strstr (fields[0], "--") - fields[0]));
      path = fixture ("negative", fields[0]);
      line = g_strdup_printf ("%s: %s: %s", path, fields[1][0] ? fields[1] : "(root)", fields[2]);

      run (&r, NULL, "validate", schema, path, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.out, line));
      checked++;
    }
  g_assert_cmpuint (checked, >=, 28);
}

static void
test_mixed (void)
{
  g_auto(Run) r = { 0 };
  g_autofree char *good = fixture ("golden", "job--minimal.json");
  g_autofree char *bad = fixture ("negative", "job--missing-id.json");
  g_autofree char *missing = fixture ("golden", "job--does-not-exist.json");
  g_autofree char *schema_path = g_build_filename (contracts, "schemas", "job.json", NULL);

  /* One invalid file makes the whole run 1; all files are still checked. */
  run (&r, NULL, "validate", "job", bad, good, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.out, ": ok\n"));
  run_clear (&r);

  /* A schema given as a path, and by $id */
  run (&r, NULL, "validate", schema_path, good, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  run (&r, NULL, "validate", "https://odd-demonstration.local/schemas/job.json", good, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);

  /* A missing file is an I/O error (2), reported on stderr with a hint. */
  run (&r, NULL, "validate", "job", missing, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "check the file path"));
}

static void
test_stdin (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              cli, "validate", "job-accepted", "-", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "{\"jobId\":\"x\"}", NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
  g_assert_cmpstr (out, ==,
                   "-: (root): must have required property 'eventId'\n"
                   "-: /jobId: must be a valid uuid\n");
}

static void
test_usage_errors (void)
{
  g_auto(Run) r = { 0 };

  run (&r, NULL, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "Usage:"));
  run_clear (&r);

  run (&r, NULL, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "odd-contract validate SCHEMA FILE"));
  run_clear (&r);

  run (&r, NULL, "frobnicate", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--help"));
  run_clear (&r);

  run (&r, NULL, "validate", "job", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  run (&r, NULL, "validate", "no-such-schema", "x.json", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "odd-contract list"));
  run_clear (&r);

  run (&r, NULL, "validate", "/nonexistent/schema.json", "x.json", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "no schema file at /nonexistent/schema.json"));
  run_clear (&r);

  run (&r, "/nonexistent/contracts", "list", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "CONTRACTS_PATH"));
  run_clear (&r);

  run (&r, NULL, "compat", "only-one.json", NULL);
  g_assert_cmpint (r.status, ==, 2);
}

static void
test_compat (void)
{
  g_autofree char *dir_path = g_build_filename (contracts, "fixtures", "compat", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_auto(Run) r = { 0 };
      g_autofree char *old_path = g_build_filename (dir_path, name, "old.json", NULL);
      g_autofree char *new_path = g_build_filename (dir_path, name, "new.json", NULL);
      g_autofree char *expected_path = g_build_filename (dir_path, name, "expected.txt", NULL);
      g_autofree char *expected = NULL;
      g_autofree char *level_line = NULL;
      g_auto(GStrv) lines = NULL;

      g_assert_true (g_file_get_contents (expected_path, &expected, NULL, NULL));
      lines = g_strsplit (expected, "\n", -1);
      level_line = g_strdup_printf ("level: %s\n", lines[0]);

      run (&r, NULL, "compat", old_path, new_path, NULL);
      g_assert_true (g_str_has_prefix (r.out, level_line));
      g_assert_cmpint (r.status, ==, strcmp (lines[1], "version ok") == 0 ? 0 : 1);
      n++;
    }
  g_assert_cmpuint (n, >=, 8);
}

static void
test_list (void)
{
  g_auto(Run) r = { 0 };
  g_autofree char *schemas = g_build_filename (contracts, "schemas", NULL);
  g_autoptr(GDir) dir = g_dir_open (schemas, 0, NULL);
  const char *name;

  run (&r, NULL, "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *id = g_strdup_printf (" https://odd-demonstration.local/schemas/%s\n", name);
      g_assert_nonnull (strstr (r.out, id));
    }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-odd-contract\n", argv[0]);
      return 2;
    }
  cli = argv[1];
  contracts = odd_contracts_dir ();

  g_test_add_func ("/cli/golden", test_golden);
  g_test_add_func ("/cli/negative", test_negative);
  g_test_add_func ("/cli/mixed", test_mixed);
  g_test_add_func ("/cli/stdin", test_stdin);
  g_test_add_func ("/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/compat", test_compat);
  g_test_add_func ("/cli/list", test_list);

  status = g_test_run ();
  g_free (contracts);
  return status;
}
