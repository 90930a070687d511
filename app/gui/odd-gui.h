/* odd-gui.h: libodd-gui, everything of the Observatory app that its tests link */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Registers the app's resources and icons; idempotent. Needs GTK initialised. */
void odd_gui_init (void);

G_END_DECLS
