/* odd-doctor-private.h: building a report (odd-doctor.c fills what odd-doctor-report.c shows) */
#pragma once

#include "odd-doctor.h"

G_BEGIN_DECLS

struct _OddDoctorReport
{
  gatomicrefcount  ref_count;
  OddDistro        distro;
  char            *os_name;
  char            *os;     /* "linux", "macos" */
  char            *arch;   /* uname machine */
  GPtrArray       *checks; /* OddDoctorCheck */
  char            *sandbox; /* "flatpak" or NULL */
};

OddDoctorReport *odd_doctor_report_new (OddDistro   distro,
                                        const char *os_name,
                                        const char *os,
                                        const char *arch);
/* Appends a check; @version and @fix may be NULL. Returns it. */
OddDoctorCheck  *odd_doctor_report_add (OddDoctorReport *report,
                                        const char      *id,
                                        const char      *name,
                                        OddDoctorStatus  status,
                                        const char      *version,
                                        const char      *fix,
                                        const char      *reason_format,
                                        ...) G_GNUC_PRINTF (7, 8);

G_END_DECLS
