/*
 * config.h — the loaded configuration (gateway, MQTT, buses, devices and the
 * device profiles they use) and the loader's public calls. config_load()
 * allocates one struct config and everything it points to, config_free()
 * releases all of it; once loaded it is read-only and shared by every thread
 * (bus pollers, publisher, control socket) without locks, and a reload builds a
 * new one beside the old. Units are in the names (_ms is milliseconds); rule
 * thresholds are in engineering units, after a point's scale (25 means 25 %LEL).
 */
#ifndef SAFETYGW_CONFIG_H
#define SAFETYGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "point.h"

enum rule_kind {
    RULE_ABOVE,      /* raise when value >= threshold, clear when value < clear_threshold */
    RULE_BELOW,      /* raise when value <= threshold, clear when value > clear_threshold */
    RULE_EQUALS,     /* raise when value == threshold (status bits, modes) */
    RULE_NOT_EQUALS, /* raise when value != threshold (fault code != 0) */
    RULE_RATE_ABOVE, /* raise when the rise per minute >= threshold (rules.c) */
    RULE_OFFLINE,    /* raise after offline_after_polls failed polls in a row */
};

enum severity { SEVERITY_CRITICAL, SEVERITY_MAJOR, SEVERITY_MINOR, SEVERITY_WARNING };

struct rule_def {
    char *name; /* alarm name: "gas_high", or "port3.over_temperature" from a block */
    enum rule_kind kind;
    int point_index; /* into profile->points; -1 for RULE_OFFLINE */
    int bit;         /* named bit of a TYPE_BITS point, or -1 for the whole value */
    double threshold;
    double clear_threshold;       /* hysteresis; equals threshold when not given */
    uint32_t for_ms;              /* condition must hold this long before raising */
    uint32_t clear_for_ms;        /* clear condition must hold this long before clearing */
    uint32_t rate_window_ms;      /* RULE_RATE_ABOVE: longest span a rise is measured over */
    uint32_t offline_after_polls; /* RULE_OFFLINE */
    enum severity severity;
    int action_index; /* into profile->actions, or -1 */
    int action_param; /* parameter for an indexed action (the block instance), or -1 */
    bool enabled;
    /* chattering: this many raises within chatter_window_ms shelve it for shelve_ms; 0: off */
    uint32_t chatter_raises;
    uint32_t chatter_window_ms;
    uint32_t shelve_ms;
};

/* A chattering rule counts at most this many raises (config_rule.c bounds `raises`). */
#define CHATTER_RAISES_MAX 10

/*
 * The most coils or registers one action writes, in its one request: FC15
 * Write Multiple Coils takes 1..1968 (0x7B0) coils, FC16 Write Multiple
 * Registers 1..123 (0x7B) registers (Modbus Application Protocol V1.1b3,
 * 6.11 and 6.12): both fill the request's 246 data bytes, a coil being one bit
 * and a register two bytes. The loader refuses a larger count and action.c
 * writes up to these, so what `safetygw check` accepts is what the daemon writes.
 */
#define ACTION_MAX_COILS 1968
#define ACTION_MAX_REGISTERS 123

/*
 * A write the gateway may perform on a device: on a rule's raise (local
 * interlock) or on an operator's command. An indexed action takes a parameter
 * (e.g. "port": 0..9) that moves the address by param * param_stride.
 */
struct action_def {
    char *name;             /* "close_valve", "stop_port" */
    enum point_table table; /* TABLE_COIL or TABLE_HOLDING */
    uint16_t address;
    uint16_t value;       /* written to each of count consecutive coils/registers */
    uint16_t count;       /* 1..ACTION_MAX_COILS or 1..ACTION_MAX_REGISTERS */
    char *param_name;     /* "port", or NULL */
    uint16_t param_count; /* valid parameters are 0..param_count-1 */
    uint16_t param_stride;
};

struct profile {
    char *name; /* "gas-alarm"; how devices refer to it */
    char *kind; /* "gas_alarm", "elevator", "ebike_charger", or another */
    char *description;
    char *file; /* where it was loaded from, for messages */
    struct point_def *points;
    size_t point_count;
    struct rule_def *rules;
    size_t rule_count;
    struct action_def *actions;
    size_t action_count;
    uint16_t max_registers; /* longest read to merge into (default 125) */
    uint16_t max_gap;       /* unused registers a merged read may span (default 0) */
    uint32_t poll_ms;       /* default poll interval for devices of this profile */
    /* P/telemetry/<id>: every telemetry_period_ms (0: not periodic) and/or on change */
    uint32_t telemetry_period_ms;
    bool telemetry_on_change;
    /*
     * fast_poll: a device in a critical or major alarm, or whose value has come
     * within fast_margin_percent of a critical or major `above` threshold, is
     * polled every fast_poll_ms (0: off) until calm again.
     */
    uint32_t fast_poll_ms;
    uint32_t fast_margin_percent;
};

enum bus_type { BUS_RTU, BUS_TCP };

struct bus_def {
    char *name;
    enum bus_type type;
    /* rtu */
    char *port; /* /dev/ttyUSB0 */
    uint32_t baud;
    char parity; /* 'N', 'E' or 'O' */
    uint8_t data_bits;
    uint8_t stop_bits;
    bool rs485;
    /* tcp */
    char *host;
    uint16_t tcp_port;
    /* both */
    uint32_t timeout_ms;     /* response timeout of one request */
    uint32_t gap_ms;         /* silence between requests, for slow devices */
    uint32_t backoff_max_ms; /* cap of an offline device's retry back-off */
    /* nothing answered, every device timed out: the line or converter is gone (tcp: reopen) */
    uint32_t link_timeout_ms;
};

struct location_field {
    char *key; /* compound, building, unit, room, ... (kept in file order) */
    char *value;
};

struct device_def {
    char *id;
    const struct profile *profile;
    size_t bus_index; /* into config->buses */
    uint8_t address;  /* Modbus slave address / TCP unit id, 1..247 */
    uint32_t poll_ms;
    struct location_field *location;
    size_t location_count;
    /*
     * The profile's rules with this device's overrides applied. Points at
     * profile->rules when the device overrides nothing (rules_owned false),
     * so ten thousand identical devices share one rule table.
     */
    const struct rule_def *rules;
    size_t rule_count;
    bool rules_owned;
};

struct mqtt_tls {
    char *ca_file;
    char *cert_file;
    char *key_file;
    bool verify;       /* verify the server certificate and host name (default true) */
    char *min_version; /* "1.2", the only floor Paho can keep (see config/README.md) */
};

/* A broker cluster's nodes are at most this many (`mqtt.uris`). */
#define MQTT_URIS_MAX 16

struct mqtt_config {
    /*
     * The broker as written: `uri`, or the nodes of `uris` joined by ","
     * (for the status answer, the log, and reload's "did the broker change").
     */
    char *uri;
    char *uris[MQTT_URIS_MAX]; /* each node: tcp://host:1883 or ssl://host:8883 */
    size_t uri_count;          /* 1 for `uri` */
    char *client_id;           /* default: gateway id */
    char *topic_prefix;        /* default: safetygw/<site>/<gateway id> */
    int qos;                   /* for alarm events, 0..2 (default 1) */
    uint32_t keepalive_s;
    char *username;
    char *password_file;
    uint32_t max_buffered; /* messages kept while the broker is unreachable */
    bool tls_enabled;
    struct mqtt_tls tls;
};

struct gateway_section {
    char *id;
    char *site;
    char *state_dir;
    char *control_socket;
    uint32_t health_interval_ms;
};

struct config {
    char *path; /* the gateway.yaml it was loaded from */
    struct gateway_section gateway;
    struct mqtt_config mqtt;
    struct profile *profiles;
    size_t profile_count;
    struct bus_def *buses;
    size_t bus_count;
    struct device_def *devices;
    size_t device_count;
};

/* Every problem found while loading, each "file:line:column: what is wrong". */
struct config_errors {
    char **messages;
    size_t count;
};

/* Look-ups (config_lookup.c); NULL or -1 when absent. */
const struct profile *config_find_profile(const struct config *config, const char *name);
const struct device_def *config_find_device(const struct config *config, const char *id);
int config_point_index(const struct profile *profile, const char *point_name);
int config_action_index(const struct profile *profile, const char *action_name);
int config_rule_index(const struct device_def *device, const char *rule_name);

/* A value within the point's min / max (when given); NaN and infinities are not. */
bool config_point_plausible(const struct point_def *point, double value);

/* Totals for `safetygw check`: points and rules over all devices. */
size_t config_total_points(const struct config *config);
size_t config_total_rules(const struct config *config);

const char *severity_name(enum severity severity);
const char *point_table_name(enum point_table table);

#endif
