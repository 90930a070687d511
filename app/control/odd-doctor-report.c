#define G_LOG_DOMAIN "odd-doctor"

#include <string.h>

#include "odd-build-config.h"
#include "odd-doctor-private.h"

const char *
odd_doctor_status_to_string (OddDoctorStatus status)
{
  switch (status)
    {
    case ODD_DOCTOR_OK:
      return "ok";
    case ODD_DOCTOR_WARN:
      return "warn";
    case ODD_DOCTOR_FAIL:
    default:
      return "fail";
    }
}

void
odd_doctor_check_free (OddDoctorCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->id);
  g_free (check->name);
  g_free (check->reason);
  g_free (check->version);
  g_free (check->fix);
  g_free (check);
}

OddDoctorReport *
odd_doctor_report_new (OddDistro   distro,
                       const char *os_name,
                       const char *os,
                       const char *arch)
{
  OddDoctorReport *report = g_new0 (OddDoctorReport, 1);

  g_atomic_ref_count_init (&report->ref_count);
  report->distro = distro;
  report->os_name = g_strdup (os_name != NULL ? os_name : "unknown");
  report->os = g_strdup (os);
  report->arch = g_strdup (arch);
  report->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_doctor_check_free);

  return report;
}

OddDoctorCheck *
odd_doctor_report_add (OddDoctorReport *report,
                       const char      *id,
                       const char      *name,
                       OddDoctorStatus  status,
                       const char      *version,
                       const char      *fix,
                       const char      *reason_format,
                       ...)
{
  OddDoctorCheck *check = g_new0 (OddDoctorCheck, 1);
  va_list args;

  va_start (args, reason_format);
  check->reason = g_strdup_vprintf (reason_format, args);
  va_end (args);
  /* One line: tool output may carry newlines. */
  g_strdelimit (check->reason, "\r\n", ' ');
  g_strstrip (check->reason);
  check->id = g_strdup (id);
  check->name = g_strdup (name);
  check->status = status;
  check->version = g_strdup (version);
  check->fix = g_strdup (fix);
  g_ptr_array_add (report->checks, check);

  return check;
}

OddDoctorReport *
odd_doctor_report_ref (OddDoctorReport *report)
{
  g_atomic_ref_count_inc (&report->ref_count);
  return report;
}

void
odd_doctor_report_unref (OddDoctorReport *report)
{
  if (report == NULL || !g_atomic_ref_count_dec (&report->ref_count))
    return;
  g_free (report->os_name);
  g_free (report->os);
  g_free (report->arch);
  g_free (report->sandbox);
  g_ptr_array_unref (report->checks);
  g_free (report);
}

OddDistro
odd_doctor_report_get_distro (OddDoctorReport *report)
{
  return report->distro;
}

const char *
odd_doctor_report_get_os_name (OddDoctorReport *report)
{
  return report->os_name;
}

const char *
odd_doctor_report_get_sandbox (OddDoctorReport *report)
{
  return report->sandbox;
}

GPtrArray *
odd_doctor_report_get_checks (OddDoctorReport *report)
{
  return report->checks;
}

const OddDoctorCheck *
odd_doctor_report_find (OddDoctorReport *report,
                        const char      *id)
{
  for (guint i = 0; i < report->checks->len; i++)
    {
      const OddDoctorCheck *check = report->checks->pdata[i];

      if (g_str_equal (check->id, id))
        return check;
    }
  return NULL;
}

guint
odd_doctor_report_count (OddDoctorReport *report,
                         OddDoctorStatus  status)
{
  guint n = 0;

  for (guint i = 0; i < report->checks->len; i++)
    n += ((OddDoctorCheck *) report->checks->pdata[i])->status == status;
  return n;
}

static void
add_nullable (JsonBuilder *builder,
              const char  *name,
              const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

JsonNode *
odd_doctor_report_to_json (OddDoctorReport *report)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *manager = odd_distro_package_manager (report->distro);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, ODD_VERSION);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, odd_doctor_report_count (report, ODD_DOCTOR_FAIL) == 0);

  json_builder_set_member_name (builder, "platform");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "os");
  json_builder_add_string_value (builder, report->os);
  json_builder_set_member_name (builder, "arch");
  json_builder_add_string_value (builder, report->arch);
  json_builder_set_member_name (builder, "distro");
  json_builder_add_string_value (builder, odd_distro_to_string (report->distro));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, report->os_name);
  add_nullable (builder, "packageManager", manager);
  add_nullable (builder, "sandbox", report->sandbox);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "summary");
  json_builder_begin_object (builder);
  for (OddDoctorStatus s = ODD_DOCTOR_OK; s <= ODD_DOCTOR_FAIL; s++)
    {
      json_builder_set_member_name (builder, odd_doctor_status_to_string (s));
      json_builder_add_int_value (builder, odd_doctor_report_count (report, s));
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "checks");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->checks->len; i++)
    {
      const OddDoctorCheck *check = report->checks->pdata[i];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, check->id);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, check->name);
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, odd_doctor_status_to_string (check->status));
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, check->reason);
      add_nullable (builder, "version", check->version);
      add_nullable (builder, "fix", check->fix);
      json_builder_set_member_name (builder, "fixOnHost");
      json_builder_add_boolean_value (builder, check->fix_on_host);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

char *
odd_doctor_report_to_text (OddDoctorReport *report,
                           const char      *program)
{
  GString *out = g_string_new (NULL);
  g_autofree char *title = g_strdup_printf ("%s doctor", program);
  g_autofree char *fixes_title = NULL;
  guint n_fixes = 0;

  g_string_append_printf (out, "%s\n", title);
  for (gsize i = 0; i < strlen (title); i++)
    g_string_append_c (out, '=');
  g_string_append (out, "\n\n");

  for (guint i = 0; i < report->checks->len; i++)
    {
      const OddDoctorCheck *check = report->checks->pdata[i];
      const char *mark = check->status == ODD_DOCTOR_OK ? "[OK]"
                         : check->status == ODD_DOCTOR_WARN ? "[WARN]" : "[FAIL]";

      g_string_append_printf (out, "%s %s: %s\n", mark, check->name, check->reason);
      n_fixes += check->status != ODD_DOCTOR_OK && check->fix != NULL;
    }

  if (n_fixes > 0)
    {
      fixes_title = g_strdup_printf ("Installation Commands (%s%s%s):",
                                     odd_distro_to_string (report->distro),
                                     odd_distro_package_manager (report->distro) != NULL ? ", " : "",
                                     odd_distro_package_manager (report->distro) != NULL
                                     ? odd_distro_package_manager (report->distro) : "");
      g_string_append_printf (out, "\n%s\n", fixes_title);
      for (gsize i = 0; i < strlen (fixes_title); i++)
        g_string_append_c (out, '-');
      g_string_append_c (out, '\n');
      for (guint i = 0; i < report->checks->len; i++)
        {
          const OddDoctorCheck *check = report->checks->pdata[i];

          gboolean repeated = FALSE;

          /* Two symptoms of one cause (daemon down, socket missing) share one command. */
          for (guint j = 0; j < i && !repeated; j++)
            {
              const OddDoctorCheck *before = report->checks->pdata[j];

              repeated = before->status != ODD_DOCTOR_OK && g_strcmp0 (before->fix, check->fix) == 0;
            }
          if (check->status != ODD_DOCTOR_OK && check->fix != NULL && !repeated)
            g_string_append_printf (out, "  %s: %s\n", check->name, check->fix);
        }
    }

  g_string_append_c (out, '\n');
  if (odd_doctor_report_count (report, ODD_DOCTOR_FAIL) > 0)
    g_string_append_printf (out,
                            "Some prerequisites are missing.\n"
                            "Run the commands above, then retry: %s doctor\n", program);
  else if (odd_doctor_report_count (report, ODD_DOCTOR_WARN) > 0)
    g_string_append_printf (out,
                            "All prerequisites satisfied (with warnings).\n"
                            "Run 'odd-dashboard' to start the terminal dashboard.\n");
  else
    g_string_append (out,
                     "All prerequisites satisfied!\n"
                     "Run 'odd-dashboard' to start the terminal dashboard.\n");

  return g_string_free (out, FALSE);
}
