#define G_LOG_DOMAIN "odd-me-servers"

#include "odd-me-servers.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "odd-service.h"

#define RABBITMQ_BIN "/usr/lib/rabbitmq/bin"

struct _OddMeServers
{
  char        *dir;
  char        *pg_bindir;
  uid_t        pg_uid;
  gid_t        pg_gid;
  GSubprocess *postgres;
  GSubprocess *redis;
  char        *rabbitmq_node;
  char       **rabbitmq_env;
  gboolean     started_epmd;
  char        *postgres_url;
  char        *redis_url;
  char        *rabbitmq_url;
};

static char *
find_pg_bindir (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  const char *name;
  char *best = NULL;
  guint best_version = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      guint version = (guint) g_ascii_strtoull (name, NULL, 10);
      g_autofree char *initdb = g_build_filename ("/usr/lib/postgresql", name, "bin", "initdb", NULL);

      if (version > best_version && g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE))
        {
          g_free (best);
          best = g_build_filename ("/usr/lib/postgresql", name, "bin", NULL);
          best_version = version;
        }
    }
  return best;
}

static gboolean
port_is_free (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

/* A free loopback port in 19000-19999 (the range this project's tests may use). */
guint
odd_me_free_port (void)
{
  for (int i = 0; i < 2000; i++)
    {
      guint port = 19000 + g_random_int_range (0, 1000);

      if (port_is_free (port))
        return port;
    }
  g_error ("no free port in 19000-19999");
}

static void
become_postgres (gpointer data)
{
  OddMeServers *self = data;

  /* In the child, before exec: PostgreSQL refuses to run as root. */
  if (getuid () == 0 && (setgid (self->pg_gid) != 0 || setuid (self->pg_uid) != 0))
    _exit (127);
}

static GSubprocess *
spawn (OddMeServers       *self,
       gboolean            as_postgres,
       char              **envp,
       GSubprocessFlags    flags,
       const char *const  *argv,
       GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  if (as_postgres)
    g_subprocess_launcher_set_child_setup (launcher, become_postgres, self, NULL);
  if (envp != NULL)
    g_subprocess_launcher_set_environ (launcher, envp);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

/* Runs @argv to its end; FALSE with its output in @error when it fails. */
static gboolean
run (OddMeServers       *self,
     gboolean            as_postgres,
     char              **envp,
     const char *const  *argv,
     GError            **error)
{
  g_autoptr(GSubprocess) process = spawn (self, as_postgres, envp,
                                          G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                          argv, error);
  g_autofree char *output = NULL;

  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, error))
    return FALSE;
  if (!g_subprocess_get_successful (process))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0], output);
      return FALSE;
    }
  return TRUE;
}

static gboolean
wait_connectable (const char *what,
                  const char *url,
                  guint       timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GError) error = NULL;

      if (g_str_equal (what, "redis"))
        {
          g_autoptr(redisContext) ctx = odd_redis_connect (url, &error);
          if (ctx != NULL)
            return TRUE;
        }
      else if (g_str_equal (what, "postgres"))
        {
          g_autoptr(PGconn) conn = odd_pg_connect (url, &error);
          if (conn != NULL)
            return TRUE;
        }
      else
        {
          amqp_connection_state_t conn = odd_amqp_connect (url, "metrics-engine test probe", &error);
          if (conn != NULL)
            {
              odd_amqp_close (conn);
              return TRUE;
            }
        }
      g_usleep (100 * 1000);
    }
  return FALSE;
}

static gboolean
start_postgres (OddMeServers  *self,
                GError       **error)
{
  g_autofree char *data = g_build_filename (self->dir, "pg", NULL);
  g_autofree char *initdb = g_build_filename (self->pg_bindir, "initdb", NULL);
  g_autofree char *postgres = g_build_filename (self->pg_bindir, "postgres", NULL);
  g_autofree char *port = g_strdup_printf ("%u", odd_me_free_port ());

  if (g_mkdir (data, 0700) != 0 || chown (data, self->pg_uid, self->pg_gid) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot prepare %s", data);
      return FALSE;
    }
  if (!run (self, TRUE, NULL,
            (const char *[]) { initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
                               "--locale=C", "-E", "UTF8", NULL }, error))
    return FALSE;

  self->postgres = spawn (self, TRUE, NULL,
                          G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                          (const char *[]) { postgres, "-D", data, "-p", port,
                                             "-c", "listen_addresses=127.0.0.1",
                                             "-c", "unix_socket_directories=",
                                             "-c", "fsync=off", "-c", "full_page_writes=off", NULL },
                          error);
  if (self->postgres == NULL)
    return FALSE;
  self->postgres_url = g_strdup_printf ("postgresql://postgres@127.0.0.1:%s/postgres", port);
  if (!wait_connectable ("postgres", self->postgres_url, 60))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the private PostgreSQL did not start");
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_redis (OddMeServers  *self,
             GError       **error)
{
  g_autofree char *port = g_strdup_printf ("%u", odd_me_free_port ());

  self->redis = spawn (self, FALSE, NULL, G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                       (const char *[]) { "redis-server", "--port", port, "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--dir", self->dir,
                                          NULL },
                       error);
  if (self->redis == NULL)
    return FALSE;
  self->redis_url = g_strdup_printf ("redis://127.0.0.1:%s/0", port);
  if (!wait_connectable ("redis", self->redis_url, 30))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the private Redis did not start");
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_rabbitmq (OddMeServers  *self,
                GError       **error)
{
  g_autofree char *base = g_build_filename (self->dir, "rabbitmq", NULL);
  g_autofree char *plugins = g_build_filename (base, "enabled_plugins", NULL);
  g_autofree char *config = g_build_filename (base, "rabbitmq", NULL);
  g_autofree char *config_file = g_build_filename (base, "rabbitmq.conf", NULL);
  g_autofree char *pid = g_build_filename (base, "pid", NULL);
  g_autofree char *mnesia = g_build_filename (base, "mnesia", NULL);
  g_autofree char *logs = g_build_filename (base, "log", NULL);
  g_autofree char *port = g_strdup_printf ("%u", odd_me_free_port ());
  g_autofree char *dist = g_strdup_printf ("%u", odd_me_free_port ());
  g_autofree char *server = g_build_filename (RABBITMQ_BIN, "rabbitmq-server", NULL);
  g_autofree char *ctl = g_build_filename (RABBITMQ_BIN, "rabbitmqctl", NULL);
  char **envp = g_get_environ ();

  g_mkdir_with_parents (base, 0700);
  if (!g_file_set_contents (plugins, "[].\n", -1, error)
      || !g_file_set_contents (config_file, "", -1, error))
    return FALSE;

  self->started_epmd = port_is_free (4369);
  self->rabbitmq_node = g_strdup_printf ("odd-me-test-%d@localhost", getpid ());
  envp = g_environ_setenv (envp, "ERL_EPMD_ADDRESS", "127.0.0.1", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                           "-kernel inet_dist_use_interface {127,0,0,1}", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODENAME", self->rabbitmq_node, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODE_PORT", port, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_DIST_PORT", dist, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_MNESIA_BASE", mnesia, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_LOG_BASE", logs, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_PID_FILE", pid, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_ENABLED_PLUGINS_FILE", plugins, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_CONFIG_FILE", config, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_CONF_ENV_FILE", "/dev/null", TRUE);
  self->rabbitmq_env = envp;

  if (!run (self, FALSE, envp, (const char *[]) { server, "-detached", NULL }, error))
    return FALSE;
  self->rabbitmq_url = g_strdup_printf ("amqp://guest:guest@127.0.0.1:%s/", port);
  /* The pid file appears before the node is up; polling the AMQP port is what counts. */
  if (!run (self, FALSE, envp, (const char *[]) { ctl, "wait", pid, "--timeout", "90", NULL }, error)
      || !wait_connectable ("rabbitmq", self->rabbitmq_url, 90))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the private RabbitMQ did not start");
      return FALSE;
    }
  return TRUE;
}

OddMeServers *
odd_me_servers_start (char **reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *redis_server = g_find_program_in_path ("redis-server");
  g_autofree char *rabbitmq = g_build_filename (RABBITMQ_BIN, "rabbitmq-server", NULL);
  OddMeServers *self = g_new0 (OddMeServers, 1);

  self->pg_bindir = find_pg_bindir ();
  self->pg_uid = getuid ();
  self->pg_gid = getgid ();
  if (self->pg_uid == 0)
    {
      struct passwd *pw = getpwnam ("postgres");

      if (pw != NULL)
        {
          self->pg_uid = pw->pw_uid;
          self->pg_gid = pw->pw_gid;
        }
    }
  if (redis_server == NULL || self->pg_bindir == NULL || self->pg_uid == 0
      || !g_file_test (rabbitmq, G_FILE_TEST_IS_EXECUTABLE))
    {
      *reason = g_strdup ("no ODD_TEST_* URLs, and no redis-server, PostgreSQL server, RabbitMQ "
                          "server or (as root) postgres user to start private ones");
      odd_me_servers_stop (self);
      return NULL;
    }

  self->dir = g_dir_make_tmp ("odd-metrics-engine-test-XXXXXX", &error);
  if (self->dir != NULL)
    g_chmod (self->dir, 0755);  /* the postgres user must reach its data directory */
  if (self->dir == NULL || !start_postgres (self, &error) || !start_redis (self, &error)
      || !start_rabbitmq (self, &error))
    {
      *reason = g_strdup_printf ("private servers: %s", error->message);
      odd_me_servers_stop (self);
      return NULL;
    }
  return self;
}

static void
stop_process (GSubprocess **process)
{
  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      g_object_unref (info);
      remove_tree (child);
    }
  return g_remove (path) == 0;
}

void
odd_me_servers_stop (OddMeServers *self)
{
  if (self == NULL)
    return;

  if (self->rabbitmq_env != NULL)
    {
      g_autofree char *ctl = g_build_filename (RABBITMQ_BIN, "rabbitmqctl", NULL);
      g_autofree char *pid_file = g_build_filename (self->dir, "rabbitmq", "pid", NULL);
      g_autofree char *pid_text = NULL;
      g_autoptr(GError) error = NULL;

      if (!run (self, FALSE, self->rabbitmq_env, (const char *[]) { ctl, "shutdown", NULL }, &error)
          && g_file_get_contents (pid_file, &pid_text, NULL, NULL))
        {
          /* Could not ask it to stop: stop it anyway, nothing of it may outlive the tests. */
          pid_t pid = (pid_t) g_ascii_strtoll (pid_text, NULL, 10);

          if (pid > 1)
            kill (pid, SIGKILL);
        }
      if (self->started_epmd)
        {
          g_autofree char *epmd = g_find_program_in_path ("epmd");

          /* Refuses (harmlessly) while another node is registered. */
          if (epmd != NULL)
            run (self, FALSE, self->rabbitmq_env, (const char *[]) { epmd, "-kill", NULL }, NULL);
        }
      g_strfreev (self->rabbitmq_env);
    }
  stop_process (&self->redis);
  stop_process (&self->postgres);
  if (self->dir != NULL && g_getenv ("ODD_TEST_KEEP_STATE") == NULL)
    remove_tree (self->dir);

  g_free (self->dir);
  g_free (self->pg_bindir);
  g_free (self->rabbitmq_node);
  g_free (self->postgres_url);
  g_free (self->redis_url);
  g_free (self->rabbitmq_url);
  g_free (self);
}

const char *
odd_me_servers_postgres_url (OddMeServers *self)
{
  return self->postgres_url;
}

const char *
odd_me_servers_redis_url (OddMeServers *self)
{
  return self->redis_url;
}

const char *
odd_me_servers_rabbitmq_url (OddMeServers *self)
{
  return self->rabbitmq_url;
}
