#define G_LOG_DOMAIN "odd-doctor"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "odd-doctor-private.h"
#include "odd-stack-paths.h"
#include "odd-tools.h"

#define GIB (G_GUINT64_CONSTANT (1) << 30)
#define MIB (G_GUINT64_CONSTANT (1) << 20)

struct _OddDoctor
{
  GObject    parent_instance;

  gboolean   os_release_set;
  char      *os_release;     /* contents; NULL with os_release_set: macOS */
  gboolean   flatpak_info_set;
  char      *flatpak_info;   /* contents; NULL with flatpak_info_set: not in a sandbox */
  char      *docker_socket;
  char      *meminfo_path;
  gboolean   server_dirs_set;
  GStrv      server_dirs;
  GArray    *ports;          /* guint16 */
  GStrv      port_names;
  guint      tool_timeout;
};

G_DEFINE_FINAL_TYPE (OddDoctor, odd_doctor, G_TYPE_OBJECT)

static void
odd_doctor_finalize (GObject *object)
{
  OddDoctor *self = ODD_DOCTOR (object);

  g_free (self->os_release);
  g_free (self->flatpak_info);
  g_free (self->docker_socket);
  g_free (self->meminfo_path);
  g_strfreev (self->server_dirs);
  g_clear_pointer (&self->ports, g_array_unref);
  g_strfreev (self->port_names);

  G_OBJECT_CLASS (odd_doctor_parent_class)->finalize (object);
}

static void
odd_doctor_class_init (OddDoctorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_doctor_finalize;
}

static void
odd_doctor_init (OddDoctor *self)
{
  self->tool_timeout = 10;
}

OddDoctor *
odd_doctor_new (void)
{
  return g_object_new (ODD_TYPE_DOCTOR, NULL);
}

void
odd_doctor_set_os_release (OddDoctor  *self,
                           const char *contents)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  self->os_release_set = TRUE;
  g_free (self->os_release);
  self->os_release = g_strdup (contents);
}

void
odd_doctor_set_flatpak_info (OddDoctor  *self,
                             const char *contents)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  self->flatpak_info_set = TRUE;
  g_free (self->flatpak_info);
  self->flatpak_info = g_strdup (contents);
}

void
odd_doctor_set_docker_socket (OddDoctor  *self,
                              const char *path)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  g_free (self->docker_socket);
  self->docker_socket = g_strdup (path);
}

void
odd_doctor_set_meminfo_path (OddDoctor  *self,
                             const char *path)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  g_free (self->meminfo_path);
  self->meminfo_path = g_strdup (path);
}

void
odd_doctor_set_server_dirs (OddDoctor          *self,
                            const char * const *dirs)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  self->server_dirs_set = TRUE;
  g_strfreev (self->server_dirs);
  self->server_dirs = g_strdupv ((GStrv) dirs);
}

void
odd_doctor_set_ports (OddDoctor          *self,
                      const guint16      *ports,
                      const char * const *names,
                      guint               n_ports)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  g_clear_pointer (&self->ports, g_array_unref);
  g_strfreev (self->port_names);
  self->ports = g_array_sized_new (FALSE, FALSE, sizeof (guint16), n_ports);
  g_array_append_vals (self->ports, ports, n_ports);
  self->port_names = g_new0 (char *, n_ports + 1);
  for (guint i = 0; i < n_ports; i++)
    self->port_names[i] = g_strdup (names[i]);
}

void
odd_doctor_set_tool_timeout (OddDoctor *self,
                             guint      seconds)
{
  g_return_if_fail (ODD_IS_DOCTOR (self));
  self->tool_timeout = MAX (seconds, 1);
}

/* ---- running a tool with a timeout (on the worker thread) ---- */

typedef struct
{
  gboolean  done;
  gboolean  timed_out;
  char     *out;
  char     *err;
  GError   *error;
} Communicate;

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, &c->err,
                                        &c->error);
  c->done = TRUE;
}

static gboolean
on_tool_timeout (gpointer user_data)
{
  GSubprocess *proc = user_data;

  g_subprocess_force_exit (proc);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  gboolean  found;
  gboolean  timed_out;
  int       exit_status;  /* -1 when it did not exit normally */
  char     *out;
  char     *err;
  char     *problem;      /* why it could not run */
} ToolRun;

static void
tool_run_clear (ToolRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run->problem);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ToolRun, tool_run_clear)

/* The first non-empty line of @text (stripped), or "". */
static char *
first_line (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] != '\0')
        return g_strdup (lines[i]);
    }
  return g_strdup ("");
}

static void
run_tool (OddDoctor          *self,
          const char * const *argv,
          GCancellable       *cancellable,
          ToolRun            *run)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GSource) timeout = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = odd_tools_find (argv[0], NULL);
  g_autoptr(GPtrArray) full = g_ptr_array_new ();
  Communicate c = { 0 };

  run->exit_status = -1;
  if (path == NULL)
    return;
  run->found = TRUE;

  g_ptr_array_add (full, path);
  for (guint i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);

  /* A private context: this thread waits for this one child only. stdin is /dev/null. */
  g_main_context_push_thread_default (context);
  proc = g_subprocess_newv ((const char * const *) full->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error);
  if (proc == NULL)
    {
      run->problem = g_strdup (error->message);
      g_main_context_pop_thread_default (context);
      return;
    }

  timeout = g_timeout_source_new_seconds (self->tool_timeout);
  g_source_set_callback (timeout, on_tool_timeout, proc, NULL);
  g_source_attach (timeout, context);

  g_subprocess_communicate_utf8_async (proc, NULL, cancellable, on_communicated, &c);
  while (!c.done)
    g_main_context_iteration (context, TRUE);

  if (c.error != NULL && !g_subprocess_get_if_exited (proc))
    g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);

  run->timed_out = g_subprocess_get_if_signaled (proc) &&
                   g_subprocess_get_term_sig (proc) == SIGKILL;
  if (g_subprocess_get_if_exited (proc))
    run->exit_status = g_subprocess_get_exit_status (proc);
  run->out = g_steal_pointer (&c.out);
  run->err = g_steal_pointer (&c.err);
  if (c.error != NULL)
    run->problem = g_strdup (c.error->message);
  g_clear_error (&c.error);
}

/* "`docker info` failed (exit 1): <first line of stderr or stdout>" */
static char *
describe_failure (const char * const *argv,
                  ToolRun            *run,
                  guint               timeout)
{
  g_autofree char *command = g_strjoinv (" ", (GStrv) argv);
  g_autofree char *line = NULL;

  if (run->timed_out)
    return g_strdup_printf ("`%s` did not answer within %u s", command, timeout);
  if (run->problem != NULL)
    return g_strdup_printf ("`%s` could not run: %s", command, run->problem);

  line = first_line (run->err);
  if (*line == '\0')
    {
      g_free (line);
      line = first_line (run->out);
    }
  return g_strdup_printf ("`%s` failed (exit %d)%s%s", command, run->exit_status,
                          *line != '\0' ? ": " : "", line);
}

/* ---- versions ---- */

/* The first "vX.Y.Z" or "X.Y.Z" in @text, as three numbers. */
static gboolean
parse_version (const char *text,
               guint       version[3])
{
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    {
      const char *start = p;
      char *end;

      if (*p == 'v' && g_ascii_isdigit (p[1]) && (p == text || !g_ascii_isalnum (p[-1])))
        start = p + 1;
      else if (!g_ascii_isdigit (*p) || (p != text && (g_ascii_isalnum (p[-1]) || p[-1] == '.')))
        continue;

      version[0] = (guint) g_ascii_strtoull (start, &end, 10);
      if (*end != '.' || !g_ascii_isdigit (end[1]))
        continue;
      version[1] = (guint) g_ascii_strtoull (end + 1, &end, 10);
      version[2] = 0;
      if (*end == '.' && g_ascii_isdigit (end[1]))
        version[2] = (guint) g_ascii_strtoull (end + 1, &end, 10);
      return TRUE;
    }
  return FALSE;
}

static int
compare_versions (const guint a[3],
                  const guint b[3])
{
  for (guint i = 0; i < 3; i++)
    if (a[i] != b[i])
      return a[i] < b[i] ? -1 : 1;
  return 0;
}

/* ---- the checks ---- */

typedef struct
{
  OddDoctor       *self;
  OddDoctorReport *report;
  GCancellable    *cancellable;
  const char      *arch;
  gboolean         have_docker;
  gboolean         have_kind;
  char            *flatpak_runtime; /* in a Flatpak: its runtime ("org.gnome.Platform/x86_64/47") */
} Checks;

static char *
fix_for (Checks     *c,
         const char *what)
{
  return odd_doctor_fix_command (c->report->distro, what, c->arch);
}

static gboolean
in_sandbox (Checks *c)
{
  return c->report->sandbox != NULL;
}

/* In a sandbox, what concerns the host (its Docker daemon) is fixed on the host: the UIs show
 * it to copy. Marks the check just added. */
static void
mark_host_fix (Checks *c)
{
  OddDoctorCheck *check = g_ptr_array_index (c->report->checks, c->report->checks->len - 1);

  check->fix_on_host = in_sandbox (c) && check->fix != NULL;
}

/* In a Flatpak the cluster tools and the servers come with the app: nothing to install into
 * the sandbox, so no fix; the reason says what is wrong instead. */
static char *
tool_fix_for (Checks     *c,
              const char *what)
{
  return in_sandbox (c) ? NULL : fix_for (c, what);
}

static const char *
missing_in_sandbox (Checks *c)
{
  return in_sandbox (c) ? " (this build of the app does not bundle it: install the Flatpak "
                          "from its manifest, which does)" : "";
}

static void
check_platform (Checks *c)
{
  gboolean supported = g_str_equal (c->report->os, "linux") || g_str_equal (c->report->os, "macos");
  const char *manager = odd_distro_package_manager (c->report->distro);

  if (in_sandbox (c))
    {
      odd_doctor_report_add (c->report, "platform", "Platform", ODD_DOCTOR_OK, NULL, NULL,
                             "Flatpak sandbox (%s) on %s%s%s: the local stack runs inside the "
                             "sandbox; host commands are shown to copy",
                             c->flatpak_runtime, c->report->os_name,
                             manager != NULL ? ", host package manager " : "",
                             manager != NULL ? manager : "");
      return;
    }
  odd_doctor_report_add (c->report, "platform", "Platform",
                         supported ? ODD_DOCTOR_OK : ODD_DOCTOR_FAIL, NULL, NULL,
                         "%s-%s (%s%s%s)%s", c->report->os, c->arch, c->report->os_name,
                         manager != NULL ? ", " : ", no known package manager: install by hand",
                         manager != NULL ? manager : "",
                         supported ? "" : " is not supported");
}

static void
check_docker_cli (Checks *c)
{
  const char *argv[] = { "docker", "--version", NULL };
  g_auto(ToolRun) run = { 0 };
  g_autofree char *fix = tool_fix_for (c, "docker");
  g_autofree char *line = NULL;

  run_tool (c->self, argv, c->cancellable, &run);
  if (!run.found)
    {
      odd_doctor_report_add (c->report, "docker-cli", "Docker CLI", ODD_DOCTOR_FAIL, NULL, fix,
                             "not found in $PATH (the kind cluster needs Docker)%s",
                             missing_in_sandbox (c));
      return;
    }
  if (run.exit_status != 0)
    {
      g_autofree char *why = describe_failure (argv, &run, c->self->tool_timeout);

      odd_doctor_report_add (c->report, "docker-cli", "Docker CLI", ODD_DOCTOR_FAIL, NULL, fix,
                             "%s", why);
      return;
    }
  c->have_docker = TRUE;
  line = first_line (run.out);
  odd_doctor_report_add (c->report, "docker-cli", "Docker CLI", ODD_DOCTOR_OK, line, NULL,
                         "%s", line);
}

static gboolean
contains_nocase (const char *haystack,
                 const char *needle)
{
  g_autofree char *h = g_ascii_strdown (haystack != NULL ? haystack : "", -1);

  return strstr (h, needle) != NULL;
}

static void
check_docker_daemon (Checks *c)
{
  const char *argv[] = { "docker", "info", "--format", "{{.ServerVersion}}", NULL };
  g_auto(ToolRun) run = { 0 };
  g_autofree char *why = NULL;
  g_autofree char *fix = NULL;
  g_autofree char *version = NULL;

  if (!c->have_docker)
    {
      odd_doctor_report_add (c->report, "docker-daemon", "Docker daemon", ODD_DOCTOR_FAIL, NULL,
                             NULL, "not checked: the Docker CLI is missing");
      return;
    }

  run_tool (c->self, argv, c->cancellable, &run);
  if (run.exit_status == 0)
    {
      version = first_line (run.out);
      odd_doctor_report_add (c->report, "docker-daemon", "Docker daemon", ODD_DOCTOR_OK, version,
                             NULL, "reachable (server %s)", *version != '\0' ? version : "?");
      return;
    }

  why = describe_failure (argv, &run, c->self->tool_timeout);
  if (contains_nocase (run.err, "permission denied"))
    fix = fix_for (c, "docker-socket");
  else
    fix = fix_for (c, "docker-daemon");
  odd_doctor_report_add (c->report, "docker-daemon", "Docker daemon", ODD_DOCTOR_FAIL, NULL, fix,
                         "not reachable: %s%s", why,
                         in_sandbox (c) ? " (the sandbox reaches the host's daemon through its "
                                          "socket)" : "");
}

static char *
docker_socket_path (OddDoctor *self)
{
  const char *host = g_getenv ("DOCKER_HOST");

  if (self->docker_socket != NULL)
    return g_strdup (self->docker_socket);
  if (host != NULL && g_str_has_prefix (host, "unix://"))
    return g_strdup (host + strlen ("unix://"));
  if (host != NULL && *host != '\0')
    return NULL;  /* tcp:// or ssh://: no local socket to check */
  return g_strdup ("/var/run/docker.sock");
}

/* Whether the mode bits give the user read and write access. Computed instead of asked
 * (access(2)), because root passes every access check and would never see what a normal
 * user of the same setup sees. */
static gboolean
bits_allow_rw (const struct stat *st)
{
  uid_t uid = geteuid ();
  int n_groups = getgroups (0, NULL);
  g_autofree gid_t *groups = NULL;
  gboolean in_group = st->st_gid == getegid ();

  if (st->st_uid == uid)
    return (st->st_mode & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR);

  if (n_groups > 0)
    {
      groups = g_new (gid_t, n_groups);
      n_groups = getgroups (n_groups, groups);
      for (int i = 0; i < n_groups && !in_group; i++)
        in_group = groups[i] == st->st_gid;
    }
  if (in_group)
    return (st->st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP);

  return (st->st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH);
}

static void
check_docker_socket (Checks *c)
{
  g_autofree char *path = docker_socket_path (c->self);
  g_autofree char *perm_fix = fix_for (c, "docker-socket");
  g_autofree char *daemon_fix = fix_for (c, "docker-daemon");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct stat st;
  int fd;
  int saved;

  if (path == NULL)
    {
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_OK, NULL,
                             NULL, "DOCKER_HOST=%s (no local socket)", g_getenv ("DOCKER_HOST"));
      return;
    }

  if (stat (path, &st) != 0)
    {
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_WARN, NULL,
                             c->have_docker ? daemon_fix : NULL,
                             "%s does not exist (the Docker daemon is not running)", path);
      return;
    }
  if (!S_ISSOCK (st.st_mode))
    {
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL, NULL,
                             NULL, "%s is not a socket", path);
      return;
    }
  if (!bits_allow_rw (&st))
    {
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL, NULL,
                             perm_fix,
                             "permission denied on %s (mode %03o): join its group, then log "
                             "out and in", path, (unsigned) (st.st_mode & 0777));
      return;
    }

  if (strlen (path) >= sizeof addr.sun_path)
    {
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL, NULL,
                             NULL, "the socket path %s is too long", path);
      return;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      saved = errno;
      odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL, NULL,
                             NULL, "socket(): %s", g_strerror (saved));
      return;
    }
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      saved = errno;
      close (fd);
      if (saved == EACCES || saved == EPERM)
        odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL,
                               NULL, perm_fix, "permission denied on %s: join its group, then "
                               "log out and in", path);
      else
        odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_WARN,
                               NULL, daemon_fix, "nothing answers on %s (%s)", path,
                               g_strerror (saved));
      return;
    }
  close (fd);
  odd_doctor_report_add (c->report, "docker-socket", "Docker socket", ODD_DOCTOR_OK, NULL, NULL,
                         "%s accepts connections", path);
}

static void
check_kubectl (Checks *c)
{
  const char *argv_json[] = { "kubectl", "version", "--client", "-o", "json", NULL };
  const char *argv_text[] = { "kubectl", "version", "--client", NULL };
  g_auto(ToolRun) run = { 0 };
  g_autofree char *fix = tool_fix_for (c, "kubectl");
  g_autofree char *version = NULL;

  run_tool (c->self, argv_json, c->cancellable, &run);
  if (!run.found)
    {
      odd_doctor_report_add (c->report, "kubectl", "kubectl", ODD_DOCTOR_FAIL, NULL, fix,
                             "not found in $PATH%s", missing_in_sandbox (c));
      return;
    }
  if (run.exit_status == 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, run.out, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *root = json_node_get_object (json_parser_get_root (parser));
          JsonNode *client = json_object_get_member (root, "clientVersion");
          const char *git_version = NULL;

          /* Whatever kubectl prints is checked before it is trusted. */
          if (client != NULL && JSON_NODE_HOLDS_OBJECT (client))
            git_version = json_object_get_string_member_with_default (json_node_get_object (client),
                                                                      "gitVersion", NULL);
          if (git_version != NULL && *git_version != '\0')
            version = g_strdup (git_version);
        }
    }
  if (version == NULL)
    {
      /* Older kubectl: no -o json for the client alone. */
      tool_run_clear (&run);
      memset (&run, 0, sizeof run);
      run_tool (c->self, argv_text, c->cancellable, &run);
      if (run.exit_status != 0)
        {
          g_autofree char *why = describe_failure (argv_text, &run, c->self->tool_timeout);

          odd_doctor_report_add (c->report, "kubectl", "kubectl", ODD_DOCTOR_FAIL, NULL, fix,
                                 "%s", why);
          return;
        }
      version = first_line (run.out);
    }
  odd_doctor_report_add (c->report, "kubectl", "kubectl", ODD_DOCTOR_OK, version, NULL,
                         "%s", version);
}

static void
check_kind (Checks *c)
{
  const char *argv[] = { "kind", "version", NULL };
  g_auto(ToolRun) run = { 0 };
  g_autofree char *fix = tool_fix_for (c, "kind");
  g_autofree char *line = NULL;
  guint have[3], need[3];

  run_tool (c->self, argv, c->cancellable, &run);
  if (!run.found)
    {
      odd_doctor_report_add (c->report, "kind", "kind", ODD_DOCTOR_FAIL, NULL, fix,
                             "not found in $PATH (needs %s or newer)%s", ODD_DOCTOR_MIN_KIND,
                             missing_in_sandbox (c));
      return;
    }
  if (run.exit_status != 0)
    {
      g_autofree char *why = describe_failure (argv, &run, c->self->tool_timeout);

      odd_doctor_report_add (c->report, "kind", "kind", ODD_DOCTOR_FAIL, NULL, fix, "%s", why);
      return;
    }

  line = first_line (run.out);
  parse_version (ODD_DOCTOR_MIN_KIND, need);
  if (!parse_version (line, have))
    {
      odd_doctor_report_add (c->report, "kind", "kind", ODD_DOCTOR_WARN, line, NULL,
                             "cannot read the version from “%s” (needs %s or newer)", line,
                             ODD_DOCTOR_MIN_KIND);
      c->have_kind = TRUE;
      return;
    }
  if (compare_versions (have, need) < 0)
    {
      odd_doctor_report_add (c->report, "kind", "kind", ODD_DOCTOR_FAIL, line, fix,
                             "%u.%u.%u is older than %s", have[0], have[1], have[2],
                             ODD_DOCTOR_MIN_KIND);
      return;
    }
  c->have_kind = TRUE;
  odd_doctor_report_add (c->report, "kind", "kind", ODD_DOCTOR_OK, line, NULL, "%s", line);
}

static void
check_kind_cluster (Checks *c)
{
  const char *argv[] = { "kind", "get", "clusters", NULL };
  g_auto(ToolRun) run = { 0 };
  g_auto(GStrv) lines = NULL;

  if (!c->have_kind)
    {
      odd_doctor_report_add (c->report, "kind-cluster", "kind cluster", ODD_DOCTOR_WARN, NULL,
                             NULL, "not checked: no usable kind");
      return;
    }

  run_tool (c->self, argv, c->cancellable, &run);
  if (run.exit_status != 0)
    {
      g_autofree char *why = describe_failure (argv, &run, c->self->tool_timeout);

      odd_doctor_report_add (c->report, "kind-cluster", "kind cluster", ODD_DOCTOR_WARN, NULL,
                             NULL, "%s", why);
      return;
    }

  lines = g_strsplit (run.out != NULL ? run.out : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_equal (g_strstrip (lines[i]), ODD_DOCTOR_CLUSTER_NAME))
      {
        odd_doctor_report_add (c->report, "kind-cluster", "kind cluster", ODD_DOCTOR_OK, NULL,
                               NULL, "“%s” exists", ODD_DOCTOR_CLUSTER_NAME);
        return;
      }

  odd_doctor_report_add (c->report, "kind-cluster", "kind cluster", ODD_DOCTOR_WARN, NULL,
                         "oddctl cluster up", "no cluster “%s” yet", ODD_DOCTOR_CLUSTER_NAME);
}

static gboolean
is_executable (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR) && access (path, X_OK) == 0;
}

static int
compare_numeric_desc (gconstpointer a,
                      gconstpointer b)
{
  double da = g_ascii_strtod (*(const char **) a, NULL);
  double db = g_ascii_strtod (*(const char **) b, NULL);

  return (da < db) - (da > db);
}

/* The search path of the server binaries, as the local stack looks for them. */
static GPtrArray *
server_dirs (OddDoctor *self)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) pg = NULL;
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (self->server_dirs_set)
    {
      for (guint i = 0; self->server_dirs != NULL && self->server_dirs[i] != NULL; i++)
        g_ptr_array_add (dirs, g_strdup (self->server_dirs[i]));
      return dirs;
    }

  pg = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  while (pg != NULL && (entry = g_dir_read_name (pg)) != NULL)
    if (g_ascii_isdigit (entry[0]))
      g_ptr_array_add (versions, g_strdup (entry));
  g_ptr_array_sort (versions, compare_numeric_desc);
  for (guint i = 0; i < versions->len; i++)
    g_ptr_array_add (dirs, g_build_filename ("/usr/lib/postgresql", versions->pdata[i], "bin",
                                             NULL));
  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (dirs, g_strdup ((const char *[]) { "/usr/lib/rabbitmq/bin", "/usr/sbin",
                                                        "/usr/bin", "/usr/local/bin" }[i]));
  return dirs;
}

static char *
find_server (GPtrArray  *dirs,
             const char *name)
{
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (dirs->pdata[i], name, NULL);

      if (is_executable (path))
        return g_steal_pointer (&path);
    }
  return g_find_program_in_path (name);
}

static void
check_server (Checks     *c,
              GPtrArray  *dirs,
              const char *id,
              const char *name,
              const char *program,
              const char *also,
              const char *what)
{
  g_autofree char *path = find_server (dirs, program);
  g_autofree char *also_path = NULL;
  g_autofree char *fix = tool_fix_for (c, what);

  if (path != NULL && also != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      also_path = g_build_filename (dir, also, NULL);
      if (!is_executable (also_path))
        {
          odd_doctor_report_add (c->report, id, name, ODD_DOCTOR_FAIL, NULL, fix,
                                 "%s found but no %s next to it", path, also);
          return;
        }
    }
  if (path == NULL)
    {
      odd_doctor_report_add (c->report, id, name, ODD_DOCTOR_FAIL, NULL, fix,
                             "%s not found (the local stack runs it)%s", program,
                             missing_in_sandbox (c));
      return;
    }
  odd_doctor_report_add (c->report, id, name, ODD_DOCTOR_OK, NULL, NULL, "%s", path);
}

/* TRUE when nothing listens on 127.0.0.1:@port. SO_REUSEADDR so that connections in
 * TIME_WAIT do not count as taken. */
static gboolean
port_is_free (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean free_port;

  if (fd < 0)
    return TRUE;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  free_port = bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
  close (fd);
  return free_port;
}

/* Whether @component of the local stack runs (its pid file names a live process). */
static gboolean
held_by_stack (OddStackPaths *paths,
               const char    *component)
{
  g_autofree char *pid_file = NULL;
  g_autofree char *text = NULL;
  gint64 pid;

  if (paths == NULL)
    return FALSE;
  pid_file = odd_stack_paths_pid_file (paths, component);
  if (!g_file_get_contents (pid_file, &text, NULL, NULL))
    return FALSE;
  pid = g_ascii_strtoll (g_strstrip (text), NULL, 10);
  return pid > 0 && (kill ((pid_t) pid, 0) == 0 || errno == EPERM);
}

static const char *
port_component (OddPort port)
{
  switch (port)
    {
    case ODD_PORT_POSTGRES: return "postgres";
    case ODD_PORT_REDIS: return "redis";
    case ODD_PORT_RABBITMQ:
    case ODD_PORT_RABBITMQ_DIST: return "rabbitmq";
    case ODD_PORT_GATEWAY: return "gateway";
    case ODD_PORT_READ_MODEL: return "read-model";
    case ODD_PORT_PROCESSOR: return "processor";
    case ODD_PORT_METRICS_ENGINE: return "metrics-engine";
    case ODD_PORT_WEB_TERMINAL: return "web-terminal";
    case ODD_PORT_LAST:
    default: return "?";
    }
}

static void
check_ports (Checks *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new_from_env (&error);
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GString) busy = g_string_new (NULL);
  guint n_ours = 0, n_busy = 0;
  guint16 first_busy = 0;

  if (c->self->ports != NULL)
    {
      g_array_append_vals (ports, c->self->ports->data, c->self->ports->len);
      for (guint i = 0; i < c->self->ports->len; i++)
        g_ptr_array_add (names, c->self->port_names[i]);
    }
  else if (paths != NULL)
    {
      for (OddPort p = 0; p < ODD_PORT_LAST; p++)
        {
          guint16 port = odd_stack_paths_get_port (paths, p);

          g_array_append_val (ports, port);
          g_ptr_array_add (names, (gpointer) port_component (p));
        }
    }
  else
    {
      odd_doctor_report_add (c->report, "ports", "Stack ports", ODD_DOCTOR_FAIL, NULL, NULL,
                             "%s", error->message);
      return;
    }

  for (guint i = 0; i < ports->len; i++)
    {
      guint16 port = g_array_index (ports, guint16, i);
      const char *name = names->pdata[i];

      if (port_is_free (port))
        continue;
      if (held_by_stack (paths, name))
        {
          n_ours++;
          continue;
        }
      if (n_busy++ == 0)
        first_busy = port;
      g_string_append_printf (busy, "%s%u (%s)", busy->len > 0 ? ", " : "", port, name);
    }

  if (n_busy > 0)
    {
      g_autofree char *fix = NULL;

      /* Suggest the first base whose every port is free. */
      for (int base = 19000; base <= 29000 && fix == NULL && c->self->ports == NULL; base += 1000)
        {
          gboolean all_free = TRUE;

          for (OddPort p = 0; p < ODD_PORT_LAST && all_free; p++)
            all_free = port_is_free ((guint16) (base + odd_stack_port_offset (p)));
          if (all_free)
            fix = g_strdup_printf ("ODD_PORT_BASE=%d oddctl local up", base);
        }
      if (fix == NULL)
        fix = g_strdup_printf ("ss -ltnp 'sport = :%u'", first_busy);
      odd_doctor_report_add (c->report, "ports", "Stack ports", ODD_DOCTOR_FAIL, NULL, fix,
                             "in use by another program: %s", busy->str);
      return;
    }

  if (n_ours > 0)
    odd_doctor_report_add (c->report, "ports", "Stack ports", ODD_DOCTOR_OK, NULL, NULL,
                           "%u held by the running local stack, %u free", n_ours,
                           ports->len - n_ours);
  else
    {
      guint lo = G_MAXUINT16, hi = 0;

      for (guint i = 0; i < ports->len; i++)
        {
          lo = MIN (lo, g_array_index (ports, guint16, i));
          hi = MAX (hi, g_array_index (ports, guint16, i));
        }
      odd_doctor_report_add (c->report, "ports", "Stack ports", ODD_DOCTOR_OK, NULL, NULL,
                             "all %u free (%u..%u)", ports->len, ports->len > 0 ? lo : 0, hi);
    }
}

static void
check_disk (Checks *c)
{
  g_autofree char *dir = odd_stack_default_state_dir ();
  struct statvfs vfs;
  guint64 free_bytes;

  /* The state dir may not exist yet: its nearest existing parent is where it will be. */
  while (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      char *parent = g_path_get_dirname (dir);

      if (g_str_equal (parent, dir))
        {
          g_free (parent);
          break;
        }
      g_free (dir);
      dir = parent;
    }

  if (statvfs (dir, &vfs) != 0)
    {
      int saved = errno;

      odd_doctor_report_add (c->report, "disk", "Free disk", ODD_DOCTOR_WARN, NULL, NULL,
                             "statvfs %s: %s", dir, g_strerror (saved));
      return;
    }
  free_bytes = (guint64) vfs.f_bavail * vfs.f_frsize;
  odd_doctor_report_add (c->report, "disk", "Free disk",
                         free_bytes < 256 * MIB ? ODD_DOCTOR_FAIL
                         : free_bytes < 2 * GIB ? ODD_DOCTOR_WARN : ODD_DOCTOR_OK,
                         NULL, NULL, "%.1f GiB free on %s%s", (double) free_bytes / GIB, dir,
                         free_bytes < 2 * GIB ? " (2 GiB recommended)" : "");
}

static void
check_memory (Checks *c)
{
  const char *path = c->self->meminfo_path != NULL ? c->self->meminfo_path : "/proc/meminfo";
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint64 available = 0;
  gboolean found = FALSE;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      odd_doctor_report_add (c->report, "memory", "Free memory",
                             g_str_equal (c->report->os, "macos") ? ODD_DOCTOR_OK
                             : ODD_DOCTOR_WARN, NULL, NULL, "not checked: cannot read %s", path);
      return;
    }

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && !found; i++)
    if (g_str_has_prefix (lines[i], "MemAvailable:"))
      {
        available = g_ascii_strtoull (lines[i] + strlen ("MemAvailable:"), NULL, 10) * 1024;
        found = TRUE;
      }

  if (!found)
    {
      odd_doctor_report_add (c->report, "memory", "Free memory", ODD_DOCTOR_WARN, NULL, NULL,
                             "no MemAvailable in %s", path);
      return;
    }
  odd_doctor_report_add (c->report, "memory", "Free memory",
                         available < 512 * MIB ? ODD_DOCTOR_FAIL
                         : available < 2 * GIB ? ODD_DOCTOR_WARN : ODD_DOCTOR_OK,
                         NULL, NULL, "%.1f GiB available%s", (double) available / GIB,
                         available < 2 * GIB ? " (2 GiB recommended for a kind cluster)" : "");
}

static OddDoctorReport *
run_checks (OddDoctor    *self,
            GCancellable *cancellable)
{
  g_autofree char *os_release = NULL;
  g_autofree char *flatpak_info = NULL;
  g_autofree char *os_name = NULL;
  g_autofree char *os = NULL;
  g_autoptr(GPtrArray) dirs = server_dirs (self);
  struct utsname uts;
  gboolean macos;
  OddDistro distro;
  Checks c = { .self = self, .cancellable = cancellable };

  if (uname (&uts) != 0)
    g_strlcpy (uts.machine, "unknown", sizeof uts.machine);
  macos = g_str_equal (uts.sysname, "Darwin");

  if (self->flatpak_info_set)
    flatpak_info = g_strdup (self->flatpak_info);
  else
    g_file_get_contents ("/.flatpak-info", &flatpak_info, NULL, NULL);

  if (self->os_release_set)
    os_release = g_strdup (self->os_release);
  else if (flatpak_info != NULL &&
           g_file_get_contents ("/run/host/os-release", &os_release, NULL, NULL))
    ;  /* the host's: its package manager fixes the host */
  else if (g_getenv ("ODD_DOCTOR_OS_RELEASE") != NULL)
    g_file_get_contents (g_getenv ("ODD_DOCTOR_OS_RELEASE"), &os_release, NULL, NULL);
  else if (!macos && !g_file_get_contents ("/etc/os-release", &os_release, NULL, NULL))
    g_file_get_contents ("/usr/lib/os-release", &os_release, NULL, NULL);
  if (os_release == NULL && !macos && !self->os_release_set)
    os_release = g_strdup ("");

  distro = odd_distro_from_os_release (os_release, &os_name);
  os = macos || distro == ODD_DISTRO_MACOS ? g_strdup ("macos") : g_ascii_strdown (uts.sysname, -1);
  c.report = odd_doctor_report_new (distro, os_name, os, uts.machine);
  c.arch = c.report->arch;
  if (flatpak_info != NULL)
    {
      g_autoptr(GKeyFile) info = g_key_file_new ();

      c.report->sandbox = g_strdup ("flatpak");
      if (g_key_file_load_from_data (info, flatpak_info, -1, G_KEY_FILE_NONE, NULL))
        c.flatpak_runtime = g_key_file_get_string (info, "Application", "runtime", NULL);
      if (c.flatpak_runtime == NULL)
        c.flatpak_runtime = g_strdup ("unknown runtime");
    }

  check_platform (&c);
  check_docker_cli (&c);
  check_docker_daemon (&c);
  mark_host_fix (&c);
  check_docker_socket (&c);
  mark_host_fix (&c);
  check_kubectl (&c);
  check_kind (&c);
  check_kind_cluster (&c);
  check_server (&c, dirs, "postgres", "PostgreSQL server", "pg_ctl", "initdb", "postgres");
  check_server (&c, dirs, "redis", "Redis server", "redis-server", NULL, "redis");
  check_server (&c, dirs, "rabbitmq", "RabbitMQ server", "rabbitmq-server", NULL, "rabbitmq");
  check_ports (&c);
  check_disk (&c);
  check_memory (&c);

  g_free (c.flatpak_runtime);
  return c.report;
}

static void
run_in_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  OddDoctorReport *report = run_checks (source, cancellable);

  if (g_task_return_error_if_cancelled (task))
    odd_doctor_report_unref (report);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) odd_doctor_report_unref);
}

void
odd_doctor_run_async (OddDoctor           *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_return_if_fail (ODD_IS_DOCTOR (self));
  g_task_set_source_tag (task, odd_doctor_run_async);
  g_task_run_in_thread (task, run_in_thread);
}

OddDoctorReport *
odd_doctor_run_finish (OddDoctor     *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

OddDoctorReport *
odd_doctor_run (OddDoctor     *self,
                GCancellable  *cancellable,
                GError       **error)
{
  OddDoctorReport *report;

  g_return_val_if_fail (ODD_IS_DOCTOR (self), NULL);
  report = run_checks (self, cancellable);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      odd_doctor_report_unref (report);
      return NULL;
    }
  return report;
}
