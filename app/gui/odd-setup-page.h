/* odd-setup-page.h: the Setup page: the doctor's checks, their fixes, and the way to a
 * running stack in the fewest clicks */
#pragma once

#include <adwaita.h>

#include "odd-doctor.h"
#include "odd-stack-monitor.h"

G_BEGIN_DECLS

#define ODD_TYPE_SETUP_PAGE (odd_setup_page_get_type ())
G_DECLARE_FINAL_TYPE (OddSetupPage, odd_setup_page, ODD, SETUP_PAGE, AdwBin)

GtkWidget       *odd_setup_page_new            (OddStackMonitor *monitor);

/* Runs the doctor (again) on a worker thread; a run in progress is cancelled first. */
void             odd_setup_page_check          (OddSetupPage    *self);
/* Shows @report as if the doctor had returned it. */
void             odd_setup_page_set_report     (OddSetupPage    *self,
                                                OddDoctorReport *report);
/* The doctor the page runs, to configure it (tests). */
OddDoctor       *odd_setup_page_get_doctor     (OddSetupPage    *self);
OddDoctorReport *odd_setup_page_get_report     (OddSetupPage    *self);
gboolean         odd_setup_page_get_checking   (OddSetupPage    *self);
/* Every check the local stack needs passes (warnings allowed). */
gboolean         odd_setup_page_get_local_ready (OddSetupPage   *self);
/* The rows, in the order shown (OddDoctorRow) */
GPtrArray       *odd_setup_page_get_rows       (OddSetupPage    *self);

G_END_DECLS
