#include "publish.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mqtt_store.h"
#include "paho.h"
#include "payload.h"
#include "text.h"
#include "timeutil.h"

#define PASSWORD_MAX 512

/*
 * Reconnection: driven from the uplink's tick, not by Paho's automaticReconnect.
 * Why our own:
 * - Paho's retry interval is whole seconds and its jitter is +/-20 % of it,
 *   rounded to whole seconds: with a cap of 2 s, hundreds of gateways of a city
 *   would come back in two or three one-second waves after a broker restart.
 *   Ours is drawn to the millisecond, between half the back-off and all of it.
 * - Paho always starts again at the head of the server list. After losing node
 *   k we start at node k+1: the node that just failed is tried last, not first
 *   (a node that is down but still routed may hold each attempt for
 *   CONNECT_TIMEOUT_S).
 * - The first retry after a loss is 125-250 ms away, and the back-off doubles
 *   to at most 2 s: a broker that accepts connections again gets the gateway
 *   within about 2 s however long it was away (the old 1-30 s Paho back-off took
 *   up to 30 s: 13 s after five restarts in a row).
 * The uplink ticks every 200 ms (uplink.c TICK_MS), which bounds the lateness.
 */
#define RECONNECT_FIRST_MS 250u
#define RECONNECT_MAX_MS 2000u
#define CONNECT_TIMEOUT_S 5
/* Each refused attempt of an outage is logged at debug; a warning at most this often. */
#define CONNECT_WARNING_EVERY_MS 60000u
/*
 * QoS 1 messages sent and not yet acknowledged. A broker (node) that answers
 * "no session" makes Paho drop them (MQTT 3.1.1, 3.2.2.2), so the window is
 * what a cluster without shared sessions can lose at a switch; 64 in flight
 * still drain a backlog at 64 messages per round trip.
 */
#define MAX_INFLIGHT 64
/*
 * After each connection the gateway reads its own retained P/status back. An
 * MQTT 3.1.1 broker acknowledges a PUBLISH its ACL refuses and drops it, so
 * the echo is the one way to see that nothing of ours gets through.
 */
#define STATUS_ECHO_WAIT_MS 10000u

enum link_state { LINK_IDLE, LINK_CONNECTING, LINK_UP };

/*
 * Owned by this file and called from the uplink thread alone. Paho calls back
 * on its own threads, hence the atomics; everything else is written once by
 * publish_start before connecting.
 */
static MQTTAsync client;
static const struct paho *paho; /* set by publish_start before anything reaches Paho */
/* Copies of the settings, so that a reload may free the configuration they came from. */
static struct mqtt_config mqtt;
static char *state_dir;
static struct publish_hooks hooks;
static char *status_online;
static char *status_offline;
static char password[PASSWORD_MAX];
static char command_filter[PUBLISH_TOPIC_MAX];
static char status_topic[PUBLISH_TOPIC_MAX];
static atomic_bool status_echoed;
static uint64_t status_echo_deadline_ms; /* the uplink thread's; 0: nothing to check */
static atomic_bool connected;
static atomic_uint_fast64_t connection_epoch;
static atomic_uint_fast64_t dropped;
static atomic_size_t pending;
static atomic_size_t backlog; /* pending plus what was handed to Paho since it was counted */
/* Written by Paho's callbacks and the uplink; read by the uplink's tick. */
static atomic_int link_state;
static atomic_bool link_was_lost;   /* the last IDLE came from a lost connection */
static atomic_size_t node_index;    /* mqtt.uris[] we are (or were last) connected to */
static atomic_bool session_present; /* of the last CONNACK */
static char failure_reason[256];    /* of the last failed attempt; guarded by link_state */
/* The uplink thread's alone. */
static uint64_t next_connect_attempt_ms; /* 0: none scheduled */
static uint32_t backoff_ms = RECONNECT_FIRST_MS;
static size_t first_node;        /* where the next attempt starts in mqtt.uris */
static uint64_t failed_attempts; /* since the link was last up */
static uint64_t next_failure_warning_ms;
static uint64_t connect_started_ms;
static size_t pending_before_loss;
static uint64_t random_state;

static void full_topic(char *topic, size_t size, const char *suffix)
{
    size_t used = text_append(topic, size, 0, mqtt.topic_prefix);
    used = text_append(topic, size, used, "/");
    text_append(topic, size, used, suffix);
}

/*
 * Paho's thread. With MQTT 3.1.1 a broker that refuses a subscription answers
 * SUBACK with 0x80 for the topic (NATS does); Paho then calls onFailure.
 * mosquitto 2.0 grants it and filters deliveries instead, and a refused PUBLISH
 * is acknowledged and dropped everywhere: check_status_echo sees those
 * (docs/deployment-city.md, "ACLs").
 */
static void on_subscribe_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    int code = response ? response->code : 0;
    if (code == MQTT_BAD_SUBSCRIBE || code == 0x80)
        log_error("mqtt: the broker refused the command subscription %s (SUBACK 0x80): its ACL "
                  "does not let user \"%s\" read this topic prefix; commands will not arrive, "
                  "and events published under it are probably refused too (check topic_prefix "
                  "against the broker's ACL)",
                  command_filter, mqtt.username ? mqtt.username : "(none)");
    else
        log_error("mqtt: subscription to %s failed: %s", command_filter,
                  response && response->message ? response->message : paho->strerror(code));
}

static void on_subscribe_success(void *context, MQTTAsync_successData *response)
{
    (void)context;
    if (response && response->alt.qos == 0x80) {
        on_subscribe_failure(context, &(MQTTAsync_failureData){.code = 0x80});
        return;
    }
    log_debug("mqtt: subscribed to %s (granted QoS %d)", command_filter,
              response ? response->alt.qos : -1);
}

static void subscribe_commands(void)
{
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    options.onSuccess = on_subscribe_success;
    options.onFailure = on_subscribe_failure;
    int rc = paho->subscribe(client, command_filter, 1, &options);
    if (rc != MQTTASYNC_SUCCESS)
        log_error("mqtt: cannot subscribe to %s: %s", command_filter, paho->strerror(rc));
}

static void subscribe_status_echo(void)
{
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    int rc = paho->subscribe(client, status_topic, 1, &options);
    if (rc != MQTTASYNC_SUCCESS)
        log_debug("mqtt: cannot subscribe to %s: %s", status_topic, paho->strerror(rc));
}

/* The uplink's tick, while connected: did our own status come back? Said once a connection. */
static void check_status_echo(uint64_t now_ms)
{
    if (status_echo_deadline_ms == 0)
        return;
    if (atomic_load(&status_echoed)) {
        log_debug("mqtt: the broker delivered our status back: publishing under %s works",
                  mqtt.topic_prefix);
        status_echo_deadline_ms = 0;
    } else if (now_ms >= status_echo_deadline_ms) {
        log_error("mqtt: our own retained status did not come back from the broker within %u s: "
                  "it probably refuses this gateway's publishes under %s (user \"%s\"; check "
                  "topic_prefix against the broker's ACL), or its ACL does not let the gateway "
                  "read %s (docs/deployment-city.md)",
                  STATUS_ECHO_WAIT_MS / 1000u, mqtt.topic_prefix,
                  mqtt.username ? mqtt.username : "(none)", status_topic);
        status_echo_deadline_ms = 0;
    }
}

/* Paho's thread: no call back into Paho here (it holds its own lock); the uplink announces. */
static void on_connected(void *context, char *cause)
{
    (void)context;
    (void)cause;
    atomic_store(&connected, true);
    atomic_store(&link_state, LINK_UP);
    log_info("mqtt: connected to %s%s", mqtt.uris[atomic_load(&node_index)],
             mqtt.uri_count > 1 ? " (a node of mqtt.uris)" : "");
    hooks.connected();
}

/* The node of the server list Paho reached; onSuccess runs before on_connected. */
static void on_connect_success(void *context, MQTTAsync_successData *response)
{
    (void)context;
    for (size_t i = 0; response && response->alt.connect.serverURI && i < mqtt.uri_count; i++)
        if (strcmp(mqtt.uris[i], response->alt.connect.serverURI) == 0)
            atomic_store(&node_index, i);
    atomic_store(&session_present, response && response->alt.connect.sessionPresent);
}

/*
 * Paho discards the messages it had in flight when the broker says it has no
 * session for us; they cannot be sent again. Say so, with how many it could be.
 */
static void check_session(void)
{
    if (atomic_load(&session_present) || pending_before_loss == 0)
        return;
    log_warning("mqtt: %s has no session for client %s (CONNACK session present 0): up to %zu "
                "messages sent but not yet acknowledged were discarded (MQTT 3.1.1, 3.2.2.2); a "
                "consumer may see a gap in seq. Every broker node must keep persistent "
                "sessions (docs/deployment-city.md)",
                mqtt.uris[atomic_load(&node_index)], mqtt.client_id,
                pending_before_loss < MAX_INFLIGHT ? pending_before_loss : MAX_INFLIGHT);
}

void publish_announce(void)
{
    check_session();
    pending_before_loss = 0;
    atomic_store(&status_echoed, false);
    status_echo_deadline_ms = time_monotonic_ms() + STATUS_ECHO_WAIT_MS;
    publish_send("status", status_online, 1, true, PUBLISH_KEPT);
    subscribe_commands();
    subscribe_status_echo();
    atomic_fetch_add(&connection_epoch, 1);
}

static void on_connection_lost(void *context, char *cause)
{
    (void)context;
    atomic_store(&connected, false);
    atomic_store(&link_was_lost, true);
    atomic_store(&link_state, LINK_IDLE);
    log_warning("mqtt: connection to %s lost (%s); reconnecting%s, alarm events are kept",
                mqtt.uris[atomic_load(&node_index)], cause ? cause : "no reason given",
                mqtt.uri_count > 1 ? " to the next node" : "");
}

/*
 * Topic is P/cmd/<device-id>, or P/status: our own status read back (see
 * STATUS_ECHO_WAIT_MS); anything else is ignored. When
 * the uplink's inbox is full, returning 0 asks Paho to deliver the message
 * again later (MQTTAsync_messageArrived's contract): a burst of commands
 * waits instead of blocking Paho's thread or being lost.
 */
static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
    (void)context;
    (void)topic_length;
    size_t prefix_length = strlen(command_filter) - 1; /* without the "+" */
    if (strcmp(topic, status_topic) == 0) {
        if ((size_t)message->payloadlen == strlen(status_online) &&
            memcmp(message->payload, status_online, strlen(status_online)) == 0)
            atomic_store(&status_echoed, true);
    } else if (strncmp(topic, command_filter, prefix_length) == 0 &&
               !hooks.command_arrived(topic + prefix_length, message->payload,
                                      (size_t)message->payloadlen))
        return 0;
    paho->free_message(&message);
    paho->free(topic);
    return 1;
}

/* Why a connection failed: the broker's CONNACK refusal (MQTT 3.1.1, 3.2.2.3) or Paho's. */
static const char *connect_failure_reason(const MQTTAsync_failureData *response)
{
    static const char *const refusals[] = {
        NULL,
        "refused: unacceptable protocol version",
        "refused: client id rejected",
        "refused: server unavailable",
        "refused: bad user name or password",
        "refused: not authorized (check username, password_file or the client certificate, "
        "and that the broker's ACL lets this user publish the Last Will on topic_prefix/status)",
    };
    if (!response)
        return "no reason given";
    if (response->code > 0 && response->code < (int)(sizeof refusals / sizeof refusals[0]))
        return refusals[response->code];
    return response->message ? response->message : paho->strerror(response->code);
}

/* Paho's thread: every node of the list failed. The uplink's tick logs it and schedules the next.
 */
static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    snprintf(failure_reason, sizeof failure_reason, "%s", connect_failure_reason(response));
    atomic_store(&link_state, LINK_IDLE);
}

/* OpenSSL's reasons for a failed handshake ("certificate verify failed", ...). */
static int on_tls_error(const char *text, size_t length, void *context)
{
    (void)context;
    log_error("mqtt: TLS with %s: %.*s", mqtt.uri, (int)length, text);
    return 0;
}

static void set_tls(MQTTAsync_connectOptions *options, MQTTAsync_SSLOptions *tls)
{
    const struct mqtt_tls *settings = &mqtt.tls;
    tls->trustStore = settings->ca_file;
    tls->keyStore = settings->cert_file;
    tls->privateKey = settings->key_file;
    tls->enableServerCertAuth = settings->verify;
    tls->verify = settings->verify; /* host name check */
    tls->sslVersion = MQTT_SSL_VERSION_TLS_1_2;
    tls->ssl_error_cb = on_tls_error;
    options->ssl = tls;
}

/* The server list for Paho, starting at first_node and wrapping around. */
static void rotated_uris(char **uris)
{
    for (size_t i = 0; i < mqtt.uri_count; i++)
        uris[i] = mqtt.uris[(first_node + i) % mqtt.uri_count];
}

static int start_connect(void)
{
    char *uris[MQTT_URIS_MAX];
    rotated_uris(uris);
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions tls = MQTTAsync_SSLOptions_initializer;
    char will_topic[PUBLISH_TOPIC_MAX];
    full_topic(will_topic, sizeof will_topic, "status");
    will.topicName = will_topic;
    will.message = status_offline;
    will.retained = 1;
    will.qos = 1;
    options.will = &will;
    options.keepAliveInterval = (int)mqtt.keepalive_s;
    /* Keep the session so that QoS 1 messages in flight survive our reconnects. */
    options.cleansession = 0;
    /* 3.1.1 only: Paho's default also tries 3.1 after each failure, doubling every attempt. */
    options.MQTTVersion = MQTTVERSION_3_1_1;
    options.serverURIs = uris;
    options.serverURIcount = (int)mqtt.uri_count;
    options.connectTimeout = CONNECT_TIMEOUT_S;
    options.maxInflight = MAX_INFLIGHT;
    options.automaticReconnect = 0; /* ours: see RECONNECT_FIRST_MS */
    options.onSuccess = on_connect_success;
    options.onFailure = on_connect_failure;
    options.username = mqtt.username;
    if (mqtt.password_file)
        options.password = password;
    if (mqtt.tls_enabled)
        set_tls(&options, &tls);
    atomic_store(&link_state, LINK_CONNECTING);
    connect_started_ms = time_monotonic_ms();
    int rc = paho->connect(client, &options);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(failure_reason, sizeof failure_reason, "not started: %s", paho->strerror(rc));
        atomic_store(&link_state, LINK_IDLE);
    }
    return rc == MQTTASYNC_SUCCESS ? 0 : -1;
}

/* First line of the password file, without its newline. */
static int read_password(void)
{
    if (!mqtt.password_file)
        return 0;
    FILE *file = fopen(mqtt.password_file, "r");
    if (!file) {
        log_error("mqtt: cannot read password_file %s: %s", mqtt.password_file, strerror(errno));
        return -1;
    }
    if (!fgets(password, sizeof password, file))
        password[0] = '\0';
    fclose(file);
    password[strcspn(password, "\r\n")] = '\0';
    if (password[0] == '\0') {
        log_error("mqtt: password_file %s is empty", mqtt.password_file);
        return -1;
    }
    return 0;
}

/* Files Paho reads only at handshake time: say what is missing now, not at every retry. */
static int check_tls_files(void)
{
    const struct mqtt_tls *tls = &mqtt.tls;
    const char *files[] = {tls->ca_file, tls->cert_file, tls->key_file};
    int result = 0;
    for (size_t i = 0; mqtt.tls_enabled && i < 3; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            log_error("mqtt: cannot read TLS file %s: %s", files[i], strerror(errno));
            result = -1;
        }
    return result;
}

/* The Paho build the brokers need: with TLS only for ssl:// (paho.h says why). */
static int load_paho(void)
{
    char error[512];
    if (paho_load(&mqtt, error, sizeof error) != 0) {
        log_error("mqtt: %s", error);
        return -1;
    }
    paho = paho_api();
    return 0;
}

static int persistence_dir(char *dir, size_t size)
{
    snprintf(dir, size, "%s/mqtt", state_dir);
    mkdir(state_dir, 0750);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        log_error("mqtt: cannot create the message store %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int create_client(const char *dir)
{
    /* Paho keeps a pointer to both for the client's life. */
    static char store_dir[1024];
    static MQTTClient_persistence store;
    snprintf(store_dir, sizeof store_dir, "%s", dir);
    store = mqtt_store_callbacks(store_dir);
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.sendWhileDisconnected = 1;
    create.maxBufferedMessages = (int)mqtt.max_buffered;
    /* A full buffer refuses the newest event (counted) rather than losing the oldest. */
    create.deleteOldestMessages = 0;
    create.restoreMessages = 1;
    /* QoS 0 (telemetry, health) is never replayed: writing each to disk would only wear it. */
    create.persistQoS0 = 0;
    /*
     * Paho opens the store once, here, with this URI (1.3.12: MQTTPersistence_initialize
     * in MQTTAsync_createWithOptions), and connects to serverURIs later without
     * opening it again: every node of a cluster shares the one folder named after
     * the first of mqtt.uris, and a switch of node strands nothing
     * (tests/integration/test_failover.sh).
     */
    int rc = paho->create_with_options(&client, mqtt.uris[0], mqtt.client_id,
                                       MQTTCLIENT_PERSISTENCE_USER, &store, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        log_error("mqtt: cannot create client for %s with store %s: %s", mqtt.uris[0], dir,
                  paho->strerror(rc));
        return -1;
    }
    paho->set_callbacks(client, NULL, on_connection_lost, on_message, NULL);
    paho->set_connected(client, NULL, on_connected);
    return 0;
}

static char *copy(const char *text)
{
    return text ? strdup(text) : NULL;
}

static void copy_settings(const struct config *config)
{
    mqtt = config->mqtt;
    mqtt.uri = copy(config->mqtt.uri);
    for (size_t i = 0; i < mqtt.uri_count; i++)
        mqtt.uris[i] = copy(config->mqtt.uris[i]);
    mqtt.client_id = copy(config->mqtt.client_id);
    mqtt.topic_prefix = copy(config->mqtt.topic_prefix);
    mqtt.username = copy(config->mqtt.username);
    mqtt.password_file = copy(config->mqtt.password_file);
    mqtt.tls.ca_file = copy(config->mqtt.tls.ca_file);
    mqtt.tls.cert_file = copy(config->mqtt.tls.cert_file);
    mqtt.tls.key_file = copy(config->mqtt.tls.key_file);
    mqtt.tls.min_version = copy(config->mqtt.tls.min_version);
    state_dir = copy(config->gateway.state_dir);
}

static void free_settings(void)
{
    char *strings[] = {mqtt.uri,           mqtt.client_id,     mqtt.topic_prefix,
                       mqtt.username,      mqtt.password_file, mqtt.tls.ca_file,
                       mqtt.tls.cert_file, mqtt.tls.key_file,  mqtt.tls.min_version,
                       state_dir};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    for (size_t i = 0; i < mqtt.uri_count; i++)
        free(mqtt.uris[i]);
    memset(&mqtt, 0, sizeof mqtt);
    state_dir = NULL;
}

int publish_start(const struct config *config, uint64_t started_wall_ms,
                  const struct publish_hooks *callbacks)
{
    copy_settings(config);
    hooks = *callbacks;
    full_topic(command_filter, sizeof command_filter, "cmd/+");
    full_topic(status_topic, sizeof status_topic, "status");
    char dir[1024];
    if (load_paho() != 0 || read_password() != 0 || check_tls_files() != 0 ||
        persistence_dir(dir, sizeof dir) != 0)
        return -1;
    status_online = payload_status(true, started_wall_ms);
    status_offline = payload_status(false, started_wall_ms);
    if (create_client(dir) != 0)
        return -1;
    random_state = (time_monotonic_ms() << 20) ^ (uint64_t)getpid() ^ 0x9E3779B97F4A7C15u;
    for (const char *c = mqtt.client_id; *c; c++)
        random_state = (random_state ^ (unsigned char)*c) * 0x100000001B3u;
    return 0;
}

void publish_connect(void)
{
    start_connect();
}

static size_t count_pending(void)
{
    MQTTAsync_token *tokens = NULL;
    size_t count = 0;
    if (paho->get_pending_tokens(client, &tokens) == MQTTASYNC_SUCCESS && tokens)
        while (tokens[count] != -1)
            count++;
    paho->free(tokens);
    return count;
}

/* xorshift64*: the jitter needs spread between gateways, not secrecy. */
static uint32_t random_below(uint32_t bound)
{
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return bound ? (uint32_t)((random_state * 0x2545F4914F6CDD1Du) >> 33) % bound : 0;
}

/* Logs a failed attempt: the first of an outage and then once a minute as a warning. */
static void note_failure(uint64_t now_ms, uint32_t delay_ms)
{
    failed_attempts++;
    if (failed_attempts == 1 || now_ms >= next_failure_warning_ms) {
        log_warning("mqtt: cannot connect to %s: %s (%" PRIu64 " attempts; next in %u ms)",
                    mqtt.uri, failure_reason, failed_attempts, delay_ms);
        next_failure_warning_ms = now_ms + CONNECT_WARNING_EVERY_MS;
    } else {
        log_debug("mqtt: cannot connect to %s: %s (next in %u ms)", mqtt.uri, failure_reason,
                  delay_ms);
    }
}

/* After a loss or a failed attempt: when to try again, and from which node. */
static void schedule_connect(uint64_t now_ms)
{
    if (atomic_exchange(&link_was_lost, false)) {
        backoff_ms = RECONNECT_FIRST_MS;
        first_node = (atomic_load(&node_index) + 1) % mqtt.uri_count;
        pending_before_loss = count_pending();
    }
    uint32_t delay_ms = backoff_ms / 2 + random_below(backoff_ms / 2 + 1);
    if (failure_reason[0]) {
        note_failure(now_ms, delay_ms);
        failure_reason[0] = '\0';
    }
    next_connect_attempt_ms = now_ms + delay_ms;
    backoff_ms = backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff_ms * 2;
}

void publish_tick(uint64_t now_ms)
{
    size_t count = count_pending();
    atomic_store(&pending, count);
    atomic_store(&backlog, count); /* publish_send runs on this thread too: nothing is missed */
    switch (atomic_load(&link_state)) {
    case LINK_UP:
        check_status_echo(now_ms);
        backoff_ms = RECONNECT_FIRST_MS;
        failed_attempts = 0;
        next_connect_attempt_ms = 0;
        break;
    case LINK_CONNECTING:
        /*
         * Paho answers every attempt within CONNECT_TIMEOUT_S a node. Should an
         * answer never come, the link must not stay down for good: start over.
         */
        if (now_ms - connect_started_ms > (CONNECT_TIMEOUT_S * mqtt.uri_count + 5) * 1000u &&
            !paho->is_connected(client)) {
            snprintf(failure_reason, sizeof failure_reason,
                     "no answer to the attempt in %u s; starting again",
                     (unsigned)(now_ms - connect_started_ms) / 1000u);
            atomic_store(&link_state, LINK_IDLE);
        }
        break;
    case LINK_IDLE:
        if (next_connect_attempt_ms == 0)
            schedule_connect(now_ms);
        else if (now_ms >= next_connect_attempt_ms) {
            next_connect_attempt_ms = 0;
            start_connect();
        }
        break;
    }
}

int publish_send(const char *topic_suffix, const char *payload, int qos, bool retained,
                 enum publish_kind kind)
{
    if (kind != PUBLISH_KEPT && !atomic_load(&connected))
        return 1;
    char topic[PUBLISH_TOPIC_MAX];
    full_topic(topic, sizeof topic, topic_suffix);
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = (void *)payload;
    message.payloadlen = (int)strlen(payload);
    message.qos = qos;
    message.retained = retained;
    int rc = paho->send_message(client, topic, &message, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        publish_count_dropped();
        log_error("mqtt: message to %s dropped: %s", topic, paho->strerror(rc));
        return -1;
    }
    atomic_fetch_add(&backlog, 1);
    return 0;
}

bool publish_connected(void)
{
    return atomic_load(&connected);
}

uint64_t publish_connection_epoch(void)
{
    return atomic_load(&connection_epoch);
}

uint64_t publish_dropped(void)
{
    return atomic_load(&dropped);
}

void publish_count_dropped(void)
{
    atomic_fetch_add(&dropped, 1);
}

size_t publish_pending(void)
{
    return atomic_load(&pending);
}

size_t publish_backlog(void)
{
    return atomic_load(&backlog);
}

/* Gives queued messages up to timeout_ms to reach the broker; the rest stay on disk. */
static void drain(uint32_t timeout_ms)
{
    uint64_t deadline = time_monotonic_ms() + timeout_ms;
    while (atomic_load(&connected) && count_pending() > 0 && time_monotonic_ms() < deadline)
        usleep(20000);
}

void publish_stop(uint32_t timeout_ms)
{
    if (client && paho->is_connected(client)) {
        publish_send("status", status_offline, 1, true, PUBLISH_KEPT);
        drain(timeout_ms);
        MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
        options.timeout = 1000;
        paho->disconnect(client, &options);
        usleep(100000);
    }
    if (client) {
        size_t left = count_pending();
        if (left)
            log_info("mqtt: %zu messages stay queued in %s/mqtt for the next start", left,
                     state_dir);
        paho->destroy(&client);
    }
    free(status_online);
    free(status_offline);
    status_online = status_offline = NULL;
    free_settings();
}
