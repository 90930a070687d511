/* fuzz-schema.c: the contract validator against arbitrary JSON
 *
 * Every document that parses is validated against the schemas that face the outside (job,
 * event-envelope, simulation); the validator must answer (valid, or a list of errors with a
 * JSON pointer and a message) and never crash, leak or emit a critical.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz-schema"

#include "odd-contracts.h"
#include "odd-fuzz.h"

static OddSchemaRegistry *registry;

static const char *const schemas[] = { "job", "event-envelope", "simulation", "dead-letter", NULL };

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  odd_fuzz_init ();
  registry = odd_schema_registry_new_default (&error);
  if (registry == NULL)
    g_error ("cannot load the schemas from %s: %s", odd_fuzz_contracts_dir (), error->message);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonNode) root = NULL;

  root = odd_json_parse ((const char *) data, (gssize) size, NULL);
  if (root == NULL)
    return 0;

  for (guint i = 0; schemas[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      g_autoptr(JsonNode) as_json = NULL;
      g_autofree char *as_text = NULL;

      errors = odd_schema_registry_validate (registry, schemas[i], root, &error);
      if (errors == NULL)
        g_error ("schema %s: %s", schemas[i], error->message);

      for (guint j = 0; j < errors->len; j++)
        {
          OddValidationError *e = g_ptr_array_index (errors, j);

          /* A JSON pointer is empty or starts with '/'; every error says something. */
          g_assert (e->path != NULL && (e->path[0] == '\0' || e->path[0] == '/'));
          g_assert (e->message != NULL && e->message[0] != '\0');
          g_assert (g_utf8_validate (e->path, -1, NULL) && g_utf8_validate (e->message, -1, NULL));
        }

      as_json = odd_validation_errors_to_json (errors);
      as_text = odd_validation_errors_to_string (errors);
      g_assert (as_json != NULL && as_text != NULL);

      /* The error list goes into 400 answers and dead letters: it must be JSON we can read. */
      {
        g_autofree char *serialised = odd_json_to_string (as_json);
        g_autoptr(JsonNode) back = odd_json_parse (serialised, -1, NULL);

        if (back == NULL)
          g_error ("validation errors do not serialise to strict JSON: %s", serialised);
      }
    }

  return 0;
}
