/* odd-gui.h: libodd-gui, everything of the Observatory app that its tests link */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Registers the app's resources (UI files, icons, the shortcuts window); idempotent. */
void odd_gui_register_resources (void);
/* The resources, libadwaita, the icons and the style; idempotent. Needs GTK initialised. */
void odd_gui_init               (void);

G_END_DECLS
