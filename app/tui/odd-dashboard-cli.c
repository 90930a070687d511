#define G_LOG_DOMAIN "odd-dashboard"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "odd-build-config.h"
#include "odd-dashboard.h"

static void
print_usage (FILE *stream)
{
  fprintf (stream,
           "Usage: odd-dashboard [OPTIONS]\n"
           "       odd-dashboard doctor [--json]\n"
           "\n"
           "The terminal dashboard of the Distributed Task Observatory: statistics, throughput\n"
           "and failures, queues, recent jobs (Enter shows a job's events, R retries a failed\n"
           "one), alerts, new jobs (N), the UIs (U) and the doctor (D). With no stack running\n"
           "it offers to start the local stack (L) or a kind cluster (K).\n"
           "\n"
           "Commands:\n"
           "  doctor [--json]       Check Docker, kubectl, kind, the servers, ports, disk and\n"
           "                        memory; print the command that fixes each problem\n"
           "                        (exit status 1 when a check fails)\n"
           "\n"
           "Options:\n"
           "  -h, --help            Show this help\n"
           "  -V, --version         Show the version, commit and build date\n"
           "  --interval SECONDS    Refresh period (default 1, 0.2 to 60)\n"
           "  --once, --dump        Print one rendered frame as text and exit\n"
           "  --size COLSxROWS      Frame size for --once (default $COLUMNS x $LINES, else 80x24)\n"
           "\n"
           "Environment:\n"
           "  READ_MODEL_URL        read model (default: the running local stack, else\n"
           "                        " ODD_ENDPOINTS_DEFAULT_READ_MODEL_URL ")\n"
           "  GATEWAY_URL           gateway (default: the running local stack, else\n"
           "                        " ODD_ENDPOINTS_DEFAULT_GATEWAY_URL ")\n"
           "  ODD_STATE_DIR, ODD_PORT_BASE  the local stack (see oddctl --help)\n"
           "  NO_COLOR              no colours\n"
           "\n"
           "Keys are case-insensitive; Q quits and restores the terminal.\n");
}

static void
print_version (void)
{
  struct utsname uts;

  if (uname (&uts) != 0)
    {
      g_strlcpy (uts.sysname, "unknown", sizeof uts.sysname);
      g_strlcpy (uts.machine, "unknown", sizeof uts.machine);
    }
  printf ("odd-dashboard %s\n", ODD_VERSION);
  printf ("  commit: %s\n", ODD_COMMIT);
  printf ("  built:  %s\n", ODD_BUILD_DATE);
  printf ("  glib:   %u.%u.%u\n", glib_major_version, glib_minor_version, glib_micro_version);
  printf ("  os:     %s\n", uts.sysname);
  printf ("  arch:   %s\n", uts.machine);
}

static int
run_doctor (int    argc,
            char **argv)
{
  g_autoptr(OddDoctor) doctor = odd_doctor_new ();
  g_autoptr(OddDoctorReport) report = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;

  for (int i = 0; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--json"))
        json = TRUE;
      else
        {
          fprintf (stderr, "Unknown option: %s\nRun 'odd-dashboard --help' for usage.\n", argv[i]);
          return 2;
        }
    }

  report = odd_doctor_run (doctor, NULL, &error);
  if (report == NULL)
    {
      fprintf (stderr, "odd-dashboard doctor: %s\n", error->message);
      return 1;
    }
  if (json)
    {
      g_autoptr(JsonNode) root = odd_doctor_report_to_json (report);
      g_autofree char *text = json_to_string (root, TRUE);

      printf ("%s\n", text);
    }
  else
    {
      g_autofree char *text = odd_doctor_report_to_text (report, "odd-dashboard");

      fputs (text, stdout);
    }
  return odd_doctor_report_count (report, ODD_DOCTOR_FAIL) > 0 ? 1 : 0;
}

static gboolean
parse_size (const char *text,
            int        *cols,
            int        *rows)
{
  g_auto(GStrv) parts = g_strsplit (text, "x", 2);
  guint64 c, r;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 10, 1000, &c, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 5, 1000, &r, NULL))
    return FALSE;
  *cols = (int) c;
  *rows = (int) r;
  return TRUE;
}

static int
env_int (const char *name,
         int         fallback)
{
  const char *value = g_getenv (name);
  guint64 n;

  if (value != NULL && g_ascii_string_to_unsigned (value, 10, 10, 1000, &n, NULL))
    return (int) n;
  return fallback;
}

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format,
             ...)
{
  va_list args;

  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fprintf (stderr, "\nRun 'odd-dashboard --help' for usage.\n");
  return 2;
}

int
odd_dash_main (int    argc,
               char **argv)
{
  OddDash *dash;
  gboolean once = FALSE;
  double interval = 1.0;
  int cols = env_int ("COLUMNS", 80);
  int rows = env_int ("LINES", 24);
  int rc;

  setlocale (LC_ALL, "");
  g_set_prgname ("odd-dashboard");

  if (argc >= 2 && g_str_equal (argv[1], "doctor"))
    return run_doctor (argc - 2, argv + 2);

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "-h") || g_str_equal (arg, "--help"))
        {
          print_usage (stdout);
          return 0;
        }
      else if (g_str_equal (arg, "-V") || g_str_equal (arg, "--version"))
        {
          print_version ();
          return 0;
        }
      else if (g_str_equal (arg, "--once") || g_str_equal (arg, "--dump"))
        once = TRUE;
      else if (g_str_equal (arg, "--interval") || g_str_has_prefix (arg, "--interval="))
        {
          const char *value = arg[10] == '=' ? arg + 11 : (i + 1 < argc ? argv[++i] : NULL);
          char *end = NULL;

          if (value == NULL)
            return usage_error ("--interval needs a number of seconds");
          interval = g_ascii_strtod (value, &end);
          if (end == value || *end != '\0' || !(interval >= 0.2 && interval <= 60))
            return usage_error ("Invalid --interval “%s”: seconds from 0.2 to 60", value);
        }
      else if (g_str_equal (arg, "--size") || g_str_has_prefix (arg, "--size="))
        {
          const char *value = arg[6] == '=' ? arg + 7 : (i + 1 < argc ? argv[++i] : NULL);

          if (value == NULL || !parse_size (value, &cols, &rows))
            return usage_error ("Invalid --size “%s”: COLSxROWS, e.g. 80x24",
                                value != NULL ? value : "");
        }
      else if (arg[0] == '-')
        return usage_error ("Unknown option: %s", arg);
      /* Other positional arguments are ignored, as in the reference. */
    }

  dash = odd_dash_new ();
  dash->interval_ms = (guint) (interval * 1000);
  dash->once = once;
  odd_dash_resolve_endpoints (dash);
  /* GLib's socket client asks for the default proxy resolver on every connection, which
   * loads every GIO module (libproxy, dconf, ...): a third of our memory and start time.
   * Plain http needs none of them (TLS for https does, so it keeps them). */
  if (g_str_has_prefix (dash->read_model_url, "http://") &&
      g_str_has_prefix (dash->gateway_url, "http://") &&
      g_getenv ("GIO_MODULE_DIR") == NULL)
    g_setenv ("GIO_MODULE_DIR", "/nonexistent", TRUE);

  if (once)
    {
      g_autofree char *frame = odd_dash_render_once (dash, rows, cols);

      fputs (frame, stdout);
      rc = 0;
    }
  else
    rc = odd_dash_run (dash);

  odd_dash_free (dash);
  return rc;
}
