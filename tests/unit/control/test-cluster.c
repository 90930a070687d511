#define G_LOG_DOMAIN "test-cluster"

#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "odd-build-config.h"
#include "odd-cluster.h"
#include "odd-process.h"
#include "odd-test-util.h"
#include "odd-tools.h"

/* OddCluster against fake docker, kind and kubectl: the shell script fake-tool.sh (ODD_FAKE_TOOL,
 * shared with the app's Stack page test), copied here into a temporary bin dir (found through
 * ODD_TOOLS_DIR, as a Flatpak would bundle them). Each appends its argv to calls.log and plays
 * what files in $FAKE_STATE script: `fail` (a case pattern over "tool args...") fails with
 * `fail-output`, `slow` sleeps `slow-seconds` (a rollout honours --timeout like kubectl). Files,
 * not environment variables: the environment is set once in main(), before any thread exists. */

/* Set once in main(): bin/ (the fakes) and fake/ (their state) live there. */
static char *test_root;

typedef struct
{
  char              *step;
  OddProgressStatus  status;
  char              *message;
  double             fraction;
  gboolean           on_main_thread;
} Event;

static void
event_free (gpointer data)
{
  Event *event = data;

  g_free (event->step);
  g_free (event->message);
  g_free (event);
}

typedef struct
{
  char          *dir;
  char          *bin;
  char          *state;    /* the fakes' state: calls.log, clusters, json */
  char          *source;   /* a source tree with services/deploy/Dockerfile */
  char          *deploy;
  char          *xdg;      /* the cluster's state dir */
  OddCluster    *cluster;
  GPtrArray     *events;
  GThread       *main_thread;
  GSocketService *http;
  gboolean       http_listening;
  guint16        gateway_port;
  guint16        read_model_port;
  /* async completion */
  gboolean       done;
  gboolean       ok;
  GError        *error;
  JsonNode      *result;
  GCancellable  *cancellable;
  char          *cancel_on;  /* cancel when a progress message contains this */
} Fixture;

static void
remove_tree (const char *dir)
{
  g_autofree char *quoted = g_shell_quote (dir);
  g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);
  int status = 0;

  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* A setting of the fakes (see fake-tool.sh). */
static void
fake_set (Fixture    *f,
          const char *name,
          const char *value);

static void
write_file (const char *path,
            const char *text,
            int         mode)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

static void
fake_set (Fixture    *f,
          const char *name,
          const char *value)
{
  g_autofree char *path = g_build_filename (f->state, name, NULL);

  write_file (path, value, 0644);
}

static gboolean
on_http (GSocketService    *service,
         GSocketConnection *connection,
         GObject           *source,
         gpointer           user_data)
{
  static const char response[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  char request[1024];

  /* Read the request first: closing with unread data would reset the connection. */
  g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)), request,
                       sizeof request, NULL, NULL);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), response,
                             sizeof response - 1, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dockerfile_dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *overlay = NULL;
  const char * const tools[] = { "docker", "kind", "kubectl", NULL };
  g_autofree char *fake_tool = NULL;

  f->dir = g_build_filename (test_root, "work", NULL);
  f->bin = g_build_filename (test_root, "bin", NULL);
  f->state = g_build_filename (test_root, "fake", NULL);
  remove_tree (f->dir);
  remove_tree (f->state);
  f->source = g_build_filename (f->dir, "src", NULL);
  f->deploy = g_build_filename (f->source, "services", "deploy", NULL);
  f->xdg = g_build_filename (f->dir, "xdg", "odd", NULL);
  dockerfile_dir = g_strdup (f->deploy);
  base = g_build_filename (f->deploy, "base", NULL);
  overlay = g_build_filename (f->deploy, "overlays", "kind", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->bin, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->state, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (base, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (overlay, 0755), ==, 0);

  g_file_get_contents (ODD_FAKE_TOOL, &fake_tool, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; tools[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (f->bin, tools[i], NULL);

      write_file (path, fake_tool, 0755);
    }
  {
    g_autofree char *dockerfile = g_build_filename (dockerfile_dir, "Dockerfile", NULL);

    write_file (dockerfile, "FROM scratch\n", 0644);
  }

  f->cluster = odd_cluster_new_from_env (&error);
  g_assert_no_error (error);
  odd_cluster_set_state_dir (f->cluster, f->xdg);
  odd_cluster_set_source_dir (f->cluster, f->source);
  odd_cluster_set_deploy_dir (f->cluster, f->deploy);
  odd_cluster_set_verify_timeout (f->cluster, 2);

  /* The "mapped ports": a local HTTP responder answering 200 on both, listening once the
   * cluster step is done (as kind's port mappings appear with the cluster). */
  f->http = g_socket_service_new ();
  g_signal_connect (f->http, "incoming", G_CALLBACK (on_http), f);
  f->gateway_port = odd_test_free_port ();
  f->read_model_port = odd_test_free_port ();
  while (f->read_model_port == f->gateway_port)
    f->read_model_port = odd_test_free_port ();
  odd_cluster_set_ports (f->cluster, f->gateway_port, f->read_model_port);

  f->events = g_ptr_array_new_with_free_func (event_free);
  f->main_thread = g_thread_self ();
  f->cancellable = g_cancellable_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* Whatever a test left forwarding. */
  odd_cluster_forward_stop (f->cluster, NULL, NULL);
  g_socket_service_stop (f->http);
  g_socket_listener_close (G_SOCKET_LISTENER (f->http));
  g_clear_object (&f->http);
  g_clear_object (&f->cluster);
  g_clear_object (&f->cancellable);
  g_clear_pointer (&f->events, g_ptr_array_unref);
  g_clear_error (&f->error);
  g_clear_pointer (&f->result, json_node_unref);
  g_free (f->cancel_on);

  g_free (f->dir);
  g_free (f->bin);
  g_free (f->state);
  g_free (f->source);
  g_free (f->deploy);
  g_free (f->xdg);
}

static void
start_http (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  if (f->http_listening)
    return;
  f->http_listening = TRUE;
  g_socket_listener_add_inet_port (G_SOCKET_LISTENER (f->http), f->gateway_port, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_add_inet_port (G_SOCKET_LISTENER (f->http), f->read_model_port, NULL, &error);
  g_assert_no_error (error);
  g_socket_service_start (f->http);
}

static void
on_progress (const char        *step,
             OddProgressStatus  status,
             const char        *message,
             double             fraction,
             gpointer           user_data)
{
  Fixture *f = user_data;
  Event *event = g_new0 (Event, 1);

  event->step = g_strdup (step);
  event->status = status;
  event->message = g_strdup (message);
  event->fraction = fraction;
  event->on_main_thread = g_thread_self () == f->main_thread;
  g_ptr_array_add (f->events, event);

  if (g_str_equal (step, "cluster") && (status == ODD_PROGRESS_OK || status == ODD_PROGRESS_SKIPPED))
    start_http (f);
  if (f->cancel_on != NULL && strstr (message, f->cancel_on) != NULL)
    g_cancellable_cancel (f->cancellable);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;
  gpointer tag = g_task_get_source_tag (G_TASK (result));

  if (tag == odd_cluster_up_async)
    f->ok = odd_cluster_up_finish (ODD_CLUSTER (source), result, &f->error);
  else if (tag == odd_cluster_down_async)
    f->ok = odd_cluster_down_finish (ODD_CLUSTER (source), result, &f->error);
  else if (tag == odd_cluster_status_async)
    f->ok = (f->result = odd_cluster_status_finish (ODD_CLUSTER (source), result, &f->error)) != NULL;
  else
    f->ok = (f->result = odd_cluster_forward_start_finish (ODD_CLUSTER (source), result, &f->error)) != NULL;
  f->done = TRUE;
}

static void
wait_done (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!f->done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  /* Progress events queued before the completion have all run by now. */
}

static void
run_up (Fixture *f)
{
  f->done = FALSE;
  odd_cluster_up_async (f->cluster, f->cancellable, on_progress, f, on_done, f);
  wait_done (f);
}

static void
run_down (Fixture *f)
{
  f->done = FALSE;
  odd_cluster_down_async (f->cluster, NULL, on_progress, f, on_done, f);
  wait_done (f);
}

static GStrv
calls (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->state, "calls.log", NULL);
  g_autofree char *text = NULL;
  GStrv lines;
  guint n;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_new0 (char *, 1);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  if (n > 0 && *lines[n - 1] == '\0')
    {
      g_free (lines[n - 1]);
      lines[n - 1] = NULL;
    }
  return lines;
}

static void
assert_calls (Fixture            *f,
              const char * const *expected)
{
  g_auto(GStrv) got = calls (f);
  guint i;

  for (i = 0; expected[i] != NULL && got[i] != NULL; i++)
    g_assert_cmpstr (got[i], ==, expected[i]);
  g_assert_cmpstr (got[i], ==, expected[i]);
}

static const char * const rollout_targets[] = {
  "statefulset/postgres", "statefulset/rabbitmq", "deployment/redis",
  "deployment/processor", "deployment/metrics-engine", "deployment/read-model",
  "deployment/gateway", "deployment/prometheus", "deployment/alertmanager",
  "deployment/grafana", NULL,
};

/* g_strv_builder_take() is GLib 2.80. */
static void
builder_take (GStrvBuilder *builder,
              char         *value)
{
  g_strv_builder_add (builder, value);
  g_free (value);
}

/* The full `up` command sequence; @create: whether the cluster is created. */
static GStrv
up_sequence (Fixture  *f,
             gboolean  create,
             guint     rollout_timeout)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add (builder, "docker info --format {{.ServerVersion}}");
  g_strv_builder_add (builder, "kind get clusters");
  if (create)
    builder_take (builder, g_strdup_printf ("kind create cluster --name task-observatory "
                                                   "--config %s/cluster/kind-config.yaml --wait 120s", f->xdg));
  builder_take (builder, g_strdup_printf ("docker build -f %s/Dockerfile -t odd-services:%s "
                                                 "--build-arg ODD_VERSION=%s %s",
                                                 f->deploy, ODD_VERSION, ODD_VERSION, f->source));
  builder_take (builder, g_strdup_printf ("kind load docker-image odd-services:%s --name "
                                                 "task-observatory", ODD_VERSION));
  builder_take (builder, g_strdup_printf ("kubectl --context kind-task-observatory apply -k "
                                                 "%s/overlays/kind", f->deploy));
  for (guint i = 0; rollout_targets[i] != NULL; i++)
    builder_take (builder, g_strdup_printf ("kubectl --context kind-task-observatory -n odd "
                                                   "rollout status %s --timeout=%us",
                                                   rollout_targets[i], rollout_timeout));
  return g_strv_builder_end (builder);
}

/* The (step, status) of every event that is not a tool's output line. */
static char *
outcome_steps (Fixture *f)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < f->events->len; i++)
    {
      Event *e = g_ptr_array_index (f->events, i);

      if (e->status != ODD_PROGRESS_RUNNING)
        g_string_append_printf (s, "%s%s:%s", s->len > 0 ? " " : "", e->step,
                                odd_progress_status_to_string (e->status));
    }
  return g_string_free (s, FALSE);
}

static gboolean
has_event (Fixture    *f,
           const char *step,
           const char *message_part)
{
  for (guint i = 0; i < f->events->len; i++)
    {
      Event *e = g_ptr_array_index (f->events, i);

      if (g_str_equal (e->step, step) && strstr (e->message, message_part) != NULL)
        return TRUE;
    }
  return FALSE;
}

static gboolean
remediation_contains (Fixture    *f,
                      const char *part)
{
  JsonObject *failure = odd_cluster_get_failure (f->cluster);
  JsonArray *steps;

  g_assert_nonnull (failure);
  steps = json_object_get_array_member (failure, "remediation");
  for (guint i = 0; i < json_array_get_length (steps); i++)
    if (strstr (json_array_get_string_element (steps, i), part) != NULL)
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */

static void
test_up_success (Fixture       *f,
                 gconstpointer  data)
{
  g_auto(GStrv) expected = up_sequence (f, TRUE, 300);
  g_autofree char *steps = NULL;
  g_autofree char *secrets_path = g_build_filename (f->deploy, "base", "secrets.env", NULL);
  g_autofree char *config_path = g_build_filename (f->xdg, "cluster", "kind-config.yaml", NULL);
  g_autofree char *secrets = NULL;
  g_autofree char *config = NULL;
  g_autofree char *host_port = g_strdup_printf ("hostPort: %u", f->gateway_port);
  g_auto(GStrv) lines = NULL;
  double last = 0.0;
  struct stat st;

  run_up (f);
  g_assert_no_error (f->error);
  g_assert_true (f->ok);
  g_assert_null (odd_cluster_get_failure (f->cluster));
  assert_calls (f, (const char * const *) expected);

  /* Every step reports its outcome, in order; tool output is streamed into its step. */
  steps = outcome_steps (f);
  g_assert_cmpstr (steps, ==,
                   "doctor:ok cluster:ok image:ok load:ok secrets:ok deploy:ok "
                   "rollout:ok rollout:ok rollout:ok rollout:ok rollout:ok rollout:ok rollout:ok "
                   "rollout:ok rollout:ok rollout:ok verify:ok ready:ok");
  g_assert_true (has_event (f, "cluster", "Creating cluster \"task-observatory\""));
  g_assert_true (has_event (f, "image", "Successfully built"));
  g_assert_true (has_event (f, "rollout", "deployment/gateway successfully rolled out"));
  g_assert_true (has_event (f, "ready", "http://127.0.0.1:"));
  for (guint i = 0; i < f->events->len; i++)
    {
      Event *e = g_ptr_array_index (f->events, i);

      g_assert_true (e->on_main_thread);
      g_assert_cmpfloat (e->fraction, >=, last);
      last = e->fraction;
    }
  g_assert_cmpfloat (last, ==, 1.0);

  /* Random credentials, readable by the owner only, never the same twice. */
  g_assert_true (g_file_get_contents (secrets_path, &secrets, NULL, NULL));
  g_assert_cmpint (g_stat (secrets_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  lines = g_strsplit (secrets, "\n", -1);
  {
    const char * const keys[] = { "POSTGRES_PASSWORD=", "RABBITMQ_PASSWORD=", "REDIS_PASSWORD=",
                                  "GRAFANA_ADMIN_PASSWORD=", NULL };
    g_autoptr(GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint k = 0; keys[k] != NULL; k++)
      {
        gboolean found = FALSE;

        for (guint i = 0; lines[i] != NULL; i++)
          if (g_str_has_prefix (lines[i], keys[k]))
            {
              const char *value = lines[i] + strlen (keys[k]);

              found = TRUE;
              g_assert_cmpuint (strlen (value), ==, 48);
              g_assert_cmpuint (strspn (value, "0123456789abcdef"), ==, 48);
              g_assert_false (g_hash_table_contains (values, value));
              g_hash_table_add (values, (gpointer) value);
            }
        g_assert_true (found);
      }
  }

  /* The generated kind config maps both NodePorts to the host, on loopback. */
  g_assert_true (g_file_get_contents (config_path, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "containerPort: 30300"));
  g_assert_nonnull (strstr (config, "containerPort: 30080"));
  g_assert_nonnull (strstr (config, host_port));
  g_assert_nonnull (strstr (config, "listenAddress: \"127.0.0.1\""));
}

static void
test_up_existing_cluster (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *clusters = g_build_filename (f->state, "clusters", NULL);
  g_autofree char *secrets_path = g_build_filename (f->deploy, "base", "secrets.env", NULL);
  g_autofree char *secrets = NULL;
  g_auto(GStrv) expected = NULL;
  g_autofree char *steps = NULL;

  write_file (clusters, "other\ntask-observatory\n", 0644);
  write_file (secrets_path, "POSTGRES_PASSWORD=kept\n", 0600);
  odd_cluster_set_rollout_timeout (f->cluster, 42);
  expected = up_sequence (f, FALSE, 42);

  run_up (f);
  g_assert_no_error (f->error);
  assert_calls (f, (const char * const *) expected);
  steps = outcome_steps (f);
  g_assert_true (g_str_has_prefix (steps, "doctor:ok cluster:skipped image:ok load:ok secrets:skipped deploy:ok"));
  /* Existing credentials are kept: the running database was initialised with them. */
  g_assert_true (g_file_get_contents (secrets_path, &secrets, NULL, NULL));
  g_assert_cmpstr (secrets, ==, "POSTGRES_PASSWORD=kept\n");
}

typedef struct
{
  const char      *name;
  const char      *fail;       /* FAKE_FAIL pattern */
  const char      *output;
  OddClusterError  code;
  const char      *step;
  guint            n_calls;    /* commands run, the failing one included */
  const char      *remedy;     /* part of a remediation step */
} FailureCase;

static const FailureCase failure_cases[] = {
  { "docker-down", "docker info*",
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING, "doctor", 1, "sudo systemctl start docker" },
  { "docker-permission", "docker info*",
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
    "Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info\": dial unix /var/run/docker.sock: connect: permission denied",
    ODD_CLUSTER_ERROR_DOCKER_PERMISSION, "doctor", 1, "sudo usermod -aG docker $USER" },
  { "cluster-exists", "kind create cluster*",
    "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"task-observatory\"",
    ODD_CLUSTER_ERROR_CLUSTER_EXISTS, "cluster", 3, "kind delete cluster --name task-observatory" },
  { "port-allocated", "kind create cluster*",
    "ERROR: failed to create cluster: command \"docker run ...\" failed with error: exit status 125\n"
    "docker: Error response from daemon: driver failed programming external connectivity: "
    "Bind for 127.0.0.1:3000 failed: port is already allocated.",
    ODD_CLUSTER_ERROR_PORT_IN_USE, "cluster", 3, "ODD_CLUSTER_GATEWAY_PORT=" },
  { "image-build", "docker build*",
    "E: Unable to locate package libsoup-3.0-dev\nThe command '/bin/sh -c apt-get install' returned a non-zero code: 100",
    ODD_CLUSTER_ERROR_IMAGE_BUILD, "image", 4, "docker build -f services/deploy/Dockerfile" },
  { "image-build-daemon", "docker build*",
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING, "image", 4, "docker info" },
  { "load", "kind load*", "ERROR: failed to load image: command \"docker save\" failed",
    ODD_CLUSTER_ERROR_FAILED, "load", 5, "oddctl cluster status" },
  { "apply", "kubectl*apply*", "error: unable to recognize \"kustomization\": no matches for kind",
    ODD_CLUSTER_ERROR_FAILED, "deploy", 6, "get pods" },
  { "rollout", "kubectl*rollout status deployment/gateway*",
    "error: deployment \"gateway\" exceeded its progress deadline",
    ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT, "rollout", 13, "describe deployment/gateway" },
};

static void
test_up_failure (Fixture       *f,
                 gconstpointer  data)
{
  const FailureCase *c = data;
  g_auto(GStrv) expected = up_sequence (f, TRUE, 300);
  g_auto(GStrv) got = NULL;
  JsonObject *failure;

  fake_set (f, "fail", c->fail);
  fake_set (f, "fail-output", c->output);
  run_up (f);

  g_assert_false (f->ok);
  g_assert_error (f->error, ODD_CLUSTER_ERROR, (int) c->code);
  /* Nothing runs after the failing command. */
  got = calls (f);
  g_assert_cmpuint (g_strv_length (got), ==, c->n_calls);
  {
    g_autofree char *cut = expected[c->n_calls];

    expected[c->n_calls] = NULL;
    assert_calls (f, (const char * const *) expected);
    expected[c->n_calls] = g_steal_pointer (&cut);
  }

  failure = odd_cluster_get_failure (f->cluster);
  g_assert_nonnull (failure);
  g_assert_cmpstr (json_object_get_string_member (failure, "step"), ==, c->step);
  g_assert_nonnull (json_object_get_string_member (failure, "hint"));
  if (!remediation_contains (f, c->remedy))
    g_error ("no remediation step mentions “%s”", c->remedy);
  /* The last progress event is the failure, in the failing step. */
  {
    Event *last = g_ptr_array_index (f->events, f->events->len - 1);

    g_assert_cmpint (last->status, ==, ODD_PROGRESS_FAILED);
    g_assert_cmpstr (last->step, ==, c->step);
  }
}

static void
test_up_read_only_deploy (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *base = g_build_filename (f->deploy, "base", NULL);
  g_autofree char *copy = g_build_filename (f->xdg, "deploy", NULL);
  g_autofree char *copied_secrets = g_build_filename (copy, "base", "secrets.env", NULL);
  g_autofree char *kustomization = g_build_filename (f->deploy, "overlays", "kind", "kustomization.yaml", NULL);
  g_autofree char *copied_kustomization = g_build_filename (copy, "overlays", "kind", "kustomization.yaml", NULL);
  g_autofree char *apply = g_strdup_printf ("kubectl --context kind-task-observatory apply -k %s/overlays/kind", copy);
  g_auto(GStrv) got = NULL;
  gboolean applied = FALSE;

  /* Root may write anywhere: the copy only happens for other users. */
  if (geteuid () == 0)
    {
      g_test_skip ("runs as root, for whom no directory is read-only");
      return;
    }

  /* As installed by a package: manifests present, not writable. */
  write_file (kustomization, "resources: [../../base]\n", 0644);
  g_assert_cmpint (g_chmod (base, 0555), ==, 0);
  run_up (f);
  g_assert_cmpint (g_chmod (base, 0755), ==, 0);

  g_assert_no_error (f->error);
  g_assert_true (g_file_test (copied_kustomization, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (copied_secrets, G_FILE_TEST_IS_REGULAR));
  got = calls (f);
  for (guint i = 0; got[i] != NULL; i++)
    applied |= g_str_equal (got[i], apply);
  g_assert_true (applied);
}

static void
test_up_missing_tool (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *kind = g_build_filename (f->bin, "kind", NULL);
  g_auto(GStrv) got = NULL;

  /* main() set PATH to /usr/bin:/bin, where kind is not. */
  g_assert_cmpint (g_unlink (kind), ==, 0);
  run_up (f);

  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_TOOL_MISSING);
  g_assert_cmpstr (f->error->message, ==, "Not installed: kind");
  got = calls (f);
  g_assert_cmpuint (g_strv_length (got), ==, 0);
  g_assert_true (remediation_contains (f, "https://kind.sigs.k8s.io/dl/"));
  g_assert_true (remediation_contains (f, "ODD_TOOLS_DIR"));
  g_assert_false (remediation_contains (f, "kubectl"));
}

static void
test_up_host_port_taken (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(GStrv) got = NULL;
  g_autofree char *port = NULL;

  /* Something listens on the gateway port: `kind create` would fail only after minutes. */
  start_http (f);
  run_up (f);
  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_PORT_IN_USE);
  got = calls (f);
  g_assert_cmpuint (g_strv_length (got), ==, 2);  /* docker info, kind get clusters */
  port = g_strdup_printf ("sport = :%u", f->gateway_port);
  g_assert_true (remediation_contains (f, port));
}

static void
test_up_rollout_timeout (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(GStrv) got = NULL;

  /* kubectl's own --timeout: the fake waits that long, then fails like kubectl. */
  odd_cluster_set_rollout_timeout (f->cluster, 1);
  fake_set (f, "slow", "kubectl*rollout status deployment/metrics-engine*");
  fake_set (f, "slow-seconds", "30");
  run_up (f);

  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT);
  g_assert_nonnull (strstr (f->error->message, "exit status 1"));
  g_assert_nonnull (strstr (f->error->message, "timed out waiting for the condition"));
  got = calls (f);
  g_assert_true (g_str_has_suffix (got[g_strv_length (got) - 1],
                                   "rollout status deployment/metrics-engine --timeout=1s"));
  g_assert_true (remediation_contains (f, "ODD_CLUSTER_ROLLOUT_TIMEOUT=900"));
  g_assert_true (remediation_contains (f, "logs deployment/metrics-engine"));
  g_assert_true (has_event (f, "rollout", "Waiting for rollout to finish"));
}

static void
test_up_cancel_during_rollout (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *sleep_pid_file = g_build_filename (f->state, "sleep.pid", NULL);
  g_auto(GStrv) got = NULL;
  GPid sleep_pid;

  /* An hour: only the cancellation ends it (or meson's timeout, should it not). */
  fake_set (f, "slow", "kubectl*rollout status deployment/processor*");
  fake_set (f, "slow-seconds", "3600");
  /* Cancel once the slow rollout streamed its first line. */
  f->cancel_on = g_strdup ("Waiting for rollout to finish");
  run_up (f);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The child's process group was killed: its sleep is gone too. */
  sleep_pid = odd_process_read_pid_file (sleep_pid_file);
  g_assert_cmpint (sleep_pid, >, 0);
  g_assert_true (odd_process_wait_gone (sleep_pid, "sleep", 5000));
  /* And nothing ran after it. */
  got = calls (f);
  g_assert_true (g_str_has_suffix (got[g_strv_length (got) - 1],
                                   "rollout status deployment/processor --timeout=300s"));
  g_assert_cmpstr (json_object_get_string_member (odd_cluster_get_failure (f->cluster), "code"), ==,
                   "cancelled");
}

static void
test_up_verify_fails (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *clusters = g_build_filename (f->state, "clusters", NULL);
  guint16 closed;

  /* The responder holds both fixture ports first, so the closed one cannot be either; the
   * cluster exists, so no port check comes before the verify step. */
  start_http (f);
  write_file (clusters, "task-observatory\n", 0644);
  closed = odd_test_free_port ();
  odd_cluster_set_ports (f->cluster, closed, f->read_model_port);
  odd_cluster_set_verify_timeout (f->cluster, 1);
  run_up (f);

  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (f->error->message, "gateway's /readyz answers 0"));
  g_assert_nonnull (strstr (f->error->message, "read-model's 200"));
  g_assert_cmpstr (json_object_get_string_member (odd_cluster_get_failure (f->cluster), "step"), ==, "verify");
  g_assert_true (remediation_contains (f, "oddctl cluster status"));
}

static void
test_up_twice_at_once (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fake_set (f, "slow", "docker info*");
  fake_set (f, "slow-seconds", "2");
  f->done = FALSE;
  odd_cluster_up_async (f->cluster, NULL, on_progress, f, on_done, f);
  g_assert_false (odd_cluster_up (f->cluster, NULL, NULL, NULL, &error));
  g_assert_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID);
  wait_done (f);
  g_assert_no_error (f->error);
}

static void
test_down (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *clusters = g_build_filename (f->state, "clusters", NULL);
  g_autofree char *log = g_build_filename (f->state, "calls.log", NULL);
  g_autofree char *steps = NULL;
  const char * const expected[] = {
    "kind get clusters", "kind delete cluster --name task-observatory", NULL,
  };
  const char * const expected_again[] = { "kind get clusters", NULL };

  write_file (clusters, "task-observatory\n", 0644);
  run_down (f);
  g_assert_no_error (f->error);
  assert_calls (f, expected);
  steps = outcome_steps (f);
  g_assert_cmpstr (steps, ==, "forwards:skipped cluster:ok");

  /* Again: nothing to delete, and that is fine. */
  g_unlink (log);
  g_ptr_array_set_size (f->events, 0);
  run_down (f);
  g_assert_no_error (f->error);
  assert_calls (f, expected_again);
  g_clear_pointer (&steps, g_free);
  steps = outcome_steps (f);
  g_assert_cmpstr (steps, ==, "forwards:skipped cluster:skipped");
}

static GStrv run_oddctl (Fixture    *f,
                        const char *args,
                        int        *status);

static void
test_status (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *clusters = g_build_filename (f->state, "clusters", NULL);
  g_autofree char *nodes = g_build_filename (f->state, "nodes.json", NULL);
  g_autofree char *workloads = g_build_filename (f->state, "workloads.json", NULL);
  g_autofree char *pods = g_build_filename (f->state, "pods.json", NULL);
  g_autofree char *scaling = g_build_filename (f->state, "scaling.json", NULL);
  JsonObject *root;
  JsonArray *list;
  JsonObject *w;
  JsonObject *autoscaler;

  /* No cluster: only `kind get clusters`. */
  f->done = FALSE;
  odd_cluster_status_async (f->cluster, NULL, NULL, NULL, on_done, f);
  wait_done (f);
  g_assert_no_error (f->error);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (f->result), "exists"));
  g_clear_pointer (&f->result, json_node_unref);

  write_file (clusters, "task-observatory\n", 0644);
  write_file (nodes, "{\"items\":[{\"metadata\":{\"name\":\"task-observatory-control-plane\"},"
                     "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
                     "{\"type\":\"Ready\",\"status\":\"True\"}]}}]}", 0644);
  write_file (workloads, "{\"items\":["
                         "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"gateway\"},\"spec\":{\"replicas\":2,"
                         "\"template\":{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"gateway\","
                         "\"app.kubernetes.io/part-of\":\"odd\"}}}},"
                         "\"status\":{\"readyReplicas\":1}},"
                         "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"postgres\"},\"spec\":{\"replicas\":1},"
                         "\"status\":{}}]}", 0644);
  write_file (pods, "{\"items\":["
                    "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"gateway\"}},"
                    "\"status\":{\"containerStatuses\":[{\"restartCount\":2}]}},"
                    "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"gateway\"}},"
                    "\"status\":{\"containerStatuses\":[{\"restartCount\":3}]}},"
                    "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"postgres\"}},\"status\":{}}]}", 0644);

  /* The gateway's autoscaler and budget; a budget of other pods and an autoscaler of another
   * workload say nothing about it. */
  write_file (scaling, "{\"items\":["
                       "{\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"gateway\"},"
                       "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"gateway\"},"
                       "\"minReplicas\":2,\"maxReplicas\":6},\"status\":{\"currentReplicas\":2,\"desiredReplicas\":3}},"
                       "{\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"postgres\"},"
                       "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"postgres\"},\"maxReplicas\":3}},"
                       "{\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":\"processor\"},"
                       "\"spec\":{\"selector\":{\"matchLabels\":{\"app.kubernetes.io/name\":\"processor\"}}},"
                       "\"status\":{\"disruptionsAllowed\":2}},"
                       "{\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":\"gateway\"},"
                       "\"spec\":{\"selector\":{\"matchLabels\":{\"app.kubernetes.io/name\":\"gateway\","
                       "\"app.kubernetes.io/part-of\":\"odd\"}}},\"status\":{\"disruptionsAllowed\":0}}]}", 0644);

  f->done = FALSE;
  odd_cluster_status_async (f->cluster, NULL, NULL, NULL, on_done, f);
  wait_done (f);
  g_assert_no_error (f->error);
  root = json_node_get_object (f->result);
  g_assert_true (json_object_get_boolean_member (root, "exists"));
  g_assert_cmpstr (json_object_get_string_member (root, "context"), ==, "kind-task-observatory");
  list = json_object_get_array_member (root, "nodes");
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (list, 0), "ready"));
  list = json_object_get_array_member (root, "workloads");
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  w = json_array_get_object_element (list, 0);
  g_assert_cmpstr (json_object_get_string_member (w, "name"), ==, "gateway");
  g_assert_cmpint (json_object_get_int_member (w, "ready"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (w, "desired"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (w, "restarts"), ==, 5);
  autoscaler = json_object_get_object_member (w, "autoscaler");
  g_assert_nonnull (autoscaler);
  g_assert_cmpint (json_object_get_int_member (autoscaler, "min"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (autoscaler, "max"), ==, 6);
  g_assert_cmpint (json_object_get_int_member (autoscaler, "current"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (autoscaler, "desired"), ==, 3);
  /* Its budget allows no eviction now (one of two ready): not the processor's 2. */
  g_assert_true (json_object_has_member (w, "disruptionsAllowed"));
  g_assert_cmpint (json_object_get_int_member (w, "disruptionsAllowed"), ==, 0);
  w = json_array_get_object_element (list, 1);
  g_assert_cmpstr (json_object_get_string_member (w, "kind"), ==, "StatefulSet");
  g_assert_cmpint (json_object_get_int_member (w, "ready"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (w, "restarts"), ==, 0);
  /* postgres is a StatefulSet: the Deployment's autoscaler of that name is not its own. */
  g_assert_false (json_object_has_member (w, "autoscaler"));
  g_assert_false (json_object_has_member (w, "disruptionsAllowed"));

  /* `oddctl cluster status`: the same as a table; 1/2 ready is unhealthy, exit status 1. */
  if (g_getenv ("ODD_BUILD_DIR") != NULL)
    {
      g_auto(GStrv) lines = NULL;
      gboolean header = FALSE, gateway = FALSE, postgres = FALSE;
      int status;

      lines = run_oddctl (f, "cluster status", &status);
      g_assert_cmpint (status, ==, 1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) cols = g_strsplit_set (lines[i], " ", -1);
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
          g_auto(GStrv) words = NULL;

          for (guint j = 0; cols[j] != NULL; j++)
            if (*cols[j] != '\0')
              g_strv_builder_add (builder, cols[j]);
          words = g_strv_builder_end (builder);
          if (g_strv_length (words) != 5)
            continue;
          header |= g_strv_equal ((const char * const *) words,
                                  (const char * const[]) { "WORKLOAD", "READY", "RESTARTS", "AUTOSCALED", "EVICTABLE", NULL });
          gateway |= g_strv_equal ((const char * const *) words,
                                   (const char * const[]) { "Deployment/gateway", "1/2", "5", "2-6", "0", NULL });
          postgres |= g_strv_equal ((const char * const *) words,
                                    (const char * const[]) { "StatefulSet/postgres", "0/1", "0", "-", "-", NULL });
        }
      g_assert_true (header);
      g_assert_true (gateway);
      g_assert_true (postgres);
    }

  /* Garbage instead of JSON is an error, not a crash. */
  g_clear_pointer (&f->result, json_node_unref);
  write_file (pods, "this is not json", 0644);
  f->done = FALSE;
  odd_cluster_status_async (f->cluster, NULL, NULL, NULL, on_done, f);
  wait_done (f);
  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_FAILED);
}

static JsonNode *
forward_start (Fixture    *f,
               const char *name)
{
  g_clear_error (&f->error);
  g_clear_pointer (&f->result, json_node_unref);
  f->done = FALSE;
  odd_cluster_forward_start_async (f->cluster, name, NULL, on_progress, f, on_done, f);
  wait_done (f);
  return f->result;
}

static guint
forward_count (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) list = odd_cluster_forward_list (f->cluster, &error);

  g_assert_no_error (error);
  return json_array_get_length (json_object_get_array_member (json_node_get_object (list), "forwards"));
}

static void
test_forwards (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_build_filename (f->xdg, "forwards.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *url = NULL;
  guint16 port = odd_test_free_port ();
  JsonNode *record;
  GPid pid, again;

  g_autofree char *python = g_find_program_in_path ("python3");

  if (python == NULL)
    {
      g_test_skip ("python3 (the fake port-forward's listener) is not installed");
      return;
    }

  odd_cluster_set_forward_port (f->cluster, "grafana", port);
  record = forward_start (f, "grafana");
  g_assert_no_error (f->error);
  pid = (GPid) json_object_get_int_member (json_node_get_object (record), "pid");
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (record), "url"), ==, url);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (record), "target"), ==, "svc/grafana");
  g_assert_true (odd_process_is_alive (pid, "kubectl"));
  {
    g_auto(GStrv) got = calls (f);
    g_autofree char *expected = g_strdup_printf ("kubectl --context kind-task-observatory -n odd "
                                                 "port-forward --address 127.0.0.1 svc/grafana %u:3000", port);

    g_assert_cmpstr (got[0], ==, expected);
  }

  /* Recorded in the state dir, for later commands and other programs. */
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"grafana\""));
  g_assert_cmpuint (forward_count (f), ==, 1);

  /* Starting it again keeps the running one. */
  record = forward_start (f, "grafana");
  g_assert_no_error (f->error);
  again = (GPid) json_object_get_int_member (json_node_get_object (record), "pid");
  g_assert_cmpint (again, ==, pid);

  /* A forward that died is stale: listing drops it from the file. */
  kill (-pid, SIGKILL);  /* the fake's listener too: it runs in the forward's session */
  g_assert_true (odd_process_wait_gone (pid, "kubectl", 5000));
  g_assert_cmpuint (forward_count (f), ==, 0);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_null (strstr (text, "\"grafana\""));

  /* Start, then stop by name. */
  record = forward_start (f, "grafana");
  g_assert_no_error (f->error);
  pid = (GPid) json_object_get_int_member (json_node_get_object (record), "pid");
  g_assert_cmpint (odd_cluster_forward_stop (f->cluster, "prometheus", &error), ==, 0);
  g_assert_cmpint (odd_cluster_forward_stop (f->cluster, "grafana", &error), ==, 1);
  g_assert_no_error (error);
  g_assert_false (odd_process_is_alive (pid, "kubectl"));
  g_assert_cmpuint (forward_count (f), ==, 0);
}

static void
test_forward_failures (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 busy = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);

  /* Its local port is taken. */
  odd_cluster_set_forward_port (f->cluster, "prometheus", busy);
  forward_start (f, "prometheus");
  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_PORT_IN_USE);

  /* kubectl exits at once: no such cluster. Nothing stays recorded. */
  odd_cluster_set_forward_port (f->cluster, "rabbitmq", odd_test_free_port ());
  fake_set (f, "fail", "kubectl*port-forward*");
  fake_set (f, "fail-output", "error: context \"kind-task-observatory\" does not exist");
  forward_start (f, "rabbitmq");
  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_NO_CLUSTER);
  g_assert_nonnull (strstr (f->error->message, "does not exist"));
  g_assert_true (remediation_contains (f, "oddctl cluster up"));
  g_assert_cmpuint (forward_count (f), ==, 0);

  /* An unknown name. */
  forward_start (f, "pgadmin");
  g_assert_error (f->error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID);

  g_socket_listener_close (listener);
}

static void
test_down_stops_forwards (Fixture       *f,
                          gconstpointer  data)
{
  JsonNode *record;
  GPid pid;

  g_autofree char *python = g_find_program_in_path ("python3");

  if (python == NULL)
    {
      g_test_skip ("python3 (the fake port-forward's listener) is not installed");
      return;
    }

  odd_cluster_set_forward_port (f->cluster, "alertmanager", odd_test_free_port ());
  record = forward_start (f, "alertmanager");
  g_assert_no_error (f->error);
  pid = (GPid) json_object_get_int_member (json_node_get_object (record), "pid");

  g_ptr_array_set_size (f->events, 0);
  run_down (f);
  g_assert_no_error (f->error);
  g_assert_false (odd_process_is_alive (pid, "kubectl"));
  g_assert_true (has_event (f, "forwards", "stopped 1 port-forward"));
}

typedef struct
{
  gboolean  done;
  char     *out;
  int       status;
} Child;

static void
on_oddctl_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Child *child = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &child->out, NULL, &error);
  g_assert_no_error (error);
  child->status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  child->done = TRUE;
}

/* Runs the built oddctl with the fakes; the main loop keeps serving the mapped ports. */
static GStrv
run_oddctl (Fixture    *f,
            const char *args,
            int        *status)
{
  g_autofree char *oddctl = g_build_filename (g_getenv ("ODD_BUILD_DIR"), "app", "oddctl", "oddctl", NULL);
  g_autofree char *xdg = g_path_get_dirname (f->xdg);
  g_autofree char *gateway = g_strdup_printf ("%u", f->gateway_port);
  g_autofree char *read_model = g_strdup_printf ("%u", f->read_model_port);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) words = g_strsplit (args, " ", -1);
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_auto(GStrv) full = NULL;
  Child child = { 0 };
  GStrv lines;

  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", xdg, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_SOURCE_DIR", f->source, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_DEPLOY_DIR", f->deploy, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_CLUSTER_GATEWAY_PORT", gateway, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_CLUSTER_READ_MODEL_PORT", read_model, TRUE);
  g_strv_builder_add (argv, oddctl);
  g_strv_builder_addv (argv, (const char **) words);
  full = g_strv_builder_end (argv);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) full, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_oddctl_done, &child);
  while (!child.done)
    g_main_context_iteration (NULL, TRUE);

  *status = child.status;
  lines = g_strsplit (child.out, "\n", -1);
  g_free (child.out);
  return lines;
}

/* `oddctl cluster up --json`: one JSON object a line, the last one a failure's remedy. */
static void
test_oddctl_json (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *clusters = g_build_filename (f->state, "clusters", NULL);
  g_auto(GStrv) lines = NULL;
  JsonObject *last = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint n = 0;
  int status;

  if (g_getenv ("ODD_BUILD_DIR") == NULL)
    {
      g_test_skip ("ODD_BUILD_DIR is not set (meson test sets it)");
      return;
    }

  /* Success: every line is {"step","status","message","fraction"}, ending at 100 %. */
  write_file (clusters, "task-observatory\n", 0644);
  start_http (f);
  lines = run_oddctl (f, "cluster up --json", &status);
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++, n++)
    {
      g_autoptr(GError) error = NULL;
      JsonObject *o;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_nonnull (json_object_get_string_member (o, "step"));
      g_assert_true (g_strv_contains ((const char * const[]) { "running", "ok", "skipped", NULL },
                                      json_object_get_string_member (o, "status")));
      g_assert_nonnull (json_object_get_string_member (o, "message"));
      g_assert_cmpfloat (json_object_get_double_member (o, "fraction"), >=, 0.0);
      g_assert_cmpfloat (json_object_get_double_member (o, "fraction"), <=, 1.0);
      if (g_strcmp0 (json_object_get_string_member (o, "step"), "ready") == 0)
        g_assert_cmpfloat (json_object_get_double_member (o, "fraction"), ==, 1.0);
    }
  g_assert_cmpuint (n, >, 20);

  /* Failure: the last line carries code, hint and remediation; exit status 1. */
  g_clear_pointer (&lines, g_strfreev);
  fake_set (f, "fail", "docker info*");
  fake_set (f, "fail-output", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                              "Is the docker daemon running?");
  lines = run_oddctl (f, "cluster up --json", &status);
  g_assert_cmpint (status, ==, 1);
  n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  json_parser_load_from_data (parser, lines[n - 2], -1, NULL);  /* lines[n - 1] is "" */
  last = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (last, "step"), ==, "doctor");
  g_assert_cmpstr (json_object_get_string_member (last, "status"), ==, "failed");
  g_assert_cmpstr (json_object_get_string_member (last, "code"), ==, "docker-not-running");
  g_assert_nonnull (json_object_get_string_member (last, "hint"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (last, "remediation")), >, 1);
}

static void
test_tools_find (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("odd-test-tools-XXXXXX", &error);
  g_autofree char *bundled = g_build_filename (dir, "kubectl", NULL);
  g_autofree char *not_exec = g_build_filename (dir, "kind", NULL);
  g_autofree char *found = NULL;
  g_autofree char *sh = g_find_program_in_path ("sh");
  g_autofree char *old_path = g_strdup (g_getenv ("PATH"));
  g_autofree char *fakes = g_strdup (g_getenv ("ODD_TOOLS_DIR"));

  g_assert_no_error (error);
  write_file (bundled, "#!/bin/sh\n", 0755);
  write_file (not_exec, "#!/bin/sh\n", 0644);

  /* The bundled directory wins over $PATH. */
  g_setenv ("ODD_TOOLS_DIR", dir, TRUE);
  found = odd_tools_find ("kubectl", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, bundled);
  g_clear_pointer (&found, g_free);

  /* Not there (or not executable): $PATH. */
  found = odd_tools_find ("sh", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, sh);
  g_clear_pointer (&found, g_free);

  g_setenv ("PATH", "/nonexistent", TRUE);
  found = odd_tools_find ("kind", &error);
  g_setenv ("PATH", old_path, TRUE);
  g_assert_null (found);
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM);
  g_assert_nonnull (strstr (error->message, dir));

  g_unlink (bundled);
  g_unlink (not_exec);
  g_rmdir (dir);
  g_setenv ("ODD_TOOLS_DIR", fakes, TRUE);
}

static void
test_config_from_env (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddCluster) cluster = NULL;
  g_autofree char *config = NULL;

  g_setenv ("ODD_CLUSTER_GATEWAY_PORT", "13000", TRUE);
  g_setenv ("ODD_CLUSTER_READ_MODEL_PORT", "18080", TRUE);
  g_setenv ("XDG_STATE_HOME", "/tmp/odd-test-xdg", TRUE);
  cluster = odd_cluster_new_from_env (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (odd_cluster_get_gateway_port (cluster), ==, 13000);
  g_assert_cmpuint (odd_cluster_get_read_model_port (cluster), ==, 18080);
  g_assert_cmpstr (odd_cluster_get_state_dir (cluster), ==, "/tmp/odd-test-xdg/odd");
  g_assert_cmpstr (odd_cluster_get_context (cluster), ==, "kind-task-observatory");
  g_assert_cmpstr (odd_cluster_get_image (cluster), ==, "odd-services:" ODD_VERSION);
  config = odd_cluster_dup_kind_config (cluster);
  g_assert_nonnull (strstr (config, "hostPort: 13000"));
  g_assert_nonnull (strstr (config, "hostPort: 18080"));
  g_clear_object (&cluster);

  g_setenv ("ODD_CLUSTER_GATEWAY_PORT", "70000", TRUE);
  cluster = odd_cluster_new_from_env (&error);
  g_assert_null (cluster);
  g_assert_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "ODD_CLUSTER_GATEWAY_PORT"));
  g_clear_error (&error);

  /* The gateway on the read-model's default port. */
  g_setenv ("ODD_CLUSTER_GATEWAY_PORT", "8080", TRUE);
  g_unsetenv ("ODD_CLUSTER_READ_MODEL_PORT");
  cluster = odd_cluster_new_from_env (&error);
  g_assert_null (cluster);
  g_assert_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID);
  g_clear_error (&error);
  g_unsetenv ("ODD_CLUSTER_GATEWAY_PORT");

  g_setenv ("ODD_CLUSTER_FORWARD_PORTS", "grafana=13002,pgadmin=5050", TRUE);
  cluster = odd_cluster_new_from_env (&error);
  g_assert_null (cluster);
  g_assert_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "pgadmin=5050"));
  g_unsetenv ("ODD_CLUSTER_FORWARD_PORTS");
  g_unsetenv ("XDG_STATE_HOME");
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = NULL;
  g_autofree char *fake = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  /* The environment is set here, once: setenv() is not safe once threads run. */
  test_root = g_dir_make_tmp ("odd-test-cluster-XXXXXX", &error);
  g_assert_no_error (error);
  bin = g_build_filename (test_root, "bin", NULL);
  fake = g_build_filename (test_root, "fake", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_setenv ("ODD_TOOLS_DIR", bin, TRUE);
  g_setenv ("FAKE_STATE", fake, TRUE);
  /* No real kind, docker or kubectl may answer instead of the fakes. */
  g_setenv ("PATH", "/usr/bin:/bin", TRUE);

#define ADD(path, func, data) \
  g_test_add ("/cluster/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/cluster/tools-find", test_tools_find);
  g_test_add_func ("/cluster/config-from-env", test_config_from_env);
  ADD ("up/success", test_up_success, NULL);
  ADD ("up/existing-cluster", test_up_existing_cluster, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (failure_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cluster/up/fails/%s", failure_cases[i].name);

      g_test_add (path, Fixture, &failure_cases[i], fixture_set_up, test_up_failure, fixture_tear_down);
    }
  ADD ("up/missing-tool", test_up_missing_tool, NULL);
  ADD ("up/read-only-deploy", test_up_read_only_deploy, NULL);
  ADD ("up/host-port-taken", test_up_host_port_taken, NULL);
  ADD ("up/rollout-timeout", test_up_rollout_timeout, NULL);
  ADD ("up/cancel-during-rollout", test_up_cancel_during_rollout, NULL);
  ADD ("up/verify-fails", test_up_verify_fails, NULL);
  ADD ("up/exclusive", test_up_twice_at_once, NULL);
  ADD ("down", test_down, NULL);
  ADD ("down/stops-forwards", test_down_stops_forwards, NULL);
  ADD ("status", test_status, NULL);
  ADD ("forwards", test_forwards, NULL);
  ADD ("forwards/failures", test_forward_failures, NULL);
  ADD ("oddctl-json", test_oddctl_json, NULL);

  status = g_test_run ();
  if (g_getenv ("ODD_TEST_KEEP_STATE") == NULL)
    remove_tree (test_root);
  g_free (test_root);
  return status;
}
