/* odd-schema-compat.h: is a new version of a schema breaking, additive or neutral? */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  ODD_COMPAT_NONE,      /* only docs or metadata changed: a PATCH bump */
  ODD_COMPAT_ADDITIVE,  /* optional field added, enum widened, validation relaxed: MINOR */
  ODD_COMPAT_BREAKING,  /* field removed or renamed, type changed, enum narrowed, required added: MAJOR */
} OddCompatLevel;

const char     *odd_compat_level_to_string (OddCompatLevel level);

/* Compares @old_schema and @new_schema; @changes receives one human line per change found
 * (with its JSON pointer). Also checks that $version moved by at least the bump the change needs
 * and sets @version_ok accordingly. */
OddCompatLevel  odd_schema_compat_check    (JsonNode   *old_schema,
                                            JsonNode   *new_schema,
                                            GPtrArray **changes,
                                            gboolean   *version_ok);

G_END_DECLS
