/*
 * watch.c — `safetygw watch`: subscribes to the gateways' alarm events on
 * one or more brokers and prints them as they come, with the seq checks of
 * watch_seq.c (duplicates, gaps); owns its Paho client for the run.
 */
#include "watch.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "options.h"
#include "watch_seq.h"

#define BROKERS_MAX 16
#define TOPIC_MAX 512
#define PASSWORD_MAX 512
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 2 /* a console is one client: no herd to spread out */
#define RESUBSCRIBE_MIN_S 2  /* a refused subscription is asked for again after this, */
#define RESUBSCRIBE_MAX_S 60 /* doubling up to this while the broker keeps refusing */

static const char usage[] =
    "usage: safetygw watch --broker URI[,URI...] [--topic-prefix 'safetygw/+/+']\n"
    "                      [--share GROUP] [--client-id ID] [--username U --password-file F]\n"
    "                      [--json]\n";

/*
 * Set once by cli_watch before connecting, then read by Paho's threads: the
 * message callback (one thread, so the tracker and stdout need no lock) and
 * the connection callbacks.
 */
/*
 * One of the console's two subscriptions. `refused` is set by Paho's thread
 * when the broker refuses it (an ACL, or a broker cluster that could not make
 * its consumer in time) and cleared by whoever subscribes again: the main
 * thread's retry or the next connection.
 */
struct subscription {
    char topic[TOPIC_MAX];
    atomic_bool refused;
};

enum { SUBSCRIPTION_ALARMS, SUBSCRIPTION_STATUS, SUBSCRIPTIONS };

static struct {
    MQTTAsync client;
    char *brokers[BROKERS_MAX];
    int broker_count;
    struct subscription subscriptions[SUBSCRIPTIONS];
    const char *share_group;
    bool json;
    struct watch_seq *tracker;
} watch;

static void wall_clock_rfc3339(char *out, size_t size)
{
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    char seconds[24];
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out, size, "%.19s.%03uZ", seconds, (unsigned)(now.tv_nsec / 1000000L) % 1000u);
}

static void upper(char *out, size_t size, const char *word)
{
    size_t i = 0;
    for (; word[i] && i + 1 < size; i++)
        out[i] = (char)(word[i] >= 'a' && word[i] <= 'z' ? word[i] - 'a' + 'A' : word[i]);
    out[i] = '\0';
}

/* "gas_lel=27.5%LEL", "no answer" for offline, and the interlock if one ran. */
static void event_detail(const json_t *event, char *out, size_t size)
{
    const json_t *point = json_object_get(event, "point");
    size_t used = 0;
    if (json_is_string(point)) {
        char value[CLI_FORMAT_MAX];
        cli_format_value(json_object_get(event, "value"), NULL, value, sizeof value);
        used = (size_t)snprintf(out, size, "%s=%s%s", json_string_value(point), value,
                                json_string_value(json_object_get(event, "unit"))
                                    ? json_string_value(json_object_get(event, "unit"))
                                    : "");
    } else {
        used = (size_t)snprintf(out, size, "no answer");
    }
    const char *action = json_string_value(json_object_get(event, "action"));
    if (action && used < size)
        snprintf(out + used, size - used, "  action %s: %s", action,
                 json_is_true(json_object_get(event, "action_ok")) ? "done" : "FAILED");
}

static const char *verdict_name(enum watch_verdict verdict)
{
    switch (verdict) {
    case WATCH_FIRST:
        return "first";
    case WATCH_NEXT:
        return "next";
    case WATCH_GAP:
        return "after_gap";
    case WATCH_LATE:
        return "late";
    case WATCH_DUPLICATE:
        return "duplicate";
    }
    return "?";
}

/* As scripts/demo prints them: time, gateway and seq, event, severity, alarm, device, location,
 * value. */
static void print_event_line(const json_t *event, const char *gateway, uint64_t seq,
                             struct watch_result result, bool redelivered)
{
    char event_upper[32], location[CLI_FORMAT_MAX], detail[CLI_FORMAT_MAX];
    const char *ts = cli_format_text_of(event, "ts");
    upper(event_upper, sizeof event_upper, cli_format_text_of(event, "event"));
    cli_format_location(json_object_get(event, "location"), location, sizeof location);
    event_detail(event, detail, sizeof detail);
    if (result.verdict == WATCH_GAP)
        printf("GAP        %s: #%" PRIu64 "..#%" PRIu64 " missing (%" PRIu64
               " events); ask the gateway for a resync\n",
               gateway, result.gap_from, result.gap_to, result.gap_to - result.gap_from + 1);
    if (result.verdict == WATCH_DUPLICATE) {
        printf("DUPLICATE  %s #%" PRIu64 " seen before%s; dropped\n", gateway, seq,
               redelivered ? " (QoS 1 redelivery)" : "");
        return;
    }
    printf("%.12s  %s #%" PRIu64 "  %s  %s  %s  %s  %s  %s%s\n", strlen(ts) >= 23 ? ts + 11 : ts,
           gateway, seq, event_upper, cli_format_text_of(event, "severity"),
           cli_format_text_of(event, "alarm"), cli_format_text_of(event, "device"), location,
           detail, result.verdict == WATCH_LATE ? "  (late: fills a gap)" : "");
}

static void print_event_json(json_t *event, const char *topic, const char *gateway, uint64_t seq,
                             struct watch_result result, bool redelivered)
{
    char received[40];
    wall_clock_rfc3339(received, sizeof received);
    json_t *line = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:s, s:O}", "type", "event", "topic",
                             topic, "gateway", gateway, "seq", (json_int_t)seq, "verdict",
                             verdict_name(result.verdict), "redelivered", redelivered, "received",
                             received, "event", event);
    if (result.verdict == WATCH_GAP) {
        json_t *gap = json_pack("{s:s, s:s, s:I, s:I}", "type", "gap", "gateway", gateway, "from",
                                (json_int_t)result.gap_from, "to", (json_int_t)result.gap_to);
        json_dumpf(gap, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(gap);
    }
    if (line) {
        json_dumpf(line, stdout, JSON_COMPACT);
        putchar('\n');
    }
    json_decref(line);
}

static void handle_alarm(const char *topic, const char *payload, size_t length, bool redelivered)
{
    json_error_t error;
    json_t *event = json_loadb(payload, length, 0, &error);
    const char *gateway = json_string_value(json_object_get(event, "gateway"));
    json_t *seq_value = json_object_get(event, "seq");
    if (!gateway || !json_is_integer(seq_value) || json_integer_value(seq_value) < 0) {
        fprintf(stderr, "safetygw watch: %s: not an alarm event (%s)\n", topic,
                event ? "no gateway or seq" : error.text);
        json_decref(event);
        return;
    }
    uint64_t seq = (uint64_t)json_integer_value(seq_value);
    struct watch_result result = watch_seq_see(watch.tracker, gateway, seq);
    if (watch.share_group && result.verdict == WATCH_GAP)
        result.verdict = WATCH_NEXT; /* a shared subscription sees a part of each stream */
    if (watch.json)
        print_event_json(event, topic, gateway, seq, result, redelivered);
    else
        print_event_line(event, gateway, seq, result, redelivered);
    json_decref(event);
}

/* P/status, retained: "online" on every connection of the gateway, "offline" at a stop or as its
 * Will. */
static void handle_status(const char *topic, const char *payload, size_t length)
{
    json_t *status = json_loadb(payload, length, 0, NULL);
    size_t prefix_length = strlen(topic) - strlen("/status");
    if (watch.json) {
        json_t *line =
            json_pack("{s:s, s:s%, s:s, s:O?}", "type", "status", "gateway", topic, prefix_length,
                      "state", cli_format_text_of(status, "state"), "status", status);
        json_dumpf(line, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(line);
    } else {
        printf("STATUS     %.*s %s (started %s)\n", (int)prefix_length, topic,
               cli_format_text_of(status, "state"), cli_format_text_of(status, "started"));
    }
    json_decref(status);
}

static bool ends_with(const char *text, const char *suffix)
{
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/*
 * Paho's thread. Printed and flushed before returning 1: Paho acknowledges
 * the message after that, so an event is on stdout before the broker may
 * forget it (at least once, like the link it came over).
 */
static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
    (void)context;
    (void)topic_length;
    if (ends_with(topic, "/status"))
        handle_status(topic, message->payload, (size_t)message->payloadlen);
    else
        handle_alarm(topic, message->payload, (size_t)message->payloadlen, message->dup != 0);
    fflush(stdout);
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    return 1;
}

static void on_subscribe_failure(void *context, MQTTAsync_failureData *response)
{
    struct subscription *subscription = context;
    fprintf(stderr, "safetygw watch: subscription to %s refused by the broker (%s); asking again\n",
            subscription->topic,
            response && response->message ? response->message : "SUBACK 0x80: check the ACL");
    atomic_store(&subscription->refused, true);
}

static void on_subscribe_success(void *context, MQTTAsync_successData *response)
{
    struct subscription *subscription = context;
    fprintf(stderr, "safetygw watch: subscribed to %s (granted QoS %d)\n", subscription->topic,
            response ? response->alt.qos : -1);
}

static void subscribe(struct subscription *subscription)
{
    atomic_store(&subscription->refused, false);
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    options.onSuccess = on_subscribe_success;
    options.onFailure = on_subscribe_failure;
    options.context = subscription;
    int rc = MQTTAsync_subscribe(watch.client, subscription->topic, 1, &options);
    if (rc != MQTTASYNC_SUCCESS)
        fprintf(stderr, "safetygw watch: cannot subscribe to %s: %s\n", subscription->topic,
                MQTTAsync_strerror(rc));
}

/* The main thread, every RESUBSCRIBE_MIN_S..MAX_S while one is refused: subscribes again. */
static int resubscribe_refused(int wait_s)
{
    bool any_refused = false;
    for (int i = 0; i < SUBSCRIPTIONS; i++) {
        struct subscription *subscription = &watch.subscriptions[i];
        if (!atomic_load(&subscription->refused) || !MQTTAsync_isConnected(watch.client))
            continue;
        any_refused = true;
        subscribe(subscription);
    }
    if (!any_refused)
        return RESUBSCRIBE_MIN_S;
    return wait_s * 2 < RESUBSCRIBE_MAX_S ? wait_s * 2 : RESUBSCRIBE_MAX_S;
}

/* Subscribes again on every connection: a node without our session has no subscriptions. */
static void on_connected(void *context, char *cause)
{
    (void)context;
    (void)cause;
    fprintf(stderr, "safetygw watch: connected\n");
    for (int i = 0; i < SUBSCRIPTIONS; i++)
        subscribe(&watch.subscriptions[i]);
}

static void on_connect_success(void *context, MQTTAsync_successData *response)
{
    (void)context;
    fprintf(stderr, "safetygw watch: connected to %s (session present: %s)\n",
            response && response->alt.connect.serverURI ? response->alt.connect.serverURI : "?",
            response && response->alt.connect.sessionPresent ? "yes" : "no");
}

static void on_connection_lost(void *context, char *cause)
{
    (void)context;
    fprintf(stderr, "safetygw watch: connection lost (%s); reconnecting\n",
            cause ? cause : "no reason given");
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    fprintf(stderr, "safetygw watch: cannot connect: %s; retrying\n",
            response && response->message ? response->message
                                          : MQTTAsync_strerror(response ? response->code : -1));
}

static int split_brokers(char *list)
{
    char *save = NULL;
    for (char *uri = strtok_r(list, ",", &save); uri; uri = strtok_r(NULL, ",", &save)) {
        if (watch.broker_count == BROKERS_MAX) {
            fprintf(stderr, "safetygw watch: at most %d brokers\n", BROKERS_MAX);
            return -1;
        }
        if (strncmp(uri, "tcp://", 6) != 0) {
            fprintf(stderr,
                    "safetygw watch: broker \"%s\" must be tcp://host:port (watch has no TLS "
                    "options yet)\n",
                    uri);
            return -1;
        }
        watch.brokers[watch.broker_count++] = uri;
    }
    return watch.broker_count > 0 ? 0 : -1;
}

static int read_password(const char *path, char *password, size_t size)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "safetygw watch: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(password, (int)size, file))
        password[0] = '\0';
    fclose(file);
    password[strcspn(password, "\r\n")] = '\0';
    return 0;
}

/* "safetygw-watch-<host>": stable across restarts of the console, so its session resumes. */
static void default_client_id(char *out, size_t size)
{
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(out, size, "safetygw-watch-%s", host);
}

struct watch_args {
    const char *brokers, *prefix, *share, *client_id, *username, *password_file;
};

static int connect_client(const struct watch_args *args, const char *client_id)
{
    char password[PASSWORD_MAX];
    if (args->password_file && read_password(args->password_file, password, sizeof password))
        return -1;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    int rc = MQTTAsync_createWithOptions(&watch.client, watch.brokers[0], client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "safetygw watch: %s\n", MQTTAsync_strerror(rc));
        return -1;
    }
    MQTTAsync_setCallbacks(watch.client, NULL, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(watch.client, NULL, on_connected);
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    options.cleansession = 0; /* the broker keeps what arrives while the console is away */
    options.keepAliveInterval = 20;
    options.MQTTVersion = MQTTVERSION_3_1_1;
    options.serverURIs = watch.brokers;
    options.serverURIcount = watch.broker_count;
    options.connectTimeout = 5;
    options.automaticReconnect = 1;
    options.minRetryInterval = RECONNECT_MIN_S;
    options.maxRetryInterval = RECONNECT_MAX_S;
    options.username = args->username;
    options.password = args->password_file ? password : NULL;
    options.onSuccess = on_connect_success;
    options.onFailure = on_connect_failure;
    if ((rc = MQTTAsync_connect(watch.client, &options)) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "safetygw watch: cannot connect: %s\n", MQTTAsync_strerror(rc));
        return -1;
    }
    return 0;
}

/* The last words, on stderr: per gateway, what was seen and what is still missing. */
static bool print_summary(void)
{
    bool gap_open = false;
    for (size_t i = 0; i < watch_seq_gateway_count(watch.tracker); i++) {
        struct watch_gateway_stats stats = watch_seq_stats(watch.tracker, i);
        fprintf(stderr,
                "safetygw watch: %s: %" PRIu64 " events, seq %" PRIu64 "..%" PRIu64 ", %" PRIu64
                " duplicates, %" PRIu64 " missing\n",
                stats.gateway, stats.events, stats.first, stats.highest, stats.duplicates,
                stats.missing);
        gap_open |= stats.missing > 0;
    }
    return gap_open;
}

static int parse(int argc, char **argv, struct watch_args *args, struct cli_options *options)
{
    const struct cli_option extra[] = {{"--broker", &args->brokers, NULL},
                                       {"--topic-prefix", &args->prefix, NULL},
                                       {"--share", &args->share, NULL},
                                       {"--client-id", &args->client_id, NULL},
                                       {"--username", &args->username, NULL},
                                       {"--password-file", &args->password_file, NULL},
                                       {NULL, NULL, NULL}};
    int code = cli_options_parse_or_help(argc, argv, options, extra, NULL, 0, usage);
    if (code != CLI_OPTIONS_RUN)
        return code;
    if (!args->brokers) {
        fprintf(stderr, "safetygw watch: --broker URI is required\n");
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return CLI_OPTIONS_RUN;
}

/* "PREFIX/alarm/#" and "PREFIX/status", each under "$share/GROUP/" when shared. */
static void name_subscriptions(const char *prefix, const char *share_group)
{
    static const char *const suffixes[SUBSCRIPTIONS] = {"alarm/#", "status"};
    for (int i = 0; i < SUBSCRIPTIONS; i++) {
        struct subscription *subscription = &watch.subscriptions[i];
        if (share_group)
            snprintf(subscription->topic, TOPIC_MAX, "$share/%s/%s/%s", share_group, prefix,
                     suffixes[i]);
        else
            snprintf(subscription->topic, TOPIC_MAX, "%s/%s", prefix, suffixes[i]);
        atomic_init(&subscription->refused, false);
    }
}

/* Until SIGINT or SIGTERM: asks again for what the broker refused, with a back-off. */
static void wait_for_stop(const sigset_t *stop)
{
    int wait_s = RESUBSCRIBE_MIN_S;
    for (;;) {
        struct timespec timeout = {.tv_sec = wait_s};
        if (sigtimedwait(stop, NULL, &timeout) >= 0)
            return;
        wait_s = resubscribe_refused(wait_s);
    }
}

int cli_watch(int argc, char **argv)
{
    struct cli_options options = {.command = "watch"};
    struct watch_args args = {.prefix = "safetygw/+/+"};
    int parsed = parse(argc, argv, &args, &options);
    if (parsed != CLI_OPTIONS_RUN)
        return parsed;
    char *brokers = strdup(args.brokers);
    if (!brokers || split_brokers(brokers) != 0) {
        fputs(usage, stderr);
        free(brokers);
        return CLI_EXIT_USAGE;
    }
    char client_id[128];
    if (args.client_id)
        snprintf(client_id, sizeof client_id, "%s", args.client_id);
    else
        default_client_id(client_id, sizeof client_id);
    name_subscriptions(args.prefix, args.share);
    watch.share_group = args.share;
    watch.json = options.json;
    watch.tracker = watch_seq_new();
    /* Signals are taken by sigwait below, not by Paho's threads, which inherit this mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (!watch.tracker || connect_client(&args, client_id) != 0) {
        watch_seq_free(watch.tracker);
        free(brokers);
        return CLI_EXIT_USAGE;
    }
    if (args.share)
        fprintf(stderr,
                "safetygw watch: shared subscription $share/%s/...: each member sees a "
                "part of every stream, so gaps are not reported\n",
                args.share);
    wait_for_stop(&stop);
    MQTTAsync_disconnectOptions disconnect = MQTTAsync_disconnectOptions_initializer;
    disconnect.timeout = 1000;
    MQTTAsync_disconnect(watch.client, &disconnect);
    usleep(200000);
    MQTTAsync_destroy(&watch.client);
    fflush(stdout);
    bool gap_open = print_summary();
    watch_seq_free(watch.tracker);
    free(brokers);
    return gap_open ? CLI_EXIT_BAD_NEWS : CLI_EXIT_OK;
}
