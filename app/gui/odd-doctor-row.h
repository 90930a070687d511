/* odd-doctor-row.h: one doctor check as a row: status icon, reason, the fix, Copy and Run */
#pragma once

#include <adwaita.h>

#include "odd-doctor.h"

G_BEGIN_DECLS

#define ODD_TYPE_DOCTOR_ROW (odd_doctor_row_get_type ())
G_DECLARE_FINAL_TYPE (OddDoctorRow, odd_doctor_row, ODD, DOCTOR_ROW, AdwActionRow)

GtkWidget            *odd_doctor_row_new             (const OddDoctorCheck *check);
OddDoctorStatus       odd_doctor_row_get_status      (OddDoctorRow         *self);
const char           *odd_doctor_row_get_check_id    (OddDoctorRow         *self);
/* The fix command, or NULL */
const char           *odd_doctor_row_get_fix         (OddDoctorRow         *self);
/* Does the fix need a terminal (sudo, a password, a new login group)? */
gboolean              odd_doctor_row_get_needs_terminal (OddDoctorRow      *self);

/* Does @command need a terminal to run (it asks for a password or changes the session)? */
gboolean              odd_doctor_fix_needs_terminal  (const char           *command);

G_END_DECLS
