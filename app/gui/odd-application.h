/* odd-application.h: Observatory, the desktop app of the Distributed Task Observatory */
#pragma once

#include <adwaita.h>

#include "odd-stack-monitor.h"

G_BEGIN_DECLS

#define ODD_TYPE_APPLICATION (odd_application_get_type ())
G_DECLARE_FINAL_TYPE (OddApplication, odd_application, ODD, APPLICATION, AdwApplication)

OddApplication  *odd_application_new          (void);
GSettings       *odd_application_get_settings (OddApplication *self);
OddStackMonitor *odd_application_get_monitor  (OddApplication *self);

G_END_DECLS
