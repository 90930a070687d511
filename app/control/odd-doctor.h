/* odd-doctor.h: diagnoses this machine for the local stack and the kind cluster
 *
 * Shared by `odd-dashboard doctor`, `oddctl doctor [--json]` and the apps. Every check says
 * ok, warn or fail, gives a one-line reason and, when something can be done about it, the
 * exact command that fixes it on the detected distribution (apt, dnf, pacman, zypper, brew).
 *
 * Checks, in order: platform, docker CLI, docker daemon (`docker info`), docker socket
 * permission, kubectl, kind (>= ODD_DOCTOR_MIN_KIND), the kind cluster, the PostgreSQL, Redis
 * and RabbitMQ server binaries, the local stack's ports, free disk and memory.
 *
 * The run is blocking (it runs tools with a timeout each), so the async form runs it on a
 * worker thread; its completion runs on the main context that was thread-default at the call.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_DOCTOR_MIN_KIND "0.20.0"
#define ODD_DOCTOR_CLUSTER_NAME "task-observatory"

typedef enum
{
  ODD_DOCTOR_OK,
  ODD_DOCTOR_WARN,
  ODD_DOCTOR_FAIL,
} OddDoctorStatus;

const char *odd_doctor_status_to_string (OddDoctorStatus status);  /* "ok", "warn", "fail" */

typedef enum
{
  ODD_DISTRO_UNKNOWN,
  ODD_DISTRO_DEBIAN,    /* Debian, Ubuntu and derivatives: apt */
  ODD_DISTRO_FEDORA,    /* Fedora, RHEL, CentOS, Rocky, Alma: dnf */
  ODD_DISTRO_ARCH,      /* Arch, Manjaro, EndeavourOS: pacman */
  ODD_DISTRO_OPENSUSE,  /* openSUSE Leap and Tumbleweed, SLES: zypper */
  ODD_DISTRO_MACOS,     /* Homebrew */
} OddDistro;

/* "debian", "fedora", "arch", "opensuse", "macos", "unknown" */
const char *odd_distro_to_string       (OddDistro    distro);
/* "apt", "dnf", "pacman", "zypper", "brew", NULL */
const char *odd_distro_package_manager (OddDistro    distro);
/* From the text of an os-release file (ID, then ID_LIKE). @pretty_name (nullable) receives
 * PRETTY_NAME. */
OddDistro   odd_distro_from_os_release (const char  *contents,
                                        char       **pretty_name);

/* The fix of @what on @distro, or NULL when there is none. @what: "docker", "docker-daemon",
 * "docker-socket", "kubectl", "kind", "postgres", "redis", "rabbitmq". @arch is the uname
 * machine ("x86_64", "aarch64"): download URLs name it. */
char       *odd_doctor_fix_command     (OddDistro    distro,
                                        const char  *what,
                                        const char  *arch);

typedef struct
{
  char            *id;       /* "docker-cli", "kind", "ports", ... */
  char            *name;     /* "Docker CLI" */
  OddDoctorStatus  status;
  char            *reason;   /* one line */
  char            *version;  /* the tool's version when it has one, else NULL */
  char            *fix;      /* the exact command, else NULL */
  gboolean         fix_on_host; /* in a sandbox: @fix is for the host, to copy, never to run here */
} OddDoctorCheck;

void odd_doctor_check_free (OddDoctorCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddDoctorCheck, odd_doctor_check_free)

typedef struct _OddDoctorReport OddDoctorReport;

OddDoctorReport *odd_doctor_report_ref          (OddDoctorReport *report);
void             odd_doctor_report_unref        (OddDoctorReport *report);
OddDistro        odd_doctor_report_get_distro   (OddDoctorReport *report);
/* PRETTY_NAME of os-release (or "macOS"), never NULL; in a Flatpak, the host's */
const char      *odd_doctor_report_get_os_name  (OddDoctorReport *report);
/* "flatpak" when the checks ran inside a Flatpak sandbox, else NULL */
const char      *odd_doctor_report_get_sandbox  (OddDoctorReport *report);
/* GPtrArray of OddDoctorCheck, owned by the report */
GPtrArray       *odd_doctor_report_get_checks   (OddDoctorReport *report);
const OddDoctorCheck *odd_doctor_report_find    (OddDoctorReport *report,
                                                 const char      *id);
guint            odd_doctor_report_count        (OddDoctorReport *report,
                                                 OddDoctorStatus  status);
/* Validated by contracts/schemas/doctor.json. */
JsonNode        *odd_doctor_report_to_json      (OddDoctorReport *report);
/* The text of reference 6.2; @program names the command in the title and the last lines
 * ("odd-dashboard", "oddctl"). */
char            *odd_doctor_report_to_text      (OddDoctorReport *report,
                                                 const char      *program);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddDoctorReport, odd_doctor_report_unref)

#define ODD_TYPE_DOCTOR (odd_doctor_get_type ())
G_DECLARE_FINAL_TYPE (OddDoctor, odd_doctor, ODD, DOCTOR, GObject)

/* Reads the environment: $ODD_DOCTOR_OS_RELEASE (a file in os-release format, else
 * /etc/os-release), $DOCKER_HOST (unix:// socket, else /var/run/docker.sock), the local
 * stack's ports and state dir (ODD_PORT_BASE, ODD_STATE_DIR), and $ODD_TOOLS_DIR/$PATH for
 * the tools. */
OddDoctor       *odd_doctor_new                 (void);

/* For tests and special setups. */
void             odd_doctor_set_os_release      (OddDoctor          *self,
                                                 const char         *contents);
/* The contents of /.flatpak-info, or NULL for "not in a sandbox" (tests); by default the doctor
 * reads /.flatpak-info. In a Flatpak the host's os-release is /run/host/os-release, the
 * cluster tools and the servers are bundled (a missing one is not something the user installs
 * into the sandbox), and fixes that concern the host (its Docker daemon) are marked
 * fix_on_host: shown to copy, never run inside the sandbox. */
void             odd_doctor_set_flatpak_info    (OddDoctor          *self,
                                                 const char         *contents);  /* NULL: macOS */
void             odd_doctor_set_docker_socket   (OddDoctor          *self,
                                                 const char         *path);
void             odd_doctor_set_meminfo_path    (OddDoctor          *self,
                                                 const char         *path);
/* Directories searched for the server binaries before $PATH (NULL: only $PATH). The
 * default: /usr/lib/postgresql/<newest>/bin, /usr/lib/rabbitmq/bin, /usr/sbin, /usr/bin,
 * /usr/local/bin. */
void             odd_doctor_set_server_dirs     (OddDoctor          *self,
                                                 const char * const *dirs);
/* The ports the stack needs, each with its component name (default: the local stack's). */
void             odd_doctor_set_ports           (OddDoctor          *self,
                                                 const guint16      *ports,
                                                 const char * const *names,
                                                 guint               n_ports);
/* Seconds each tool may run (default 10). */
void             odd_doctor_set_tool_timeout    (OddDoctor          *self,
                                                 guint               seconds);

void             odd_doctor_run_async           (OddDoctor          *self,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
OddDoctorReport *odd_doctor_run_finish          (OddDoctor          *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
/* Blocking form, for the command line. */
OddDoctorReport *odd_doctor_run                 (OddDoctor          *self,
                                                 GCancellable       *cancellable,
                                                 GError            **error);

G_END_DECLS
