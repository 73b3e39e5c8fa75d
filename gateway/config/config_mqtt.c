/*
 * config_mqtt.c — the `mqtt` section into config->mqtt: broker URI (or a
 * cluster's URIs), identity, topic prefix, QoS, buffering and TLS, with their
 * defaults; its strings are config->mqtt's until config_mqtt_clear(). File
 * names (CA, certificate, key, password) are resolved against the folder of
 * gateway.yaml, so a site folder can be moved as a whole.
 */
#include "config_mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MQTT_QOS_DEFAULT 1
#define MQTT_KEEPALIVE_DEFAULT_S 30
#define MQTT_KEEPALIVE_MIN_S 5
#define MQTT_KEEPALIVE_MAX_S 3600
#define MQTT_BUFFERED_DEFAULT 100000
#define MQTT_BUFFERED_MIN 1000
#define MQTT_BUFFERED_MAX 10000000

static const char *const mqtt_keys[] = {"uri",          "uris",        "client_id", "topic_prefix",
                                        "qos",          "keepalive_s", "username",  "password_file",
                                        "max_buffered", "tls",         NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file",   "key_file",
                                       "verify",  "min_version", NULL};
static const char *const tls_required[] = {"ca_file", NULL};
/* Paho cannot raise the floor above 1.2; 1.3 is still negotiated when the broker offers it. */
static const char *const tls_versions[] = {"1.2", NULL};

/* A file name as written, resolved against the folder of the file naming it. */
static int read_path(struct config_yaml *file, const struct config_node *map, const char *key,
                     char **out)
{
    char *written = NULL;
    if (config_yaml_get_string(file, map, key, &written) < 0) {
        return -1;
    }
    if (written != NULL) {
        free(*out);
        *out = config_yaml_resolve_path(file, written);
        free(written);
    }
    return 0;
}

static int check_key_pair(struct config_yaml *file, const struct config_node *tls,
                          const struct mqtt_tls *out)
{
    if ((out->cert_file == NULL) == (out->key_file == NULL)) {
        return 0;
    }
    config_yaml_error(file, tls,
                      "mqtt.tls needs both cert_file and key_file, or neither (%s "
                      "is missing)",
                      out->cert_file ? "key_file" : "cert_file");
    return -1;
}

static int read_tls(struct config_yaml *file, const struct config_node *tls, struct mqtt_tls *out)
{
    if (!config_yaml_expect_map(file, tls, "mqtt.tls")) {
        return -1;
    }
    int version = 0;
    int result = config_yaml_check_keys(file, tls, "mqtt.tls", tls_keys, tls_required);
    result |= read_path(file, tls, "ca_file", &out->ca_file);
    result |= read_path(file, tls, "cert_file", &out->cert_file);
    result |= read_path(file, tls, "key_file", &out->key_file);
    result |= config_yaml_get_bool(file, tls, "verify", &out->verify);
    result |= config_yaml_get_choice(file, tls, "min_version", tls_versions, &version);
    result |= check_key_pair(file, tls, out);
    free(out->min_version);
    out->min_version = config_yaml_strdup(tls_versions[version]);
    return result;
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* tcp://host:port or ssl://host:port; 1 for ssl, 0 for tcp, -1 (reported) otherwise. */
static int uri_scheme(struct config_yaml *file, const struct config_node *node, const char *uri)
{
    bool ssl = starts_with(uri, "ssl://");
    if ((!ssl && !starts_with(uri, "tcp://")) || strlen(uri) <= strlen("tcp://") ||
        strchr(uri, ',') != NULL) {
        config_yaml_error(file, node, "mqtt uri \"%s\" must be tcp://host:port or ssl://host:port",
                          uri);
        return -1;
    }
    return ssl;
}

/* TLS settings exactly when the scheme asks for them. */
static void check_tls_matches(struct config_yaml *file, const struct config_node *node,
                              const struct config_node *where, struct mqtt_config *mqtt, bool ssl)
{
    const struct config_node *tls = config_yaml_get(file, node, "tls");
    if (ssl && tls == NULL) {
        config_yaml_error(file, where,
                          "mqtt uri \"%s\" is ssl:// but mqtt.tls (with ca_file) is "
                          "missing",
                          mqtt->uris[0]);
    } else if (!ssl && tls != NULL) {
        config_yaml_error(file, tls, "mqtt.tls is given but the uri \"%s\" is not ssl://",
                          mqtt->uris[0]);
    }
    mqtt->tls_enabled = ssl;
}

static void read_uri(struct config_yaml *file, const struct config_node *node,
                     struct mqtt_config *mqtt)
{
    const struct config_node *uri = config_yaml_get(file, node, "uri");
    if (config_yaml_string(file, uri, "uri", &mqtt->uri) != 0)
        return;
    int ssl = uri_scheme(file, uri, mqtt->uri);
    mqtt->uris[0] = config_yaml_strdup(mqtt->uri);
    mqtt->uri_count = 1;
    if (ssl >= 0)
        check_tls_matches(file, node, uri, mqtt, ssl);
}

/*
 * The nodes of one broker cluster: Paho's server list. One scheme for all,
 * since one mqtt.tls serves them all; no node twice.
 */
static void read_uris(struct config_yaml *file, const struct config_node *node,
                      struct mqtt_config *mqtt)
{
    const struct config_node *list = config_yaml_get(file, node, "uris");
    if (!config_yaml_expect_list(file, list, "mqtt.uris"))
        return;
    size_t count = config_yaml_list_length(list);
    if (count == 0 || count > MQTT_URIS_MAX) {
        config_yaml_error(file, list, "mqtt.uris must list 1 to %d brokers, not %zu", MQTT_URIS_MAX,
                          count);
        return;
    }
    int first_scheme = -1;
    size_t length = 0;
    for (size_t i = 0; i < count; i++) {
        const struct config_node *item = config_yaml_list_item(file, list, i);
        char *uri = NULL;
        if (config_yaml_string(file, item, "mqtt.uris item", &uri) != 0)
            return;
        mqtt->uris[mqtt->uri_count++] = uri;
        length += strlen(uri) + 1;
        int scheme = uri_scheme(file, item, uri);
        if (scheme < 0)
            return;
        for (size_t j = 0; j + 1 < mqtt->uri_count; j++)
            if (strcmp(mqtt->uris[j], uri) == 0) {
                config_yaml_error(file, item, "mqtt.uris lists \"%s\" twice", uri);
                return;
            }
        if (first_scheme >= 0 && scheme != first_scheme) {
            config_yaml_error(file, item,
                              "mqtt.uris mixes tcp:// and ssl:// (\"%s\"); one mqtt.tls "
                              "serves every node, so use one scheme",
                              uri);
            return;
        }
        first_scheme = scheme;
    }
    mqtt->uri = config_yaml_calloc(1, length);
    for (size_t i = 0; i < mqtt->uri_count; i++) {
        if (i > 0)
            strcat(mqtt->uri, ",");
        strcat(mqtt->uri, mqtt->uris[i]);
    }
    check_tls_matches(file, node, list, mqtt, first_scheme == 1);
}

/* Exactly one of uri (one broker) and uris (the nodes of a cluster). */
static void read_brokers(struct config_yaml *file, const struct config_node *node,
                         struct mqtt_config *mqtt)
{
    bool has_uri = config_yaml_get(file, node, "uri") != NULL;
    bool has_uris = config_yaml_get(file, node, "uris") != NULL;
    if (has_uri && has_uris)
        config_yaml_error(file, node,
                          "mqtt has both uri and uris; give uri for one broker or uris for "
                          "the nodes of a cluster");
    else if (!has_uri && !has_uris)
        config_yaml_error(file, node, "missing required key \"uri\" (or \"uris\", a list) in mqtt");
    else if (has_uri)
        read_uri(file, node, mqtt);
    else
        read_uris(file, node, mqtt);
}

/* MQTT wildcards cannot be published to, and a trailing '/' would make an empty level. */
static void check_topic_prefix(struct config_yaml *file, const struct config_node *node,
                               const char *prefix)
{
    size_t length = strlen(prefix);
    if (strpbrk(prefix, "+#") != NULL || prefix[length - 1] == '/') {
        config_yaml_error(
            file, node, "topic_prefix \"%s\" must not contain '+' or '#' nor end with '/'", prefix);
    }
}

static void apply_defaults(struct config *config)
{
    struct mqtt_config *mqtt = &config->mqtt;
    const char *id = config->gateway.id ? config->gateway.id : "";
    if (mqtt->client_id == NULL) {
        mqtt->client_id = config_yaml_strdup(id);
    }
    if (mqtt->topic_prefix == NULL) {
        mqtt->topic_prefix = config_yaml_printf("safetygw/%s/%s", config->gateway.site, id);
    }
    if (mqtt->tls.min_version == NULL) {
        mqtt->tls.min_version = config_yaml_strdup("1.2");
    }
}

static void read_fields(struct config_yaml *file, const struct config_node *node,
                        struct mqtt_config *mqtt)
{
    uint32_t qos = MQTT_QOS_DEFAULT;
    config_yaml_get_string(file, node, "client_id", &mqtt->client_id);
    if (config_yaml_get_string(file, node, "topic_prefix", &mqtt->topic_prefix) == 0 &&
        mqtt->topic_prefix != NULL) {
        check_topic_prefix(file, config_yaml_get(file, node, "topic_prefix"), mqtt->topic_prefix);
    }
    config_yaml_get_u32(file, node, "qos", 0, 2, &qos);
    config_yaml_get_u32(file, node, "keepalive_s", MQTT_KEEPALIVE_MIN_S, MQTT_KEEPALIVE_MAX_S,
                        &mqtt->keepalive_s);
    config_yaml_get_string(file, node, "username", &mqtt->username);
    read_path(file, node, "password_file", &mqtt->password_file);
    config_yaml_get_u32(file, node, "max_buffered", MQTT_BUFFERED_MIN, MQTT_BUFFERED_MAX,
                        &mqtt->max_buffered);
    mqtt->qos = (int)qos;
}

void config_mqtt_read(struct config_yaml *file, const struct config_node *node,
                      struct config *config)
{
    struct mqtt_config *mqtt = &config->mqtt;
    mqtt->qos = MQTT_QOS_DEFAULT;
    mqtt->keepalive_s = MQTT_KEEPALIVE_DEFAULT_S;
    mqtt->max_buffered = MQTT_BUFFERED_DEFAULT;
    mqtt->tls.verify = true;
    if (node != NULL && config_yaml_expect_map(file, node, "mqtt")) {
        config_yaml_check_keys(file, node, "mqtt", mqtt_keys, NULL);
        read_brokers(file, node, mqtt);
        read_fields(file, node, mqtt);
        const struct config_node *tls = config_yaml_get(file, node, "tls");
        if (tls != NULL) {
            read_tls(file, tls, &mqtt->tls);
        }
    }
    apply_defaults(config);
}

void config_mqtt_clear(struct mqtt_config *mqtt)
{
    free(mqtt->uri);
    for (size_t i = 0; i < mqtt->uri_count; i++)
        free(mqtt->uris[i]);
    free(mqtt->client_id);
    free(mqtt->topic_prefix);
    free(mqtt->username);
    free(mqtt->password_file);
    free(mqtt->tls.ca_file);
    free(mqtt->tls.cert_file);
    free(mqtt->tls.key_file);
    free(mqtt->tls.min_version);
    memset(mqtt, 0, sizeof *mqtt);
}
