#include "publish.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mqtt_store.h"
#include "payload.h"
#include "timeutil.h"

#define PASSWORD_MAX 512
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 30

/*
 * Owned by this file and called from the uplink thread alone. Paho calls back
 * on its own threads, hence the atomics; everything else is written once by
 * publish_start before connecting.
 */
static MQTTAsync client;
/* Copies of the settings, so that a reload may free the configuration they came from. */
static struct mqtt_config mqtt;
static char *state_dir;
static struct publish_hooks hooks;
static char *status_online;
static char *status_offline;
static char password[PASSWORD_MAX];
static char command_filter[PUBLISH_TOPIC_MAX];
static atomic_bool connected;
static atomic_uint_fast64_t connection_epoch;
static atomic_uint_fast64_t dropped;
static atomic_size_t pending;
static atomic_bool first_connect_pending; /* never connected yet: Paho will not retry for us */
static _Atomic uint64_t next_connect_attempt_ms;
static atomic_uint connect_backoff_s = RECONNECT_MIN_S;

static void full_topic(char *topic, size_t size, const char *suffix)
{
    snprintf(topic, size, "%s/%s", mqtt.topic_prefix, suffix);
}

static void subscribe_commands(void)
{
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    int rc = MQTTAsync_subscribe(client, command_filter, 1, &options);
    if (rc != MQTTASYNC_SUCCESS)
        log_error("mqtt: cannot subscribe to %s: %s", command_filter, MQTTAsync_strerror(rc));
}

/* Paho's thread: no call back into Paho here (it holds its own lock); the uplink announces. */
static void on_connected(void *context, char *cause)
{
    (void)context;
    (void)cause;
    atomic_store(&connected, true);
    atomic_store(&first_connect_pending, false);
    atomic_store(&connect_backoff_s, RECONNECT_MIN_S);
    log_info("mqtt: connected to %s", mqtt.uri);
    hooks.connected();
}

void publish_announce(void)
{
    publish_send("status", status_online, 1, true, PUBLISH_KEPT);
    subscribe_commands();
    atomic_fetch_add(&connection_epoch, 1);
}

static void on_connection_lost(void *context, char *cause)
{
    (void)context;
    atomic_store(&connected, false);
    log_warning("mqtt: connection to %s lost (%s); reconnecting, alarm events are kept", mqtt.uri,
                cause ? cause : "no reason given");
}

/*
 * Topic is P/cmd/<device-id>; anything else under the filter is ignored. When
 * the uplink's inbox is full, returning 0 asks Paho to deliver the message
 * again later (MQTTAsync_messageArrived's contract): a burst of commands
 * waits instead of blocking Paho's thread or being lost.
 */
static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
    (void)context;
    (void)topic_length;
    size_t prefix_length = strlen(command_filter) - 1; /* without the "+" */
    if (strncmp(topic, command_filter, prefix_length) == 0 &&
        !hooks.command_arrived(topic + prefix_length, message->payload,
                               (size_t)message->payloadlen))
        return 0;
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
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
        "refused: not authorized (check username and password_file)",
    };
    if (!response)
        return "no reason given";
    if (response->code > 0 && response->code < (int)(sizeof refusals / sizeof refusals[0]))
        return refusals[response->code];
    return response->message ? response->message : MQTTAsync_strerror(response->code);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    unsigned backoff_s = atomic_load(&connect_backoff_s);
    log_warning("mqtt: cannot connect to %s: %s (retrying in %u s)", mqtt.uri,
                connect_failure_reason(response), backoff_s);
    atomic_store(&next_connect_attempt_ms, time_monotonic_ms() + backoff_s * 1000u);
    atomic_store(&connect_backoff_s,
                 backoff_s * 2 > RECONNECT_MAX_S ? RECONNECT_MAX_S : backoff_s * 2);
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

static int start_connect(void)
{
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
    options.automaticReconnect = 1;
    options.minRetryInterval = RECONNECT_MIN_S;
    options.maxRetryInterval = RECONNECT_MAX_S;
    options.onFailure = on_connect_failure;
    options.username = mqtt.username;
    if (mqtt.password_file)
        options.password = password;
    if (mqtt.tls_enabled)
        set_tls(&options, &tls);
    int rc = MQTTAsync_connect(client, &options);
    if (rc != MQTTASYNC_SUCCESS)
        log_warning("mqtt: connect to %s not started: %s", mqtt.uri, MQTTAsync_strerror(rc));
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
    /*
     * OpenSSL's start-up touches megabytes of libcrypto; a gateway without TLS
     * does not need it (measured: 3 MiB of resident memory).
     */
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = mqtt.tls_enabled;
    MQTTAsync_global_init(&init);
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.sendWhileDisconnected = 1;
    create.maxBufferedMessages = (int)mqtt.max_buffered;
    /* A full buffer refuses the newest event (counted) rather than losing the oldest. */
    create.deleteOldestMessages = 0;
    create.restoreMessages = 1;
    /* QoS 0 (telemetry, health) is never replayed: writing each to disk would only wear it. */
    create.persistQoS0 = 0;
    int rc = MQTTAsync_createWithOptions(&client, mqtt.uri, mqtt.client_id,
                                         MQTTCLIENT_PERSISTENCE_USER, &store, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        log_error("mqtt: cannot create client for %s with store %s: %s", mqtt.uri, dir,
                  MQTTAsync_strerror(rc));
        return -1;
    }
    MQTTAsync_setCallbacks(client, NULL, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(client, NULL, on_connected);
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
    memset(&mqtt, 0, sizeof mqtt);
    state_dir = NULL;
}

int publish_start(const struct config *config, uint64_t started_wall_ms,
                  const struct publish_hooks *callbacks)
{
    copy_settings(config);
    hooks = *callbacks;
    full_topic(command_filter, sizeof command_filter, "cmd/+");
    char dir[1024];
    if (read_password() != 0 || check_tls_files() != 0 || persistence_dir(dir, sizeof dir) != 0)
        return -1;
    status_online = payload_status(true, started_wall_ms);
    status_offline = payload_status(false, started_wall_ms);
    if (create_client(dir) != 0)
        return -1;
    atomic_store(&first_connect_pending, true);
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
    if (MQTTAsync_getPendingTokens(client, &tokens) == MQTTASYNC_SUCCESS && tokens)
        while (tokens[count] != -1)
            count++;
    MQTTAsync_free(tokens);
    return count;
}

void publish_tick(uint64_t now_ms)
{
    atomic_store(&pending, count_pending());
    uint64_t due_ms = atomic_load(&next_connect_attempt_ms);
    if (!atomic_load(&first_connect_pending) || due_ms == 0 || now_ms < due_ms)
        return;
    atomic_store(&next_connect_attempt_ms, 0);
    start_connect();
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
    int rc = MQTTAsync_sendMessage(client, topic, &message, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        publish_count_dropped();
        log_error("mqtt: message to %s dropped: %s", topic, MQTTAsync_strerror(rc));
        return -1;
    }
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

/* Gives queued messages up to timeout_ms to reach the broker; the rest stay on disk. */
static void drain(uint32_t timeout_ms)
{
    uint64_t deadline = time_monotonic_ms() + timeout_ms;
    while (atomic_load(&connected) && count_pending() > 0 && time_monotonic_ms() < deadline)
        usleep(20000);
}

void publish_stop(uint32_t timeout_ms)
{
    if (client && MQTTAsync_isConnected(client)) {
        publish_send("status", status_offline, 1, true, PUBLISH_KEPT);
        drain(timeout_ms);
        MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
        options.timeout = 1000;
        MQTTAsync_disconnect(client, &options);
        usleep(100000);
    }
    if (client) {
        size_t left = count_pending();
        if (left)
            log_info("mqtt: %zu messages stay queued in %s/mqtt for the next start", left,
                     state_dir);
        MQTTAsync_destroy(&client);
    }
    free(status_online);
    free(status_offline);
    status_online = status_offline = NULL;
    free_settings();
}
