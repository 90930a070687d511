#define G_LOG_DOMAIN "odd-control"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-component.h"
#include "odd-control-error.h"
#include "odd-probe.h"
#include "odd-process.h"
#include "odd-programs.h"

#define SERVICE_STOP_TIMEOUT_MS  10000
#define SERVER_READY_TIMEOUT_MS  60000
#define SERVICE_READY_TIMEOUT_MS 30000
#define INITDB_TIMEOUT_MS        180000
#define CTL_TIMEOUT_MS           90000
#define RABBITMQ_LIB_BIN         "/usr/lib/rabbitmq/bin"
/* In the data dir, included by postgresql.conf: the settings oddctl owns. */
#define POSTGRES_SETTINGS_FILE   "odd-stack.conf"

struct _OddComponent
{
  GObject           parent_instance;

  OddComponentKind  kind;
  char             *name;     /* "processor", "processor-2", ... */
  char             *service;  /* the program's name: "processor" */
  OddPort           port;
  guint             replica;  /* 1-based */
  OddStackPaths    *paths;
  GStrv             env;
};

G_DEFINE_FINAL_TYPE (OddComponent, odd_component, G_TYPE_OBJECT)

static void
odd_component_finalize (GObject *object)
{
  OddComponent *self = ODD_COMPONENT (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->service, g_free);
  g_clear_pointer (&self->paths, odd_stack_paths_unref);
  g_clear_pointer (&self->env, g_strfreev);

  G_OBJECT_CLASS (odd_component_parent_class)->finalize (object);
}

static void
odd_component_class_init (OddComponentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_component_finalize;
}

static void
odd_component_init (OddComponent *self)
{
}

OddComponent *
odd_component_new (OddComponentKind  kind,
                   const char       *name,
                   OddPort           port,
                   OddStackPaths    *paths)
{
  OddComponent *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (paths != NULL, NULL);

  self = g_object_new (ODD_TYPE_COMPONENT, NULL);
  self->kind = kind;
  self->name = g_strdup (name);
  self->service = g_strdup (name);
  self->port = port;
  self->replica = 1;
  self->paths = odd_stack_paths_ref (paths);

  return self;
}

OddComponent *
odd_component_new_replica (const char    *service,
                           OddPort        port,
                           guint          replica,
                           OddStackPaths *paths)
{
  OddComponent *self;

  g_return_val_if_fail (replica >= 1 && replica <= ODD_STACK_MAX_REPLICAS, NULL);

  self = odd_component_new (ODD_COMPONENT_SERVICE, service, port, paths);
  self->replica = replica;
  if (replica > 1)
    {
      g_free (self->name);
      self->name = g_strdup_printf ("%s-%u", service, replica);
    }

  return self;
}

const char *
odd_component_get_service (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), NULL);

  return self->service;
}

guint
odd_component_get_replica (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), 1);

  return self->replica;
}

const char *
odd_component_get_name (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), NULL);

  return self->name;
}

OddComponentKind
odd_component_get_kind (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), 0);

  return self->kind;
}

guint16
odd_component_get_port (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), 0);

  if (self->kind == ODD_COMPONENT_SERVICE)
    return odd_stack_paths_get_replica_port (self->paths, self->port, self->replica);
  return odd_stack_paths_get_port (self->paths, self->port);
}

char *
odd_component_dup_url (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), NULL);

  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      return odd_stack_paths_postgres_url (self->paths);
    case ODD_COMPONENT_REDIS:
      return odd_stack_paths_redis_url (self->paths);
    case ODD_COMPONENT_RABBITMQ:
      return odd_stack_paths_rabbitmq_url (self->paths);
    case ODD_COMPONENT_SERVICE:
    default:
      if (odd_stack_port_is_shared (self->port))
        return odd_stack_paths_http_url (self->paths, self->port);
      return g_strdup_printf ("http://127.0.0.1:%u", odd_component_get_port (self));
    }
}

char *
odd_component_dup_log_file (OddComponent *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), NULL);

  return odd_stack_paths_log_file (self->paths, self->name);
}

void
odd_component_set_env (OddComponent       *self,
                       const char * const *env)
{
  g_return_if_fail (ODD_IS_COMPONENT (self));

  g_clear_pointer (&self->env, g_strfreev);
  self->env = g_strdupv ((char **) env);
}

/* ------------------------------------------------------------------------------------ */
/* Where things are */

static char *
postgres_data_dir (OddComponent *self)
{
  return g_build_filename (odd_stack_paths_get_postgres_dir (self->paths), "data", NULL);
}

static char *
postgres_socket_dir (OddComponent *self)
{
  return g_build_filename (odd_stack_paths_get_postgres_dir (self->paths), "sock", NULL);
}

/* Where the pid of the running process is recorded. */
static char *
pid_file (OddComponent *self)
{
  /* PostgreSQL and RabbitMQ (RABBITMQ_PID_FILE) write theirs; for the others we write it. */
  return odd_stack_paths_pid_file (self->paths, self->name);
}

/* The process name in /proc/<pid>/stat, to tell our process from a reused pid. */
static char *
process_name (OddComponent *self)
{
  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      return g_strdup ("postgres");
    case ODD_COMPONENT_REDIS:
      return g_strdup ("redis-server");
    case ODD_COMPONENT_RABBITMQ:
      return g_strdup ("beam.smp");
    case ODD_COMPONENT_SERVICE:
    default:
      return g_strconcat ("odd-", self->service, NULL);
    }
}

GPid
odd_component_get_pid (OddComponent *self)
{
  g_autofree char *file = NULL;
  g_autofree char *comm = NULL;
  GPid pid;

  g_return_val_if_fail (ODD_IS_COMPONENT (self), 0);

  file = pid_file (self);
  comm = process_name (self);
  pid = odd_process_read_pid_file (file);
  if (pid != 0 && odd_process_is_alive (pid, comm))
    return pid;

  return 0;
}

/* PostgreSQL is probed and prepared with its own client programs rather than libpq: libpq
 * would bring its TLS and Kerberos libraries (4.5 MB) into every client of libodd-control,
 * the terminal dashboard included. */
static gboolean
postgres_client_run (OddComponent  *self,
                     const char    *program,
                     const char    *log_file,
                     GCancellable  *cancellable,
                     GError       **error,
                     ...) G_GNUC_NULL_TERMINATED;

static gboolean
postgres_client_run (OddComponent  *self,
                     const char    *program,
                     const char    *log_file,
                     GCancellable  *cancellable,
                     GError       **error,
                     ...)
{
  g_autofree char *bindir = odd_programs_find_postgres_bindir (error);
  g_autofree char *port = g_strdup_printf ("%u", odd_component_get_port (self));
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  va_list args;

  if (bindir == NULL)
    return FALSE;
  g_ptr_array_add (argv, g_build_filename (bindir, program, NULL));
  /* trust authentication on loopback: any OS user may connect as postgres */
  g_ptr_array_add (argv, g_strdup ("-h"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("-p"));
  g_ptr_array_add (argv, g_strdup (port));
  g_ptr_array_add (argv, g_strdup ("-U"));
  g_ptr_array_add (argv, g_strdup ("postgres"));
  va_start (args, error);
  for (const char *arg = va_arg (args, const char *); arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  return odd_process_run ((const char * const *) argv->pdata, NULL, NULL, log_file, 10000,
                          cancellable, error);
}

static gboolean
probe (OddComponent *self,
       GCancellable *cancellable)
{
  guint16 port = odd_component_get_port (self);

  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      /* Accepting connections only once recovery is over, as pg_isready would say. */
      return odd_probe_postgres (port, cancellable);
    case ODD_COMPONENT_REDIS:
    case ODD_COMPONENT_RABBITMQ:
      return odd_probe_tcp (port, cancellable);
    case ODD_COMPONENT_SERVICE:
    default:
      return odd_probe_http_status (port, "/readyz", cancellable) == 200;
    }
}

gboolean
odd_component_is_healthy (OddComponent *self,
                          GCancellable *cancellable)
{
  g_return_val_if_fail (ODD_IS_COMPONENT (self), FALSE);

  return odd_component_get_pid (self) != 0 && probe (self, cancellable);
}

/* ------------------------------------------------------------------------------------ */
/* Programs */

static gboolean
running_as_root (void)
{
  return geteuid () == 0;
}

static char *
find_runuser (GError **error)
{
  const char *dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", NULL };

  return odd_programs_find_server ("runuser", dirs, "util-linux", error);
}

/* PostgreSQL refuses to run as root; as root its programs run as the postgres user. */
static GPtrArray *
postgres_argv (const char  *bindir,
               const char  *program,
               GError     **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  if (running_as_root ())
    {
      char *runuser = find_runuser (error);

      if (runuser == NULL)
        return NULL;
      g_ptr_array_add (argv, runuser);
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup ("postgres"));
      g_ptr_array_add (argv, g_strdup ("--"));
    }
  g_ptr_array_add (argv, g_build_filename (bindir, program, NULL));

  return g_steal_pointer (&argv);
}

static void
argv_add (GPtrArray  *argv,
          const char *first,
          ...)
{
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
}

static const char * const *
argv_end (GPtrArray *argv)
{
  g_ptr_array_add (argv, NULL);
  return (const char * const *) argv->pdata;
}

static char *
find_redis (GError **error)
{
  const char *dirs[] = { "/usr/bin", "/usr/local/bin", NULL };

  return odd_programs_find_server ("redis-server", dirs, "redis-server", error);
}

static char *
find_rabbitmq (const char  *program,
               GError     **error)
{
  const char *dirs[] = { RABBITMQ_LIB_BIN, NULL };

  return odd_programs_find_server (program, dirs, "rabbitmq-server", error);
}

gboolean
odd_component_check_programs (OddComponent  *self,
                              GError       **error)
{
  g_autofree char *found = NULL;
  gboolean in_build_tree;

  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      found = odd_programs_find_postgres_bindir (error);
      if (found != NULL && running_as_root ())
        {
          g_autofree char *runuser = find_runuser (error);

          if (runuser == NULL)
            return FALSE;
          if (getpwnam ("postgres") == NULL)
            {
              g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
                           "PostgreSQL refuses to run as root and there is no postgres user. "
                           "Install the server with: sudo apt-get install -y postgresql");
              return FALSE;
            }
        }
      break;
    case ODD_COMPONENT_REDIS:
      found = find_redis (error);
      break;
    case ODD_COMPONENT_RABBITMQ:
      found = find_rabbitmq ("rabbitmq-server", error);
      if (found != NULL)
        {
          g_autofree char *ctl = find_rabbitmq ("rabbitmqctl", error);

          if (ctl == NULL)
            return FALSE;
        }
      break;
    case ODD_COMPONENT_SERVICE:
    default:
      found = odd_programs_find_service (self->service, &in_build_tree, error);
      break;
    }

  return found != NULL;
}

static gboolean
make_dir (const char  *dir,
          int          mode,
          GError     **error)
{
  if (g_mkdir_with_parents (dir, mode) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create %s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* PostgreSQL */

/* rm -r, without following symbolic links; a missing @path is fine. */
static gboolean
remove_tree (const char  *path,
             GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) local_error = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, &local_error);
  if (children == NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return TRUE;

  if (children != NULL)
    {
      for (;;)
        {
          GFileInfo *info = NULL;
          GFile *child = NULL;
          g_autofree char *child_path = NULL;

          if (!g_file_enumerator_iterate (children, &info, &child, NULL, error))
            return FALSE;
          if (info == NULL)
            break;
          child_path = g_file_get_path (child);
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            {
              if (!remove_tree (child_path, error))
                return FALSE;
            }
          else if (!g_file_delete (child, NULL, error))
            return FALSE;
        }
    }
  g_clear_error (&local_error);

  /* Not a directory (enumeration failed with NOT_DIRECTORY) or now empty. */
  return g_file_delete (file, NULL, error);
}

static gboolean
chown_to_postgres (const char  *path,
                   GError     **error)
{
  struct passwd *pw = getpwnam ("postgres");

  if (pw == NULL)
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
                   "There is no postgres user. Install the server with: "
                   "sudo apt-get install -y postgresql");
      return FALSE;
    }

  if (chown (path, pw->pw_uid, pw->pw_gid) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot hand %s to the postgres user: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

/* A value for postgresql.conf: single-quoted, with ' and \ escaped. */
static char *
postgres_conf_quote (const char *value)
{
  GString *out = g_string_new ("'");

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\'' || *p == '\\')
        g_string_append_c (out, *p);
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');

  return g_string_free (out, FALSE);
}

/* The stack's settings (port, socket dir) go into a file of the data dir that
 * postgresql.conf includes, rewritten at each start: the port follows the port base. */
static gboolean
postgres_write_settings (OddComponent  *self,
                         const char    *data,
                         const char    *sock,
                         GError       **error)
{
  static const char include[] = "include_if_exists = '" POSTGRES_SETTINGS_FILE "'";
  g_autofree char *conf = g_build_filename (data, "postgresql.conf", NULL);
  g_autofree char *settings_file = g_build_filename (data, POSTGRES_SETTINGS_FILE, NULL);
  g_autofree char *conf_text = NULL;
  g_autofree char *sock_list = NULL;
  g_autofree char *sock_value = NULL;
  g_autofree char *settings = NULL;
  g_autoptr(GString) escaped = g_string_new ("\"");

  /* unix_socket_directories is a list: one element in double quotes ("" inside). */
  if (strchr (sock, '\n') != NULL || strchr (sock, '\r') != NULL)
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "The PostgreSQL socket directory %s contains a line break; "
                   "set ODD_STATE_DIR to a path without one", sock);
      return FALSE;
    }
  /* A socket's path is at most 107 bytes (sun_path); a Flatpak's state dir
   * (~/.var/app/<id>/.local/state/...) is past that. Every client of the stack connects over
   * TCP, so then PostgreSQL gets no socket rather than refusing to start. */
  if (strlen (sock) + strlen ("/.s.PGSQL.65535") >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
    g_string_truncate (escaped, 0);
  else
    {
      for (const char *p = sock; *p != '\0'; p++)
        {
          if (*p == '"')
            g_string_append_c (escaped, '"');
          g_string_append_c (escaped, *p);
        }
      g_string_append_c (escaped, '"');
    }
  sock_list = g_string_free (g_steal_pointer (&escaped), FALSE);
  sock_value = postgres_conf_quote (sock_list);

  /* backend_flush_after: a backend that writes out a dirty page asks the kernel to write it
   * to disk soon (sync_file_range), as PostgreSQL's checkpointer and background writer
   * already do on Linux. Left to the kernel, a minute at full rate left ~300 MB of our tables
   * dirty, written all at once when the oldest page was 30 s old; RabbitMQ's confirm fsyncs
   * waited behind that, and 1 % of submissions took over 50 ms (docs/performance.md). */
  settings = g_strdup_printf ("# Written by oddctl at each start of the local stack.\n"
                              "port = %u\n"
                              "unix_socket_directories = %s\n"
                              "listen_addresses = '127.0.0.1'\n"
                              "max_connections = 200\n"
                              "backend_flush_after = 256kB\n",
                              odd_component_get_port (self), sock_value);
  if (!g_file_set_contents (settings_file, settings, -1, error))
    return FALSE;
  if (running_as_root () && !chown_to_postgres (settings_file, error))
    return FALSE;

  if (!g_file_get_contents (conf, &conf_text, NULL, error))
    return FALSE;
  if (strstr (conf_text, include) == NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (conf);
      g_autoptr(GFileOutputStream) out = g_file_append_to (file, G_FILE_CREATE_NONE, NULL, error);
      g_autofree char *line = g_strconcat ("\n# The local stack's port and socket directory\n",
                                           include, "\n", NULL);

      if (out == NULL ||
          !g_output_stream_write_all (G_OUTPUT_STREAM (out), line, strlen (line), NULL, NULL, error) ||
          !g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
postgres_create_database (OddComponent  *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autofree char *script = g_build_filename (odd_stack_paths_get_postgres_dir (self->paths),
                                              "create-database.sql", NULL);

  /* \gexec runs the CREATE only when the database is missing (CREATE DATABASE cannot run
   * inside a DO block); psql reads it from a file because -c takes no meta-commands. */
  if (!g_file_set_contents (script,
                            "SELECT 'CREATE DATABASE odd'\n"
                            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'odd')\n"
                            "\\gexec\n", -1, error))
    return FALSE;

  return postgres_client_run (self, "psql", log_file, cancellable, error,
                              "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
                              "-f", script, NULL);
}

static gboolean
postgres_start (OddComponent  *self,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *pg_dir = odd_stack_paths_get_postgres_dir (self->paths);
  g_autofree char *bindir = NULL;
  g_autofree char *data = postgres_data_dir (self);
  g_autofree char *sock = postgres_socket_dir (self);
  g_autofree char *version_file = g_build_filename (data, "PG_VERSION", NULL);
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_auto(GStrv) envp = NULL;
  g_autoptr(GPtrArray) argv = NULL;

  bindir = odd_programs_find_postgres_bindir (error);
  if (bindir == NULL)
    return FALSE;

  if (!make_dir (pg_dir, 0700, error) || !make_dir (sock, 0700, error))
    return FALSE;
  if (running_as_root () &&
      (!chown_to_postgres (pg_dir, error) || !chown_to_postgres (sock, error)))
    return FALSE;

  if (!g_file_test (version_file, G_FILE_TEST_EXISTS))
    {
      /* initdb builds the cluster aside and it becomes data/ only when complete: an
       * interrupted first `up` must not leave a cluster that looks made but is not. */
      g_autofree char *staging = g_strconcat (data, ".initdb", NULL);

      if (!remove_tree (staging, error) || !remove_tree (data, error))
        return FALSE;
      argv = postgres_argv (bindir, "initdb", error);
      if (argv == NULL)
        return FALSE;
      argv_add (argv, "-D", staging, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8", NULL);
      if (!odd_process_run (argv_end (argv), NULL, pg_dir, log_file, INITDB_TIMEOUT_MS,
                            cancellable, error))
        return FALSE;
      g_clear_pointer (&argv, g_ptr_array_unref);
      if (g_rename (staging, data) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Cannot rename %s to %s: %s", staging, data, g_strerror (saved_errno));
          return FALSE;
        }
    }

  if (!postgres_write_settings (self, data, sock, error))
    return FALSE;

  /* pg_ctl runs the postmaster through /bin/sh with its -D and -o in the command line; with
   * neither (PGDATA in the environment, the settings in the data dir) that line holds no
   * path of ours. */
  argv = postgres_argv (bindir, "pg_ctl", error);
  if (argv == NULL)
    return FALSE;
  envp = g_environ_setenv (g_get_environ (), "PGDATA", data, TRUE);
  /* No -l: the postmaster inherits our log file as stdout and stderr. */
  argv_add (argv, "-w", "-t", "60", "start", NULL);
  if (!odd_process_run (argv_end (argv), (const char * const *) envp, pg_dir, log_file,
                        CTL_TIMEOUT_MS, cancellable, error))
    return FALSE;

  return postgres_create_database (self, cancellable, error);
}

static gboolean
postgres_stop (OddComponent  *self,
               GError       **error)
{
  g_autofree char *bindir = odd_programs_find_postgres_bindir (error);
  g_autofree char *data = postgres_data_dir (self);
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autoptr(GPtrArray) argv = NULL;

  if (bindir == NULL)
    return FALSE;

  argv = postgres_argv (bindir, "pg_ctl", error);
  if (argv == NULL)
    return FALSE;
  argv_add (argv, "-D", data, "-m", "fast", "-w", "-t", "60", "stop", NULL);

  return odd_process_run (argv_end (argv), NULL, odd_stack_paths_get_postgres_dir (self->paths),
                          log_file, CTL_TIMEOUT_MS, NULL, error);
}

/* ------------------------------------------------------------------------------------ */
/* Redis and services: a long-running child we start and record */

static gboolean
spawn_recorded (OddComponent        *self,
                const char * const  *argv,
                const char * const  *envp,
                const char          *cwd,
                GError             **error)
{
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autofree char *file = pid_file (self);
  g_autoptr(GSubprocess) subprocess = NULL;
  GPid pid;

  subprocess = odd_process_spawn (argv, envp, cwd, log_file, error);
  if (subprocess == NULL)
    return FALSE;

  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (subprocess), NULL, 10);
  if (!odd_process_write_pid_file (file, pid, error))
    {
      g_subprocess_force_exit (subprocess);
      return FALSE;
    }

  /* Dropping our reference is fine: GSubprocess keeps watching (and reaps) the child. */
  return TRUE;
}

static gboolean
redis_start (OddComponent  *self,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree char *program = find_redis (error);
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "redis");
  g_autofree char *port = g_strdup_printf ("%u", odd_component_get_port (self));
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  if (program == NULL || !make_dir (dir, 0700, error))
    return FALSE;

  /* Not daemonized: we record its pid and it logs to stdout, our log file. The append-only
   * file keeps the aggregates across a restart (they can be rebuilt from PostgreSQL, but
   * that takes a replay). */
  g_ptr_array_add (argv, g_steal_pointer (&program));
  argv_add (argv, "--port", port, "--bind", "127.0.0.1", "--dir", dir,
            "--daemonize", "no", "--logfile", "", "--save", "", "--appendonly", "yes", NULL);

  return spawn_recorded (self, argv_end (argv), NULL, dir, error);
}

static char **
service_environ (OddComponent *self)
{
  char **envp = g_get_environ ();

  for (guint i = 0; self->env != NULL && self->env[i] != NULL; i++)
    {
      const char *eq = strchr (self->env[i], '=');
      g_autofree char *key = NULL;

      if (eq == NULL)
        continue;
      key = g_strndup (self->env[i], eq - self->env[i]);
      envp = g_environ_setenv (envp, key, eq + 1, TRUE);
    }

  return envp;
}

static gboolean
service_start (OddComponent  *self,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autofree char *program = NULL;
  g_auto(GStrv) envp = NULL;
  gboolean in_build_tree = FALSE;
  const char *argv[2] = { NULL, NULL };

  program = odd_programs_find_service (self->service, &in_build_tree, error);
  if (program == NULL)
    return FALSE;

  envp = service_environ (self);
  if (in_build_tree && g_environ_getenv (envp, "CONTRACTS_PATH") == NULL)
    {
      /* A binary in the build tree is not installed, nor are its contracts. */
      g_autofree char *contracts = odd_programs_source_contracts_dir ();

      if (contracts != NULL)
        envp = g_environ_setenv (envp, "CONTRACTS_PATH", contracts, TRUE);
    }

  argv[0] = program;
  return spawn_recorded (self, argv, (const char * const *) envp,
                         odd_stack_paths_get_state_dir (self->paths), error);
}

/* ------------------------------------------------------------------------------------ */
/* RabbitMQ */

/* Nothing a shell reads differently: no blanks, quotes, $, `, globs, ; & | < > ( ) ... */
static gboolean
path_is_shell_plain (const char *path)
{
  for (const char *p = path; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("/._+,:@%=-", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* RabbitMQ's disk monitor runs `df -kP <its data dir>` through /bin/sh without quoting it
 * (rabbit_disk_monitor, RabbitMQ 3.10): a state dir holding `$(...)` ran that command, and
 * one with a space broke the disk check. Such a data dir is handed to RabbitMQ as a symbolic
 * link of a plain name, in a fresh private directory (mkdtemp) under the temporary dir; the
 * data stays in the state dir. The link's path is noted in the state dir so that the next
 * start removes the old one. */
static char *
rabbitmq_mnesia_base (OddComponent  *self,
                      GError       **error)
{
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "rabbitmq");
  g_autofree char *mnesia = g_build_filename (dir, "mnesia", NULL);
  g_autofree char *note = g_build_filename (dir, "mnesia-link", NULL);
  g_autofree char *old = NULL;
  g_autofree char *link_dir = NULL;
  g_autofree char *link = NULL;
  g_autofree char *template = NULL;

  if (!make_dir (mnesia, 0700, error))
    return NULL;
  if (path_is_shell_plain (mnesia))
    return g_steal_pointer (&mnesia);

  if (g_file_get_contents (note, &old, NULL, NULL) && path_is_shell_plain (old) &&
      g_str_has_prefix (old, g_get_tmp_dir ()))
    {
      g_autofree char *old_dir = g_path_get_dirname (old);

      g_unlink (old);
      g_rmdir (old_dir);
    }

  if (!path_is_shell_plain (g_get_tmp_dir ()))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "RabbitMQ passes its data directory to a shell unquoted, and neither %s "
                   "nor the temporary directory %s is a plain path (only letters, digits and "
                   "/ . _ + , : @ %% = -); set ODD_STATE_DIR or TMPDIR to one",
                   mnesia, g_get_tmp_dir ());
      return NULL;
    }
  template = g_strdup_printf ("odd-rabbitmq-%d-XXXXXX", odd_stack_paths_get_port_base (self->paths));
  link_dir = g_dir_make_tmp (template, error);
  if (link_dir == NULL)
    return NULL;
  link = g_build_filename (link_dir, "mnesia", NULL);
  if (symlink (mnesia, link) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot link %s to %s: %s", link, mnesia, g_strerror (saved_errno));
      g_rmdir (link_dir);
      return NULL;
    }
  if (!g_file_set_contents (note, link, -1, error))
    return NULL;

  return g_steal_pointer (&link);
}

/* @mnesia_base: RabbitMQ's data dir as the server sees it (rabbitmq_mnesia_base()). */
static char **
rabbitmq_environ (OddComponent *self,
                  const char   *mnesia_base)
{
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "rabbitmq");
  g_autofree char *node = odd_stack_paths_rabbitmq_node (self->paths);
  g_autofree char *port = g_strdup_printf ("%u", odd_component_get_port (self));
  g_autofree char *dist = g_strdup_printf ("%u", odd_stack_paths_get_port (self->paths,
                                                                           ODD_PORT_RABBITMQ_DIST));
  g_autofree char *log_base = g_build_filename (dir, "log", NULL);
  g_autofree char *plugins = g_build_filename (dir, "enabled_plugins", NULL);
  g_autofree char *config = g_build_filename (dir, "rabbitmq", NULL);
  g_autofree char *pid = pid_file (self);
  g_autofree char *log_file = odd_component_dup_log_file (self);
  char **envp = g_get_environ ();

  /* Loopback only: epmd (if this node starts it), the distribution port and AMQP. */
  envp = g_environ_setenv (envp, "ERL_EPMD_ADDRESS", "127.0.0.1", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                           "-kernel inet_dist_use_interface {127,0,0,1}", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODENAME", node, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1", TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_NODE_PORT", port, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_DIST_PORT", dist, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_MNESIA_BASE", mnesia_base, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_LOG_BASE", log_base, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_LOGS", log_file, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_PID_FILE", pid, TRUE);
  envp = g_environ_setenv (envp, "RABBITMQ_ENABLED_PLUGINS_FILE", plugins, TRUE);
  /* Without the .conf suffix, as RabbitMQ expects it. */
  envp = g_environ_setenv (envp, "RABBITMQ_CONFIG_FILE", config, TRUE);
  /* The system-wide env file could name another node or port. */
  envp = g_environ_setenv (envp, "RABBITMQ_CONF_ENV_FILE", "/dev/null", TRUE);

  return envp;
}

/* Erlang makes $HOME/.erlang.cookie on first use, but two nodes starting at once (parallel
 * tests on a fresh machine) can each write one and then fail to talk to each other's
 * rabbitmqctl. Create it once, atomically and without ever replacing it. */
static gboolean
ensure_erlang_cookie (GError **error)
{
  const char *home = g_getenv ("HOME");
  g_autofree char *cookie = NULL;
  g_autofree char *tmp = NULL;
  g_autoptr(GString) value = g_string_new (NULL);
  int fd;

  cookie = g_build_filename (home != NULL && *home != '\0' ? home : g_get_home_dir (),
                             ".erlang.cookie", NULL);
  if (g_file_test (cookie, G_FILE_TEST_EXISTS))
    return TRUE;

  for (guint i = 0; i < 20; i++)
    g_string_append_c (value, 'A' + g_random_int_range (0, 26));

  tmp = g_strdup_printf ("%s.%d.tmp", cookie, (int) getpid ());
  fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
  if (fd < 0 || write (fd, value->str, value->len) != (gssize) value->len)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot write the Erlang cookie %s: %s", cookie, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);

  /* link() never replaces: whoever comes first wins, the others use that cookie. */
  if (link (tmp, cookie) != 0 && errno != EEXIST)
    {
      int saved_errno = errno;

      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create the Erlang cookie %s: %s", cookie, g_strerror (saved_errno));
      return FALSE;
    }
  g_unlink (tmp);

  return TRUE;
}

static gboolean
rabbitmq_prepare_dir (OddComponent  *self,
                      GError       **error)
{
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "rabbitmq");
  g_autofree char *plugins = g_build_filename (dir, "enabled_plugins", NULL);
  g_autofree char *config = g_build_filename (dir, "rabbitmq.conf", NULL);

  if (!make_dir (dir, 0700, error) || !ensure_erlang_cookie (error))
    return FALSE;

  /* No plugins: the management plugin alone doubles the start time, and the read-model
   * gets queue depths over AMQP. */
  if (!g_file_set_contents (plugins, "[].\n", -1, error))
    return FALSE;
  if (!g_file_test (config, G_FILE_TEST_EXISTS) &&
      !g_file_set_contents (config,
                            "# Written by oddctl for the local stack; edit freely.\n"
                            "# Ports, node name and directories come from the environment.\n",
                            -1, error))
    return FALSE;

  return TRUE;
}

static gboolean
rabbitmqctl_run (OddComponent        *self,
                 const char * const  *args,
                 guint                timeout_ms,
                 GCancellable        *cancellable,
                 GError             **error)
{
  g_autofree char *ctl = find_rabbitmq ("rabbitmqctl", error);
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "rabbitmq");
  /* rabbitmqctl runs no shell with it: the real path does. */
  g_autofree char *mnesia = g_build_filename (dir, "mnesia", NULL);
  g_auto(GStrv) envp = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  if (ctl == NULL)
    return FALSE;

  envp = rabbitmq_environ (self, mnesia);
  g_ptr_array_add (argv, g_steal_pointer (&ctl));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));

  return odd_process_run (argv_end (argv), (const char * const *) envp, dir, log_file,
                          timeout_ms, cancellable, error);
}

static gboolean
rabbitmq_start (OddComponent  *self,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree char *server = find_rabbitmq ("rabbitmq-server", error);
  g_autofree char *dir = odd_stack_paths_component_dir (self->paths, "rabbitmq");
  g_autofree char *pid = pid_file (self);
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autofree char *mnesia_base = NULL;
  g_auto(GStrv) envp = NULL;
  const char *argv[3] = { NULL, "-detached", NULL };

  if (server == NULL || !rabbitmq_prepare_dir (self, error))
    return FALSE;
  mnesia_base = rabbitmq_mnesia_base (self, error);
  if (mnesia_base == NULL)
    return FALSE;

  /* A stale pid file would make `rabbitmqctl wait` watch a dead process. */
  g_unlink (pid);

  envp = rabbitmq_environ (self, mnesia_base);
  argv[0] = server;
  if (!odd_process_run (argv, (const char * const *) envp, dir, log_file, CTL_TIMEOUT_MS,
                        cancellable, error))
    return FALSE;

  /* -detached returns before the node wrote its pid file. Wait for it without heeding the
   * cancellable: once the file is there, a cancelled `up` can stop the node by its pid; before
   * that, nothing could find it. */
  for (gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
       odd_component_get_pid (self) == 0;)
    {
      if (g_get_monotonic_time () >= deadline)
        {
          g_autofree char *tail = odd_process_log_tail (log_file, 20);

          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
                       "rabbitmq did not start (no live pid in %s after 30 s); end of %s:\n%s",
                       pid, log_file, tail);
          return FALSE;
        }
      g_usleep (100 * 1000);
    }

  return TRUE;
}

static gboolean
rabbitmq_stop (OddComponent  *self,
               GError       **error)
{
  const char *args[] = { "shutdown", NULL };
  g_autoptr(GError) local_error = NULL;
  GPid pid = odd_component_get_pid (self);

  if (rabbitmqctl_run (self, args, CTL_TIMEOUT_MS, NULL, &local_error))
    return TRUE;

  /* rabbitmqctl cannot reach the node (a lost cookie, a half-started node): fall back to
   * signals so that `down` still stops it. */
  g_debug ("rabbitmqctl shutdown failed: %s", local_error->message);
  if (pid == 0)
    return TRUE;

  return odd_process_terminate (pid, "beam.smp", SERVICE_STOP_TIMEOUT_MS, error);
}

/* ------------------------------------------------------------------------------------ */

gboolean
odd_component_launch (OddComponent  *self,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autofree char *log_file = NULL;
  g_autofree char *log_dir = NULL;
  gboolean ok;

  g_return_val_if_fail (ODD_IS_COMPONENT (self), FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  log_file = odd_component_dup_log_file (self);
  log_dir = g_path_get_dirname (log_file);
  if (!make_dir (log_dir, 0755, error))
    return FALSE;

  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      ok = postgres_start (self, cancellable, error);
      break;
    case ODD_COMPONENT_REDIS:
      ok = redis_start (self, cancellable, error);
      break;
    case ODD_COMPONENT_RABBITMQ:
      ok = rabbitmq_start (self, cancellable, error);
      break;
    case ODD_COMPONENT_SERVICE:
    default:
      ok = service_start (self, cancellable, error);
      break;
    }

  return ok;
}

guint
odd_component_ready_timeout_ms (OddComponent *self)
{
  return self->kind == ODD_COMPONENT_SERVICE ? SERVICE_READY_TIMEOUT_MS : SERVER_READY_TIMEOUT_MS;
}

gboolean
odd_component_start (OddComponent  *self,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return odd_component_launch (self, cancellable, error) &&
         odd_component_wait_ready (self, odd_component_ready_timeout_ms (self),
                                   cancellable, error);
}

static void
set_died_error (OddComponent  *self,
                GError       **error)
{
  g_autofree char *log_file = odd_component_dup_log_file (self);
  g_autofree char *tail = odd_process_log_tail (log_file, 20);

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
               "%s exited while starting; end of %s:\n%s", self->name, log_file, tail);
}

static gboolean
queue_limit_from_env (const char  *name,
                      gint64       fallback,
                      gint64      *out,
                      GError     **error)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || *text == '\0')
    {
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &value, NULL))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
                   "%s=%s: expected a whole number of jobs or bytes (0 = no limit)", name, text);
      return FALSE;
    }
  *out = (gint64) value;
  return TRUE;
}

gboolean
odd_component_wait_ready (OddComponent  *self,
                          guint          timeout_ms,
                          GCancellable  *cancellable,
                          GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_return_val_if_fail (ODD_IS_COMPONENT (self), FALSE);

  for (;;)
    {
      GPid pid = odd_component_get_pid (self);

      if (pid != 0 && probe (self, cancellable))
        break;
      /* One of several replicas may be alive but rightly not ready (a metrics-engine
       * waiting for the event store lock another holds): alive and answering is enough
       * here; the stack waits until one replica of the service is ready. */
      if (pid != 0 && self->kind == ODD_COMPONENT_SERVICE &&
          odd_stack_paths_get_replicas (self->paths, self->port) > 1 &&
          odd_probe_http_status (odd_component_get_port (self), "/healthz", cancellable) == 200)
        break;

      if (pid == 0)
        {
          set_died_error (self, error);
          return FALSE;
        }

      if (g_get_monotonic_time () >= deadline)
        {
          g_autofree char *log_file = odd_component_dup_log_file (self);
          g_autofree char *tail = odd_process_log_tail (log_file, 20);

          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_TIMEOUT,
                       "%s did not get ready within %u s (port %u); end of %s:\n%s",
                       self->name, timeout_ms / 1000, odd_component_get_port (self),
                       log_file, tail);
          return FALSE;
        }

      if (!odd_process_sleep (100, cancellable, error))
        return FALSE;
    }

  if (self->kind == ODD_COMPONENT_RABBITMQ)
    {
      /* The AMQP port opens a little before the node has booted completely. */
      g_autofree char *pid = pid_file (self);
      const char *args[] = { "wait", pid, "--timeout", "60", NULL };
      gint64 max_length, max_bytes;

      if (!rabbitmqctl_run (self, args, CTL_TIMEOUT_MS, cancellable, error))
        return FALSE;

      /* Backpressure instead of a silent backlog (docs/reliability.md). */
      if (!queue_limit_from_env ("ODD_JOBS_CREATED_MAX_LENGTH", ODD_DEFAULT_JOBS_CREATED_MAX_LENGTH,
                                 &max_length, error)
          || !queue_limit_from_env ("ODD_JOBS_CREATED_MAX_BYTES", ODD_DEFAULT_JOBS_CREATED_MAX_BYTES,
                                    &max_bytes, error))
        return FALSE;
      return odd_component_set_queue_limit (self, max_length, max_bytes, cancellable, error);
    }

  return TRUE;
}

gboolean
odd_component_set_queue_limit (OddComponent  *self,
                               gint64         max_length,
                               gint64         max_bytes,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_autoptr(GString) definition = g_string_new ("{\"overflow\":\"reject-publish\"");
  const char *clear[] = { "clear_policy", ODD_JOBS_CREATED_POLICY, NULL };
  const char *set[] = { "set_policy", "--apply-to", "queues", "--priority", "10",
                        ODD_JOBS_CREATED_POLICY, "^jobs\\.created$", NULL, NULL };
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (ODD_IS_COMPONENT (self), FALSE);
  g_return_val_if_fail (self->kind == ODD_COMPONENT_RABBITMQ, FALSE);
  g_return_val_if_fail (max_length >= 0 && max_bytes >= 0, FALSE);

  if (max_length == 0 && max_bytes == 0)
    {
      /* Not set is as good as cleared. */
      if (!rabbitmqctl_run (self, clear, CTL_TIMEOUT_MS, cancellable, &local_error))
        g_debug ("rabbitmqctl clear_policy: %s", local_error->message);
      return TRUE;
    }

  if (max_length > 0)
    g_string_append_printf (definition, ",\"max-length\":%" G_GINT64_FORMAT, max_length);
  if (max_bytes > 0)
    g_string_append_printf (definition, ",\"max-length-bytes\":%" G_GINT64_FORMAT, max_bytes);
  g_string_append_c (definition, '}');
  set[7] = definition->str;

  return rabbitmqctl_run (self, set, CTL_TIMEOUT_MS, cancellable, error);
}

gboolean
odd_component_stop (OddComponent  *self,
                    GError       **error)
{
  g_autofree char *comm = NULL;
  g_autofree char *file = NULL;
  GPid pid;

  g_return_val_if_fail (ODD_IS_COMPONENT (self), FALSE);

  pid = odd_component_get_pid (self);
  if (pid == 0)
    return TRUE;

  switch (self->kind)
    {
    case ODD_COMPONENT_POSTGRES:
      return postgres_stop (self, error);
    case ODD_COMPONENT_RABBITMQ:
      return rabbitmq_stop (self, error);
    case ODD_COMPONENT_REDIS:
    case ODD_COMPONENT_SERVICE:
    default:
      comm = process_name (self);
      file = pid_file (self);
      if (!odd_process_terminate (pid, comm, SERVICE_STOP_TIMEOUT_MS, error))
        return FALSE;
      g_unlink (file);
      return TRUE;
    }
}
