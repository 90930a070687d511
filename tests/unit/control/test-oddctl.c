#define G_LOG_DOMAIN "odd-test"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>

/* The oddctl binary, passed by meson as the first argument. */
static const char *oddctl;

typedef struct
{
  char *state_dir;
} Fixture;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_free (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

static Result *
run (Fixture     *f,
     const char  *port_base,
     ...)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  Result *r = g_new0 (Result, 1);
  va_list args;

  g_ptr_array_add (argv, (char *) oddctl);
  va_start (args, port_base);
  for (const char *arg = va_arg (args, const char *); arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "ODD_STATE_DIR", f->state_dir, TRUE);
  if (port_base != NULL)
    g_subprocess_launcher_setenv (launcher, "ODD_PORT_BASE", port_base, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "ODD_PORT_BASE");

  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child));
  r->status = g_subprocess_get_exit_status (child);

  return r;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->state_dir = g_dir_make_tmp ("odd-oddctl-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *logs = g_build_filename (f->state_dir, "logs", NULL);
  g_autofree char *log = g_build_filename (logs, "redis.log", NULL);

  g_unlink (log);
  g_rmdir (logs);
  g_rmdir (f->state_dir);
  g_free (f->state_dir);
}

static void
test_usage (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(Result) help = run (f, NULL, "--help", NULL);
  g_autoptr(Result) version = run (f, NULL, "--version", NULL);
  g_autoptr(Result) none = run (f, NULL, NULL);
  const char * const bad[][3] = {
    { "frobnicate", NULL },
    { "local", NULL },
    { "local", "sideways", NULL },
    { "local", "up", "now" },
    { "local", "status", "--yaml" },
    { "local", "logs", NULL },
    { "local", "logs", "nginx" },
    { "local", "queue-limit", NULL },
    { "local", "queue-limit", "lots" },
    { "local", "queue-limit", "-5" },
    { "local", "up", "--replicas" },
    { "local", "up", "--replicas=processor=0" },
    { "local", "up", "--replicas=foo=2" },
    { "local", "up", "--replicas=processor=x" },
    { "local", "up", "--replicas=processor=17" },
  };

  g_assert_cmpint (help->status, ==, 0);
  g_assert_nonnull (strstr (help->out, "local up"));
  g_assert_nonnull (strstr (help->out, "ODD_PORT_BASE"));
  g_assert_cmpint (version->status, ==, 0);
  g_assert_true (g_str_has_prefix (version->out, "oddctl 0.1.0"));
  g_assert_cmpint (none->status, ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Result) r = run (f, NULL, bad[i][0], bad[i][1], bad[i][2], NULL);

      g_test_message ("%s %s %s → %d: %s", bad[i][0], bad[i][1], bad[i][2], r->status, r->err);
      g_assert_cmpint (r->status, ==, 2);
      g_assert_true (g_str_has_prefix (r->err, "oddctl: "));
    }
}

static void
test_status_stopped (Fixture       *f,
                     gconstpointer  data)
{
  /* Ports far from anything: nothing runs there, so all is stopped. */
  g_autoptr(Result) table = run (f, "24100", "local", "status", NULL);
  g_autoptr(Result) json = run (f, "24100", "local", "status", "--json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *components;

  g_assert_cmpint (table->status, ==, 1);
  g_assert_nonnull (strstr (table->out, "gateway           stopped"));
  g_assert_nonnull (strstr (table->out, "http://127.0.0.1:24400"));

  g_assert_cmpint (json->status, ==, 1);
  g_assert_true (json_parser_load_from_data (parser, json->out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "portBase"), ==, 24100);
  components = json_object_get_array_member (root, "components");
  g_assert_cmpuint (json_array_get_length (components), ==, 8);
  for (guint i = 0; i < 8; i++)
    {
      JsonObject *c = json_array_get_object_element (components, i);

      g_assert_true (json_object_get_null_member (c, "pid"));
      g_assert_false (json_object_get_boolean_member (c, "healthy"));
      g_assert_nonnull (json_object_get_string_member (c, "url"));
    }
}

static void
test_bad_port_base (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Result) r = run (f, "lots", "local", "status", NULL);

  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, "ODD_PORT_BASE=lots is invalid"));
}

static void
test_queue_limit_stopped (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Result) r = run (f, "24100", "local", "queue-limit", "500", NULL);

  /* the policy lives on a running broker: say how to get one */
  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, "RabbitMQ is not running"));
  g_assert_nonnull (strstr (r->err, "oddctl local up"));
}

static void
test_logs (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *logs = g_build_filename (f->state_dir, "logs", NULL);
  g_autofree char *log = g_build_filename (logs, "redis.log", NULL);
  g_autoptr(Result) missing = run (f, "24100", "local", "logs", "redis", NULL);
  g_autoptr(Result) present = NULL;

  g_assert_cmpint (missing->status, ==, 1);
  g_assert_nonnull (strstr (missing->err, "no log yet for redis"));

  g_assert_cmpint (g_mkdir_with_parents (logs, 0755), ==, 0);
  g_assert_true (g_file_set_contents (log, "first line\nReady to accept connections\n", -1, NULL));
  present = run (f, "24100", "local", "logs", "redis", NULL);
  g_assert_cmpint (present->status, ==, 0);
  g_assert_cmpstr (present->out, ==, "first line\nReady to accept connections\n");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (argc < 2)
    g_error ("usage: %s ODDCTL", argv[0]);
  oddctl = argv[1];

  g_test_add ("/oddctl/usage", Fixture, NULL, fixture_set_up, test_usage, fixture_tear_down);
  g_test_add ("/oddctl/queue-limit-stopped", Fixture, NULL, fixture_set_up,
              test_queue_limit_stopped, fixture_tear_down);
  g_test_add ("/oddctl/status-stopped", Fixture, NULL,
              fixture_set_up, test_status_stopped, fixture_tear_down);
  g_test_add ("/oddctl/bad-port-base", Fixture, NULL,
              fixture_set_up, test_bad_port_base, fixture_tear_down);
  g_test_add ("/oddctl/logs", Fixture, NULL, fixture_set_up, test_logs, fixture_tear_down);

  return g_test_run ();
}
