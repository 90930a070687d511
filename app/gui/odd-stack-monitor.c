#define G_LOG_DOMAIN "odd-stack-monitor"

#include <glib/gi18n.h>

#include "odd-stack-monitor.h"

struct _OddStackMonitor
{
  GObject        parent_instance;

  OddStackKind   kind;
  OddStackState  state;
  gboolean       busy;
  gboolean       starting;         /* busy with an up (else a down) */
  double         fraction;
  char          *step_message;
  char          *error;
  char          *remediation;
  char          *location;
  char          *failed_step;     /* the step of the last FAILED progress event */
  char          *running_step;    /* the step that started last and has not ended */

  OddLocalStack *local;
  OddCluster    *cluster;
  char          *local_error;     /* why there is no local stack (bad environment) */
  char          *cluster_error;

  GListStore    *components;
  GListStore    *forwards;

  char          *stack_read_model_url;
  char          *stack_gateway_url;
  char          *read_model_override;
  char          *gateway_override;
  char          *read_model_url;
  char          *gateway_url;

  guint          refresh_interval;
  guint          unwatched_interval;
  guint          n_watchers;
  guint          refresh_source;
  gint64         status_time;      /* monotonic time of the last status answer, 0: none yet */
  gboolean       status_in_flight;
  gboolean       status_again;     /* a refresh was asked while one ran */
  gboolean       status_failed;    /* :error is the status's, cleared by the next success */
  GCancellable  *cancellable;      /* status and forwards: cancelled at dispose */
  GCancellable  *op_cancellable;   /* the running up or down */
};

G_DEFINE_TYPE (OddStackMonitor, odd_stack_monitor, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (OddStackKind, odd_stack_kind,
  G_DEFINE_ENUM_VALUE (ODD_STACK_KIND_LOCAL, "local"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_KIND_KIND, "kind"))

G_DEFINE_ENUM_TYPE (OddStackState, odd_stack_state,
  G_DEFINE_ENUM_VALUE (ODD_STACK_STATE_UNKNOWN, "unknown"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_STATE_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_STATE_PARTIAL, "partial"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_STATE_RUNNING, "running"))

enum
{
  PROP_0,
  PROP_KIND,
  PROP_STATE,
  PROP_BUSY,
  PROP_STARTING,
  PROP_FRACTION,
  PROP_STEP_MESSAGE,
  PROP_ERROR,
  PROP_REMEDIATION,
  PROP_LOCATION,
  PROP_READ_MODEL_URL,
  PROP_GATEWAY_URL,
  PROP_READ_MODEL_OVERRIDE,
  PROP_GATEWAY_OVERRIDE,
  PROP_REFRESH_INTERVAL,
  PROP_UNWATCHED_INTERVAL,
  PROP_WATCHED,
  N_PROPS
};

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_FINISHED,
  SIGNAL_REFRESHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void schedule_refresh (OddStackMonitor *self);
static char *cluster_remediation (OddStackMonitor *self);

/* ------------------------------------------------------------------------------------ */
/* Small setters that notify on change */

static void
set_string (OddStackMonitor  *self,
            char            **field,
            const char       *value,
            int               prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  if (prop != PROP_0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_state (OddStackMonitor *self,
           OddStackState    state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_busy (OddStackMonitor *self,
          gboolean         busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
set_fraction (OddStackMonitor *self,
              double           fraction)
{
  fraction = CLAMP (fraction, 0.0, 1.0);
  if (self->fraction == fraction)
    return;
  self->fraction = fraction;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
}

static void
set_failure (OddStackMonitor *self,
             const char      *error,
             const char      *remediation)
{
  set_string (self, &self->error, error, PROP_ERROR);
  set_string (self, &self->remediation, remediation, PROP_REMEDIATION);
}

static void
update_endpoints (OddStackMonitor *self)
{
  const char *rm = self->read_model_override != NULL && *self->read_model_override != '\0'
                   ? self->read_model_override : self->stack_read_model_url;
  const char *gw = self->gateway_override != NULL && *self->gateway_override != '\0'
                   ? self->gateway_override : self->stack_gateway_url;

  set_string (self, &self->read_model_url, rm, PROP_READ_MODEL_URL);
  set_string (self, &self->gateway_url, gw, PROP_GATEWAY_URL);
}

/* "~/.local/state/odd/local" rather than the full home path. */
static char *
display_path (const char *path)
{
  const char *home = g_get_home_dir ();
  gsize n = strlen (home);

  if (n > 1 && g_str_has_prefix (path, home) && path[n] == '/')
    return g_strconcat ("~", path + n, NULL);
  return g_strdup (path);
}

/* ------------------------------------------------------------------------------------ */
/* The two backends, created on first use */

static OddLocalStack *
ensure_local (OddStackMonitor *self)
{
  g_autoptr(GError) error = NULL;

  /* `oddctl local up --replicas` changed the stack since: follow it, or a Start here would
   * scale it back to the counts this object had. */
  if (self->local != NULL && !self->busy && !odd_local_stack_replicas_match_saved (self->local))
    g_clear_object (&self->local);
  if (self->local != NULL || self->local_error != NULL)
    return self->local;

  self->local = odd_local_stack_new_from_env (&error);
  if (self->local == NULL)
    self->local_error = g_strdup_printf (_("The local stack’s settings are invalid: %s"),
                                         error->message);
  return self->local;
}

static OddCluster *
ensure_cluster (OddStackMonitor *self)
{
  g_autoptr(GError) error = NULL;

  if (self->cluster != NULL || self->cluster_error != NULL)
    return self->cluster;

  self->cluster = odd_cluster_new_from_env (&error);
  if (self->cluster == NULL)
    self->cluster_error = g_strdup_printf (_("The kind cluster’s settings are invalid: %s"),
                                           error->message);
  return self->cluster;
}

/* The backend of the current kind is there; else its reason is the error. */
static gboolean
ensure_backend (OddStackMonitor *self)
{
  if (self->kind == ODD_STACK_KIND_LOCAL ? ensure_local (self) != NULL : ensure_cluster (self) != NULL)
    return TRUE;
  set_failure (self, self->kind == ODD_STACK_KIND_LOCAL ? self->local_error : self->cluster_error,
               NULL);
  return FALSE;
}

/* Where the stack lives and its endpoints, known without asking it anything. */
static void
describe_backend (OddStackMonitor *self)
{
  g_autofree char *location = NULL;
  g_autofree char *rm = NULL;
  g_autofree char *gw = NULL;

  if (self->kind == ODD_STACK_KIND_LOCAL && self->local != NULL)
    {
      OddStackPaths *paths = odd_local_stack_get_paths (self->local);
      g_autofree char *dir = display_path (odd_stack_paths_get_state_dir (paths));
      int base = odd_stack_paths_get_port_base (paths);

      /* Translators: the local stack's state directory and its port range */
      location = g_strdup_printf (_("%s · ports %d–%d"), dir, base, base + ODD_STACK_MAX_PORT_OFFSET);
      rm = odd_stack_paths_http_url (paths, ODD_PORT_READ_MODEL);
      gw = odd_stack_paths_http_url (paths, ODD_PORT_GATEWAY);
    }
  else if (self->kind == ODD_STACK_KIND_KIND && self->cluster != NULL)
    {
      /* Translators: the kind cluster's name and its kubectl context */
      location = g_strdup_printf (_("Cluster “%s” · context %s"), odd_cluster_get_name (self->cluster),
                                  odd_cluster_get_context (self->cluster));
      rm = g_strdup_printf ("http://127.0.0.1:%u", odd_cluster_get_read_model_port (self->cluster));
      gw = g_strdup_printf ("http://127.0.0.1:%u", odd_cluster_get_gateway_port (self->cluster));
    }

  set_string (self, &self->location, location, PROP_LOCATION);
  set_string (self, &self->stack_read_model_url, rm, PROP_0);
  set_string (self, &self->stack_gateway_url, gw, PROP_0);
  update_endpoints (self);
}

/* ------------------------------------------------------------------------------------ */
/* Entries */

/* The entry named @name at @position of @store, replacing what is there when it differs, so
 * that an unchanged list keeps its rows. */
static OddStackEntry *
entry_at (GListStore *store,
          guint       position,
          const char *name)
{
  g_autoptr(OddStackEntry) current = NULL;
  g_autoptr(OddStackEntry) fresh = NULL;

  if (position < g_list_model_get_n_items (G_LIST_MODEL (store)))
    {
      current = g_list_model_get_item (G_LIST_MODEL (store), position);
      if (g_strcmp0 (odd_stack_entry_get_name (current), name) == 0)
        return current;  /* the store keeps its reference */
      fresh = odd_stack_entry_new (name);
      g_list_store_splice (store, position, 1, (gpointer *) &fresh, 1);
      return fresh;
    }
  fresh = odd_stack_entry_new (name);
  g_list_store_append (store, fresh);
  return fresh;
}

static void
truncate_store (GListStore *store,
                guint       n_items)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (store));

  if (n > n_items)
    g_list_store_splice (store, n_items, n - n_items, NULL, 0);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
         ? json_node_get_string (node) : NULL;
}

static gint64
member_int (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_int (node) : 0;
}

static JsonArray *
member_array (JsonObject *object,
              const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static void
apply_local_status (OddStackMonitor *self,
                    JsonNode        *status)
{
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (status) ? json_node_get_object (status) : NULL;
  JsonArray *components = member_array (root, "components");
  guint n = components != NULL ? json_array_get_length (components) : 0;
  guint running = 0, healthy = 0;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *c = json_array_get_object_element (components, i);
      const char *name = member_string (c, "name");
      OddStackEntry *entry = entry_at (self->components, i, name != NULL ? name : "?");
      gint64 pid = member_int (c, "pid");
      gboolean is_healthy = json_object_get_boolean_member_with_default (c, "healthy", FALSE);
      gboolean standby = json_object_get_boolean_member_with_default (c, "standby", FALSE);
      guint port = (guint) member_int (c, "port");
      g_autoptr(GUri) uri = member_string (c, "url") != NULL
                            ? g_uri_parse (member_string (c, "url"), G_URI_FLAGS_NONE, NULL) : NULL;
      guint shared = uri != NULL && g_uri_get_port (uri) > 0 ? (guint) g_uri_get_port (uri) : port;
      g_autofree char *detail = NULL;

      /* Replicas of the gateway or read-model share the port users know and answer alone on
       * their own. */
      if (pid > 0 && shared != port)
        /* Translators: a process id, then the port only this replica answers on */
        detail = g_strdup_printf (_("pid %lld · alone on port %u"), (long long) pid, port);
      else if (pid > 0)
        detail = g_strdup_printf (_("pid %lld"), (long long) pid);

      odd_stack_entry_set_port (entry, shared);
      odd_stack_entry_set_url (entry, member_string (c, "url"));
      /* The component `up` is starting has no pid file yet: starting, not stopped. */
      if (pid <= 0 && self->busy && self->starting && g_strcmp0 (name, self->running_step) == 0)
        {
          odd_stack_entry_set_detail (entry, _("starting…"));
          odd_stack_entry_set_health (entry, ODD_STACK_ENTRY_UNHEALTHY);
        }
      else
        {
          odd_stack_entry_set_detail (entry, detail);
          odd_stack_entry_set_health (entry, pid <= 0 ? ODD_STACK_ENTRY_STOPPED
                                             : is_healthy ? ODD_STACK_ENTRY_HEALTHY
                                             : standby ? ODD_STACK_ENTRY_STANDBY
                                             : ODD_STACK_ENTRY_UNHEALTHY);
        }
      running += pid > 0;
      healthy += pid > 0 && (is_healthy || standby);
    }
  truncate_store (self->components, n);
  truncate_store (self->forwards, 0);

  set_state (self, n == 0 ? ODD_STACK_STATE_UNKNOWN
                   : healthy == n ? ODD_STACK_STATE_RUNNING
                   : running == 0 ? ODD_STACK_STATE_STOPPED
                   : ODD_STACK_STATE_PARTIAL);
}

static void
apply_cluster_status (OddStackMonitor *self,
                      JsonNode        *status)
{
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (status) ? json_node_get_object (status) : NULL;
  JsonArray *workloads = member_array (root, "workloads");
  JsonArray *forwards = member_array (root, "forwards");
  const char * const *names = odd_cluster_forward_names ();
  gboolean exists = root != NULL && json_object_get_boolean_member_with_default (root, "exists", FALSE);
  guint n = workloads != NULL ? json_array_get_length (workloads) : 0;
  guint ready = 0;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *w = json_array_get_object_element (workloads, i);
      const char *name = member_string (w, "name");
      OddStackEntry *entry = entry_at (self->components, i, name != NULL ? name : "?");
      gint64 got = member_int (w, "ready"), want = member_int (w, "desired");
      gint64 restarts = member_int (w, "restarts");
      g_autofree char *detail = NULL;
      guint port = 0;
      g_autofree char *url = NULL;

      /* Translators: a Kubernetes workload: its kind, ready/desired replicas, restarts */
      detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s · %lld/%lld ready · %lld restart",
                                             "%s · %lld/%lld ready · %lld restarts", (gulong) restarts),
                                member_string (w, "kind") != NULL ? member_string (w, "kind") : "",
                                (long long) got, (long long) want, (long long) restarts);
      if (g_strcmp0 (name, "gateway") == 0)
        port = odd_cluster_get_gateway_port (self->cluster);
      else if (g_strcmp0 (name, "read-model") == 0)
        port = odd_cluster_get_read_model_port (self->cluster);
      if (port != 0)
        url = g_strdup_printf ("http://127.0.0.1:%u", port);

      odd_stack_entry_set_port (entry, port);
      odd_stack_entry_set_url (entry, url);
      odd_stack_entry_set_detail (entry, detail);
      odd_stack_entry_set_health (entry, want > 0 && got >= want ? ODD_STACK_ENTRY_HEALTHY
                                         : got == 0 && want == 0 ? ODD_STACK_ENTRY_STOPPED
                                         : ODD_STACK_ENTRY_UNHEALTHY);
      ready += want > 0 && got >= want;
    }
  truncate_store (self->components, n);

  for (guint i = 0; names[i] != NULL; i++)
    {
      OddStackEntry *entry = entry_at (self->forwards, i, names[i]);
      JsonObject *record = NULL;

      for (guint j = 0; forwards != NULL && j < json_array_get_length (forwards); j++)
        {
          JsonObject *f = json_array_get_object_element (forwards, j);

          if (g_strcmp0 (member_string (f, "name"), names[i]) == 0)
            record = f;
        }
      if (record != NULL)
        {
          g_autofree char *detail = g_strdup_printf (_("pid %lld · %s"),
                                                     (long long) member_int (record, "pid"),
                                                     member_string (record, "target") != NULL
                                                     ? member_string (record, "target") : "");

          odd_stack_entry_set_detail (entry, detail);
          odd_stack_entry_set_port (entry, (guint) member_int (record, "localPort"));
          odd_stack_entry_set_url (entry, member_string (record, "url"));
          odd_stack_entry_set_health (entry, ODD_STACK_ENTRY_HEALTHY);
        }
      else
        {
          odd_stack_entry_set_detail (entry, NULL);
          odd_stack_entry_set_port (entry, 0);
          odd_stack_entry_set_url (entry, NULL);
          odd_stack_entry_set_health (entry, ODD_STACK_ENTRY_STOPPED);
        }
    }
  truncate_store (self->forwards, g_strv_length ((char **) names));

  set_state (self, !exists ? ODD_STACK_STATE_STOPPED
                   : n > 0 && ready == n ? ODD_STACK_STATE_RUNNING
                   : ODD_STACK_STATE_PARTIAL);
}

/* ------------------------------------------------------------------------------------ */
/* Status */

typedef struct
{
  OddStackMonitor *self;
  OddStackKind     kind;
} StatusCall;

static void
on_status_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StatusCall *call = user_data;
  g_autoptr(OddStackMonitor) self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) status = NULL;
  OddStackKind kind = call->kind;

  if (kind == ODD_STACK_KIND_LOCAL)
    status = odd_local_stack_status_finish (ODD_LOCAL_STACK (source), result, &error);
  else
    status = odd_cluster_status_finish (ODD_CLUSTER (source), result, &error);
  g_free (call);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->status_in_flight = FALSE;
  self->status_time = g_get_monotonic_time ();

  /* A status of the other kind (the user switched meanwhile) is stale. */
  if (kind != self->kind)
    ;
  else if (status == NULL)
    {
      set_state (self, ODD_STACK_STATE_UNKNOWN);
      if (!self->busy)
        {
          g_autofree char *remedy = self->kind == ODD_STACK_KIND_KIND
                                    ? cluster_remediation (self) : NULL;

          set_failure (self, error->message, remedy);
          self->status_failed = TRUE;
        }
    }
  else
    {
      if (self->status_failed)
        set_failure (self, NULL, NULL);
      self->status_failed = FALSE;
      if (self->kind == ODD_STACK_KIND_LOCAL)
        apply_local_status (self, status);
      else
        apply_cluster_status (self, status);
    }
  if (kind == self->kind)
    g_signal_emit (self, signals[SIGNAL_REFRESHED], 0);

  if (self->status_again)
    {
      self->status_again = FALSE;
      odd_stack_monitor_refresh (self);
    }
}

void
odd_stack_monitor_refresh (OddStackMonitor *self)
{
  StatusCall *call;

  g_return_if_fail (ODD_IS_STACK_MONITOR (self));

  if (self->status_in_flight)
    {
      self->status_again = TRUE;
      return;
    }
  /* A cluster status would clear the failure of the running up or down (OddCluster keeps one
   * per cluster); the operation's end refreshes anyway. */
  if (self->busy && self->kind == ODD_STACK_KIND_KIND)
    return;
  if (!ensure_backend (self))
    {
      set_state (self, ODD_STACK_STATE_UNKNOWN);
      return;
    }

  call = g_new0 (StatusCall, 1);
  call->self = g_object_ref (self);
  call->kind = self->kind;
  self->status_in_flight = TRUE;
  if (self->kind == ODD_STACK_KIND_LOCAL)
    odd_local_stack_status_async (self->local, self->cancellable, on_status_done, call);
  else
    odd_cluster_status_async (self->cluster, self->cancellable, NULL, NULL, on_status_done, call);
}

static gboolean
on_refresh_timeout (gpointer user_data)
{
  odd_stack_monitor_refresh (ODD_STACK_MONITOR (user_data));
  return G_SOURCE_CONTINUE;
}

/* Every component probed each refresh costs: the short interval only while watched. */
static void
schedule_refresh (OddStackMonitor *self)
{
  guint interval = self->n_watchers > 0 ? self->refresh_interval : self->unwatched_interval;

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (interval > 0)
    {
      self->refresh_source = g_timeout_add_seconds (interval, on_refresh_timeout, self);
      g_source_set_name_by_id (self->refresh_source, "[odd] stack status");
    }
}

void
odd_stack_monitor_watch (OddStackMonitor *self)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));

  if (self->n_watchers++ > 0)
    return;
  /* What the view shows first is current, not the slow poll's (up to a minute old). */
  if (!self->status_in_flight &&
      (self->status_time == 0 || g_get_monotonic_time () - self->status_time > G_USEC_PER_SEC))
    odd_stack_monitor_refresh (self);
  schedule_refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WATCHED]);
}

void
odd_stack_monitor_unwatch (OddStackMonitor *self)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));
  g_return_if_fail (self->n_watchers > 0);

  if (--self->n_watchers > 0)
    return;
  schedule_refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WATCHED]);
}

gboolean
odd_stack_monitor_get_watched (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), FALSE);
  return self->n_watchers > 0;
}

/* ------------------------------------------------------------------------------------ */
/* up and down */

static void
on_progress (const char        *step,
             OddProgressStatus  status,
             const char        *message,
             double             fraction,
             gpointer           user_data)
{
  OddStackMonitor *self = user_data;
  g_autofree char *line = g_strdup_printf ("%s: %s", step, message);

  set_fraction (self, fraction);
  set_string (self, &self->step_message, line, PROP_STEP_MESSAGE);
  if (status == ODD_PROGRESS_FAILED)
    set_string (self, &self->failed_step, step, PROP_0);
  if (status == ODD_PROGRESS_RUNNING)
    set_string (self, &self->running_step, step, PROP_0);
  else if (g_strcmp0 (self->running_step, step) == 0)
    g_clear_pointer (&self->running_step, g_free);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, step, (int) status, message, fraction);

  /* A component that starts or got ready shows at once, not at the next poll. */
  if (status == ODD_PROGRESS_OK || status == ODD_PROGRESS_RUNNING)
    odd_stack_monitor_refresh (self);
}

typedef struct
{
  OddStackMonitor *self;
  OddStackKind     kind;
  gboolean         up;
} OpCall;

/* What to do about a failed local operation: the failing component's log. */
static char *
local_remediation (OddStackMonitor *self,
                   const GError    *error)
{
  const char * const *names = odd_local_stack_component_names ();

  if (g_error_matches (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM))
    return g_strdup (_("Open Setup: its checks show the command that installs what is missing."));
  if (self->failed_step != NULL && g_strv_contains (names, self->failed_step))
    {
      OddComponent *component = odd_local_stack_get_component (self->local, self->failed_step);
      g_autofree char *log = odd_component_dup_log_file (component);

      /* Translators: %s: a log file; the second line is a command */
      return g_strdup_printf (_("Read its log: %s\noddctl local logs %s"), log, self->failed_step);
    }
  return NULL;
}

static char *
cluster_remediation (OddStackMonitor *self)
{
  JsonObject *failure = odd_cluster_get_failure (self->cluster);
  JsonArray *lines = member_array (failure, "remediation");
  const char *hint = member_string (failure, "hint");
  g_autoptr(GString) text = g_string_new (hint);

  for (guint i = 0; lines != NULL && i < json_array_get_length (lines); i++)
    g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "",
                            json_array_get_string_element (lines, i));
  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

static void
on_op_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  OpCall *call = user_data;
  g_autoptr(OddStackMonitor) self = call->self;
  g_autoptr(GError) error = NULL;
  gboolean up = call->up;
  gboolean ok;

  if (call->kind == ODD_STACK_KIND_LOCAL)
    ok = up ? odd_local_stack_up_finish (ODD_LOCAL_STACK (source), result, &error)
            : odd_local_stack_down_finish (ODD_LOCAL_STACK (source), result, &error);
  else
    ok = up ? odd_cluster_up_finish (ODD_CLUSTER (source), result, &error)
            : odd_cluster_down_finish (ODD_CLUSTER (source), result, &error);
  g_free (call);
  g_clear_object (&self->op_cancellable);
  g_clear_pointer (&self->running_step, g_free);

  if (ok)
    {
      set_fraction (self, 1.0);
      set_failure (self, NULL, NULL);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_string (self, &self->step_message,
                  up ? _("Cancelled: what this start had started was stopped again.")
                     : _("Cancelled."), PROP_STEP_MESSAGE);
      set_failure (self, NULL, NULL);
    }
  else
    {
      g_autofree char *remedy = self->kind == ODD_STACK_KIND_LOCAL
                                ? local_remediation (self, error) : cluster_remediation (self);

      set_failure (self, error->message, remedy);
    }

  set_busy (self, FALSE);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, up, ok);
  odd_stack_monitor_refresh (self);
}

static void
run_operation (OddStackMonitor *self,
               gboolean         up)
{
  OpCall *call;

  if (self->busy || !ensure_backend (self))
    return;

  call = g_new0 (OpCall, 1);
  call->self = g_object_ref (self);
  call->kind = self->kind;
  call->up = up;
  self->op_cancellable = g_cancellable_new ();
  g_clear_pointer (&self->failed_step, g_free);
  self->status_failed = FALSE;
  set_failure (self, NULL, NULL);
  set_fraction (self, 0.0);
  set_string (self, &self->step_message, up ? _("Starting…") : _("Stopping…"), PROP_STEP_MESSAGE);
  self->starting = up;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTING]);
  set_busy (self, TRUE);

  if (self->kind == ODD_STACK_KIND_LOCAL)
    (up ? odd_local_stack_up_async : odd_local_stack_down_async)
      (self->local, self->op_cancellable, on_progress, self, on_op_done, call);
  else
    (up ? odd_cluster_up_async : odd_cluster_down_async)
      (self->cluster, self->op_cancellable, on_progress, self, on_op_done, call);
}

void
odd_stack_monitor_start (OddStackMonitor *self)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));
  run_operation (self, TRUE);
}

void
odd_stack_monitor_stop (OddStackMonitor *self)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));
  run_operation (self, FALSE);
}

void
odd_stack_monitor_cancel (OddStackMonitor *self)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));

  if (self->op_cancellable != NULL)
    g_cancellable_cancel (self->op_cancellable);
}

/* ------------------------------------------------------------------------------------ */
/* Port-forwards */

static void
on_forward_started (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(OddStackMonitor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) record = odd_cluster_forward_start_finish (ODD_CLUSTER (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (record == NULL)
    {
      g_autofree char *remedy = cluster_remediation (self);

      set_failure (self, error->message, remedy);
    }
  odd_stack_monitor_refresh (self);
}

void
odd_stack_monitor_forward_start (OddStackMonitor *self,
                                 const char      *name)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));
  g_return_if_fail (name != NULL);

  if (ensure_cluster (self) == NULL)
    return;
  odd_cluster_forward_start_async (self->cluster, name, self->cancellable, NULL, NULL,
                                   on_forward_started, g_object_ref (self));
}

static void
forward_stop_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;

  if (odd_cluster_forward_stop (ODD_CLUSTER (source_object), task_data, &error) < 0)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_forward_stopped (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(OddStackMonitor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_failure (self, error->message, NULL);
    }
  odd_stack_monitor_refresh (self);
}

void
odd_stack_monitor_forward_stop (OddStackMonitor *self,
                                const char      *name)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ODD_IS_STACK_MONITOR (self));
  g_return_if_fail (name != NULL);

  if (ensure_cluster (self) == NULL)
    return;
  /* Stopping signals the forward and rewrites forwards.json: off the main thread. */
  task = g_task_new (self->cluster, self->cancellable, on_forward_stopped, g_object_ref (self));
  g_task_set_source_tag (task, odd_stack_monitor_forward_stop);
  g_task_set_task_data (task, g_strdup (name), g_free);
  g_task_run_in_thread (task, forward_stop_thread);
}

/* ------------------------------------------------------------------------------------ */
/* GObject */

static void
odd_stack_monitor_dispose (GObject *object)
{
  OddStackMonitor *self = ODD_STACK_MONITOR (object);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (odd_stack_monitor_parent_class)->dispose (object);
}

static void
odd_stack_monitor_finalize (GObject *object)
{
  OddStackMonitor *self = ODD_STACK_MONITOR (object);

  g_clear_object (&self->local);
  g_clear_object (&self->cluster);
  g_clear_object (&self->components);
  g_clear_object (&self->forwards);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->op_cancellable);
  g_free (self->step_message);
  g_free (self->error);
  g_free (self->remediation);
  g_free (self->location);
  g_free (self->failed_step);
  g_free (self->running_step);
  g_free (self->local_error);
  g_free (self->cluster_error);
  g_free (self->stack_read_model_url);
  g_free (self->stack_gateway_url);
  g_free (self->read_model_override);
  g_free (self->gateway_override);
  g_free (self->read_model_url);
  g_free (self->gateway_url);

  G_OBJECT_CLASS (odd_stack_monitor_parent_class)->finalize (object);
}

static void
odd_stack_monitor_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  OddStackMonitor *self = ODD_STACK_MONITOR (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_STARTING:
      g_value_set_boolean (value, self->starting);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_STEP_MESSAGE:
      g_value_set_string (value, self->step_message);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_REMEDIATION:
      g_value_set_string (value, self->remediation);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_READ_MODEL_URL:
      g_value_set_string (value, self->read_model_url);
      break;
    case PROP_GATEWAY_URL:
      g_value_set_string (value, self->gateway_url);
      break;
    case PROP_READ_MODEL_OVERRIDE:
      g_value_set_string (value, self->read_model_override);
      break;
    case PROP_GATEWAY_OVERRIDE:
      g_value_set_string (value, self->gateway_override);
      break;
    case PROP_REFRESH_INTERVAL:
      g_value_set_uint (value, self->refresh_interval);
      break;
    case PROP_UNWATCHED_INTERVAL:
      g_value_set_uint (value, self->unwatched_interval);
      break;
    case PROP_WATCHED:
      g_value_set_boolean (value, self->n_watchers > 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_monitor_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  OddStackMonitor *self = ODD_STACK_MONITOR (object);

  switch (prop_id)
    {
    case PROP_KIND:
      odd_stack_monitor_set_kind (self, g_value_get_enum (value));
      break;
    case PROP_READ_MODEL_OVERRIDE:
      set_string (self, &self->read_model_override, g_value_get_string (value), PROP_READ_MODEL_OVERRIDE);
      update_endpoints (self);
      break;
    case PROP_GATEWAY_OVERRIDE:
      set_string (self, &self->gateway_override, g_value_get_string (value), PROP_GATEWAY_OVERRIDE);
      update_endpoints (self);
      break;
    case PROP_REFRESH_INTERVAL:
      if (self->refresh_interval != g_value_get_uint (value))
        {
          self->refresh_interval = g_value_get_uint (value);
          schedule_refresh (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_UNWATCHED_INTERVAL:
      if (self->unwatched_interval != g_value_get_uint (value))
        {
          self->unwatched_interval = g_value_get_uint (value);
          schedule_refresh (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_monitor_class_init (OddStackMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = odd_stack_monitor_dispose;
  object_class->finalize = odd_stack_monitor_finalize;
  object_class->get_property = odd_stack_monitor_get_property;
  object_class->set_property = odd_stack_monitor_set_property;

  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, ODD_TYPE_STACK_KIND, ODD_STACK_KIND_LOCAL, rw);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, ODD_TYPE_STACK_STATE, ODD_STACK_STATE_UNKNOWN, ro);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_STARTING] = g_param_spec_boolean ("starting", NULL, NULL, FALSE, ro);
  properties[PROP_FRACTION] = g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0, ro);
  properties[PROP_STEP_MESSAGE] = g_param_spec_string ("step-message", NULL, NULL, NULL, ro);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, ro);
  properties[PROP_REMEDIATION] = g_param_spec_string ("remediation", NULL, NULL, NULL, ro);
  properties[PROP_LOCATION] = g_param_spec_string ("location", NULL, NULL, NULL, ro);
  properties[PROP_READ_MODEL_URL] = g_param_spec_string ("read-model-url", NULL, NULL, NULL, ro);
  properties[PROP_GATEWAY_URL] = g_param_spec_string ("gateway-url", NULL, NULL, NULL, ro);
  properties[PROP_READ_MODEL_OVERRIDE] = g_param_spec_string ("read-model-override", NULL, NULL, NULL, rw);
  properties[PROP_GATEWAY_OVERRIDE] = g_param_spec_string ("gateway-override", NULL, NULL, NULL, rw);
  /* Seconds between status polls while watched; 0: only on demand. */
  properties[PROP_REFRESH_INTERVAL] =
    g_param_spec_uint ("refresh-interval", NULL, NULL, 0, 3600, 0, rw);
  /* And while nobody watches (the state for the rest of the app); 0: only on demand. */
  properties[PROP_UNWATCHED_INTERVAL] =
    g_param_spec_uint ("unwatched-interval", NULL, NULL, 0, 3600, 0, rw);
  properties[PROP_WATCHED] = g_param_spec_boolean ("watched", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (step, OddProgressStatus, message, fraction) of the running up or down */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_DOUBLE);
  /* (up, success): an up or down ended */
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_BOOLEAN);
  /* A status of the current stack answered (or failed): components and :state are current. */
  signals[SIGNAL_REFRESHED] =
    g_signal_new ("refreshed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
odd_stack_monitor_init (OddStackMonitor *self)
{
  self->components = g_list_store_new (ODD_TYPE_STACK_ENTRY);
  self->forwards = g_list_store_new (ODD_TYPE_STACK_ENTRY);
  self->cancellable = g_cancellable_new ();
  self->kind = ODD_STACK_KIND_LOCAL;
  if (ensure_local (self) == NULL)
    set_failure (self, self->local_error, NULL);
  describe_backend (self);
}

OddStackMonitor *
odd_stack_monitor_new (void)
{
  return g_object_new (ODD_TYPE_STACK_MONITOR, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* Accessors */

OddStackKind
odd_stack_monitor_get_kind (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), ODD_STACK_KIND_LOCAL);
  return self->kind;
}

void
odd_stack_monitor_set_kind (OddStackMonitor *self,
                            OddStackKind     kind)
{
  g_return_if_fail (ODD_IS_STACK_MONITOR (self));

  if (self->kind == kind || self->busy)
    return;

  self->kind = kind;
  truncate_store (self->components, 0);
  truncate_store (self->forwards, 0);
  set_state (self, ODD_STACK_STATE_UNKNOWN);
  set_failure (self, NULL, NULL);
  set_string (self, &self->step_message, NULL, PROP_STEP_MESSAGE);
  set_fraction (self, 0.0);
  if (ensure_backend (self))
    describe_backend (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KIND]);
  odd_stack_monitor_refresh (self);
}

OddStackState
odd_stack_monitor_get_state (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), ODD_STACK_STATE_UNKNOWN);
  return self->state;
}

gboolean
odd_stack_monitor_get_busy (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), FALSE);
  return self->busy;
}

gboolean
odd_stack_monitor_get_starting (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), FALSE);
  return self->starting;
}

double
odd_stack_monitor_get_fraction (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), 0.0);
  return self->fraction;
}

const char *
odd_stack_monitor_get_step_message (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->step_message;
}

const char *
odd_stack_monitor_get_error (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->error;
}

const char *
odd_stack_monitor_get_remediation (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->remediation;
}

const char *
odd_stack_monitor_get_location (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->location;
}

GListModel *
odd_stack_monitor_get_components (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return G_LIST_MODEL (self->components);
}

GListModel *
odd_stack_monitor_get_forwards (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return G_LIST_MODEL (self->forwards);
}

const char *
odd_stack_monitor_get_read_model_url (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->read_model_url;
}

const char *
odd_stack_monitor_get_gateway_url (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return self->gateway_url;
}

OddLocalStack *
odd_stack_monitor_get_local_stack (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return ensure_local (self);
}

OddCluster *
odd_stack_monitor_get_cluster (OddStackMonitor *self)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (self), NULL);
  return ensure_cluster (self);
}
