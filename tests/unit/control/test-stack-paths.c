#define G_LOG_DOMAIN "odd-test"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-control-error.h"
#include "odd-stack-paths.h"

typedef struct
{
  char *tmp;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("odd-paths-XXXXXX", &error);
  g_assert_no_error (error);
  g_unsetenv ("ODD_STATE_DIR");
  g_unsetenv ("ODD_PORT_BASE");
  g_unsetenv ("XDG_STATE_HOME");
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_tree (f->tmp);
  g_free (f->tmp);
}

static void
test_port_math (void)
{
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new ("/tmp/odd-x", ODD_STACK_DEFAULT_PORT_BASE);
  g_autoptr(OddStackPaths) other = odd_stack_paths_new ("/tmp/odd-x", 20000);

  g_assert_cmpint (odd_stack_paths_get_port_base (paths), ==, 18000);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_POSTGRES), ==, 18432);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_REDIS), ==, 18379);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_RABBITMQ), ==, 18672);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_RABBITMQ_DIST), ==, 18673);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_GATEWAY), ==, 18300);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_READ_MODEL), ==, 18080);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_PROCESSOR), ==, 18100);
  g_assert_cmpuint (odd_stack_paths_get_port (paths, ODD_PORT_METRICS_ENGINE), ==, 18101);
  g_assert_cmpuint (odd_stack_paths_get_port (other, ODD_PORT_GATEWAY), ==, 20300);

  /* No two components share a port, and the largest offset is the declared one. */
  for (OddPort a = 0; a < ODD_PORT_LAST; a++)
    {
      g_assert_cmpint (odd_stack_port_offset (a), <=, ODD_STACK_MAX_PORT_OFFSET);
      g_assert_nonnull (odd_stack_port_name (a));
      for (OddPort b = a + 1; b < ODD_PORT_LAST; b++)
        g_assert_cmpint (odd_stack_port_offset (a), !=, odd_stack_port_offset (b));
    }
  g_assert_cmpint (odd_stack_port_offset (ODD_PORT_RABBITMQ_DIST), ==, ODD_STACK_MAX_PORT_OFFSET);
}

static void
test_urls (void)
{
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new ("/tmp/odd-x", 18000);
  g_autofree char *pg = odd_stack_paths_postgres_url (paths);
  g_autofree char *redis = odd_stack_paths_redis_url (paths);
  g_autofree char *amqp = odd_stack_paths_rabbitmq_url (paths);
  g_autofree char *gateway = odd_stack_paths_http_url (paths, ODD_PORT_GATEWAY);
  g_autofree char *node = odd_stack_paths_rabbitmq_node (paths);
  g_autofree char *log = odd_stack_paths_log_file (paths, "gateway");
  g_autofree char *pid = odd_stack_paths_pid_file (paths, "redis");
  g_autofree char *json = odd_stack_paths_stack_json (paths);

  g_assert_cmpstr (pg, ==, "postgresql://postgres@127.0.0.1:18432/odd");
  g_assert_cmpstr (redis, ==, "redis://127.0.0.1:18379/0");
  g_assert_cmpstr (amqp, ==, "amqp://guest:guest@127.0.0.1:18672/");
  g_assert_cmpstr (gateway, ==, "http://127.0.0.1:18300");
  g_assert_cmpstr (node, ==, "odd18000@localhost");
  g_assert_cmpstr (log, ==, "/tmp/odd-x/logs/gateway.log");
  g_assert_cmpstr (pid, ==, "/tmp/odd-x/run/redis.pid");
  g_assert_cmpstr (json, ==, "/tmp/odd-x/stack.json");
  g_assert_cmpstr (odd_stack_paths_get_postgres_dir (paths), ==, "/tmp/odd-x/postgres");
}

static void
test_state_dir_env (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *xdg = g_build_filename (f->tmp, "xdg", NULL);
  g_autofree char *expected_xdg = g_build_filename (xdg, "odd", "local", NULL);
  g_autofree char *expected_home = g_build_filename (g_get_home_dir (), ".local", "state",
                                                     "odd", "local", NULL);
  g_autofree char *dir = NULL;

  dir = odd_stack_default_state_dir ();
  g_assert_cmpstr (dir, ==, expected_home);
  g_clear_pointer (&dir, g_free);

  g_setenv ("XDG_STATE_HOME", xdg, TRUE);
  dir = odd_stack_default_state_dir ();
  g_assert_cmpstr (dir, ==, expected_xdg);
  g_clear_pointer (&dir, g_free);

  /* A relative XDG_STATE_HOME is invalid per the spec and ignored. */
  g_setenv ("XDG_STATE_HOME", "relative/dir", TRUE);
  dir = odd_stack_default_state_dir ();
  g_assert_cmpstr (dir, ==, expected_home);
  g_clear_pointer (&dir, g_free);

  g_setenv ("XDG_STATE_HOME", xdg, TRUE);
  g_setenv ("ODD_STATE_DIR", f->tmp, TRUE);
  dir = odd_stack_default_state_dir ();
  g_assert_cmpstr (dir, ==, f->tmp);
}

static void
test_port_base_env (Fixture       *f,
                    gconstpointer  data)
{
  const char *invalid[] = { "abc", "80", "65000", "18000x", "-5", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStackPaths) paths = NULL;

  g_setenv ("ODD_STATE_DIR", f->tmp, TRUE);

  paths = odd_stack_paths_new_from_env (&error);
  g_assert_no_error (error);
  g_assert_cmpint (odd_stack_paths_get_port_base (paths), ==, ODD_STACK_DEFAULT_PORT_BASE);
  g_assert_cmpstr (odd_stack_paths_get_state_dir (paths), ==, f->tmp);
  g_clear_pointer (&paths, odd_stack_paths_unref);

  g_setenv ("ODD_PORT_BASE", "21000", TRUE);
  paths = odd_stack_paths_new_from_env (&error);
  g_assert_no_error (error);
  g_assert_cmpint (odd_stack_paths_get_port_base (paths), ==, 21000);
  g_clear_pointer (&paths, odd_stack_paths_unref);

  for (guint i = 0; invalid[i] != NULL; i++)
    {
      g_setenv ("ODD_PORT_BASE", invalid[i], TRUE);
      paths = odd_stack_paths_new_from_env (&error);
      g_assert_null (paths);
      g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "ODD_PORT_BASE"));
      g_clear_error (&error);
    }
}

static void
test_stack_json_round_trip (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new (f->tmp, 23000);
  g_autoptr(OddStackPaths) loaded = NULL;
  g_autoptr(OddStackPaths) from_env = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *file = NULL;
  JsonObject *root;

  odd_stack_paths_set_postgres_dir (paths, "/var/lib/odd/local-postgres/abc");
  g_assert_true (odd_stack_paths_ensure_dirs (paths, &error));
  g_assert_no_error (error);
  g_assert_true (odd_stack_paths_save (paths, &error));
  g_assert_no_error (error);

  loaded = odd_stack_paths_load (f->tmp, &error);
  g_assert_no_error (error);
  g_assert_cmpint (odd_stack_paths_get_port_base (loaded), ==, 23000);
  g_assert_cmpstr (odd_stack_paths_get_state_dir (loaded), ==, f->tmp);
  g_assert_cmpstr (odd_stack_paths_get_postgres_dir (loaded), ==,
                   "/var/lib/odd/local-postgres/abc");

  /* The file is meant for people and other tools too: the ports are spelled out. */
  file = odd_stack_paths_stack_json (paths);
  g_assert_true (json_parser_load_from_file (parser, file, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root, "ports"),
                                               "gateway"), ==, 23300);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "urls"),
                                                  "read-model"), ==, "http://127.0.0.1:23080");

  /* Without ODD_PORT_BASE, later commands follow the stack recorded there. */
  g_setenv ("ODD_STATE_DIR", f->tmp, TRUE);
  from_env = odd_stack_paths_new_from_env (&error);
  g_assert_no_error (error);
  g_assert_cmpint (odd_stack_paths_get_port_base (from_env), ==, 23000);
  g_assert_cmpstr (odd_stack_paths_get_postgres_dir (from_env), ==,
                   "/var/lib/odd/local-postgres/abc");
}

static void
test_stack_json_invalid (Fixture       *f,
                         gconstpointer  data)
{
  const char *bad[] = {
    "not json",
    "[1, 2]",
    "{\"portBase\": 5}",
    "{\"stateDir\": \"/x\"}",
    "{\"portBase\": 18000, \"postgresDir\": \"relative\"}",
    "{\"portBase\": 18000, \"replicas\": {\"processor\": 0}}",
    "{\"portBase\": 18000, \"replicas\": {\"processor\": 17}}",
    "{\"portBase\": 18000, \"replicas\": {\"gateway\": \"two\"}}",
    "{\"portBase\": 18000, \"replicas\": [3]}",
    NULL,
  };
  g_autofree char *file = g_build_filename (f->tmp, "stack.json", NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(OddStackPaths) paths = NULL;

      g_assert_true (g_file_set_contents (file, bad[i], -1, NULL));
      paths = odd_stack_paths_load (f->tmp, &error);
      g_assert_null (paths);
      g_assert_nonnull (error);
      g_clear_error (&error);

      /* A broken stack.json is reported, not silently replaced by defaults. */
      g_setenv ("ODD_STATE_DIR", f->tmp, TRUE);
      paths = odd_stack_paths_new_from_env (&error);
      g_assert_null (paths);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
}

/* Replica counts survive stack.json; every replica's own port is distinct and inside the
 * stack's range (base+80 .. base+673, what the test fixture's port slots assume). */
static void
test_replicas (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new (f->tmp, 23000);
  g_autoptr(OddStackPaths) loaded = NULL;
  g_autoptr(OddStackPaths) from_env = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  const OddPort services[] = { ODD_PORT_GATEWAY, ODD_PORT_READ_MODEL, ODD_PORT_PROCESSOR,
                               ODD_PORT_METRICS_ENGINE };

  g_assert_cmpuint (odd_stack_paths_get_replicas (paths, ODD_PORT_PROCESSOR), ==, 1);
  g_assert_cmpuint (odd_stack_paths_get_replicas (paths, ODD_PORT_POSTGRES), ==, 1);
  /* Without replicas, the ports stay those of a stack without them. */
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_PROCESSOR, 1), ==, 23100);
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_METRICS_ENGINE, 1), ==, 23101);
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_PROCESSOR, 2), ==, 23110);
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_METRICS_ENGINE, 2), ==, 23130);
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_GATEWAY, 1), ==, 23310);
  g_assert_cmpuint (odd_stack_paths_get_replica_port (paths, ODD_PORT_READ_MODEL, 2), ==, 23151);

  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    if (!odd_stack_port_is_shared (p))
      g_hash_table_add (seen, GUINT_TO_POINTER (odd_stack_paths_get_port (paths, p)));
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    for (guint r = 1; r <= ODD_STACK_MAX_REPLICAS; r++)
      {
        guint port = odd_stack_paths_get_replica_port (paths, services[i], r);

        g_assert_cmpuint (port, >=, 23080);
        g_assert_cmpuint (port, <=, 23000 + ODD_STACK_MAX_PORT_OFFSET);
        if (r == 1 && !odd_stack_port_is_shared (services[i]))
          continue;  /* the service's own port, counted above */
        g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (port)));
        g_hash_table_add (seen, GUINT_TO_POINTER (port));
      }

  odd_stack_paths_set_replicas (paths, ODD_PORT_PROCESSOR, 3);
  odd_stack_paths_set_replicas (paths, ODD_PORT_METRICS_ENGINE, 2);
  g_assert_true (odd_stack_paths_save (paths, &error));
  g_assert_no_error (error);
  loaded = odd_stack_paths_load (f->tmp, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (odd_stack_paths_get_replicas (loaded, ODD_PORT_PROCESSOR), ==, 3);
  g_assert_cmpuint (odd_stack_paths_get_replicas (loaded, ODD_PORT_METRICS_ENGINE), ==, 2);
  g_assert_cmpuint (odd_stack_paths_get_replicas (loaded, ODD_PORT_GATEWAY), ==, 1);

  /* Later commands (status, down, the UIs) see the replicas of the running stack. */
  g_setenv ("ODD_STATE_DIR", f->tmp, TRUE);
  g_setenv ("ODD_PORT_BASE", "23000", TRUE);
  from_env = odd_stack_paths_new_from_env (&error);
  g_unsetenv ("ODD_PORT_BASE");
  g_assert_no_error (error);
  g_assert_cmpuint (odd_stack_paths_get_replicas (from_env, ODD_PORT_PROCESSOR), ==, 3);
}

static void
test_parse_replicas (void)
{
  const char *bad[] = { "", "processor", "processor=0", "processor=x", "processor=17",
                        "processor=-1", "foo=2", "postgres=2", "web-terminal=2", "processor=3,",
                        "processor= 3", NULL };
  guint counts[ODD_PORT_LAST] = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (odd_stack_parse_replicas ("processor=3,metrics-engine=2,gateway=16", counts,
                                           &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts[ODD_PORT_PROCESSOR], ==, 3);
  g_assert_cmpuint (counts[ODD_PORT_METRICS_ENGINE], ==, 2);
  g_assert_cmpuint (counts[ODD_PORT_GATEWAY], ==, 16);
  g_assert_cmpuint (counts[ODD_PORT_READ_MODEL], ==, 0);

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_false (odd_stack_parse_replicas (bad[i], counts, &error));
      g_test_message ("“%s”: %s", bad[i], error->message);
      /* Every message shows how to write it right. */
      g_assert_true (strstr (error->message, "processor=3") != NULL ||
                     strstr (error->message, "from 1 to 16") != NULL ||
                     strstr (error->message, "one of: gateway") != NULL);
      g_clear_error (&error);
    }
}

/* Setting the cluster dir to the value it has must copy before it frees. */
static void
test_postgres_dir_set_to_itself (void)
{
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new ("/tmp/odd-x", ODD_STACK_DEFAULT_PORT_BASE);

  odd_stack_paths_set_postgres_dir (paths, odd_stack_paths_get_postgres_dir (paths));
  g_assert_cmpstr (odd_stack_paths_get_postgres_dir (paths), ==, "/tmp/odd-x/postgres");
}

/* As root (CI runs as root), a state dir the postgres user cannot enter moves the cluster to
 * /var/lib/odd/local-postgres/<hash>, and the caller learns where it was: the path that once
 * printed freed memory. As another user nothing moves. */
static void
test_postgres_dir_unreachable (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *state = g_build_filename (f->tmp, "state $(touch pwned) 'q' \"dq\"", NULL);
  g_autofree char *inside = g_build_filename (state, "postgres", NULL);
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new (state, ODD_STACK_DEFAULT_PORT_BASE);
  g_autoptr(OddStackPaths) again = NULL;
  g_autofree char *moved_from = NULL;
  g_autofree char *moved_again = NULL;

  g_assert_cmpint (g_chmod (f->tmp, 0700), ==, 0);
  g_assert_true (odd_stack_paths_ensure_postgres_reachable (paths, &moved_from, &error));
  g_assert_no_error (error);

  if (geteuid () != 0)
    {
      g_assert_null (moved_from);
      g_assert_cmpstr (odd_stack_paths_get_postgres_dir (paths), ==, inside);
      g_test_skip ("the cluster moves only as root");
      return;
    }

  g_assert_cmpstr (moved_from, ==, inside);
  g_assert_true (g_str_has_prefix (odd_stack_paths_get_postgres_dir (paths),
                                   ODD_STACK_ROOT_POSTGRES_DIR "/"));
  g_assert_cmpuint (strlen (odd_stack_paths_get_postgres_dir (paths)), ==,
                    strlen (ODD_STACK_ROOT_POSTGRES_DIR "/") + 12);

  /* The same state dir, the same place; once there, it stays. */
  again = odd_stack_paths_new (state, ODD_STACK_DEFAULT_PORT_BASE);
  g_assert_true (odd_stack_paths_ensure_postgres_reachable (again, &moved_again, &error));
  g_assert_cmpstr (odd_stack_paths_get_postgres_dir (again), ==,
                   odd_stack_paths_get_postgres_dir (paths));
  g_clear_pointer (&moved_again, g_free);
  g_assert_true (odd_stack_paths_ensure_postgres_reachable (again, &moved_again, &error));
  g_assert_no_error (error);
  g_assert_null (moved_again);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/control/paths/port-math", test_port_math);
  g_test_add_func ("/control/paths/urls", test_urls);
  g_test_add ("/control/paths/state-dir-env", Fixture, NULL,
              fixture_set_up, test_state_dir_env, fixture_tear_down);
  g_test_add ("/control/paths/port-base-env", Fixture, NULL,
              fixture_set_up, test_port_base_env, fixture_tear_down);
  g_test_add ("/control/paths/stack-json-round-trip", Fixture, NULL,
              fixture_set_up, test_stack_json_round_trip, fixture_tear_down);
  g_test_add ("/control/paths/stack-json-invalid", Fixture, NULL,
              fixture_set_up, test_stack_json_invalid, fixture_tear_down);
  g_test_add ("/control/paths/replicas", Fixture, NULL, fixture_set_up, test_replicas,
              fixture_tear_down);
  g_test_add_func ("/control/paths/parse-replicas", test_parse_replicas);
  g_test_add_func ("/control/paths/postgres-dir-set-to-itself", test_postgres_dir_set_to_itself);
  g_test_add ("/control/paths/postgres-dir-unreachable", Fixture, NULL,
              fixture_set_up, test_postgres_dir_unreachable, fixture_tear_down);

  return g_test_run ();
}
