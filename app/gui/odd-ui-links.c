#define G_LOG_DOMAIN "odd-ui-links"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "odd-schema.h"
#include "odd-ui-links.h"

void
odd_ui_link_free (OddUiLink *link)
{
  if (link == NULL)
    return;
  g_free (link->id);
  g_free (link->name);
  g_free (link->description);
  g_free (link->path);
  g_free (link);
}

GPtrArray *
odd_ui_links_load (const char  *path,
                   GError     **error)
{
  g_autofree char *default_path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(OddSchemaRegistry) schemas = NULL;
  g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_ui_link_free);
  JsonNode *root;
  JsonArray *entries;

  if (path == NULL)
    {
      g_autofree char *dir = odd_contracts_dir ();

      path = default_path = g_build_filename (dir, "ui-registry.json", NULL);
    }
  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser);

  schemas = odd_schema_registry_new_default (NULL);
  if (schemas != NULL && odd_schema_registry_has (schemas, "ui-registry"))
    {
      g_autoptr(GPtrArray) problems = odd_schema_registry_validate (schemas, "ui-registry", root, NULL);

      if (problems != NULL && problems->len > 0)
        {
          g_autofree char *text = odd_validation_errors_to_string (problems);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s does not match its contract: %s"),
                       path, text);
          return NULL;
        }
    }

  entries = JSON_NODE_HOLDS_OBJECT (root) && json_object_has_member (json_node_get_object (root), "entries")
            ? json_object_get_array_member (json_node_get_object (root), "entries") : NULL;
  if (entries == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s lists no UIs"), path);
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *item = json_array_get_object_element (entries, i);
      OddUiLink *link;

      if (item == NULL)
        continue;
      link = g_new0 (OddUiLink, 1);
      link->id = g_strdup (json_object_get_string_member_with_default (item, "id", ""));
      link->name = g_strdup (json_object_get_string_member_with_default (item, "name", link->id));
      link->description = g_strdup (json_object_get_string_member_with_default (item, "description", ""));
      link->port = (guint) json_object_get_int_member_with_default (item, "port", 0);
      link->path = g_strdup (json_object_get_string_member_with_default (item, "path", "/"));
      g_ptr_array_add (links, link);
    }

  return g_steal_pointer (&links);
}

static OddStackEntry *
find_forward (OddStackMonitor *monitor,
              const char      *name)
{
  GListModel *forwards = odd_stack_monitor_get_forwards (monitor);

  for (guint i = 0; i < g_list_model_get_n_items (forwards); i++)
    {
      g_autoptr(OddStackEntry) entry = g_list_model_get_item (forwards, i);

      if (g_strcmp0 (odd_stack_entry_get_name (entry), name) == 0)
        return entry;
    }
  return NULL;
}

char *
odd_ui_link_resolve (const OddUiLink  *link,
                     OddStackMonitor  *monitor,
                     char            **why)
{
  const char *base = NULL;
  OddStackEntry *forward;

  g_return_val_if_fail (link != NULL, NULL);
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (monitor), NULL);

  if (g_strcmp0 (link->id, "gateway-docs") == 0 || g_strcmp0 (link->id, "read-model-docs") == 0)
    {
      OddStackState state = odd_stack_monitor_get_state (monitor);

      /* Nothing answers there while the stack is down. */
      if (state == ODD_STACK_STATE_STOPPED || state == ODD_STACK_STATE_UNKNOWN)
        {
          if (why != NULL)
            *why = g_strdup (_("Start the stack first"));
          return NULL;
        }
      base = g_strcmp0 (link->id, "gateway-docs") == 0 ? odd_stack_monitor_get_gateway_url (monitor)
                                                       : odd_stack_monitor_get_read_model_url (monitor);
    }
  else if (odd_stack_monitor_get_kind (monitor) != ODD_STACK_KIND_KIND)
    {
      if (why != NULL)
        *why = g_strdup (_("Runs in the kind cluster only"));
      return NULL;
    }
  else if ((forward = find_forward (monitor, link->id)) != NULL)
    {
      if (odd_stack_entry_get_health (forward) == ODD_STACK_ENTRY_HEALTHY)
        base = odd_stack_entry_get_url (forward);
      else if (why != NULL)
        *why = g_strdup (_("Start its port-forward first"));
    }
  else if (why != NULL)
    *why = g_strdup (_("Start the cluster first"));

  if (base == NULL)
    return NULL;
  if (g_str_has_suffix (base, "/") && g_str_has_prefix (link->path, "/"))
    return g_strconcat (base, link->path + 1, NULL);
  return g_strconcat (base, link->path, NULL);
}
