#include "publish.h"

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "payload.h"
#include "timeutil.h"

#define TOPIC_MAX 512
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 30

/* Owned by this file; Paho calls back on its own thread, hence the atomics. */
static MQTTAsync client;
static const struct config *config;
static char *status_online;
static char *status_offline;
static atomic_bool connected;
static atomic_bool first_connect_pending; /* no connection yet: Paho will not retry for us */
static uint64_t next_connect_attempt_ms;
static uint32_t connect_backoff_s = RECONNECT_MIN_S;

static void full_topic(char *topic, size_t size, const char *suffix)
{
    snprintf(topic, size, "%s/%s", config->mqtt.topic_prefix, suffix);
}

static void on_connected(void *context, char *cause)
{
    (void)context;
    (void)cause;
    atomic_store(&connected, true);
    atomic_store(&first_connect_pending, false);
    connect_backoff_s = RECONNECT_MIN_S;
    log_info("mqtt: connected to %s", config->mqtt.uri);
    publish_send("status", status_online, 1, true);
}

static void on_connection_lost(void *context, char *cause)
{
    (void)context;
    atomic_store(&connected, false);
    log_warning("mqtt: connection to %s lost (%s); reconnecting, messages are kept",
                config->mqtt.uri, cause ? cause : "no reason given");
}

static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
    (void)context;
    (void)topic_length;
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    return 1;
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    log_warning("mqtt: cannot connect to %s: %s (retrying in %u s)", config->mqtt.uri,
                response && response->message ? response->message
                                              : MQTTAsync_strerror(response ? response->code : 0),
                connect_backoff_s);
    next_connect_attempt_ms = time_monotonic_ms() + connect_backoff_s * 1000u;
    connect_backoff_s = connect_backoff_s * 2 > RECONNECT_MAX_S ? RECONNECT_MAX_S
                                                                : connect_backoff_s * 2;
}

static int start_connect(void)
{
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    char will_topic[TOPIC_MAX];
    full_topic(will_topic, sizeof will_topic, "status");
    will.topicName = will_topic;
    will.message = status_offline;
    will.retained = 1;
    will.qos = 1;
    options.will = &will;
    options.keepAliveInterval = (int)config->mqtt.keepalive_s;
    /* Keep the session so the broker holds QoS 1 state across our reconnects. */
    options.cleansession = 0;
    options.automaticReconnect = 1;
    options.minRetryInterval = RECONNECT_MIN_S;
    options.maxRetryInterval = RECONNECT_MAX_S;
    options.onFailure = on_connect_failure;
    options.username = config->mqtt.username;
    int rc = MQTTAsync_connect(client, &options);
    if (rc != MQTTASYNC_SUCCESS)
        log_warning("mqtt: connect to %s not started: %s", config->mqtt.uri,
                    MQTTAsync_strerror(rc));
    return rc == MQTTASYNC_SUCCESS ? 0 : -1;
}

static int persistence_dir(char *dir, size_t size)
{
    snprintf(dir, size, "%s/mqtt", config->gateway.state_dir);
    mkdir(config->gateway.state_dir, 0750);
    if (mkdir(dir, 0750) != 0 && access(dir, W_OK) != 0) {
        log_error("mqtt: cannot use %s for the message store: %m", dir);
        return -1;
    }
    return 0;
}

int publish_start(const struct config *loaded, uint64_t started_wall_ms)
{
    config = loaded;
    char dir[1024];
    if (persistence_dir(dir, sizeof dir) != 0)
        return -1;
    status_online = payload_status(true, started_wall_ms);
    status_offline = payload_status(false, started_wall_ms);

    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.sendWhileDisconnected = 1;
    create.maxBufferedMessages = (int)config->mqtt.max_buffered;
    int rc = MQTTAsync_createWithOptions(&client, config->mqtt.uri, config->mqtt.client_id,
                                         MQTTCLIENT_PERSISTENCE_DEFAULT, dir, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        log_error("mqtt: cannot create client for %s: %s", config->mqtt.uri,
                  MQTTAsync_strerror(rc));
        return -1;
    }
    MQTTAsync_setCallbacks(client, NULL, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(client, NULL, on_connected);
    atomic_store(&first_connect_pending, true);
    start_connect();
    return 0;
}

void publish_tick(uint64_t now_ms)
{
    if (!atomic_load(&first_connect_pending) || MQTTAsync_isConnected(client))
        return;
    if (next_connect_attempt_ms == 0 || now_ms < next_connect_attempt_ms)
        return;
    next_connect_attempt_ms = 0;
    start_connect();
}

int publish_send(const char *topic_suffix, const char *payload, int qos, bool retained)
{
    char topic[TOPIC_MAX];
    full_topic(topic, sizeof topic, topic_suffix);
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = (void *)payload;
    message.payloadlen = (int)strlen(payload);
    message.qos = qos;
    message.retained = retained;
    int rc = MQTTAsync_sendMessage(client, topic, &message, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        log_error("mqtt: message to %s not queued: %s", topic, MQTTAsync_strerror(rc));
        return -1;
    }
    return 0;
}

bool publish_connected(void) { return atomic_load(&connected); }

size_t publish_pending(void)
{
    MQTTAsync_token *tokens = NULL;
    size_t count = 0;
    if (MQTTAsync_getPendingTokens(client, &tokens) == MQTTASYNC_SUCCESS && tokens)
        while (tokens[count] != -1)
            count++;
    MQTTAsync_free(tokens);
    return count;
}

void publish_stop(uint32_t timeout_ms)
{
    if (!client)
        return;
    if (MQTTAsync_isConnected(client)) {
        publish_send("status", status_offline, 1, true);
        MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
        options.timeout = (int)timeout_ms;
        MQTTAsync_disconnect(client, &options);
        uint64_t deadline = time_monotonic_ms() + timeout_ms;
        while (MQTTAsync_isConnected(client) && time_monotonic_ms() < deadline)
            MQTTAsync_waitForCompletion(client, 0, 50);
    }
    MQTTAsync_destroy(&client);
    free(status_online);
    free(status_offline);
    status_online = status_offline = NULL;
}
