#define G_LOG_DOMAIN "odd-oddctl"

#include <stdio.h>

#include "odd-doctor.h"
#include "odd-oddctl.h"

/* `oddctl doctor [--json]`: exit 1 when a check fails, 2 on a usage error. */
int
odd_oddctl_doctor_run (int    argc,
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
      else if (g_str_equal (argv[i], "-h") || g_str_equal (argv[i], "--help"))
        {
          printf ("Usage: oddctl doctor [--json]\n\n"
                  "Checks Docker, kubectl, kind, the local stack's servers, ports, disk and\n"
                  "memory; prints the exact command that fixes each problem.\n"
                  "Exit status: 0 nothing failed (warnings allowed), 1 a check failed.\n");
          return ODD_ODDCTL_EXIT_OK;
        }
      else
        {
          fprintf (stderr, "oddctl doctor: unknown option “%s”\n", argv[i]);
          return ODD_ODDCTL_EXIT_USAGE;
        }
    }

  report = odd_doctor_run (doctor, NULL, &error);
  if (report == NULL)
    {
      fprintf (stderr, "oddctl doctor: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  if (json)
    {
      g_autoptr(JsonNode) root = odd_doctor_report_to_json (report);
      g_autofree char *text = json_to_string (root, TRUE);

      printf ("%s\n", text);
    }
  else
    {
      g_autofree char *text = odd_doctor_report_to_text (report, "oddctl");

      fputs (text, stdout);
    }

  return odd_doctor_report_count (report, ODD_DOCTOR_FAIL) > 0 ? ODD_ODDCTL_EXIT_FAILURE
                                                                : ODD_ODDCTL_EXIT_OK;
}
