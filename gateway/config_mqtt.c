/*
 * config_mqtt.c — broker URI, identity, topic prefix, QoS, buffering and TLS.
 * File names (CA, certificate, key, password) are resolved against the
 * folder of gateway.yaml, so a site folder can be moved as a whole.
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

static const char *const mqtt_keys[] = {"uri",         "client_id", "topic_prefix",  "qos",
                                        "keepalive_s", "username",  "password_file", "max_buffered",
                                        "tls",         NULL};
static const char *const mqtt_required[] = {"uri", NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file",   "key_file",
                                       "verify",  "min_version", NULL};
static const char *const tls_required[] = {"ca_file", NULL};
/* Paho cannot raise the floor above 1.2; 1.3 is still negotiated when the broker offers it. */
static const char *const tls_versions[] = {"1.2", NULL};

/* A file name as written, resolved against the folder of the file naming it. */
static int read_path(struct config_yaml *file, const yaml_node_t *map, const char *key, char **out)
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

static int check_key_pair(struct config_yaml *file, yaml_node_t *tls, const struct mqtt_tls *out)
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

static int read_tls(struct config_yaml *file, yaml_node_t *tls, struct mqtt_tls *out)
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

/* tcp:// or ssl://, and TLS settings exactly when the scheme asks for them. */
static void check_uri(struct config_yaml *file, yaml_node_t *node, struct mqtt_config *mqtt)
{
    yaml_node_t *uri = config_yaml_get(file, node, "uri");
    yaml_node_t *tls = config_yaml_get(file, node, "tls");
    bool ssl = starts_with(mqtt->uri, "ssl://");
    if ((!ssl && !starts_with(mqtt->uri, "tcp://")) || strlen(mqtt->uri) <= strlen("tcp://")) {
        config_yaml_error(file, uri, "mqtt uri \"%s\" must be tcp://host:port or ssl://host:port",
                          mqtt->uri);
    } else if (ssl && tls == NULL) {
        config_yaml_error(file, uri,
                          "mqtt uri \"%s\" is ssl:// but mqtt.tls (with ca_file) is "
                          "missing",
                          mqtt->uri);
    } else if (!ssl && tls != NULL) {
        config_yaml_error(file, tls, "mqtt.tls is given but the uri \"%s\" is not ssl://",
                          mqtt->uri);
    }
    mqtt->tls_enabled = ssl;
}

/* MQTT wildcards cannot be published to, and a trailing '/' would make an empty level. */
static void check_topic_prefix(struct config_yaml *file, yaml_node_t *node, const char *prefix)
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

static void read_fields(struct config_yaml *file, yaml_node_t *node, struct mqtt_config *mqtt)
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

void config_mqtt_read(struct config_yaml *file, yaml_node_t *node, struct config *config)
{
    struct mqtt_config *mqtt = &config->mqtt;
    mqtt->qos = MQTT_QOS_DEFAULT;
    mqtt->keepalive_s = MQTT_KEEPALIVE_DEFAULT_S;
    mqtt->max_buffered = MQTT_BUFFERED_DEFAULT;
    mqtt->tls.verify = true;
    if (node != NULL && config_yaml_expect_map(file, node, "mqtt")) {
        config_yaml_check_keys(file, node, "mqtt", mqtt_keys, mqtt_required);
        if (config_yaml_get_string(file, node, "uri", &mqtt->uri) == 0 && mqtt->uri != NULL) {
            check_uri(file, node, mqtt);
        }
        read_fields(file, node, mqtt);
        yaml_node_t *tls = config_yaml_get(file, node, "tls");
        if (tls != NULL) {
            read_tls(file, tls, &mqtt->tls);
        }
    }
    apply_defaults(config);
}

void config_mqtt_clear(struct mqtt_config *mqtt)
{
    free(mqtt->uri);
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
