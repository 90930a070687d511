/* fuzz-json.c: the strict JSON check against json-glib
 *
 * Properties: odd_json_check_strict() never crashes and agrees with odd_json_parse(); what
 * the strict check accepts, json-glib parses too; what we serialise, we parse back (the
 * services write JSON that other services read strictly).
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz-json"

#include <string.h>

#include "odd-json.h"
#include "odd-fuzz.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  odd_fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text = (const char *) data;
  g_autofree char *problem = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  gboolean strict, text_ok;

  strict = odd_json_check_strict (text, size, &problem);
  g_assert (strict == (problem == NULL));

  root = odd_json_parse (text, (gssize) size, &error);
  text_ok = g_utf8_validate (text, (gssize) size, NULL) && memchr (text, '\0', size) == NULL;

  /* odd_json_parse() = UTF-8 + strict check + json-glib: it must accept exactly that. */
  if (strict && text_ok && root == NULL)
    g_error ("strict check accepted what odd_json_parse refused: %s", error->message);
  if (root != NULL && !strict)
    g_error ("odd_json_parse accepted what the strict check refused: %s", problem);

  if (root != NULL)
    {
      g_autofree char *again = odd_json_to_string (root);
      g_autoptr(GError) again_error = NULL;
      g_autoptr(JsonNode) reparsed = NULL;
      g_autofree char *third = NULL;

      reparsed = odd_json_parse (again, -1, &again_error);
      if (reparsed == NULL)
        g_error ("our own output is not strict JSON: %s: %s", again_error->message, again);

      /* Serialising is stable after one round (numbers may change form once: 1.0 -> 1.0). */
      third = odd_json_to_string (reparsed);
      if (strcmp (again, third) != 0)
        g_error ("serialisation is not stable: %s then %s", again, third);
    }

  return 0;
}
