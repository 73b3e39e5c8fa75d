/*
 * config_bus.c — the `buses` list into config->buses: each bus's unique name,
 * its type, serial or TCP settings and timing, with their defaults; a struct
 * bus_def owns its strings until config_bus_clear(). `port` means a serial
 * device path on an rtu bus and a TCP port number on a tcp bus, so the keys a
 * bus accepts depend on its type.
 */
#include "config_bus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_index.h"

#define BUS_BAUD_DEFAULT 9600
#define BUS_TCP_PORT_DEFAULT 502
#define BUS_RTU_TIMEOUT_DEFAULT_MS 300
#define BUS_TCP_TIMEOUT_DEFAULT_MS 500
#define BUS_TIMEOUT_MIN_MS 10
#define BUS_TIMEOUT_MAX_MS 10000
#define BUS_GAP_MAX_MS 10000
#define BUS_BACKOFF_DEFAULT_MS 60000
#define BUS_BACKOFF_MIN_MS 1000
#define BUS_BACKOFF_MAX_MS 3600000
#define BUS_LINK_TIMEOUT_TIMEOUTS 4 /* default link_timeout_ms: this many timeout_ms */
#define BUS_LINK_TIMEOUT_MIN_MS 100
#define BUS_LINK_TIMEOUT_MAX_MS 600000

/* Indexed by enum bus_type. */
static const char *const type_names[] = {"rtu", "tcp", NULL};
static const char *const rtu_keys[] = {
    "name",  "type",       "port",   "baud",           "parity",          "data_bits", "stop_bits",
    "rs485", "timeout_ms", "gap_ms", "backoff_max_ms", "link_timeout_ms", NULL};
static const char *const tcp_keys[] = {"name",       "type",   "host",           "port",
                                       "timeout_ms", "gap_ms", "backoff_max_ms", "link_timeout_ms",
                                       NULL};
static const char *const any_keys[] = {
    "name",  "type", "port",       "baud",   "parity",         "data_bits",       "stop_bits",
    "rs485", "host", "timeout_ms", "gap_ms", "backoff_max_ms", "link_timeout_ms", NULL};
static const char *const rtu_required[] = {"name", "type", "port", NULL};
static const char *const tcp_required[] = {"name", "type", "host", NULL};
static const char *const any_required[] = {"name", "type", NULL};
static const char *const parity_names[] = {"N", "E", "O", NULL};
static const uint32_t standard_bauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};

static int read_baud(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    const struct config_node *node = config_yaml_get(file, map, "baud");
    int64_t baud = 0;
    if (node == NULL) {
        return 0;
    }
    if (config_yaml_integer(file, node, "baud", 0, UINT32_MAX, &baud) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof standard_bauds / sizeof standard_bauds[0]; i++) {
        if (baud == standard_bauds[i]) {
            bus->baud = (uint32_t)baud;
            return 0;
        }
    }
    config_yaml_error(file, node,
                      "baud %s is not a standard rate (1200, 2400, 4800, 9600, 19200, 38400, "
                      "57600, 115200)",
                      config_yaml_text(node));
    return -1;
}

static int read_rtu(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    int parity = 0;
    bus->baud = BUS_BAUD_DEFAULT;
    bus->data_bits = 8;
    bus->stop_bits = 1;
    bus->timeout_ms = BUS_RTU_TIMEOUT_DEFAULT_MS;
    uint32_t data_bits = bus->data_bits;
    uint32_t stop_bits = bus->stop_bits;
    int result = config_yaml_get_string(file, map, "port", &bus->port);
    result |= read_baud(file, map, bus);
    result |= config_yaml_get_choice(file, map, "parity", parity_names, &parity);
    result |= config_yaml_get_u32(file, map, "data_bits", 7, 8, &data_bits);
    result |= config_yaml_get_u32(file, map, "stop_bits", 1, 2, &stop_bits);
    result |= config_yaml_get_bool(file, map, "rs485", &bus->rs485);
    bus->parity = parity_names[parity][0];
    bus->data_bits = (uint8_t)data_bits;
    bus->stop_bits = (uint8_t)stop_bits;
    return result;
}

/*
 * A converter is given by its IPv4 or IPv6 address, not a name: the thread
 * that connects to it serves every bus, and a name's lookup waits on DNS (for
 * seconds when the server is away) at every reconnect. A basement converter
 * has a static address; a DNS server is one more thing to fail.
 */
static int read_host(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    const struct config_node *node = config_yaml_get(file, map, "host");
    if (!node)
        return 0; /* missing: tcp_required says so */
    if (config_yaml_string(file, node, "host", &bus->host) != 0)
        return -1;
    unsigned char address[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, bus->host, address) == 1 || inet_pton(AF_INET6, bus->host, address) == 1)
        return 0;
    config_yaml_error(file, node,
                      "host \"%s\" is not an IP address: give the converter's address (a "
                      "name's lookup would hold up every bus while DNS answers)",
                      bus->host);
    return -1;
}

static int read_tcp(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    bus->tcp_port = BUS_TCP_PORT_DEFAULT;
    bus->timeout_ms = BUS_TCP_TIMEOUT_DEFAULT_MS;
    int result = read_host(file, map, bus);
    result |= config_yaml_get_u16(file, map, "port", 1, UINT16_MAX, &bus->tcp_port);
    return result;
}

static int read_timing(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    bus->backoff_max_ms = BUS_BACKOFF_DEFAULT_MS;
    int result = config_yaml_get_u32(file, map, "timeout_ms", BUS_TIMEOUT_MIN_MS,
                                     BUS_TIMEOUT_MAX_MS, &bus->timeout_ms);
    result |= config_yaml_get_u32(file, map, "gap_ms", 0, BUS_GAP_MAX_MS, &bus->gap_ms);
    result |= config_yaml_get_u32(file, map, "backoff_max_ms", BUS_BACKOFF_MIN_MS,
                                  BUS_BACKOFF_MAX_MS, &bus->backoff_max_ms);
    bus->link_timeout_ms = BUS_LINK_TIMEOUT_TIMEOUTS * bus->timeout_ms;
    result |= config_yaml_get_u32(file, map, "link_timeout_ms", BUS_LINK_TIMEOUT_MIN_MS,
                                  BUS_LINK_TIMEOUT_MAX_MS, &bus->link_timeout_ms);
    return result;
}

static int read_bus(struct config_yaml *file, const struct config_node *map, struct bus_def *bus)
{
    memset(bus, 0, sizeof *bus);
    if (!config_yaml_expect_map(file, map, "a bus")) {
        return -1;
    }
    int type = -1;
    int result = config_yaml_get_name(file, map, "name", "bus name", CONFIG_CHARSET_ID, &bus->name);
    result |= config_yaml_get_choice(file, map, "type", type_names, &type);
    char what[160];
    snprintf(what, sizeof what, "bus \"%s\"", bus->name ? bus->name : "?");
    if (type < 0) {
        config_yaml_check_keys(file, map, what, any_keys, any_required);
        return -1;
    }
    bus->type = (enum bus_type)type;
    bool rtu = bus->type == BUS_RTU;
    result |= config_yaml_check_keys(file, map, what, rtu ? rtu_keys : tcp_keys,
                                     rtu ? rtu_required : tcp_required);
    result |= rtu ? read_rtu(file, map, bus) : read_tcp(file, map, bus);
    result |= read_timing(file, map, bus);
    return result;
}

static int check_unique_name(struct config_yaml *file, const struct config_node *map,
                             struct config_index *names, const struct config_node **name_nodes,
                             const struct bus_def *bus, size_t index)
{
    long first = config_index_add(names, bus->name, index);
    if (first < 0) {
        name_nodes[index] = config_yaml_get(file, map, "name");
        return 0;
    }
    char where[4096];
    config_yaml_where(file, name_nodes[first], where, sizeof where);
    config_yaml_error(file, config_yaml_get(file, map, "name"),
                      "duplicate bus name \"%s\" (first at %s)", bus->name, where);
    return -1;
}

void config_bus_read_list(struct config_yaml *file, const struct config_node *list,
                          struct config *config)
{
    if (list == NULL || !config_yaml_expect_list(file, list, "buses")) {
        return;
    }
    size_t length = config_yaml_list_length(list);
    struct config_index names;
    config_index_init(&names);
    const struct config_node **name_nodes = config_yaml_calloc(length, sizeof *name_nodes);
    config->buses = config_yaml_calloc(length, sizeof *config->buses);
    for (size_t i = 0; i < length; i++) {
        const struct config_node *map = config_yaml_list_item(file, list, i);
        struct bus_def *bus = &config->buses[config->bus_count];
        /* A bus with a bad value still counts as defined, so that its devices
         * do not add "unknown bus" to the one real error. */
        read_bus(file, map, bus);
        if (bus->name == NULL ||
            check_unique_name(file, map, &names, name_nodes, bus, config->bus_count) < 0) {
            config_bus_clear(bus);
            continue;
        }
        config->bus_count++;
    }
    free(name_nodes);
    config_index_free(&names);
}

void config_bus_clear(struct bus_def *bus)
{
    free(bus->name);
    free(bus->port);
    free(bus->host);
    memset(bus, 0, sizeof *bus);
}
