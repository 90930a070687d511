#define G_LOG_DOMAIN "odd-control"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-control-error.h"
#include "odd-stack-paths.h"

struct _OddStackPaths
{
  gatomicrefcount  ref_count;
  char            *state_dir;
  char            *postgres_dir;
  int              port_base;
  guint            replicas[ODD_PORT_LAST];  /* 0 = 1 */
};

static const struct
{
  const char *name;
  int         offset;
} port_table[ODD_PORT_LAST] = {
  [ODD_PORT_POSTGRES]       = { "postgres", 432 },
  [ODD_PORT_REDIS]          = { "redis", 379 },
  [ODD_PORT_RABBITMQ]       = { "rabbitmq", 672 },
  [ODD_PORT_RABBITMQ_DIST]  = { "rabbitmq-dist", 673 },
  [ODD_PORT_GATEWAY]        = { "gateway", 300 },
  [ODD_PORT_READ_MODEL]     = { "read-model", 80 },
  [ODD_PORT_PROCESSOR]      = { "processor", 100 },
  [ODD_PORT_METRICS_ENGINE] = { "metrics-engine", 101 },
  [ODD_PORT_WEB_TERMINAL]   = { "web-terminal", 90 },
};

/* Where replicas find their own ports: replica 1 of a service that does not share its port
 * uses the port itself; the others (and every replica of a shared port) count up from here.
 * All inside base+80 .. base+673, clear of each other and of the ports above. */
static int
replica_base_offset (OddPort port)
{
  switch (port)
    {
    case ODD_PORT_GATEWAY:        return 310;
    case ODD_PORT_READ_MODEL:     return 150;
    case ODD_PORT_PROCESSOR:      return 110;
    case ODD_PORT_METRICS_ENGINE: return 130;
    default:                      return -1;
    }
}

G_STATIC_ASSERT (110 + ODD_STACK_MAX_REPLICAS - 2 < 130);
G_STATIC_ASSERT (130 + ODD_STACK_MAX_REPLICAS - 2 < 150);
G_STATIC_ASSERT (150 + ODD_STACK_MAX_REPLICAS - 1 < 300);
G_STATIC_ASSERT (310 + ODD_STACK_MAX_REPLICAS - 1 < 379);

gboolean
odd_stack_port_is_shared (OddPort port)
{
  return port == ODD_PORT_GATEWAY || port == ODD_PORT_READ_MODEL;
}

OddPort
odd_stack_port_for_service (const char *name)
{
  g_return_val_if_fail (name != NULL, ODD_PORT_LAST);

  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    if (replica_base_offset (p) >= 0 && g_str_equal (port_table[p].name, name))
      return p;

  return ODD_PORT_LAST;
}

gboolean
odd_stack_parse_replicas (const char  *spec,
                          guint        counts[ODD_PORT_LAST],
                          GError     **error)
{
  static const char example[] = "e.g. --replicas processor=3,metrics-engine=2";
  static const char services[] = "gateway, read-model, processor, metrics-engine";
  g_auto(GStrv) items = NULL;

  g_return_val_if_fail (spec != NULL, FALSE);

  items = g_strsplit (spec, ",", -1);
  if (items[0] == NULL)
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "--replicas needs SERVICE=COUNT pairs separated by commas (%s)", example);
      return FALSE;
    }

  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *eq = strchr (items[i], '=');
      g_autofree char *name = NULL;
      guint64 count;
      OddPort port;

      if (eq == NULL)
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "--replicas: “%s” is not SERVICE=COUNT (%s)", items[i], example);
          return FALSE;
        }
      name = g_strndup (items[i], eq - items[i]);
      port = odd_stack_port_for_service (name);
      if (port == ODD_PORT_LAST)
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "--replicas: “%s” is not a service that runs replicas; one of: %s",
                       name, services);
          return FALSE;
        }
      if (!g_ascii_string_to_unsigned (eq + 1, 10, 1, ODD_STACK_MAX_REPLICAS, &count, NULL))
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "--replicas: %s=%s: the count must be a whole number from 1 to %d "
                       "(1 = no extra replicas)", name, eq + 1, ODD_STACK_MAX_REPLICAS);
          return FALSE;
        }
      counts[port] = (guint) count;
    }

  return TRUE;
}

int
odd_stack_port_offset (OddPort port)
{
  g_return_val_if_fail (port < ODD_PORT_LAST, 0);

  return port_table[port].offset;
}

const char *
odd_stack_port_name (OddPort port)
{
  g_return_val_if_fail (port < ODD_PORT_LAST, NULL);

  return port_table[port].name;
}

char *
odd_stack_default_state_dir (void)
{
  const char *env = g_getenv ("ODD_STATE_DIR");

  if (env != NULL && *env != '\0')
    return g_canonicalize_filename (env, NULL);

  /* g_get_user_state_dir() honours $XDG_STATE_HOME but caches it; read it ourselves so
   * that a test or a caller may change it at run time. */
  env = g_getenv ("XDG_STATE_HOME");
  if (env != NULL && g_path_is_absolute (env))
    return g_build_filename (env, "odd", "local", NULL);

  return g_build_filename (g_get_home_dir (), ".local", "state", "odd", "local", NULL);
}

static gboolean
port_base_is_valid (gint64 base)
{
  return base >= 1024 && base + ODD_STACK_MAX_PORT_OFFSET <= 65535;
}

OddStackPaths *
odd_stack_paths_new (const char *state_dir,
                     int         port_base)
{
  OddStackPaths *self;

  g_return_val_if_fail (state_dir != NULL, NULL);
  g_return_val_if_fail (port_base_is_valid (port_base), NULL);

  self = g_new0 (OddStackPaths, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->state_dir = g_canonicalize_filename (state_dir, NULL);
  self->postgres_dir = g_build_filename (self->state_dir, "postgres", NULL);
  self->port_base = port_base;

  return self;
}

OddStackPaths *
odd_stack_paths_ref (OddStackPaths *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
odd_stack_paths_unref (OddStackPaths *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->state_dir);
      g_free (self->postgres_dir);
      g_free (self);
    }
}

OddStackPaths *
odd_stack_paths_load (const char  *state_dir,
                      GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *file = g_build_filename (state_dir, "stack.json", NULL);
  g_autoptr(OddStackPaths) self = NULL;
  JsonObject *root;
  gint64 base;

  if (!json_parser_load_from_file (parser, file, error))
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "%s: not a JSON object", file);
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  base = json_object_get_int_member_with_default (root, "portBase", -1);
  if (!port_base_is_valid (base))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "%s: portBase missing or out of range", file);
      return NULL;
    }

  self = odd_stack_paths_new (state_dir, (int) base);
  if (json_object_has_member (root, "postgresDir"))
    {
      const char *dir = json_object_get_string_member_with_default (root, "postgresDir", NULL);

      if (dir == NULL || !g_path_is_absolute (dir))
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "%s: postgresDir must be an absolute path", file);
          return NULL;
        }
      odd_stack_paths_set_postgres_dir (self, dir);
    }

  if (json_object_has_member (root, "replicas"))
    {
      JsonNode *node = json_object_get_member (root, "replicas");
      JsonObject *replicas = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      for (OddPort p = 0; replicas != NULL && p < ODD_PORT_LAST; p++)
        {
          gint64 count;

          if (replica_base_offset (p) < 0 || !json_object_has_member (replicas, port_table[p].name))
            continue;
          count = json_object_get_int_member_with_default (replicas, port_table[p].name, -1);
          if (count < 1 || count > ODD_STACK_MAX_REPLICAS)
            {
              replicas = NULL;
              break;
            }
          self->replicas[p] = (guint) count;
        }
      if (replicas == NULL)
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "%s: replicas must map gateway, read-model, processor and metrics-engine "
                       "to counts from 1 to %d", file, ODD_STACK_MAX_REPLICAS);
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

OddStackPaths *
odd_stack_paths_new_from_env (GError **error)
{
  g_autofree char *state_dir = odd_stack_default_state_dir ();
  g_autoptr(OddStackPaths) saved = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *env = g_getenv ("ODD_PORT_BASE");
  gint64 base = ODD_STACK_DEFAULT_PORT_BASE;
  OddStackPaths *self;

  saved = odd_stack_paths_load (state_dir, &local_error);
  if (saved == NULL && !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Cannot read the local stack state: ");
      return NULL;
    }

  if (env != NULL && *env != '\0')
    {
      char *end = NULL;

      errno = 0;
      base = g_ascii_strtoll (env, &end, 10);
      if (errno != 0 || end == env || *end != '\0' || !port_base_is_valid (base))
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "ODD_PORT_BASE=%s is invalid: expected an integer from 1024 to %d",
                       env, 65535 - ODD_STACK_MAX_PORT_OFFSET);
          return NULL;
        }
    }
  else if (saved != NULL)
    {
      /* No explicit base: follow the stack that is (or was) running here. */
      base = saved->port_base;
    }

  self = odd_stack_paths_new (state_dir, (int) base);
  if (saved != NULL)
    {
      odd_stack_paths_set_postgres_dir (self, saved->postgres_dir);
      memcpy (self->replicas, saved->replicas, sizeof self->replicas);
    }

  return self;
}

const char *
odd_stack_paths_get_state_dir (OddStackPaths *self)
{
  return self->state_dir;
}

int
odd_stack_paths_get_port_base (OddStackPaths *self)
{
  return self->port_base;
}

guint16
odd_stack_paths_get_port (OddStackPaths *self,
                          OddPort        port)
{
  g_return_val_if_fail (port < ODD_PORT_LAST, 0);

  return (guint16) (self->port_base + port_table[port].offset);
}

guint
odd_stack_paths_get_replicas (OddStackPaths *self,
                              OddPort        port)
{
  g_return_val_if_fail (port < ODD_PORT_LAST, 1);

  return MAX (self->replicas[port], 1);
}

void
odd_stack_paths_set_replicas (OddStackPaths *self,
                              OddPort        port,
                              guint          replicas)
{
  g_return_if_fail (replica_base_offset (port) >= 0);
  g_return_if_fail (replicas >= 1 && replicas <= ODD_STACK_MAX_REPLICAS);

  self->replicas[port] = replicas;
}

guint16
odd_stack_paths_get_replica_port (OddStackPaths *self,
                                  OddPort        port,
                                  guint          replica)
{
  int first = replica_base_offset (port);

  g_return_val_if_fail (replica >= 1 && replica <= ODD_STACK_MAX_REPLICAS, 0);

  if (first < 0)
    return odd_stack_paths_get_port (self, port);
  if (odd_stack_port_is_shared (port))
    return (guint16) (self->port_base + first + (int) replica - 1);
  if (replica == 1)
    return odd_stack_paths_get_port (self, port);
  return (guint16) (self->port_base + first + (int) replica - 2);
}

const char *
odd_stack_paths_get_postgres_dir (OddStackPaths *self)
{
  return self->postgres_dir;
}

void
odd_stack_paths_set_postgres_dir (OddStackPaths *self,
                                  const char    *dir)
{
  char *canonical;

  g_return_if_fail (dir != NULL && g_path_is_absolute (dir));

  /* Copied before the old one is freed: @dir may be the current value. */
  canonical = g_canonicalize_filename (dir, NULL);
  g_free (self->postgres_dir);
  self->postgres_dir = canonical;
}

/* Can the postgres user reach @dir, i.e. search every existing ancestor? */
static gboolean
postgres_user_can_reach (const char *dir)
{
  struct passwd *pw = getpwnam ("postgres");
  g_autofree char *path = g_strdup (dir);

  if (pw == NULL)
    return FALSE;

  while (strcmp (path, "/") != 0)
    {
      struct stat st;
      char *parent;

      if (g_stat (path, &st) == 0)
        {
          gboolean ok = (st.st_mode & S_IXOTH) ||
                        (st.st_uid == pw->pw_uid && (st.st_mode & S_IXUSR)) ||
                        (st.st_gid == pw->pw_gid && (st.st_mode & S_IXGRP));

          if (!ok)
            return FALSE;
        }

      parent = g_path_get_dirname (path);
      g_free (path);
      path = parent;
    }

  return TRUE;
}

gboolean
odd_stack_paths_ensure_postgres_reachable (OddStackPaths  *self,
                                           char          **moved_from,
                                           GError        **error)
{
  g_autofree char *version = NULL;
  g_autofree char *checksum = NULL;
  g_autofree char *fallback = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (moved_from != NULL && *moved_from == NULL, FALSE);

  version = g_build_filename (self->postgres_dir, "data", "PG_VERSION", NULL);
  if (geteuid () != 0 || g_file_test (version, G_FILE_TEST_EXISTS) ||
      postgres_user_can_reach (self->postgres_dir))
    return TRUE;

  /* As root, PostgreSQL runs as the postgres user, which cannot enter a private home such
   * as /root. Its cluster then lives in a directory of its own, named after the state dir
   * so that each stack keeps its own data; stack.json records where. */
  checksum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, self->state_dir, -1);
  checksum[12] = '\0';
  fallback = g_build_filename (ODD_STACK_ROOT_POSTGRES_DIR, checksum, NULL);
  if (g_mkdir_with_parents (ODD_STACK_ROOT_POSTGRES_DIR, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create %s: %s", ODD_STACK_ROOT_POSTGRES_DIR, g_strerror (saved_errno));
      return FALSE;
    }

  *moved_from = g_strdup (self->postgres_dir);
  odd_stack_paths_set_postgres_dir (self, fallback);
  return TRUE;
}

char *
odd_stack_paths_component_dir (OddStackPaths *self,
                               const char    *name)
{
  return g_build_filename (self->state_dir, name, NULL);
}

char *
odd_stack_paths_log_file (OddStackPaths *self,
                          const char    *name)
{
  g_autofree char *base = g_strconcat (name, ".log", NULL);

  return g_build_filename (self->state_dir, "logs", base, NULL);
}

char *
odd_stack_paths_pid_file (OddStackPaths *self,
                          const char    *name)
{
  g_autofree char *base = NULL;

  /* PostgreSQL records its own pid (first line of postmaster.pid, in its data dir). */
  if (g_str_equal (name, "postgres"))
    return g_build_filename (odd_stack_paths_get_postgres_dir (self), "data", "postmaster.pid",
                             NULL);
  base = g_strconcat (name, ".pid", NULL);
  return g_build_filename (self->state_dir, "run", base, NULL);
}

char *
odd_stack_paths_stack_json (OddStackPaths *self)
{
  return g_build_filename (self->state_dir, "stack.json", NULL);
}

char *
odd_stack_paths_postgres_url (OddStackPaths *self)
{
  return g_strdup_printf ("postgresql://postgres@127.0.0.1:%u/odd",
                          odd_stack_paths_get_port (self, ODD_PORT_POSTGRES));
}

char *
odd_stack_paths_redis_url (OddStackPaths *self)
{
  return g_strdup_printf ("redis://127.0.0.1:%u/0",
                          odd_stack_paths_get_port (self, ODD_PORT_REDIS));
}

char *
odd_stack_paths_rabbitmq_url (OddStackPaths *self)
{
  return g_strdup_printf ("amqp://guest:guest@127.0.0.1:%u/",
                          odd_stack_paths_get_port (self, ODD_PORT_RABBITMQ));
}

char *
odd_stack_paths_http_url (OddStackPaths *self,
                          OddPort        port)
{
  g_return_val_if_fail (port >= ODD_PORT_GATEWAY && port < ODD_PORT_LAST, NULL);

  return g_strdup_printf ("http://127.0.0.1:%u", odd_stack_paths_get_port (self, port));
}

char *
odd_stack_paths_rabbitmq_node (OddStackPaths *self)
{
  return g_strdup_printf ("odd%d@localhost", self->port_base);
}

gboolean
odd_stack_paths_ensure_dirs (OddStackPaths  *self,
                             GError        **error)
{
  const char *subdirs[] = { "logs", "run", NULL };

  for (guint i = 0; subdirs[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (self->state_dir, subdirs[i], NULL);

      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Cannot create %s: %s", dir, g_strerror (saved_errno));
          return FALSE;
        }
    }

  return TRUE;
}

JsonNode *
odd_stack_paths_to_json (OddStackPaths *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *pg = odd_stack_paths_postgres_url (self);
  g_autofree char *redis = odd_stack_paths_redis_url (self);
  g_autofree char *amqp = odd_stack_paths_rabbitmq_url (self);
  g_autofree char *node = odd_stack_paths_rabbitmq_node (self);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "stateDir");
  json_builder_add_string_value (builder, self->state_dir);
  json_builder_set_member_name (builder, "postgresDir");
  json_builder_add_string_value (builder, self->postgres_dir);
  json_builder_set_member_name (builder, "portBase");
  json_builder_add_int_value (builder, self->port_base);
  json_builder_set_member_name (builder, "rabbitmqNode");
  json_builder_add_string_value (builder, node);

  json_builder_set_member_name (builder, "ports");
  json_builder_begin_object (builder);
  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    {
      json_builder_set_member_name (builder, port_table[p].name);
      json_builder_add_int_value (builder, odd_stack_paths_get_port (self, p));
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "replicas");
  json_builder_begin_object (builder);
  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    {
      if (replica_base_offset (p) < 0)
        continue;
      json_builder_set_member_name (builder, port_table[p].name);
      json_builder_add_int_value (builder, odd_stack_paths_get_replicas (self, p));
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "urls");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "postgres");
  json_builder_add_string_value (builder, pg);
  json_builder_set_member_name (builder, "redis");
  json_builder_add_string_value (builder, redis);
  json_builder_set_member_name (builder, "rabbitmq");
  json_builder_add_string_value (builder, amqp);
  for (OddPort p = ODD_PORT_GATEWAY; p < ODD_PORT_LAST; p++)
    {
      g_autofree char *url = odd_stack_paths_http_url (self, p);

      json_builder_set_member_name (builder, port_table[p].name);
      json_builder_add_string_value (builder, url);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

gboolean
odd_stack_paths_save (OddStackPaths  *self,
                      GError        **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = odd_stack_paths_to_json (self);
  g_autofree char *file = odd_stack_paths_stack_json (self);
  g_autofree char *text = NULL;

  if (g_mkdir_with_parents (self->state_dir, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create %s: %s", self->state_dir, g_strerror (saved_errno));
      return FALSE;
    }

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  return g_file_set_contents_full (file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}
