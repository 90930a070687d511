#define G_LOG_DOMAIN "test-doctor"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-doctor.h"
#include "odd-schema.h"
#include "odd-stack-paths.h"

static const char *debian_release =
  "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nID=debian\n";
static const char *fedora_release =
  "NAME=\"Fedora Linux\"\nVERSION_ID=39\nID=fedora\nPRETTY_NAME=\"Fedora Linux 39 (Workstation Edition)\"\n";

typedef struct
{
  char *dir;      /* scratch */
  char *tools;    /* fake tools on $PATH */
  char *servers;  /* fake server binaries */
  char *meminfo;
} Fixture;

static void
write_script (const char *dir,
              const char *name,
              const char *body)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

static void
write_meminfo (Fixture *f,
               guint64  available_kib)
{
  g_autofree char *text = g_strdup_printf ("MemTotal:       24000000 kB\nMemFree:  1000 kB\n"
                                           "MemAvailable:   %" G_GUINT64_FORMAT " kB\n",
                                           available_kib);

  g_assert_true (g_file_set_contents (f->meminfo, text, -1, NULL));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("test-doctor-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->tools = g_build_filename (f->dir, "bin", NULL);
  f->servers = g_build_filename (f->dir, "servers", NULL);
  f->meminfo = g_build_filename (f->dir, "meminfo", NULL);
  g_assert_cmpint (g_mkdir (f->tools, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->servers, 0755), ==, 0);
  write_meminfo (f, 8 * 1024 * 1024);

  /* Only the fake tools: the machine's own docker or kind must not leak in. */
  g_setenv ("PATH", f->tools, TRUE);
  g_unsetenv ("ODD_TOOLS_DIR");
  g_unsetenv ("DOCKER_HOST");
  g_unsetenv ("ODD_PORT_BASE");
  g_setenv ("ODD_STATE_DIR", f->dir, TRUE);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  const char *argv[] = { "/bin/rm", "-rf", f->dir, NULL };

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               NULL, NULL, NULL));
  g_free (f->dir);
  g_free (f->tools);
  g_free (f->servers);
  g_free (f->meminfo);
}

static OddDoctor *
new_doctor (Fixture    *f,
            const char *os_release)
{
  OddDoctor *doctor = odd_doctor_new ();
  const char *dirs[] = { f->servers, NULL };
  const guint16 ports[] = { 0 };
  const char *names[] = { "gateway" };
  g_autofree char *socket_path = g_build_filename (f->dir, "no-docker.sock", NULL);

  odd_doctor_set_os_release (doctor, os_release);
  odd_doctor_set_server_dirs (doctor, dirs);
  odd_doctor_set_meminfo_path (doctor, f->meminfo);
  odd_doctor_set_docker_socket (doctor, socket_path);
  odd_doctor_set_ports (doctor, ports, names, 0);
  odd_doctor_set_tool_timeout (doctor, 5);
  return doctor;
}

static const OddDoctorCheck *
find (OddDoctorReport *report,
      const char      *id)
{
  const OddDoctorCheck *check = odd_doctor_report_find (report, id);

  g_assert_nonnull (check);
  return check;
}

static void
assert_valid_json (OddDoctorReport *report)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) schemas = odd_schema_registry_new_default (&error);
  g_autoptr(JsonNode) json = odd_doctor_report_to_json (report);
  g_autoptr(GPtrArray) problems = NULL;

  g_assert_no_error (error);
  problems = odd_schema_registry_validate (schemas, "doctor", json, &error);
  g_assert_no_error (error);
  if (problems->len > 0)
    {
      g_autofree char *text = odd_validation_errors_to_string (problems);

      g_error ("doctor JSON does not match contracts/schemas/doctor.json: %s", text);
    }
}

static void
test_distro (void)
{
  struct { const char *release; OddDistro distro; const char *pretty; } cases[] = {
    { "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n", ODD_DISTRO_DEBIAN,
      "Debian GNU/Linux 12 (bookworm)" },
    { "ID=ubuntu\nID_LIKE=debian\n", ODD_DISTRO_DEBIAN, "ubuntu" },
    { "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", ODD_DISTRO_DEBIAN, "linuxmint" },
    { "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", ODD_DISTRO_FEDORA, "rocky" },
    { "ID=fedora\n", ODD_DISTRO_FEDORA, "fedora" },
    { "ID=arch\n", ODD_DISTRO_ARCH, "arch" },
    { "ID=manjaro\nID_LIKE=arch\n", ODD_DISTRO_ARCH, "manjaro" },
    { "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n", ODD_DISTRO_OPENSUSE,
      "opensuse-tumbleweed" },
    { "ID=gentoo\n", ODD_DISTRO_UNKNOWN, "gentoo" },
    { "", ODD_DISTRO_UNKNOWN, "Linux" },
    { NULL, ODD_DISTRO_MACOS, "macOS" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *pretty = NULL;

      g_assert_cmpint (odd_distro_from_os_release (cases[i].release, &pretty), ==,
                       cases[i].distro);
      g_assert_cmpstr (pretty, ==, cases[i].pretty);
    }
}

static void
test_fix_tables (void)
{
  struct { OddDistro distro; const char *what; const char *fix; } cases[] = {
    { ODD_DISTRO_DEBIAN, "docker", "sudo apt-get install -y docker.io" },
    { ODD_DISTRO_FEDORA, "docker", "sudo dnf install -y moby-engine" },
    { ODD_DISTRO_ARCH, "docker", "sudo pacman -S --noconfirm docker" },
    { ODD_DISTRO_OPENSUSE, "docker", "sudo zypper install -y docker" },
    { ODD_DISTRO_MACOS, "docker", "brew install --cask docker" },
    { ODD_DISTRO_DEBIAN, "postgres", "sudo apt-get install -y postgresql" },
    { ODD_DISTRO_FEDORA, "postgres", "sudo dnf install -y postgresql-server" },
    { ODD_DISTRO_DEBIAN, "redis", "sudo apt-get install -y redis-server" },
    { ODD_DISTRO_FEDORA, "redis", "sudo dnf install -y redis" },
    { ODD_DISTRO_DEBIAN, "rabbitmq", "sudo apt-get install -y rabbitmq-server" },
    { ODD_DISTRO_ARCH, "rabbitmq", "sudo pacman -S --noconfirm rabbitmq" },
    { ODD_DISTRO_FEDORA, "kubectl", "sudo dnf install -y kubernetes-client" },
    { ODD_DISTRO_MACOS, "kind", "brew install kind" },
    { ODD_DISTRO_DEBIAN, "docker-daemon", "sudo systemctl enable --now docker" },
    { ODD_DISTRO_MACOS, "docker-daemon", "open -a Docker" },
    { ODD_DISTRO_DEBIAN, "docker-socket", "sudo usermod -aG docker $USER && newgrp docker" },
    { ODD_DISTRO_UNKNOWN, "redis", NULL },
  };
  g_autofree char *kind_deb = odd_doctor_fix_command (ODD_DISTRO_DEBIAN, "kind", "x86_64");
  g_autofree char *kind_arm = odd_doctor_fix_command (ODD_DISTRO_FEDORA, "kind", "aarch64");
  g_autofree char *kubectl_deb = odd_doctor_fix_command (ODD_DISTRO_DEBIAN, "kubectl", "x86_64");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *fix = odd_doctor_fix_command (cases[i].distro, cases[i].what, "x86_64");

      g_assert_cmpstr (fix, ==, cases[i].fix);
    }

  /* No distribution package: the upstream binary, for this machine's architecture, at the
   * minimum version. */
  g_assert_nonnull (strstr (kind_deb, "https://kind.sigs.k8s.io/dl/v0.20.0/kind-linux-amd64"));
  g_assert_nonnull (strstr (kind_arm, "kind-linux-arm64"));
  g_assert_nonnull (strstr (kubectl_deb, "/bin/linux/amd64/kubectl"));
}

/* A machine with nothing: every tool and server missing, on Debian and on Fedora. */
static void
test_nothing_installed (Fixture       *f,
                        gconstpointer  data)
{
  struct { const char *release; const char *docker; const char *redis; const char *title; } distros[] = {
    { debian_release, "sudo apt-get install -y docker.io", "sudo apt-get install -y redis-server",
      "Installation Commands (debian, apt):" },
    { fedora_release, "sudo dnf install -y moby-engine", "sudo dnf install -y redis",
      "Installation Commands (fedora, dnf):" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (distros); i++)
    {
      g_autoptr(OddDoctor) doctor = new_doctor (f, distros[i].release);
      g_autoptr(GError) error = NULL;
      g_autoptr(OddDoctorReport) report = odd_doctor_run (doctor, NULL, &error);
      g_autofree char *text = NULL;
      const OddDoctorCheck *check;

      g_assert_no_error (error);
      check = find (report, "docker-cli");
      g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
      g_assert_cmpstr (check->fix, ==, distros[i].docker);
      g_assert_cmpint (find (report, "docker-daemon")->status, ==, ODD_DOCTOR_FAIL);
      g_assert_cmpint (find (report, "kubectl")->status, ==, ODD_DOCTOR_FAIL);
      g_assert_nonnull (find (report, "kubectl")->fix);
      check = find (report, "kind");
      g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
      g_assert_nonnull (strstr (check->fix, "v0.20.0"));
      g_assert_cmpint (find (report, "kind-cluster")->status, ==, ODD_DOCTOR_WARN);
      check = find (report, "redis");
      g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
      g_assert_cmpstr (check->fix, ==, distros[i].redis);
      g_assert_cmpint (find (report, "postgres")->status, ==, ODD_DOCTOR_FAIL);
      g_assert_cmpint (find (report, "rabbitmq")->status, ==, ODD_DOCTOR_FAIL);
      g_assert_cmpint (odd_doctor_report_count (report, ODD_DOCTOR_FAIL), >=, 7);

      text = odd_doctor_report_to_text (report, "odd-dashboard");
      g_assert_true (g_str_has_prefix (text, "odd-dashboard doctor\n====================\n\n"));
      g_assert_nonnull (strstr (text, "[FAIL] Docker CLI: not found"));
      g_assert_nonnull (strstr (text, distros[i].title));
      g_assert_nonnull (strstr (text, distros[i].docker));
      g_assert_nonnull (strstr (text, "Some prerequisites are missing.\n"
                                      "Run the commands above, then retry: odd-dashboard doctor\n"));
      assert_valid_json (report);
    }
}

static void
install_servers (Fixture *f)
{
  write_script (f->servers, "pg_ctl", "echo 'pg_ctl (PostgreSQL) 15.4'");
  write_script (f->servers, "initdb", "exit 0");
  write_script (f->servers, "redis-server", "exit 0");
  write_script (f->servers, "rabbitmq-server", "exit 0");
}

static void
install_tools (Fixture    *f,
               const char *kind_version,
               const char *docker_info,
               const char *clusters)
{
  g_autofree char *docker = g_strdup_printf (
    "case \"$1\" in\n"
    "  --version) echo 'Docker version 24.0.7, build afdd53b' ;;\n"
    "  info) %s ;;\n"
    "esac", docker_info);
  g_autofree char *kind = g_strdup_printf (
    "case \"$1\" in\n"
    "  version) echo 'kind %s go1.20.4 linux/amd64' ;;\n"
    "  get) printf '%s' ;;\n"
    "esac", kind_version, clusters);

  write_script (f->tools, "docker", docker);
  write_script (f->tools, "kind", kind);
  write_script (f->tools, "kubectl",
                "echo '{\"clientVersion\": {\"major\": \"1\", \"minor\": \"28\", "
                "\"gitVersion\": \"v1.28.2\"}}'");
}

static void
test_everything_ok (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(OddDoctorReport) report = NULL;
  g_autofree char *text = NULL;

  install_servers (f);
  install_tools (f, "v0.20.0", "echo 24.0.7", "kind\\ntask-observatory\\n");
  report = odd_doctor_run (doctor, NULL, NULL);

  g_assert_cmpint (find (report, "docker-cli")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpstr (find (report, "docker-cli")->version, ==, "Docker version 24.0.7, build afdd53b");
  g_assert_cmpint (find (report, "docker-daemon")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpstr (find (report, "docker-daemon")->version, ==, "24.0.7");
  g_assert_cmpint (find (report, "kubectl")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpstr (find (report, "kubectl")->version, ==, "v1.28.2");
  g_assert_cmpint (find (report, "kind")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "kind-cluster")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "postgres")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "redis")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "rabbitmq")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "memory")->status, ==, ODD_DOCTOR_OK);
  /* The socket is missing in this fixture: a warning, not a failure. */
  g_assert_cmpint (find (report, "docker-socket")->status, ==, ODD_DOCTOR_WARN);
  g_assert_cmpint (odd_doctor_report_count (report, ODD_DOCTOR_FAIL), ==, 0);

  text = odd_doctor_report_to_text (report, "oddctl");
  g_assert_nonnull (strstr (text, "[OK] kind: kind v0.20.0 go1.20.4 linux/amd64\n"));
  g_assert_null (strstr (text, "Some prerequisites are missing"));
  g_assert_nonnull (strstr (text, "All prerequisites satisfied"));
  assert_valid_json (report);
}

static void
test_kind_too_old (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, fedora_release);
  g_autoptr(OddDoctorReport) report = NULL;
  const OddDoctorCheck *kind;

  install_tools (f, "v0.17.0", "echo 24.0.7", "");
  report = odd_doctor_run (doctor, NULL, NULL);
  kind = find (report, "kind");
  g_assert_cmpint (kind->status, ==, ODD_DOCTOR_FAIL);
  g_assert_cmpstr (kind->reason, ==, "0.17.0 is older than 0.20.0");
  g_assert_nonnull (strstr (kind->fix, "kind-linux-"));
  /* No usable kind: the cluster is not asked about. */
  g_assert_cmpint (find (report, "kind-cluster")->status, ==, ODD_DOCTOR_WARN);
  g_assert_nonnull (strstr (find (report, "kind-cluster")->reason, "not checked"));
}

static void
test_no_cluster (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(OddDoctorReport) report = NULL;

  install_tools (f, "v0.24.0", "echo 24.0.7", "other\\n");
  report = odd_doctor_run (doctor, NULL, NULL);
  g_assert_cmpint (find (report, "kind")->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpint (find (report, "kind-cluster")->status, ==, ODD_DOCTOR_WARN);
  g_assert_cmpstr (find (report, "kind-cluster")->fix, ==, "oddctl cluster up");
}

static void
test_daemon_down_and_permission (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(OddDoctorReport) down = NULL;
  g_autoptr(OddDoctorReport) denied = NULL;
  const OddDoctorCheck *check;

  install_tools (f, "v0.20.0",
                 "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                 "Is the docker daemon running?' >&2; exit 1", "");
  down = odd_doctor_run (doctor, NULL, NULL);
  check = find (down, "docker-daemon");
  g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
  g_assert_nonnull (strstr (check->reason, "Is the docker daemon running?"));
  g_assert_cmpstr (check->fix, ==, "sudo systemctl enable --now docker");

  install_tools (f, "v0.20.0",
                 "echo 'permission denied while trying to connect to the Docker daemon socket "
                 "at unix:///var/run/docker.sock' >&2; exit 1", "");
  denied = odd_doctor_run (doctor, NULL, NULL);
  check = find (denied, "docker-daemon");
  g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
  g_assert_cmpstr (check->fix, ==, "sudo usermod -aG docker $USER && newgrp docker");
}

static void
test_tool_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(OddDoctorReport) report = NULL;

  /* A daemon that never answers must not hang the doctor: an hour, so that only the doctor's
   * timeout ends it (or meson's, should it not). exec: the kill reaches sleep. */
  install_tools (f, "v0.20.0", "exec /bin/sleep 3600", "");
  odd_doctor_set_tool_timeout (doctor, 1);
  report = odd_doctor_run (doctor, NULL, NULL);
  g_assert_cmpint (find (report, "docker-daemon")->status, ==, ODD_DOCTOR_FAIL);
  g_assert_nonnull (strstr (find (report, "docker-daemon")->reason, "did not answer within 1 s"));
}

static int
make_socket (const char *path,
             gboolean    listening)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  if (listening)
    g_assert_cmpint (listen (fd, 4), ==, 0);
  return fd;
}

static void
test_socket (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autofree char *good = g_build_filename (f->dir, "good.sock", NULL);
  g_autofree char *locked = g_build_filename (f->dir, "locked.sock", NULL);
  g_autofree char *dead = g_build_filename (f->dir, "dead.sock", NULL);
  g_autofree char *plain = g_build_filename (f->dir, "plain.sock", NULL);
  int good_fd = make_socket (good, TRUE);
  int locked_fd = make_socket (locked, TRUE);
  int dead_fd = make_socket (dead, FALSE);
  struct {
    const char *path;
    OddDoctorStatus status;
    const char *reason;
    const char *fix;
  } cases[] = {
    { good, ODD_DOCTOR_OK, "accepts connections", NULL },
    { locked, ODD_DOCTOR_FAIL, "permission denied", "sudo usermod -aG docker $USER && newgrp docker" },
    { dead, ODD_DOCTOR_WARN, "nothing answers", "sudo systemctl enable --now docker" },
    { plain, ODD_DOCTOR_FAIL, "is not a socket", NULL },
  };

  g_assert_true (g_file_set_contents (plain, "", 0, NULL));
  /* No permission for anyone: what a user outside the docker group meets. */
  g_assert_cmpint (g_chmod (locked, 0000), ==, 0);
  g_assert_cmpint (g_chmod (good, 0600), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OddDoctorReport) report = NULL;
      const OddDoctorCheck *check;

      odd_doctor_set_docker_socket (doctor, cases[i].path);
      report = odd_doctor_run (doctor, NULL, NULL);
      check = find (report, "docker-socket");
      g_test_message ("%s: %s", cases[i].path, check->reason);
      g_assert_cmpint (check->status, ==, cases[i].status);
      g_assert_nonnull (strstr (check->reason, cases[i].reason));
      g_assert_cmpstr (check->fix, ==, cases[i].fix);
    }

  /* DOCKER_HOST names the socket when nothing else does. */
  {
    g_autoptr(OddDoctor) from_env = odd_doctor_new ();
    g_autoptr(OddDoctorReport) report = NULL;
    g_autofree char *host = g_strconcat ("unix://", good, NULL);

    odd_doctor_set_os_release (from_env, debian_release);
    odd_doctor_set_meminfo_path (from_env, f->meminfo);
    g_setenv ("DOCKER_HOST", host, TRUE);
    report = odd_doctor_run (from_env, NULL, NULL);
    g_unsetenv ("DOCKER_HOST");
    g_assert_cmpint (find (report, "docker-socket")->status, ==, ODD_DOCTOR_OK);
    g_assert_nonnull (strstr (find (report, "docker-socket")->reason, good));
  }

  close (good_fd);
  close (locked_fd);
  close (dead_fd);
}

static void
test_ports (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddDoctorReport) busy = NULL;
  g_autoptr(OddDoctorReport) free_report = NULL;
  guint16 taken = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  guint16 ports[2];
  const char *names[] = { "gateway", "read-model" };
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  const OddDoctorCheck *check;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  ports[0] = taken;
  /* A port that was free a moment ago. */
  ports[1] = g_socket_listener_add_any_inet_port (probe, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (probe);
  odd_doctor_set_ports (doctor, ports, names, 2);
  busy = odd_doctor_run (doctor, NULL, NULL);
  check = find (busy, "ports");
  expected = g_strdup_printf ("in use by another program: %u (gateway)", taken);
  g_assert_cmpint (check->status, ==, ODD_DOCTOR_FAIL);
  g_assert_cmpstr (check->reason, ==, expected);
  g_assert_nonnull (check->fix);

  /* The same port held by the local stack's own gateway (its pid file names a live
   * process: this one) is fine. */
  {
    g_autoptr(OddStackPaths) paths = odd_stack_paths_new_from_env (&error);
    g_autofree char *pid_file = NULL;
    g_autofree char *pid_dir = NULL;
    g_autofree char *pid_text = g_strdup_printf ("%d\n", (int) getpid ());
    g_autoptr(OddDoctorReport) ours = NULL;

    g_assert_no_error (error);
    pid_file = odd_stack_paths_pid_file (paths, "gateway");
    pid_dir = g_path_get_dirname (pid_file);
    g_assert_cmpint (g_mkdir_with_parents (pid_dir, 0755), ==, 0);
    g_assert_true (g_file_set_contents (pid_file, pid_text, -1, NULL));
    ours = odd_doctor_run (doctor, NULL, NULL);
    g_assert_cmpint (find (ours, "ports")->status, ==, ODD_DOCTOR_OK);
    g_assert_cmpstr (find (ours, "ports")->reason, ==, "1 held by the running local stack, 1 free");
    g_unlink (pid_file);
  }

  g_socket_listener_close (listener);
  free_report = odd_doctor_run (doctor, NULL, NULL);
  g_assert_cmpint (find (free_report, "ports")->status, ==, ODD_DOCTOR_OK);
  g_assert_nonnull (strstr (find (free_report, "ports")->reason, "all 2 free"));
}

static void
test_memory_and_disk (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  struct { guint64 kib; OddDoctorStatus status; } cases[] = {
    { 8 * 1024 * 1024, ODD_DOCTOR_OK },
    { 1024 * 1024, ODD_DOCTOR_WARN },
    { 100 * 1024, ODD_DOCTOR_FAIL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OddDoctorReport) report = NULL;

      write_meminfo (f, cases[i].kib);
      report = odd_doctor_run (doctor, NULL, NULL);
      g_assert_cmpint (find (report, "memory")->status, ==, cases[i].status);
      /* The disk check always says how much is free where the state goes. */
      g_assert_nonnull (strstr (find (report, "disk")->reason, "GiB free on"));
    }

  g_assert_true (g_file_set_contents (f->meminfo, "MemTotal: 1 kB\n", -1, NULL));
  {
    g_autoptr(OddDoctorReport) report = odd_doctor_run (doctor, NULL, NULL);

    g_assert_cmpint (find (report, "memory")->status, ==, ODD_DOCTOR_WARN);
  }
}

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  OddDoctorReport **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = odd_doctor_run_finish (ODD_DOCTOR (source), result, &error);
  g_assert_no_error (error);
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(OddDoctor) doctor = new_doctor (f, debian_release);
  g_autoptr(OddDoctorReport) report = NULL;
  GPtrArray *checks;
  const char *order[] = { "platform", "docker-cli", "docker-daemon", "docker-socket", "kubectl",
                          "kind", "kind-cluster", "postgres", "redis", "rabbitmq", "ports",
                          "disk", "memory" };

  install_tools (f, "v0.20.0", "echo 24.0.7", "task-observatory\\n");
  odd_doctor_run_async (doctor, NULL, on_async_done, &report);
  while (report == NULL)
    g_main_context_iteration (NULL, TRUE);

  checks = odd_doctor_report_get_checks (report);
  g_assert_cmpuint (checks->len, ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < checks->len; i++)
    g_assert_cmpstr (((OddDoctorCheck *) checks->pdata[i])->id, ==, order[i]);
  assert_valid_json (report);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/doctor/distro", test_distro);
  g_test_add_func ("/doctor/fix-tables", test_fix_tables);
  g_test_add ("/doctor/nothing-installed", Fixture, NULL, fixture_set_up, test_nothing_installed,
              fixture_tear_down);
  g_test_add ("/doctor/everything-ok", Fixture, NULL, fixture_set_up, test_everything_ok,
              fixture_tear_down);
  g_test_add ("/doctor/kind-too-old", Fixture, NULL, fixture_set_up, test_kind_too_old,
              fixture_tear_down);
  g_test_add ("/doctor/no-cluster", Fixture, NULL, fixture_set_up, test_no_cluster,
              fixture_tear_down);
  g_test_add ("/doctor/daemon-down-and-permission", Fixture, NULL, fixture_set_up,
              test_daemon_down_and_permission, fixture_tear_down);
  g_test_add ("/doctor/tool-timeout", Fixture, NULL, fixture_set_up, test_tool_timeout,
              fixture_tear_down);
  g_test_add ("/doctor/socket", Fixture, NULL, fixture_set_up, test_socket, fixture_tear_down);
  g_test_add ("/doctor/ports", Fixture, NULL, fixture_set_up, test_ports, fixture_tear_down);
  g_test_add ("/doctor/memory-and-disk", Fixture, NULL, fixture_set_up, test_memory_and_disk,
              fixture_tear_down);
  g_test_add ("/doctor/async", Fixture, NULL, fixture_set_up, test_async, fixture_tear_down);

  return g_test_run ();
}
