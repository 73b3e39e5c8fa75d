/*
 * test_config_gateway.c — gateway.yaml: defaults, buses, devices, MQTT, and
 * the errors a user gets (file:line:column and what is wrong).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_fixture.h"
#include "config_load.h"

/* Lines 1-3 of most test files. */
#define HEADER                                                                                     \
    "gateway: { id: gw-1 }\n"                                                                      \
    "mqtt: { uri: tcp://127.0.0.1:1883 }\n"                                                        \
    "profiles: [ profiles ]\n"

static void test_minimal_config_loads_with_documented_defaults(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture, HEADER "buses:\n"
                        "  - { name: line-1, type: rtu, port: /dev/ttyUSB0 }\n"
                        "  - { name: conv-1, type: tcp, host: 10.0.0.5 }\n"
                        "devices:\n"
                        "  - { id: gas-1, profile: sensor, bus: line-1, address: 1 }\n");
    assert_non_null(config);
    assert_int_equal(fixture->errors.count, 0);
    assert_string_equal(config->gateway.id, "gw-1");
    assert_string_equal(config->gateway.site, "default");
    assert_string_equal(config->gateway.state_dir, "/var/lib/safetygw");
    assert_string_equal(config->gateway.control_socket, "/run/safetygw/control.sock");
    assert_int_equal(config->gateway.health_interval_ms, 60000);
    assert_string_equal(config->mqtt.client_id, "gw-1");
    assert_string_equal(config->mqtt.topic_prefix, "safetygw/default/gw-1");
    assert_int_equal(config->mqtt.qos, 1);
    assert_int_equal(config->mqtt.keepalive_s, 30);
    assert_int_equal(config->mqtt.max_buffered, 100000);
    assert_false(config->mqtt.tls_enabled);
    assert_null(config->mqtt.username);
    assert_null(config->mqtt.password_file);

    assert_int_equal(config->bus_count, 2);
    const struct bus_def *rtu = &config->buses[0];
    assert_int_equal(rtu->type, BUS_RTU);
    assert_string_equal(rtu->port, "/dev/ttyUSB0");
    assert_int_equal(rtu->baud, 9600);
    assert_int_equal(rtu->parity, 'N');
    assert_int_equal(rtu->data_bits, 8);
    assert_int_equal(rtu->stop_bits, 1);
    assert_false(rtu->rs485);
    assert_int_equal(rtu->timeout_ms, 300);
    assert_int_equal(rtu->gap_ms, 0);
    assert_int_equal(rtu->backoff_max_ms, 60000);
    const struct bus_def *tcp = &config->buses[1];
    assert_int_equal(tcp->type, BUS_TCP);
    assert_string_equal(tcp->host, "10.0.0.5");
    assert_int_equal(tcp->tcp_port, 502);
    assert_int_equal(tcp->timeout_ms, 500);
    assert_int_equal(tcp->link_timeout_ms, 2000); /* four timeouts */
    assert_int_equal(rtu->link_timeout_ms, 1200);

    assert_int_equal(config->device_count, 1);
    const struct device_def *device = &config->devices[0];
    assert_ptr_equal(device->profile, config_find_profile(config, "sensor"));
    assert_int_equal(device->bus_index, 0);
    assert_int_equal(device->address, 1);
    assert_int_equal(device->poll_ms, 1000); /* the profile's default */
    assert_int_equal(device->location_count, 0);
    assert_ptr_equal(device->rules, device->profile->rules);
    assert_false(device->rules_owned);
    assert_ptr_equal(config_find_device(config, "gas-1"), device);
    assert_null(config_find_device(config, "gas-2"));
    assert_int_equal(config_total_points(config), 2);
    assert_int_equal(config_total_rules(config), 3);
}

static void test_every_documented_key_is_read(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture,
        "gateway:\n"
        "  id: gw-1\n"
        "  site: changshou\n"
        "  state_dir: /srv/state\n"
        "  control_socket: /srv/control.sock\n"
        "  health_interval_ms: 5000\n"
        "mqtt:\n"
        "  uri: ssl://broker:8883\n"
        "  client_id: client-7\n"
        "  qos: 2\n"
        "  keepalive_s: 60\n"
        "  username: gw\n"
        "  password_file: secrets/mqtt.pass\n"
        "  max_buffered: 5000\n"
        "  tls: { ca_file: tls/ca.pem, cert_file: /etc/c.pem, key_file: tls/k.pem,\n"
        "         verify: false, min_version: \"1.2\" }\n"
        "profiles: [ profiles/sensor.yaml ]\n"
        "buses:\n"
        "  - { name: b1, type: rtu, port: /dev/ttyS1, baud: 19200, parity: E,\n"
        "      data_bits: 7, stop_bits: 2, rs485: yes, timeout_ms: 100, gap_ms: 5,\n"
        "      backoff_max_ms: 2000 }\n"
        "  - { name: b2, type: tcp, host: 10.0.0.9, port: 1502, link_timeout_ms: 9000 }\n"
        "devices:\n"
        "  - id: gas-1\n"
        "    profile: sensor\n"
        "    bus: b2\n"
        "    address: 247\n"
        "    poll_ms: 2000\n"
        "    location: { compound: 长寿新村, building: 12, unit: \"2\", room: \"301\" }\n");
    assert_non_null(config);
    assert_int_equal(config->gateway.health_interval_ms, 5000);
    assert_string_equal(config->mqtt.topic_prefix, "safetygw/changshou/gw-1");
    assert_string_equal(config->mqtt.client_id, "client-7");
    assert_int_equal(config->mqtt.qos, 2);
    assert_true(config->mqtt.tls_enabled);
    char expected[512];
    snprintf(expected, sizeof expected, "%s/tls/ca.pem", fixture->dir);
    assert_string_equal(config->mqtt.tls.ca_file, expected);
    assert_string_equal(config->mqtt.tls.cert_file, "/etc/c.pem");
    snprintf(expected, sizeof expected, "%s/secrets/mqtt.pass", fixture->dir);
    assert_string_equal(config->mqtt.password_file, expected);
    assert_false(config->mqtt.tls.verify);
    assert_string_equal(config->mqtt.tls.min_version, "1.2");
    assert_int_equal(config->buses[0].baud, 19200);
    assert_int_equal(config->buses[1].link_timeout_ms, 9000);
    assert_int_equal(config->buses[0].parity, 'E');
    assert_int_equal(config->buses[0].data_bits, 7);
    assert_int_equal(config->buses[0].stop_bits, 2);
    assert_true(config->buses[0].rs485);
    assert_int_equal(config->buses[0].gap_ms, 5);
    assert_int_equal(config->buses[1].tcp_port, 1502);
    const struct device_def *device = &config->devices[0];
    assert_int_equal(device->bus_index, 1);
    assert_int_equal(device->address, 247);
    assert_int_equal(device->poll_ms, 2000);
    assert_int_equal(device->location_count, 4);
    assert_string_equal(device->location[0].key, "compound");
    assert_string_equal(device->location[0].value, "长寿新村");
    assert_string_equal(device->location[1].key, "building");
    assert_string_equal(device->location[1].value, "12");
    assert_string_equal(device->location[3].key, "room");
    assert_string_equal(device->location[3].value, "301");
}

static void test_unknown_bus_key_names_the_key_the_bus_and_the_expected_keys(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER "buses:\n"
                                                    "  - name: bldg-12\n"
                                                    "    type: rtu\n"
                                                    "    port: /dev/ttyUSB0\n"
                                                    "    baudrate: 9600\n"));
    assert_config_error(fixture, "gateway.yaml", 8, 5,
                        "unknown key \"baudrate\" in bus \"bldg-12\" (expected one of: name, "
                        "type, port, baud, parity");
}

static void test_port_is_a_number_on_a_tcp_bus_and_host_is_unknown_on_rtu(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(
        fixture, HEADER "buses:\n"
                        "  - { name: conv, type: tcp, host: 10.0.0.1, port: /dev/ttyUSB0 }\n"
                        "  - { name: line, type: rtu, port: /dev/ttyS0, host: h }\n"));
    assert_config_error(fixture, "gateway.yaml", 5, 52, "port must be an integer");
    assert_config_error(fixture, "gateway.yaml", 6, 48, "unknown key \"host\" in bus \"line\"");
}

static void test_nonstandard_baud_is_rejected_with_the_standard_rates(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER "buses:\n"
                                                    "  - name: bldg-12\n"
                                                    "    type: rtu\n"
                                                    "    port: /dev/ttyUSB0\n"
                                                    "    baud: 9601\n"));
    assert_config_error(fixture, "gateway.yaml", 8, 11,
                        "baud 9601 is not a standard rate (1200, 2400, 4800, 9600, 19200, 38400, "
                        "57600, 115200)");
}

static void test_device_id_that_names_a_bus_is_refused(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    HEADER "buses:\n"
                                           "  - { name: b1, type: rtu, port: /dev/ttyUSB0 }\n"
                                           "devices:\n"
                                           "  - id: b1\n"
                                           "    profile: sensor\n"
                                           "    bus: b1\n"
                                           "    address: 1\n"));
    assert_config_error(fixture, "gateway.yaml", 7, 9,
                        "device id \"b1\" is also the name of a bus");
}

static void test_duplicate_device_id_points_to_the_first(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    HEADER "buses:\n"
                                           "  - { name: b1, type: rtu, port: /dev/ttyUSB0 }\n"
                                           "devices:\n"
                                           "  - id: gas-1\n"
                                           "    profile: sensor\n"
                                           "    bus: b1\n"
                                           "    address: 1\n"
                                           "  - id: gas-1\n"
                                           "    profile: sensor\n"
                                           "    bus: b1\n"
                                           "    address: 2\n"));
    assert_config_error(fixture, "gateway.yaml", 11, 9, "duplicate device id \"gas-1\" (first at ");
    assert_config_error(fixture, "gateway.yaml", 11, 9, "/gateway.yaml:7:9)");
}

static void test_duplicate_address_on_bus_names_the_bus_and_the_first_device(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(
        fixture, HEADER "buses:\n"
                        "  - { name: bldg-12, type: rtu, port: /dev/ttyUSB0 }\n"
                        "  - { name: bldg-14, type: rtu, port: /dev/ttyUSB1 }\n"
                        "devices:\n"
                        "  - { id: gas-3, profile: sensor, bus: bldg-12, address: 5 }\n"
                        "  - { id: gas-4, profile: sensor, bus: bldg-14, address: 5 }\n"
                        "  - { id: gas-5, profile: sensor, bus: bldg-12, address: 5 }\n"));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "gateway.yaml", 10, 58,
                        "address 5 on bus \"bldg-12\" is already used by device \"gas-3\"");
}

static void test_unknown_profile_and_bus_are_reported_at_their_values(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER
                                    "buses:\n"
                                    "  - { name: b1, type: rtu, port: /dev/ttyUSB0 }\n"
                                    "devices:\n"
                                    "  - { id: gas-1, profile: gas-alrm, bus: b1, address: 1 }\n"
                                    "  - { id: gas-2, profile: sensor, bus: b9, address: 1 }\n"));
    assert_config_error(fixture, "gateway.yaml", 7, 27, "unknown profile \"gas-alrm\"");
    assert_config_error(fixture, "gateway.yaml", 8, 40, "unknown bus \"b9\"");
}

static void test_missing_required_key_is_reported_at_its_map(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER "buses:\n"
                                                    "  - { name: b1, type: rtu }\n"
                                                    "devices:\n"
                                                    "  - id: gas-1\n"
                                                    "    profile: sensor\n"
                                                    "    bus: b1\n"));
    assert_config_error(fixture, "gateway.yaml", 5, 5,
                        "missing required key \"port\" in bus \"b1\"");
    assert_config_error(fixture, "gateway.yaml", 7, 5,
                        "missing required key \"address\" in device \"gas-1\"");
}

static void test_wrong_types_say_what_was_expected_and_what_was_given(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uri: tcp://h:1883, qos: [1] }\n"
                                             "profiles: profiles\n"
                                             "buses:\n"
                                             "  - { name: b1, type: rtu, port: /dev/x,\n"
                                             "      baud: fast, rs485: maybe }\n"
                                             "devices: { id: gas-1 }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 33, "qos must be an integer, not a list");
    assert_config_error(fixture, "gateway.yaml", 3, 11,
                        "profiles must be a list, not \"profiles\"");
    assert_config_error(fixture, "gateway.yaml", 6, 13, "baud must be an integer, not \"fast\"");
    assert_config_error(fixture, "gateway.yaml", 6, 26,
                        "rs485 must be true or false, not \"maybe\"");
    assert_config_error(fixture, "gateway.yaml", 7, 10, "devices must be a list, not a map");
}

static void test_out_of_range_values_name_the_range(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    "gateway: { id: gw-1, health_interval_ms: 999 }\n"
                                    "mqtt: { uri: tcp://h:1883, qos: 3, keepalive_s: 4 }\n"
                                    "profiles: [ profiles ]\n"
                                    "buses:\n"
                                    "  - { name: b1, type: rtu, port: /dev/x, data_bits: 9 }\n"
                                    "  - { name: b2, type: tcp, host: 10.0.0.1, port: 0 }\n"
                                    "devices:\n"
                                    "  - { id: d0, profile: sensor, bus: b1, address: 0 }\n"
                                    "  - { id: d1, profile: sensor, bus: b1, address: 248 }\n"
                                    "  - { id: d2, profile: sensor, bus: b1, address: 2,\n"
                                    "      poll_ms: 9 }\n"
                                    "  - { id: d3, profile: sensor, bus: b1, address: 3,\n"
                                    "      poll_ms: 3600001 }\n"));
    assert_config_error(fixture, "gateway.yaml", 1, 42,
                        "health_interval_ms 999 is out of range 1000..3600000");
    assert_config_error(fixture, "gateway.yaml", 2, 33, "qos 3 is out of range 0..2");
    assert_config_error(fixture, "gateway.yaml", 2, 49, "keepalive_s 4 is out of range 5..3600");
    assert_config_error(fixture, "gateway.yaml", 5, 53, "data_bits 9 is out of range 7..8");
    assert_config_error(fixture, "gateway.yaml", 6, 50, "port 0 is out of range 1..65535");
    assert_config_error(fixture, "gateway.yaml", 8, 50, "address 0 is out of range 1..247");
    assert_config_error(fixture, "gateway.yaml", 9, 50, "address 248 is out of range 1..247");
    assert_config_error(fixture, "gateway.yaml", 11, 16, "poll_ms 9 is out of range 10..3600000");
    assert_config_error(fixture, "gateway.yaml", 13, 16,
                        "poll_ms 3600001 is out of range 10..3600000");
}

static void test_integer_keys_reject_fractions_and_quoted_numbers(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER
                                    "buses: [ { name: b1, type: rtu, port: /dev/x } ]\n"
                                    "devices:\n"
                                    "  - { id: d1, profile: sensor, bus: b1, address: 1.5 }\n"
                                    "  - { id: d2, profile: sensor, bus: b1, address: \"2\" }\n"));
    assert_config_error(fixture, "gateway.yaml", 6, 50, "address must be an integer, not \"1.5\"");
    assert_config_error(fixture, "gateway.yaml", 7, 50, "address must be an integer, not \"2\"");
}

/* A converter's name would be looked up on the thread that serves every bus: an address. */
static void test_a_converter_is_given_by_its_address_not_a_name(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    HEADER "buses:\n"
                                           "  - { name: b1, type: tcp, host: conv-3.local }\n"
                                           "  - { name: b2, type: tcp, host: \"fd00::14\" }\n"
                                           "  - { name: b3, type: tcp, host: 10.20.1.14 }\n"
                                           "devices: []\n"));
    assert_config_error(fixture, "gateway.yaml", 5, 34,
                        "host \"conv-3.local\" is not an IP address: give the converter's address");
    assert_int_equal(fixture->errors.count, 1); /* an IPv6 and an IPv4 address are taken */
}

static void test_hex_numbers_are_accepted(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture,
        HEADER "buses: [ { name: b1, type: tcp, host: 10.0.0.1, port: 0x1F6 } ]\n"
               "devices:\n"
               "  - { id: d1, profile: sensor, bus: b1, address: 0x10, poll_ms: 0x3E8 }\n");
    assert_non_null(config);
    assert_int_equal(config->buses[0].tcp_port, 502);
    assert_int_equal(config->devices[0].address, 16);
    assert_int_equal(config->devices[0].poll_ms, 1000);
}

static void test_yaml_syntax_error_has_line_and_column(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER "buses:\n"
                                                    "  - { name: b1, type: rtu\n"
                                                    "devices: []\n"));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "gateway.yaml", 6, 8, "YAML syntax error");
}

static void test_an_alias_repeats_the_anchored_value(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture, HEADER "buses: [ { name: b1, type: tcp, host: 10.0.0.1 } ]\n"
                        "devices:\n"
                        "  - { id: d1, profile: sensor, bus: b1, address: 1,\n"
                        "      location: &flat { building: \"7\", room: \"301\" } }\n"
                        "  - { id: d2, profile: sensor, bus: b1, address: 2, location: *flat }\n");
    assert_non_null(config);
    const struct device_def *second = &config->devices[1];
    assert_int_equal(second->location_count, 2);
    assert_string_equal(second->location[0].key, "building");
    assert_string_equal(second->location[1].value, "301");
}

static void test_undefined_alias_is_a_syntax_error_at_the_alias(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    HEADER "buses:\n"
                                           "  - { name: b1, type: tcp, host: *nowhere }\n"));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "gateway.yaml", 5, 34, "YAML syntax error: found undefined alias");
}

static void test_duplicate_anchor_is_a_syntax_error_naming_the_first(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    HEADER "buses:\n"
                                           "  - &bus { name: b1, type: tcp, host: 10.0.0.1 }\n"
                                           "  - &bus { name: b2, type: tcp, host: 10.0.0.1 }\n"));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "gateway.yaml", 6, 5,
                        "found duplicate anchor; first occurrence at line 5");
}

static void test_empty_lists_and_maps_load(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture,
        HEADER "buses: [ { name: b1, type: tcp, host: 10.0.0.1 } ]\n"
               "devices: [ { id: d1, profile: sensor, bus: b1, address: 1, location: {} } ]\n"
               "---\n"
               "only the first document is read: [\n");
    assert_non_null(config);
    assert_int_equal(config->devices[0].location_count, 0);
}

static void test_three_mistakes_are_all_reported_each_at_its_line(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER
                                    "buses:\n"
                                    "  - { name: b1, type: rtu, port: /dev/x, parity: X }\n"
                                    "devices:\n"
                                    "  - { id: d1, profile: sensor, bus: b1, address: 1 }\n"
                                    "  - { id: d2, profile: sensr, bus: b1, address: 2 }\n"
                                    "  - { id: d3, profile: sensor, bus: b1, address: 300 }\n"));
    assert_int_equal(fixture->errors.count, 3);
    assert_config_error(fixture, "gateway.yaml", 5, 50, "parity \"X\" is not one of: N, E, O");
    assert_config_error(fixture, "gateway.yaml", 8, 24, "unknown profile \"sensr\"");
    assert_config_error(fixture, "gateway.yaml", 9, 50, "address 300 is out of range 1..247");
}

static void test_misspelt_key_is_unknown_and_leaves_the_required_key_missing(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, HEADER
                                    "buses: [ { name: b1, type: rtu, port: /dev/x } ]\n"
                                    "devices:\n"
                                    "  - { id: d3, profile: sensor, bus: b1, addres: 3 }\n"));
    assert_int_equal(fixture->errors.count, 2);
    assert_config_error(fixture, "gateway.yaml", 6, 41, "unknown key \"addres\" in device \"d3\"");
    assert_config_error(fixture, "gateway.yaml", 6, 5,
                        "missing required key \"address\" in device \"d3\"");
}

static void test_ssl_uri_requires_tls_and_tls_requires_ssl(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uri: ssl://broker:8883 }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 14,
                        "is ssl:// but mqtt.tls (with ca_file) is missing");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt:\n"
                                             "  uri: ssl://broker:8883\n"
                                             "  tls: { verify: true }\n"));
    assert_config_error(fixture, "gateway.yaml", 4, 8,
                        "missing required key \"ca_file\" in mqtt.tls");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt:\n"
                                             "  uri: tcp://broker:1883\n"
                                             "  tls: { ca_file: ca.pem }\n"));
    assert_config_error(fixture, "gateway.yaml", 4, 8, "mqtt.tls is given but the uri");
}

static void test_unknown_top_level_key_and_missing_sections(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { site: x }\n"
                                             "device: []\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 1,
                        "unknown key \"device\" in the configuration");
    assert_config_error(fixture, "gateway.yaml", 1, 1, "missing required key \"mqtt\"");
    assert_config_error(fixture, "gateway.yaml", 1, 10, "missing required key \"id\" in gateway");
}

static void test_ids_with_spaces_and_bad_topic_prefix_are_rejected(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { id: \"gw 1\" }\n"
                                             "mqtt: { uri: tcp://h:1, topic_prefix: a/+/b/ }\n"));
    assert_config_error(fixture, "gateway.yaml", 1, 16, "gateway id \"gw 1\" may only hold");
    assert_config_error(fixture, "gateway.yaml", 2, 39, "topic_prefix \"a/+/b/\" must not contain");
}

static void test_missing_file_and_missing_profile_folder_are_reported(void **state)
{
    struct config_fixture *fixture = *state;
    struct config_errors errors;
    assert_null(config_load("/nonexistent/gateway.yaml", &errors));
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.messages[0],
                        "/nonexistent/gateway.yaml: cannot open: No such file or directory");
    config_errors_free(&errors);
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uri: tcp://h:1 }\n"
                                             "profiles: [ profiles, nowhere ]\n"));
    assert_config_error(fixture, "gateway.yaml", 3, 23, "cannot read profile path");
}

static void test_ten_thousand_devices_load(void **state)
{
    struct config_fixture *fixture = *state;
    size_t size = 1 << 20;
    char *text = malloc(size);
    assert_non_null(text);
    int used = snprintf(text, size, HEADER "buses:\n");
    for (int bus = 0; bus < 50; bus++) {
        used += snprintf(text + used, size - used,
                         "  - { name: c%d, type: tcp, host: 10.0.0.%d }\n", bus, bus);
    }
    used += snprintf(text + used, size - used, "devices:\n");
    for (int i = 0; i < 10000; i++) {
        used += snprintf(text + used, size - used,
                         "  - { id: dev-%d, profile: sensor, bus: c%d, address: %d }\n", i, i % 50,
                         i / 50 + 1);
    }
    const struct config *config = config_fixture_load(fixture, text);
    free(text);
    assert_non_null(config);
    assert_int_equal(config->device_count, 10000);
    assert_string_equal(config_find_device(config, "dev-9999")->id, "dev-9999");
    assert_int_equal(config->devices[9999].address, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(name)                                                                                 \
    cmocka_unit_test_setup_teardown(name, config_fixture_setup, config_fixture_teardown)
        TEST(test_minimal_config_loads_with_documented_defaults),
        TEST(test_every_documented_key_is_read),
        TEST(test_unknown_bus_key_names_the_key_the_bus_and_the_expected_keys),
        TEST(test_port_is_a_number_on_a_tcp_bus_and_host_is_unknown_on_rtu),
        TEST(test_a_converter_is_given_by_its_address_not_a_name),
        TEST(test_nonstandard_baud_is_rejected_with_the_standard_rates),
        TEST(test_device_id_that_names_a_bus_is_refused),
        TEST(test_duplicate_device_id_points_to_the_first),
        TEST(test_duplicate_address_on_bus_names_the_bus_and_the_first_device),
        TEST(test_unknown_profile_and_bus_are_reported_at_their_values),
        TEST(test_missing_required_key_is_reported_at_its_map),
        TEST(test_wrong_types_say_what_was_expected_and_what_was_given),
        TEST(test_out_of_range_values_name_the_range),
        TEST(test_integer_keys_reject_fractions_and_quoted_numbers),
        TEST(test_hex_numbers_are_accepted),
        TEST(test_yaml_syntax_error_has_line_and_column),
        TEST(test_an_alias_repeats_the_anchored_value),
        TEST(test_undefined_alias_is_a_syntax_error_at_the_alias),
        TEST(test_duplicate_anchor_is_a_syntax_error_naming_the_first),
        TEST(test_empty_lists_and_maps_load),
        TEST(test_three_mistakes_are_all_reported_each_at_its_line),
        TEST(test_misspelt_key_is_unknown_and_leaves_the_required_key_missing),
        TEST(test_ssl_uri_requires_tls_and_tls_requires_ssl),
        TEST(test_unknown_top_level_key_and_missing_sections),
        TEST(test_ids_with_spaces_and_bad_topic_prefix_are_rejected),
        TEST(test_missing_file_and_missing_profile_folder_are_reported),
        TEST(test_ten_thousand_devices_load),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
